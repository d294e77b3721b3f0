/* installset: see installset.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "change/installset.h"
#include "layout.h"
#include "change/tree.h"

#define SET LAYOUT_INSTALLED_SET

/* The current set's number from the link: 1 with it, 0 without a link,
 * -EINVAL for a link that is not one earlyfs makes. */
static int current(int dir, unsigned *ret)
{
	const size_t pl = strlen(SET ".");
	char t[64];
	int r = beneath_readlink(dir, SET, t, sizeof(t));

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r == -ENAMETOOLONG ? -EINVAL : r;
	if (strncmp(t, SET ".", pl) ||
	    layout_parse_generation(t + pl, strlen(t + pl), ret) < 0)
		return -EINVAL;
	return 1;
}

static void set_path(char *ret, size_t cap, unsigned n, const char *path)
{
	snprintf(ret, cap, SET ".%u%s", n, path ? path : "");
}

/* The link a path of the tree is: "../" for each directory above it, then
 * "installed" and the path, so that it resolves the same wherever the
 * partition is mounted. */
static void leaf_target(const char *path, char *ret, size_t cap)
{
	size_t used = 0;
	const char *s;

	ret[0] = '\0';
	for (s = path + 1; (s = strchr(s, '/')); s++)
		used += (size_t)snprintf(ret + used, used < cap ? cap - used : 0,
					 "../");
	snprintf(ret + used, used < cap ? cap - used : 0, SET "%s", path);
}

/* Whether the tree's path is the link into the set installset makes. */
static bool is_leaf(int dir, const char *path)
{
	char want[PATH_MAX], have[PATH_MAX];

	leaf_target(path, want, sizeof(want));
	return beneath_readlink(dir, path + 1, have, sizeof(have)) == 0 &&
	       !strcmp(want, have);
}

/* A link to a directory (lib64 -> usr/lib64), made as it is: on the host
 * for what is copied from it; in the partition for what an image keeps
 * (a path it names is not looked up on the host). */
static bool dir_link(int dir, const struct entry *x)
{
	struct stat st;
	int fd;

	if (!x->link)
		return false;
	if (!x->kept)
		return stat(x->path, &st) == 0 && S_ISDIR(st.st_mode);
	fd = beneath_resolve(dir, x->path, O_PATH);
	if (fd < 0)
		return false;
	st.st_mode = 0;
	fstat(fd, &st);
	close(fd);
	return S_ISDIR(st.st_mode);
}

/* Directories of rel (beneath dir) that are missing, made 0755. */
static int make_parents(int dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	size_t i;
	int r;

	snprintf(p, sizeof(p), "%s", rel);
	for (i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (beneath_lstat(dir, p, &st) < 0) {
			r = beneath_mkdir(dir, p, 0755);
			if (r < 0)
				return r;
		} else if (!S_ISDIR(st.st_mode)) {
			return -ENOTDIR;
		}
		p[i] = '/';
	}
	return 0;
}

/* Links (a temp link beside it, renamed over it) rel to target. */
static int put_link(int dir, const char *target, const char *rel)
{
	char tmp[PATH_MAX];
	int fd = beneath_tmpfile(dir, rel, tmp, sizeof(tmp)), r;

	if (fd < 0)
		return fd;
	close(fd);
	beneath_unlink(dir, tmp, false);
	r = beneath_symlink(target, dir, tmp);
	if (r == 0)
		r = beneath_rename(dir, tmp, rel);
	if (r < 0)
		beneath_unlink(dir, tmp, false);
	return r;
}

