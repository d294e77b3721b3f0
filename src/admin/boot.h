/* boot.h: an opened boot partition, and the lock every writer takes */
#ifndef EARLYFS_BOOT_H
#define EARLYFS_BOOT_H
#include <stdbool.h>
#include <stdio.h>
#include "err.h"
#include "target.h"

#define BOOT_DEFAULT "/boot"

struct boot {
	char dir[4096];		/* the mounted boot partition */
	char name[4096];	/* what the user gave, for messages */
	int fd;			/* its root directory; flock'ed while locked */
	bool write, locked, remounted;
	unsigned keep;		/* generations kept (keep_generations=) */
	/* --target: attached and mounted here by us */
	struct target t;
	int img_fd;
	char tmpmnt[4096];
	bool mounted;
};

/* dir (default /boot), or target/partno attached and mounted privately. */
int boot_open(const char *dir, const char *target, unsigned partno,
	      bool write, struct boot *b, struct err *e);
void boot_close(struct boot *b);
/* Takes the lock every writer shares, makes the partition writable,
 * finishes an interrupted change. */
int boot_lock(struct boot *b, FILE *out, struct err *e);
void boot_unlock(struct boot *b, FILE *out);
/* syncfs(2) of the partition: 0 or -errno. */
int boot_sync(const struct boot *b);
#endif
