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
/* The file system of dir's mount alone, as a detached copy of that mount
 * (open_tree(2), no submounts: what is mounted inside, an ESP on efi/, is
 * its empty directory there): the copy's root directory, an fd, or -errno
 * (-ENOSYS before Linux 5.2). */
int mounts_alone(int dir);
/* Of dead processes: the empty $TMPDIR/earlyfs-{edit,mnt}.PID.* (mount
 * points) and the whole earlyfs-{seal,export,enroll}.PID.* (scratch
 * directories of files, never mounted on). */
void mounts_clean_dead(void);
/* $TMPDIR (or /tmp)/PREFIX.PID.XXXXXX, created 0700. */
int mounts_mkdtemp(const char *prefix, char *ret, size_t cap);
/* The same after mounts_clean_dead(): what a killed command of the same
 * kind left goes first. */
int mounts_scratch(const char *prefix, char *ret, size_t cap);
#endif
