/* tree: the files a generation holds, compared, copied and removed */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "fragment.h"
#include "layout.h"
#include "change/tree.h"

void tree_free(struct tree *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int tree_add(struct tree *t, const char *rel, mode_t mode)
{
	if (t->n == TREE_MAX)
		return -E2BIG;
	if (!t->v) {
		t->v = calloc(TREE_MAX, sizeof(*t->v));
		if (!t->v)
			return -ENOMEM;
	}
	if (snprintf(t->v[t->n].rel, sizeof(t->v[t->n].rel), "%s", rel) >=
	    (int)sizeof(t->v[t->n].rel))
		return -ENAMETOOLONG;
	t->v[t->n++].mode = mode;
	return 0;
}

const char *tree_strerror(int r)
{
	switch (r) {
	case -E2BIG:
		return "more than " TREE_MAX_TEXT " files and directories in "
		       "init.d/ and etc/ (a generation's limit)";
	case -ENAMETOOLONG:
		return "a path in init.d/ or etc/ longer than 255 bytes (a "
		       "generation's limit)";
	case -ELOOP:
		return "a symbolic link where a directory is needed, or "
		       "directories nested deeper than 8";
	case -EXDEV:
		return "a mount point inside the tree";
	default:
		return strerror(-r);
	}
}

const struct node *tree_find(const struct tree *t, const char *rel)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].rel, rel))
			return &t->v[i];
	return NULL;
}

int tree_join(char *ret, size_t cap, const char *root, const char *rel)
{
	int n = *root ? snprintf(ret, cap, "%s/%s", root, rel)
		      : snprintf(ret, cap, "%s", rel);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Pre-order, so a directory comes before what it holds.  Dotfiles are
 * ours (temp files) or an editor's, never part of a generation.  Links
 * are entries of their own, never followed. */
static int walk(int dir, const char *root, const char *rel, int depth,
		struct tree *t)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r;

	r = tree_join(path, sizeof(path), root, rel);
	if (r == 0)
		r = beneath_lstat(dir, path, &st);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ?
			tree_add(t, rel, st.st_mode) : 0;
	if (depth > 8)
		return -ELOOP;
	r = tree_add(t, rel, st.st_mode);
	if (r < 0)
		return r;
	r = beneath_opendir(dir, path, &d);
	if (r < 0)
		return r;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >=
		    (int)sizeof(sub))
			r = -ENAMETOOLONG;
		else
			r = walk(dir, root, sub, depth + 1, t);
	}
	closedir(d);
	return r;
}

int tree_scan(int dir, const char *root, struct tree *t)
{
	int r;

	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0, r = 0; i < n_layout_tracked && r == 0; i++)
		r = walk(dir, root, layout_tracked[i].path, 0, t);
	if (r < 0)
		tree_free(t);
	return r;
}

