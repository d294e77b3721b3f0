/* beneath.h: files of a boot partition, by a path relative to its
 * directory fd, never outside it
 *
 * Everything on a target is data: a symlink in the tree (init.d itself, a
 * fragment, etc/earlyfs.conf) is never followed by these, a ".." cannot
 * climb out and a mount inside the tree is not crossed.  A symlink on the
 * way fails with -ELOOP (-ENOTDIR for a symlink where a directory is
 * needed); the last component is never followed either, so a symlink is
 * read, copied, renamed or removed as the link it is.  The exception is
 * beneath_resolve(), which follows links the way the booted system would
 * (an absolute target is taken from the partition's root), still never
 * leaving it.  All return 0 (or an fd) or -errno.  Needs Linux >= 5.6
 * (openat2).
 */
#ifndef EARLYFS_BENEATH_H
#define EARLYFS_BENEATH_H
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* openat(2) beneath dir with no symlink anywhere: an fd or -errno. */
int beneath_open(int dir, const char *rel, int flags, mode_t mode);
/* A path as the booted system sees it (links followed, "/" being dir):
 * an fd opened with flags, or -errno. */
int beneath_resolve(int dir, const char *path, int flags);
int beneath_lstat(int dir, const char *rel, struct stat *st);
bool beneath_exists(int dir, const char *rel);
/* A real directory at rel with exactly mode: created, or found there. */
int beneath_mkdir(int dir, const char *rel, mode_t mode);
/* Removes a file or link (an empty directory with is_dir). */
int beneath_unlink(int dir, const char *rel, bool is_dir);
int beneath_rename(int dir, const char *from, const char *to);
int beneath_link(int dir, const char *from, const char *to);
int beneath_symlink(const char *target, int dir, const char *rel);
/* The link's target, NUL-terminated; -ENAMETOOLONG if it does not fit. */
int beneath_readlink(int dir, const char *rel, char *buf, size_t cap);
/* A regular file's bytes, at most max (-EFBIG above); anything else
 * (FIFO, device, directory, link) is -EINVAL, and never blocks. */
int beneath_read(int dir, const char *rel, size_t max, char **ret_buf,
		 size_t *ret_len);
/* The directory rel, opened for readdir(): 0 with *ret, or -errno (a
 * link, -ELOOP or -ENOTDIR; a mount point, -EXDEV; -ENOMEM). */
int beneath_opendir(int dir, const char *rel, DIR **ret);
/* rm -r of rel: links removed as links, no mount crossed; 0 if absent. */
int beneath_remove(int dir, const char *rel);
/* A new empty file ".BASE.tmpXXXXXX" beside rel (mode 0600): its fd, its
 * path (relative to dir) in ret_tmp. */
int beneath_tmpfile(int dir, const char *rel, char *ret_tmp, size_t cap);
#endif
