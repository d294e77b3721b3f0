/* mounts.h: loop devices, mounts of a command's own, and the temporary
 * directories they go on */
#ifndef EARLYFS_MOUNTS_H
#define EARLYFS_MOUNTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A loop device (autoclear) on file's range: an fd that keeps it until
 * closed (and unmounted), its path in ret_dev; or -errno. */
int mounts_loop_attach(const char *file, uint64_t offset, uint64_t size,
		       bool readonly, char *ret_dev, size_t cap);
int mounts_loop_detach(const char *dev);
/* Our mounts from here on are our own: they go with the process, even
 * when it is killed (a mount namespace of its own, slave of the host's). */
int mounts_private(void);
/* Removes the empty $TMPDIR/earlyfs-{edit,mnt}.PID.* of dead processes. */
void mounts_clean_dead(void);
/* $TMPDIR (or /tmp)/PREFIX.PID.XXXXXX, created 0700. */
int mounts_mkdtemp(const char *prefix, char *ret, size_t cap);
#endif