/* Same type, permissions and bytes (or link target). */
bool tree_same_file(int dir, const char *a, const char *b)
{
	struct stat sa, sb;
	char ba[8192], bb[8192];
	bool same = false;
	int fa = -1, fb = -1;
	ssize_t na, nb;

	if (beneath_lstat(dir, a, &sa) < 0 || beneath_lstat(dir, b, &sb) < 0 ||
	    (sa.st_mode & (S_IFMT | 07777)) != (sb.st_mode & (S_IFMT | 07777)))
		return false;
	if (S_ISDIR(sa.st_mode))
		return true;
	if (S_ISLNK(sa.st_mode))
		return beneath_readlink(dir, a, ba, sizeof(ba)) == 0 &&
		       beneath_readlink(dir, b, bb, sizeof(bb)) == 0 &&
		       !strcmp(ba, bb);
	if (!S_ISREG(sa.st_mode) || sa.st_size != sb.st_size)
		return false;
	if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
		return true;
	fa = beneath_open(dir, a, O_RDONLY | O_NONBLOCK, 0);
	fb = beneath_open(dir, b, O_RDONLY | O_NONBLOCK, 0);
	if (fa < 0 || fb < 0)
		goto out;
	for (;;) {
		na = read(fa, ba, sizeof(ba));
		nb = read(fb, bb, sizeof(bb));
		if (na < 0 || na != nb || memcmp(ba, bb, (size_t)na))
			goto out;
		if (na == 0)
			break;
	}
	same = true;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

/* Copies a file or link to dst, which must not exist.  No fsync: callers
 * sync the whole file system once before the rename that publishes it. */
int tree_copy_node(int dir, const char *src, const char *dst)
{
	char buf[65536];
	struct stat st;
	int in = -1, out = -1, r = 0;
	ssize_t n;

	r = beneath_lstat(dir, src, &st);
	if (r < 0)
		return r;
	if (S_ISLNK(st.st_mode)) {
		r = beneath_readlink(dir, src, buf, sizeof(buf));
		return r < 0 ? r : beneath_symlink(buf, dir, dst);
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	in = beneath_open(dir, src, O_RDONLY | O_NONBLOCK, 0);
	if (in < 0)
		return in;
	out = beneath_open(dir, dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (out < 0) {
		r = out;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		r = write_all(out, buf, (size_t)n);
		if (r < 0)
			goto out;
	}
	if (fchown(out, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
		r = -errno;
	if (r == 0 && fchmod(out, st.st_mode & 07777) < 0)
		r = -errno;
out:
	if (out >= 0 && close(out) < 0 && r == 0)
		r = -errno;
	if (in >= 0)
		close(in);
	if (r < 0 && out >= 0)
		beneath_unlink(dir, dst, false);
	return r;
}

int tree_write_new(int dir, const char *rel, const char *data, size_t len,
		   mode_t mode)
{
	int fd, r = 0;

	r = beneath_unlink(dir, rel, false);
	if (r < 0 && r != -ENOENT)
		return r;
	fd = beneath_open(dir, rel, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int tree_remove(int dir, const char *rel)
{
	return beneath_remove(dir, rel);
}

/* ".NAME.tmpXXXXXX": what atomic writes leave behind when killed */
static bool is_our_temp(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 11 && !memcmp(name + n - 10, ".tmp", 4);
}

size_t tree_remove_temps(int dir, const char *rel, int depth, bool dry)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (beneath_opendir(dir, rel, &d) < 0)
		return 0;
	while ((de = readdir(d))) {
		if (snprintf(path, sizeof(path), "%s/%s", rel, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (is_our_temp(de->d_name)) {
			n++;
			if (!dry)
				beneath_unlink(dir, path, false);
		} else if (de->d_type == DT_DIR && de->d_name[0] != '.' &&
			   depth < 8) {
			n += tree_remove_temps(dir, path, depth + 1, dry);
		}
	}
	closedir(d);
	return n;
}

int tree_fragment_find(const struct boot *b, const char *name, char *ret_file,
		  size_t cap, bool *ret_disabled)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), LAYOUT_INITD "/%s", name);
	if (beneath_exists(b->fd, path)) {
		snprintf(ret_file, cap, "%s", name);
		*ret_disabled = false;
		return 0;
	}
	snprintf(path, sizeof(path), LAYOUT_INITD "/%s" LAYOUT_DISABLED, name);
	if (beneath_exists(b->fd, path)) {
		snprintf(ret_file, cap, "%s" LAYOUT_DISABLED, name);
		*ret_disabled = true;
		return 0;
	}
	return -ENOENT;
}

int tree_fragment_name_arg(const char *arg, char *ret, size_t cap, struct err *e)
{
	size_t n = strlen(arg), sl = strlen(LAYOUT_DISABLED);

	if (n > sl && !strcmp(arg + n - sl, LAYOUT_DISABLED))
		n -= sl;
	if (n >= cap || snprintf(ret, cap, "%.*s", (int)n, arg) < 0 ||
	    fragment_name_check(ret) < 0)
		return err_set(e, EXIT_USAGE, "'%s' is not a fragment name: "
			       FRAGMENT_RULE, arg);
	return 0;
}
