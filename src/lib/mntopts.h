/* mntopts: fstab option strings to mount(2) flags and file-system data */
#ifndef EARLYFS_MNTOPTS_H
#define EARLYFS_MNTOPTS_H
#include <stdbool.h>

#define MNTOPTS_DATA_MAX 1024

struct mount_opts {
	unsigned long flags;
	char data[MNTOPTS_DATA_MAX];	/* what the kernel's fs parser gets */
	bool noauto;
	bool nofail;
};

/*
 * "nodev,noexec,mode=0755" -> flags MS_NODEV|MS_NOEXEC, data "mode=0755".
 * Userspace-only options (noauto, nofail, user, _netdev, x-*, comment=...)
 * are dropped from the data.  Returns 0, or -E2BIG if data overflows.
 */
int mntopts_parse(const char *opts, struct mount_opts *ret);
#endif
