/* beneath: files of a boot partition, by a path relative to its directory
 * fd, never outside it (see beneath.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"

#define TREE_DEPTH_MAX 16

static int openat2_fd(int dir, const char *rel, int flags, mode_t mode,
		      unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = flags & O_CREAT ? mode : 0,
		.resolve = resolve,
	};
	long fd;

	do
		fd = syscall(SYS_openat2, dir, *rel ? rel : ".", &how,
			     sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return fd < 0 ? -errno : (int)fd;
}

int beneath_open(int dir, const char *rel, int flags, mode_t mode)
{
	return openat2_fd(dir, rel, flags | O_NOFOLLOW, mode,
			  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
				  RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

int beneath_resolve(int dir, const char *path, int flags)
{
	while (*path == '/')
		path++;
	return openat2_fd(dir, path, flags, 0,
			  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
				  RESOLVE_NO_XDEV);
}

/* The directory holding rel's last component (dir itself when rel has no
 * '/'), and that component in *ret_last; release with put_parent(). */
static int get_parent(int dir, const char *rel, const char **ret_last)
{
	const char *slash = strrchr(rel, '/'), *last = slash ? slash + 1 : rel;
	char p[PATH_MAX];

	if (!*last || !strcmp(last, ".") || !strcmp(last, ".."))
		return -EINVAL;
	if (slash == rel)
		return -EXDEV;	/* absolute: never beneath */
	*ret_last = last;
	if (!slash)
		return dir;
	if ((size_t)(slash - rel) >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, rel, (size_t)(slash - rel));
	p[slash - rel] = '\0';
	return beneath_open(dir, p, O_PATH | O_DIRECTORY, 0);
}

static void put_parent(int dir, int fd)
{
	if (fd >= 0 && fd != dir)
		close(fd);
}

int beneath_lstat(int dir, const char *rel, struct stat *st)
{
	const char *last;
	int p = get_parent(dir, rel, &last), r;

	if (p < 0)
		return p;
	r = fstatat(p, last, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	put_parent(dir, p);
	return r;
}

bool beneath_exists(int dir, const char *rel)
{
	struct stat st;

	return beneath_lstat(dir, rel, &st) == 0;
}

int beneath_mkdir(int dir, const char *rel, mode_t mode)
{
	const char *last;
	int p = get_parent(dir, rel, &last), fd, r = 0;

	if (p < 0)
		return p;
	if (mkdirat(p, last, mode & 07777) < 0 && errno != EEXIST)
		r = -errno;
	put_parent(dir, p);
	if (r < 0)
		return r;
	fd = beneath_open(dir, rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd == -ELOOP ? -ENOTDIR : fd;
	r = fchmod(fd, mode & 07777) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int beneath_unlink(int dir, const char *rel, bool is_dir)
{
	const char *last;
	int p = get_parent(dir, rel, &last), r;

	if (p < 0)
		return p;
	r = unlinkat(p, last, is_dir ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
	put_parent(dir, p);
	return r;
}

static int link_at(int fd1, const char *a, int fd2, const char *b)
{
	return linkat(fd1, a, fd2, b, 0);
}

/* op(parent of from, its last component, parent of to, its last one) */
static int two_paths(int dir, const char *from, const char *to,
		     int (*op)(int, const char *, int, const char *))
{
	const char *lf, *lt;
	int pf = get_parent(dir, from, &lf), pt, r;

	if (pf < 0)
		return pf;
	pt = get_parent(dir, to, &lt);
	if (pt < 0) {
		put_parent(dir, pf);
		return pt;
	}
	r = op(pf, lf, pt, lt) < 0 ? -errno : 0;
	put_parent(dir, pf);
	put_parent(dir, pt);
	return r;
}

int beneath_rename(int dir, const char *from, const char *to)
{
	return two_paths(dir, from, to, renameat);
}

int beneath_link(int dir, const char *from, const char *to)
{
	return two_paths(dir, from, to, link_at);
}

int beneath_symlink(const char *target, int dir, const char *rel)
{
	const char *last;
	int p = get_parent(dir, rel, &last), r;

	if (p < 0)
		return p;
	r = symlinkat(target, p, last) < 0 ? -errno : 0;
	put_parent(dir, p);
	return r;
}

int beneath_readlink(int dir, const char *rel, char *buf, size_t cap)
{
	const char *last;
	int p = get_parent(dir, rel, &last);
	ssize_t n;

	if (p < 0)
		return p;
	n = readlinkat(p, last, buf, cap);
	put_parent(dir, p);
	if (n < 0)
		return -errno;
	if ((size_t)n >= cap)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

int beneath_opendir(int dir, const char *rel, DIR **ret)
{
	int fd = beneath_open(dir, rel, O_RDONLY | O_DIRECTORY, 0), r;

	*ret = NULL;
	if (fd < 0)
		return fd;
	*ret = fdopendir(fd);
	if (*ret)
		return 0;
	r = -errno;
	close(fd);
	return r;
}

int beneath_read(int dir, const char *rel, size_t max, char **ret_buf,
		 size_t *ret_len)
{
	int fd, r;

	fd = beneath_open(dir, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	r = read_regular_fd(fd, max, ret_buf, ret_len);
	close(fd);
	return r;
}

static int remove_at(int dir, const char *rel, int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r;

	r = beneath_lstat(dir, rel, &st);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (!S_ISDIR(st.st_mode))
		return beneath_unlink(dir, rel, false);
	if (depth > TREE_DEPTH_MAX)
		return -ELOOP;
	r = beneath_opendir(dir, rel, &d);
	if (r < 0)
		return r;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >=
		    (int)sizeof(sub))
			r = -ENAMETOOLONG;
		else
			r = remove_at(dir, sub, depth + 1);
	}
	closedir(d);
	if (r == 0)
		r = beneath_unlink(dir, rel, true);
	return r == -ENOENT ? 0 : r;
}

int beneath_remove(int dir, const char *rel)
{
	return remove_at(dir, rel, 0);
}

int beneath_tmpfile(int dir, const char *rel, char *ret_tmp, size_t cap)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	const char *slash = strrchr(rel, '/'), *base = slash ? slash + 1 : rel;
	int prefix = slash ? (int)(slash - rel) + 1 : 0, i, j, fd = -EEXIST;
	unsigned char rnd[6];

	for (i = 0; i < 100 && fd == -EEXIST; i++) {
		char suffix[7];

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -EIO;
		for (j = 0; j < 6; j++)
			suffix[j] = chars[rnd[j] % (sizeof(chars) - 1)];
		suffix[6] = '\0';
		if (snprintf(ret_tmp, cap, "%.*s.%s.tmp%s", prefix, rel, base,
			     suffix) >= (int)cap)
			return -ENAMETOOLONG;
		fd = beneath_open(dir, ret_tmp, O_WRONLY | O_CREAT | O_EXCL,
				  0600);
	}
	return fd;
}