/* The host file x into the new set at rel. */
static int copy_in(int dir, const struct entry *x, const char *rel)
{
	char buf[65536];
	ssize_t n;
	int in, out, r = 0;

	out = beneath_open(dir, rel, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (out < 0)
		return out;
	in = open(x->path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		r = -errno;
	while (r == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 || write(out, buf, (size_t)n) != n)
			r = n < 0 ? -errno : -ENOSPC;
	}
	if (in >= 0)
		close(in);
	if (r == 0 && fchmod(out, x->st.st_mode & 0755) < 0)
		r = -errno;
	if (close(out) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Whether the current set (cur) holds what x would write there. */
static bool set_has(int dir, unsigned cur, const struct entry *x)
{
	char rel[PATH_MAX], t[PATH_MAX], *mine = NULL, *theirs = NULL;
	size_t l1 = 0, l2 = 0;
	struct stat st;
	bool same;

	set_path(rel, sizeof(rel), cur, x->path);
	if (!cur || beneath_lstat(dir, rel, &st) < 0)
		return false;
	if (x->link)
		return S_ISLNK(st.st_mode) &&
		       beneath_readlink(dir, rel, t, sizeof(t)) == 0 &&
		       !strcmp(t, x->target);
	if (!S_ISREG(st.st_mode) || st.st_size != x->st.st_size ||
	    (st.st_mode & 0755) != (x->st.st_mode & 0755))
		return false;
	same = beneath_read(dir, rel, (size_t)st.st_size, &mine, &l1) == 0 &&
	       read_file(x->path, (size_t)st.st_size, &theirs, &l2) == 0 &&
	       l1 == l2 && !memcmp(mine, theirs, l1);
	free(mine);
	free(theirs);
	return same;
}

/* The node at from (a file: hard-linked; a link: made again) at to, its
 * parents made.  0 if from is not there. */
static int carry_node(int dir, const char *from, const char *to)
{
	char t[PATH_MAX];
	struct stat st;
	int r;

	if (beneath_lstat(dir, from, &st) < 0)
		return 0;
	r = make_parents(dir, to);
	if (r < 0)
		return r;
	if (S_ISLNK(st.st_mode)) {
		r = beneath_readlink(dir, from, t, sizeof(t));
		return r < 0 ? r : beneath_symlink(t, dir, to);
	}
	return S_ISREG(st.st_mode) ? beneath_link(dir, from, to) : 0;
}

/* One entry into set n: a link as the host has it, a file hard-linked
 * from the current set when it is the same (x->write false), else
 * copied from the host.  The tree's path is not touched. */
static int build_one(int dir, unsigned cur, unsigned n, const struct entry *x)
{
	char rel[PATH_MAX], from[PATH_MAX];
	struct stat st;
	int r;

	set_path(rel, sizeof(rel), n, x->path);
	if (beneath_lstat(dir, rel, &st) == 0)
		return 0;	/* two binaries share it */
	if (!x->write) {
		set_path(from, sizeof(from), cur, x->path);
		return carry_node(dir, from, rel);
	}
	r = make_parents(dir, rel);
	if (r < 0)
		return r;
	if (x->link)
		return beneath_symlink(x->target, dir, rel);
	return copy_in(dir, x, rel);
}

/* Points the top's link at set n (a temp link renamed over it). */
static int switch_to(struct boot *b, unsigned n)
{
	char rel[64], tmp[64];
	int r;

	snprintf(tmp, sizeof(tmp), LAYOUT_KERNEL_TMP, SET);
	beneath_unlink(b->fd, tmp, false);
	set_path(rel, sizeof(rel), n, NULL);
	r = boot_sync(b);
	if (r == 0)
		r = beneath_symlink(rel, b->fd, tmp);
	if (r == 0)
		r = beneath_rename(b->fd, tmp, SET);
	if (r == 0)
		r = boot_sync(b);
	return r;
}

/* The tree's path for x: a link into the set (a directory link as the
 * host has it).  A file there from before is replaced only once the set
 * holds the same bytes (the caller's order). */
static int place(int dir, const struct entry *x)
{
	char target[PATH_MAX], have[PATH_MAX];
	const char *rel = x->path + 1;
	struct stat st;
	int r;

	if (dir_link(dir, x)) {
		if (beneath_lstat(dir, rel, &st) == 0 &&
		    (S_ISDIR(st.st_mode) ||
		     (beneath_readlink(dir, rel, have, sizeof(have)) == 0 &&
		      !strcmp(have, x->target))))
			return 0;	/* the tree's own directory, or done */
		snprintf(target, sizeof(target), "%s", x->target);
	} else {
		if (is_leaf(dir, x->path))
			return 0;
		leaf_target(x->path, target, sizeof(target));
	}
	r = make_parents(dir, rel);
	return r < 0 ? r : put_link(dir, target, rel);
}

/* Set n, built (r == 0), made current; or (r < 0, or the switch failed)
 * removed.  r, or the switch's error. */
static int finish_set(struct boot *b, unsigned n, int r, const char **ret_what)
{
	char rel[64];

	if (r == 0) {
		*ret_what = SET;
		r = switch_to(b, n);
	}
	if (r < 0) {
		set_path(rel, sizeof(rel), n, NULL);
		beneath_remove(b->fd, rel);
	}
	return r;
}

/* Builds set n from keep and extra and switches the link to it. */
static int build_and_switch(struct boot *b, unsigned cur, unsigned n,
			    const struct entries *keep,
			    const struct entries *const *carry,
			    size_t n_carry, const char **ret_what)
{
	char rel[PATH_MAX], from[PATH_MAX];
	size_t i, k;
	int r;

	set_path(rel, sizeof(rel), n, NULL);
	beneath_remove(b->fd, rel);
	r = beneath_mkdir(b->fd, rel, 0755);
	for (i = 0; i < keep->n && r == 0; i++) {
		*ret_what = keep->v[i].path;
		r = build_one(b->fd, cur, n, &keep->v[i]);
	}
	/* what is being dropped stays, as it was, until the change that no
	 * longer runs it is made; what an image keeps stays as it was */
	for (k = 0; k < n_carry; k++)
		for (i = 0; carry[k] && i < carry[k]->n && r == 0; i++) {
			const char *path = carry[k]->v[i].path;

			*ret_what = path;
			set_path(from, sizeof(from), cur, path);
			set_path(rel, sizeof(rel), n, path);
			if (!beneath_exists(b->fd, rel))
				r = carry_node(b->fd, from, rel);
		}
	return finish_set(b, n, r, ret_what);
}

/* A file a partition holds from before sets existed: the path's bytes
 * are those of a regular file (or link) at it, not a link into a set. */
static bool from_before(int dir, const struct entry *x)
{
	struct stat st;

	return !dir_link(dir, x) && !is_leaf(dir, x->path) &&
	       beneath_lstat(dir, x->path + 1, &st) == 0 &&
	       (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode));
}

/* Files from before: a set of exactly what the tree holds (hard links,
 * links copied), switched to, then each path made a link into it: every
 * step boots the same bytes. */
static int adopt(struct boot *b, unsigned *cur, const struct entries *keep,
		 const struct entries *const *carry, size_t n_carry,
		 const char **ret_what)
{
	const struct entries *both[3] = { keep, n_carry > 0 ? carry[0] : NULL,
				       n_carry > 1 ? carry[1] : NULL };
	char rel[PATH_MAX];
	unsigned n = *cur + 1;
	size_t i, k, found = 0;
	int r;

	for (k = 0; k < 3; k++)
		for (i = 0; both[k] && i < both[k]->n; i++)
			found += from_before(b->fd, &both[k]->v[i]);
	if (!found)
		return 0;
	set_path(rel, sizeof(rel), n, NULL);
	beneath_remove(b->fd, rel);
	r = beneath_mkdir(b->fd, rel, 0755);
	/* each path as it boots now: the tree's file, else the set's */
	for (k = 0; k < 3 && r == 0; k++)
		for (i = 0; both[k] && i < both[k]->n && r == 0; i++) {
			const struct entry *x = &both[k]->v[i];
			char from[PATH_MAX];

			*ret_what = x->path;
			set_path(rel, sizeof(rel), n, x->path);
			if (beneath_exists(b->fd, rel))
				continue;
			if (from_before(b->fd, x))
				snprintf(from, sizeof(from), "%s", x->path + 1);
			else if (*cur)
				set_path(from, sizeof(from), *cur, x->path);
			else
				continue;
			r = carry_node(b->fd, from, rel);
		}
	r = finish_set(b, n, r, ret_what);
	if (r < 0)
		return r;
	if (*cur) {
		set_path(rel, sizeof(rel), *cur, NULL);
		beneath_remove(b->fd, rel);
	}
	*cur = n;
	for (k = 0; k < 3 && r == 0; k++)
		for (i = 0; both[k] && i < both[k]->n && r == 0; i++) {
			*ret_what = both[k]->v[i].path;
			if (from_before(b->fd, &both[k]->v[i]))
				r = place(b->fd, &both[k]->v[i]);
		}
	return r == 0 ? boot_sync(b) : r;
}

int installset_update(struct boot *b, const struct entries *keep,
		      const struct entries *const *carry, size_t n_carry,
		      struct err *e)
{
	const char *what = SET;
	char last[PATH_MAX] = "";
	unsigned long long need = 0;
	unsigned cur = 0;
	bool differs = false;
	struct statvfs v;
	size_t i;
	int r = current(b->fd, &cur);

	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "%s/" SET " is not a link "
				"to one of earlyfs's sets of installed files "
				"(" SET ".N); move it away", b->dir);
	if (!r)
		cur = 0;
	if (n_carry > 2)
		return err_set(e, EXIT_FAILED, "at most two plans are carried");
	r = adopt(b, &cur, keep, carry, n_carry, &what);
	for (i = 0; i < keep->n && r == 0; i++) {
		struct entry *x = &keep->v[i];

		x->write = !set_has(b->fd, cur, x);
		differs |= x->write || (!dir_link(b->fd, x) &&
					!is_leaf(b->fd, x->path));
	}
	for (i = 0; i < keep->n && r == 0; i++)
		if (keep->v[i].write && !keep->v[i].link)
			need += ((unsigned long long)keep->v[i].st.st_size +
				 4095) / 4096 * 4096 + 4096;
	if (r == 0 && fstatvfs(b->fd, &v) == 0 &&
	    (unsigned long long)v.f_bavail * v.f_frsize < need + 65536)
		return err_setr(e, -ENOSPC, EXIT_FAILED, "the binaries need "
				"%llu KiB, the boot partition %s has %llu KiB "
				"free; nothing was installed", need / 1024,
				b->dir, (unsigned long long)v.f_bavail *
				v.f_frsize / 1024);
	if (r == 0 && differs) {
		r = build_and_switch(b, cur, cur + 1, keep, carry, n_carry,
				     &what);
		if (r == 0 && cur) {
			char rel[PATH_MAX];

			set_path(rel, sizeof(rel), cur, NULL);
			beneath_remove(b->fd, rel);
		}
		if (r == 0)
			cur++;
	}
	/* new paths: links into a set that has them now; and the temp links
	 * a killed update left beside them */
	for (i = 0; i < keep->n && r == 0; i++) {
		char parent[PATH_MAX], *slash;

		what = keep->v[i].path;
		snprintf(parent, sizeof(parent), "%s", what + 1);
		slash = strrchr(parent, '/');
		if (slash && (*slash = '\0', strcmp(parent, last))) {
			tree_remove_temps(b->fd, parent, 8, false);
			snprintf(last, sizeof(last), "%s", parent);
		}
		r = place(b->fd, &keep->v[i]);
	}
	if (r == 0)
		r = boot_sync(b);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot install %s: %s%s",
				what, strerror(-r), r == -ENOTDIR ?
				" (the boot partition has a file or a link "
				"where a directory is needed)" : "");
	return 0;
}

