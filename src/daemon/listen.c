/* listen: earlyfsd's socket, created with the right owner from birth */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include "listen.h"

int listen_dir(const char *sock, const struct listen_access *a)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	bool created;

	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	/* 0710 root:group lets the group reach the socket, list nothing */
	created = mkdir(dir, a->has_group ? 0710 : 0700) == 0;
	if (!created && errno != EEXIST) {
		syslog(LOG_ERR, "cannot create %s: %m", dir);
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		syslog(LOG_ERR, "%s is not a directory owned by root that only "
		       "root can write; refusing to put the socket there "
		       "(give socket= a path in a directory of its own)", dir);
		return -1;
	}
	if (!created) {
		/* never ours to change: only said when the group cannot pass */
		if (a->has_group && !(st.st_mode & 001) &&
		    !(st.st_gid == a->gid && (st.st_mode & 010)))
			syslog(LOG_WARNING, "%s does not let group %s reach "
			       "the socket; earlyfsd changes only a directory "
			       "it creates (remove it, or chgrp %s and chmod "
			       "g+x it)", dir, a->group, a->group);
		return 0;
	}
	if (a->has_group && (chown(dir, 0, a->gid) < 0 ||
			     chmod(dir, 0710) < 0)) {
		syslog(LOG_ERR, "cannot give %s to group %s: %m", dir,
		       a->group);
		return -1;
	}
	return 0;
}

int listen_socket(const char *sock, const struct listen_access *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		syslog(LOG_ERR, "socket path %s is too long", sock);
		return -1;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno == EAGAIN) {
		syslog(LOG_ERR, "another earlyfsd listens on %s", sock);
		close(fd);
		return -1;
	}
	unlink(sock);
	/* born 0600: no window in which others may connect */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		syslog(LOG_ERR, "cannot bind %s: %m", sock);
		close(fd);
		return -1;
	}
	umask(old);
	if (a->has_group && (chown(sock, 0, a->gid) < 0 || chmod(sock, 0660) < 0)) {
		syslog(LOG_ERR, "cannot give %s to group %s: %m", sock,
		       a->group);
		close(fd);
		return -1;
	}
	if (listen(fd, 128) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}
