/* fs.h: libext2fs: reading a boot partition without mounting it */
#ifndef EARLYFS_FS_H
#define EARLYFS_FS_H
#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

struct fs;

/* The ext2/3/4 file system at offset bytes into path: 0, or -errno with
 * e saying it is none ("name" in the message). */
int fs_open(const char *path, uint64_t offset, const char *name,
	    struct fs **ret, struct err *e);
void fs_close(struct fs *fs);
/* A file of at most max bytes, NUL-terminated (malloc'ed): 0, -ENOENT,
 * -EFBIG, -EIO. */
int fs_read(struct fs *fs, const char *path, size_t max, char **ret,
	    size_t *ret_len);
/* Up to cap names in directory dir, unsorted; 0 if it does not exist. */
size_t fs_list(struct fs *fs, const char *dir, char (*ret)[256], size_t cap);
/* The volume label ("" if none). */
const char *fs_label(struct fs *fs);
/* Free and total bytes. */
void fs_space(struct fs *fs, uint64_t *ret_free, uint64_t *ret_total);
#endif
