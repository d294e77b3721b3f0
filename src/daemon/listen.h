/* listen.h: earlyfsd's socket: its directory and who may connect */
#ifndef EARLYFS_LISTEN_H
#define EARLYFS_LISTEN_H
#include <stdbool.h>
#include <sys/types.h>

struct listen_access {
	bool has_group;		/* root and this group; else root only */
	gid_t gid;
	const char *group;
};

/* The socket's directory: 0700 root (0710 root:group); -1 logged. */
int listen_dir(const char *sock, const struct listen_access *a);
/* Binds and listens (0600, 0660 to the group): the fd, or -1 logged. */
int listen_socket(const char *sock, const struct listen_access *a);
#endif
