/* fs: a partition's ext4 read without mounting it, through libext2fs
 * (where its errcode_t becomes -errno) */
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "target/fs.h"

struct fs {
	ext2_filsys fs;
};

/* libext2fs returns errno values or its own EXT2_ET_* codes */
static int errno_of(errcode_t err)
{
	return err > 0 && err < 4096 ? -(int)err : -EIO;
}

int fs_open(const char *path, uint64_t offset, const char *name,
	    struct fs **ret, struct err *e)
{
	struct fs *f = calloc(1, sizeof(*f));
	char opts[64] = "";
	errcode_t err;

	if (!f)
		return err_set(e, EXIT_FAILED, "out of memory");
	if (offset)
		snprintf(opts, sizeof(opts), "offset=%llu",
			 (unsigned long long)offset);
	err = ext2fs_open2(path, opts[0] ? opts : NULL, 0, 0, 0,
			   unix_io_manager, &f->fs);
	if (err) {
		free(f);
		return err_setr(e, errno_of(err), EXIT_FAILED, "%s: no "
				"ext2/3/4 file system (%s); not an earlyfs "
				"boot partition", name, error_message(err));
	}
	*ret = f;
	return 0;
}

void fs_close(struct fs *f)
{
	if (!f)
		return;
	ext2fs_close_free(&f->fs);
	free(f);
}

int fs_read(struct fs *f, const char *path, size_t max, char **ret,
	    size_t *ret_len)
{
	unsigned int got = 0;
	__u64 size = 0;
	ext2_ino_t ino;
	ext2_file_t file;
	errcode_t err;
	char *buf;

	struct ext2_inode inode;

	/* the last component is not followed, like beneath_read() */
	err = ext2fs_namei(f->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
	if (err)
		return err == EXT2_ET_FILE_NOT_FOUND ? -ENOENT : errno_of(err);
	err = ext2fs_read_inode(f->fs, ino, &inode);
	if (err)
		return errno_of(err);
	if (!LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	err = ext2fs_file_open(f->fs, ino, 0, &file);
	if (err)
		return errno_of(err);
	if (ext2fs_file_get_lsize(file, &size) || size > max) {
		ext2fs_file_close(file);
		return -EFBIG;
	}
	buf = calloc(1, max + 1);
	if (!buf) {
		ext2fs_file_close(file);
		return -ENOMEM;
	}
	err = ext2fs_file_read(file, buf, (unsigned)max, &got);
	ext2fs_file_close(file);
	if (err) {
		free(buf);
		return errno_of(err);
	}
	*ret = buf;
	*ret_len = got;
	return 0;
}

struct names {
	char (*v)[256];
	size_t n, cap;
};

static int collect(struct ext2_dir_entry *de, int offset, int blocksize,
		   char *buf, void *priv)
{
	struct names *nm = priv;
	size_t len = ext2fs_dirent_name_len(de);

	(void)offset;
	(void)blocksize;
	(void)buf;
	if (nm->n < nm->cap && len < 256) {
		memcpy(nm->v[nm->n], de->name, len);
		nm->v[nm->n++][len] = '\0';
	}
	return 0;
}

size_t fs_list(struct fs *f, const char *dir, char (*ret)[256],
		      size_t cap)
{
	struct names nm = { ret, 0, cap };
	ext2_ino_t ino;

	if (ext2fs_namei(f->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, dir, &ino))
		return 0;
	ext2fs_dir_iterate(f->fs, ino, 0, NULL, collect, &nm);
	return nm.n;
}


const char *fs_label(struct fs *f)
{
	return (const char *)f->fs->super->s_volume_name;
}

void fs_space(struct fs *f, uint64_t *ret_free, uint64_t *ret_total)
{
	*ret_free = ext2fs_free_blocks_count(f->fs->super) * f->fs->blocksize;
	*ret_total = ext2fs_blocks_count(f->fs->super) * f->fs->blocksize;
}