static bool has_path(const struct entries *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, path))
			return true;
	return false;
}

size_t installset_drop(struct boot *b, const struct entries *keep,
		       const struct entries *gone)
{
	char rel[PATH_MAX];
	unsigned cur;
	size_t i, n = 0;

	if (current(b->fd, &cur) != 1)
		return 0;
	for (i = 0; i < gone->n; i++) {
		const struct entry *x = &gone->v[i];

		if (has_path(keep, x->path))
			continue;
		if (is_leaf(b->fd, x->path))
			beneath_unlink(b->fd, x->path + 1, false);
		set_path(rel, sizeof(rel), cur, x->path);
		if (!x->link || !dir_link(b->fd, x))
			n += beneath_unlink(b->fd, rel, false) == 0;
	}
	if (n)
		boot_sync(b);
	return n;
}

size_t installset_leftovers(int dir, bool dry, FILE *out)
{
	const size_t pl = strlen(SET ".");
	struct dirent *de;
	unsigned cur = 0, n;
	size_t found = 0;
	int r;
	DIR *d;

	if (current(dir, &cur) < 0)
		return 0;	/* not ours: the next install says so */
	if (beneath_opendir(dir, ".", &d) < 0)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, "." SET ".tmp")) {
			found++;	/* a switch killed half-way */
			if (!dry)
				beneath_unlink(dir, de->d_name, false);
			continue;
		}
		if (strncmp(de->d_name, SET ".", pl) ||
		    layout_parse_generation(de->d_name + pl,
					    strlen(de->d_name + pl), &n) < 0 ||
		    n == cur)
			continue;
		found++;
		if (dry)
			continue;
		r = beneath_remove(dir, de->d_name);
		if (r < 0 && out)
			fprintf(out, "earlyfs: warning: cannot remove %s: %s; "
				"remove it by hand\n", de->d_name,
				strerror(-r));
	}
	closedir(d);
	return found;
}

bool installset_has(int dir, const char *path)
{
	char rel[PATH_MAX];
	struct stat st;
	unsigned cur;

	if (current(dir, &cur) != 1)
		return false;
	set_path(rel, sizeof(rel), cur, path);
	return beneath_lstat(dir, rel, &st) == 0;
}

int installset_stat(int dir, const char *path, struct stat *st)
{
	int fd = beneath_resolve(dir, path, O_PATH);
	int r;

	if (fd < 0)
		return fd;
	r = fstat(fd, st) < 0 ? -errno : S_ISREG(st->st_mode) ? 0 : -EINVAL;
	close(fd);
	return r;
}
