/* edit: changes to a boot partition as validated, atomic, numbered generations
 *
 * A change is built in generations/.new (unchanged files hard-linked from
 * the latest generation, so a generation costs only what changed), checked,
 * synced, and renamed to generations/N: that rename is the commit point.
 * Then the live tree (init.d/, etc/, extlinux/extlinux.conf) is made equal
 * to N file by file (temp file, sync, rename), and N is marked applied.
 * Whoever takes the lock next finishes an unapplied generation, removes a
 * stale .new and our temp files, so an interruption at any point leaves
 * every file with its old or its new content.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "admin.h"
#include "atomic.h"
#include "extlinux.h"
#include "fragment.h"
#include "request.h"
#include "text.h"

#define STAGING GEN_DIR "/.new"
#define CONF "extlinux/extlinux.conf"
#define TREE_MAX 4096

/* ---- trees: the files a generation holds ---- */

struct node {
	char rel[256];
	mode_t mode;
};

struct tree {
	struct node *v;
	size_t n;
};

static void tree_free(struct tree *t)
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

static const struct node *tree_find(const struct tree *t, const char *rel)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].rel, rel))
			return &t->v[i];
	return NULL;
}

/* Pre-order, so a directory comes before what it holds.  Dotfiles are
 * ours (temp files) or an editor's, never part of a generation. */
static int walk(const char *root, const char *rel, int depth, struct tree *t)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ?
			tree_add(t, rel, st.st_mode) : 0;
	if (depth > 8)
		return -ELOOP;
	r = tree_add(t, rel, st.st_mode);
	d = opendir(path);
	if (!d)
		return r < 0 ? r : -errno;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
		r = walk(root, sub, depth + 1, t);
	}
	closedir(d);
	return r;
}

static int tree_scan(const char *root, struct tree *t)
{
	int r;

	memset(t, 0, sizeof(*t));
	r = walk(root, "init.d", 0, t);
	if (r == 0)
		r = walk(root, "etc", 0, t);
	if (r == 0)
		r = walk(root, CONF, 0, t);
	if (r < 0)
		tree_free(t);
	return r;
}

/* Same type, permissions and bytes (or link target). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	char ba[8192], bb[8192];
	bool same = false;
	int fa = -1, fb = -1;
	ssize_t na, nb;

	if (lstat(a, &sa) < 0 || lstat(b, &sb) < 0 ||
	    (sa.st_mode & (S_IFMT | 07777)) != (sb.st_mode & (S_IFMT | 07777)))
		return false;
	if (S_ISDIR(sa.st_mode))
		return true;
	if (S_ISLNK(sa.st_mode)) {
		na = readlink(a, ba, sizeof(ba));
		nb = readlink(b, bb, sizeof(bb));
		return na >= 0 && na == nb && !memcmp(ba, bb, (size_t)na);
	}
	if (sa.st_size != sb.st_size)
		return false;
	if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
		return true;
	fa = open(a, O_RDONLY | O_CLOEXEC);
	fb = open(b, O_RDONLY | O_CLOEXEC);
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
static int copy_node(const char *src, const char *dst)
{
	char buf[65536];
	struct stat st;
	int in = -1, out = -1, r = 0;
	ssize_t n;

	if (lstat(src, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(src, buf, sizeof(buf) - 1);
		if (n < 0)
			return -errno;
		buf[n] = '\0';
		return symlink(buf, dst) < 0 ? -errno : 0;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (write(out, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			goto out;
		}
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
		unlink(dst);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *f)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int remove_tree(const char *path)
{
	if (access(path, F_OK) < 0)
		return 0;
	return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno
								     : 0;
}

static int sync_fs(const struct boot *b)
{
	return syncfs(b->fd) < 0 ? -errno : 0;
}

/* ---- generations on disk ---- */

static void gen_path(const struct boot *b, unsigned n, const char *rel,
		     char *ret, size_t cap)
{
	if (rel)
		snprintf(ret, cap, "%s/" GEN_DIR "/%u/%s", b->dir, n, rel);
	else
		snprintf(ret, cap, "%s/" GEN_DIR "/%u", b->dir, n);
}

static int cmp_gen(const void *a, const void *b)
{
	const struct generation *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

int generations_list(const struct boot *b, struct generation **ret,
		     size_t *ret_n)
{
	char path[PATH_MAX], *info;
	struct generation *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*ret = NULL;
	*ret_n = 0;
	snprintf(path, sizeof(path), "%s/" GEN_DIR, b->dir);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		unsigned long num;
		struct generation *g;
		char *p;

		if (text_parse_uint(de->d_name, strlen(de->d_name), 1u << 30,
				    &num) < 0 || num == 0)
			continue;
		if (n == cap) {
			struct generation *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		g = &v[n++];
		memset(g, 0, sizeof(*g));
		g->n = (unsigned)num;
		gen_path(b, g->n, "applied", path, sizeof(path));
		g->applied = access(path, F_OK) == 0;
		gen_path(b, g->n, "info", path, sizeof(path));
		info = read_text(path, 4096);
		if (!info)
			continue;
		p = strstr(info, "time=");
		if (p)
			g->when = (time_t)strtoll(p + 5, NULL, 10);
		p = strstr(info, "description=");
		if (p) {
			p += 12;
			snprintf(g->desc, sizeof(g->desc), "%.*s",
				 (int)strcspn(p, "\n"), p);
		}
		free(info);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_gen);
	*ret = v;
	*ret_n = n;
	return 0;
}

static unsigned gen_latest(const struct boot *b, bool *ret_applied)
{
	struct generation *v;
	unsigned latest = 0;
	size_t n;

	if (generations_list(b, &v, &n) == 0 && n) {
		latest = v[n - 1].n;
		if (ret_applied)
			*ret_applied = v[n - 1].applied;
	}
	free(v);
	return latest;
}

/* Makes the live tree equal to generation n: what differs is written
 * beside its target, synced, then renamed over it. */
static int gen_apply(struct boot *b, unsigned n, struct err *e)
{
	struct tree g = { 0 }, live = { 0 };
	char groot[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	char (*tmp)[PATH_MAX] = NULL;
	size_t i, n_tmp = 0, *which = NULL;
	int r, fd;

	gen_path(b, n, NULL, groot, sizeof(groot));
	r = tree_scan(groot, &g);
	if (r == 0)
		r = tree_scan(b->dir, &live);
	if (r < 0) {
		err_set(e, EXIT_FAILED, "cannot read generation %u or the live "
			"tree: %s", n, strerror(-r));
		goto out;
	}
	tmp = calloc(g.n ? g.n : 1, sizeof(*tmp));
	which = calloc(g.n ? g.n : 1, sizeof(*which));
	if (!tmp || !which) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < g.n; i++) {
		const char *rel = g.v[i].rel, *slash;

		snprintf(src, sizeof(src), "%s/%s", groot, rel);
		snprintf(dst, sizeof(dst), "%s/%s", b->dir, rel);
		if (S_ISDIR(g.v[i].mode)) {
			if (mkdir(dst, g.v[i].mode & 07777) < 0 &&
			    errno != EEXIST) {
				r = err_set(e, EXIT_FAILED, "cannot create %s: "
					    "%s", dst, strerror(errno));
				goto out;
			}
			chmod(dst, g.v[i].mode & 07777);
			continue;
		}
		if (same_file(src, dst))
			continue;
		slash = strrchr(rel, '/');
		snprintf(tmp[n_tmp], PATH_MAX, "%s/%.*s/.%s.tmpXXXXXX", b->dir,
			 (int)(slash - rel), rel, slash + 1);
		fd = mkstemp(tmp[n_tmp]);
		if (fd < 0 || (close(fd), unlink(tmp[n_tmp])) < 0 ||
		    (r = copy_node(src, tmp[n_tmp])) < 0) {
			if (fd < 0 || r == 0)
				r = -errno;
			err_set(e, EXIT_FAILED, "cannot write %s: %s", dst,
				strerror(-r));
			unlink(tmp[n_tmp]);
			goto out;
		}
		which[n_tmp++] = i;
	}
	r = sync_fs(b);
	if (r < 0) {
		err_set(e, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			strerror(-r));
		goto out;
	}
	for (i = 0; i < n_tmp; i++) {
		snprintf(dst, sizeof(dst), "%s/%s", b->dir, g.v[which[i]].rel);
		if (rename(tmp[i], dst) < 0) {
			r = err_set(e, EXIT_FAILED, "cannot rename %s: %s", dst,
				    strerror(errno));
			goto out;
		}
		tmp[i][0] = '\0';
	}
	/* what the generation does not have goes, deepest first */
	for (i = live.n; i-- > 0;) {
		if (tree_find(&g, live.v[i].rel))
			continue;
		snprintf(dst, sizeof(dst), "%s/%s", b->dir, live.v[i].rel);
		if (S_ISDIR(live.v[i].mode))
			rmdir(dst);	/* kept if something else is in it */
		else if (unlink(dst) < 0 && errno != ENOENT) {
			r = err_set(e, EXIT_FAILED, "cannot remove %s: %s",
				    dst, strerror(errno));
			goto out;
		}
	}
	gen_path(b, n, "applied", dst, sizeof(dst));
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	r = sync_fs(b);
	if (r < 0)
		err_set(e, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			strerror(-r));
out:
	for (i = 0; tmp && i < n_tmp; i++)
		if (tmp[i][0])
			unlink(tmp[i]);
	free(tmp);
	free(which);
	tree_free(&g);
	tree_free(&live);
	return r < 0 ? -1 : 0;
}

/* ".NAME.tmpXXXXXX": what atomic writes leave behind when killed */
static bool is_our_temp(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 11 && !memcmp(name + n - 10, ".tmp", 4);
}

static void remove_temps(const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (is_our_temp(de->d_name))
			unlink(path);
		else if (de->d_type == DT_DIR && de->d_name[0] != '.' &&
			 depth < 8)
			remove_temps(path, depth + 1);
	}
	closedir(d);
}

/* Finishes what an interrupted change left. */
static int recover(struct boot *b, FILE *out, struct err *e)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool applied = true;
	unsigned latest;
	DIR *d;

	snprintf(path, sizeof(path), "%s/" GEN_DIR, b->dir);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".new") && strncmp(de->d_name, ".old-", 5))
			continue;
		snprintf(path, sizeof(path), "%s/" GEN_DIR "/%s", b->dir,
			 de->d_name);
		remove_tree(path);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/init.d", b->dir);
	remove_temps(path, 0);
	snprintf(path, sizeof(path), "%s/etc", b->dir);
	remove_temps(path, 0);
	snprintf(path, sizeof(path), "%s/extlinux", b->dir);
	remove_temps(path, 8);
	latest = gen_latest(b, &applied);
	if (latest && !applied) {
		if (gen_apply(b, latest, e) < 0)
			return -1;
		fprintf(out, "earlyfs: finished generation %u, which an "
			"interrupted change had recorded but not applied\n",
			latest);
	}
	return 0;
}

static void prune(struct boot *b, unsigned latest)
{
	struct generation *v;
	char from[PATH_MAX], to[PATH_MAX];
	size_t n, i;

	if (generations_list(b, &v, &n) < 0)
		return;
	for (i = 0; i + b->keep < n; i++) {
		if (v[i].n + 1 >= latest)
			break;	/* never the current or the previous one */
		gen_path(b, v[i].n, NULL, from, sizeof(from));
		snprintf(to, sizeof(to), "%s/" GEN_DIR "/.old-%u", b->dir,
			 v[i].n);
		if (rename(from, to) == 0)
			remove_tree(to);
	}
	free(v);
}

/* ---- opening, locking ---- */

static unsigned conf_keep(const char *dir)
{
	char v[16];
	long n;

	if (boot_conf_get(dir, "keep_generations", v, sizeof(v)) < 0)
		return GEN_KEEP;
	n = strtol(v, NULL, 10);
	return n < 2 ? 2 : n > 1000 ? 1000 : (unsigned)n;
}

int boot_open(const char *dir, const char *target, unsigned partno,
	      bool write, struct boot *b, struct err *e)
{
	char path[PATH_MAX];
	const char *where;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->img_fd = -1;
	b->write = write;
	if (target) {
		if (target_resolve(target, partno, &b->t, e) < 0)
			return -1;
		if (b->t.is_image) {
			b->img_fd = open(b->t.disk, O_RDONLY | O_CLOEXEC);
			if (b->img_fd < 0 ||
			    flock(b->img_fd, LOCK_EX | LOCK_NB) < 0)
				return err_set(e, EXIT_REFUSED, "%s is in use "
					       "by another earlyfs command; "
					       "try again when it is done",
					       b->t.disk);
		}
		if (target_check_unused(&b->t, e) < 0 ||
		    target_attach(&b->t, e) < 0)
			goto fail;
		if (mkdtemp_in("earlyfs-edit", b->tmpmnt, sizeof(b->tmpmnt)) < 0 ||
		    mount(b->t.dev, b->tmpmnt, "ext4",
			  MS_NOATIME | (write ? 0 : MS_RDONLY), NULL) < 0) {
			err_set(e, EXIT_FAILED, "cannot mount %s: %s; is it an "
				"earlyfs boot partition?", b->t.dev,
				strerror(errno));
			goto fail;
		}
		b->mounted = true;
		dir = b->tmpmnt;
	}
	where = target ? target : dir ? dir : BOOT_DEFAULT;
	if (!dir)
		dir = BOOT_DEFAULT;
	if (!realpath(dir, b->dir)) {
		err_set(e, EXIT_FAILED, "%s: %s; give the mounted boot "
			"partition with --boot DIR, or --target", dir,
			strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/etc/earlyfs.conf", b->dir);
	if (access(path, F_OK) < 0) {
		err_set(e, EXIT_FAILED, "%s is not an earlyfs boot partition "
			"(no etc/earlyfs.conf); give the mounted boot "
			"partition with --boot DIR, or an image or partition "
			"with --target", where);
		goto fail;
	}
	snprintf(b->name, sizeof(b->name), "%s", where);
	b->fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->fd < 0) {
		err_set(e, EXIT_FAILED, "cannot open %s: %s", b->dir,
			strerror(errno));
		goto fail;
	}
	b->keep = conf_keep(b->dir);
	return 0;
fail:
	boot_close(b);
	return -1;
}

void boot_close(struct boot *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	if (b->mounted && umount(b->tmpmnt) == 0)
		b->mounted = false;
	if (b->tmpmnt[0] && !b->mounted)
		rmdir(b->tmpmnt);
	b->tmpmnt[0] = '\0';
	target_detach(&b->t);
	if (b->img_fd >= 0)
		close(b->img_fd);
	b->img_fd = -1;
}

static unsigned long mount_flags(const struct statvfs *v)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC }, { ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
		{ ST_SYNCHRONOUS, MS_SYNCHRONOUS },
	};
	unsigned long f = 0;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (v->f_flag & map[i].st)
			f |= map[i].ms;
	return f;
}

int boot_lock(struct boot *b, FILE *out, struct err *e)
{
	struct statvfs v;

	while (flock(b->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_set(e, EXIT_FAILED, "cannot lock %s: %s",
				       b->dir, strerror(errno));
	b->locked = true;
	if (fstatvfs(b->fd, &v) == 0 && (v.f_flag & ST_RDONLY)) {
		if (mount(NULL, b->dir, NULL, MS_REMOUNT | mount_flags(&v),
			  NULL) < 0) {
			err_set(e, EXIT_FAILED, "%s is mounted read-only and "
				"cannot be remounted read-write: %s", b->dir,
				strerror(errno));
			boot_unlock(b, out);
			return -1;
		}
		b->remounted = true;
	}
	if (recover(b, out, e) < 0) {
		boot_unlock(b, out);
		return -1;
	}
	return 0;
}

void boot_unlock(struct boot *b, FILE *out)
{
	struct statvfs v;

	if (b->remounted) {
		syncfs(b->fd);
		if (fstatvfs(b->fd, &v) < 0 ||
		    mount(NULL, b->dir, NULL,
			  MS_REMOUNT | MS_RDONLY | mount_flags(&v), NULL) < 0)
			fprintf(out, "earlyfs: warning: %s stays read-write: "
				"%s (a file on it is open for writing?)\n",
				b->dir, strerror(errno));
		b->remounted = false;
	}
	if (b->locked)
		flock(b->fd, LOCK_UN);
	b->locked = false;
}

/* ---- changes ---- */


int fragment_find(const struct boot *b, const char *name, char *ret_file,
		  size_t cap, bool *ret_disabled)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/init.d/%s", b->dir, name);
	if (access(path, F_OK) == 0) {
		snprintf(ret_file, cap, "%s", name);
		*ret_disabled = false;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/init.d/%s.disabled", b->dir, name);
	if (access(path, F_OK) == 0) {
		snprintf(ret_file, cap, "%s.disabled", name);
		*ret_disabled = true;
		return 0;
	}
	return -ENOENT;
}

int fragment_name_arg(const char *arg, char *ret, size_t cap, struct err *e)
{
	size_t n = strlen(arg);

	if (n > 9 && !strcmp(arg + n - 9, ".disabled"))
		n -= 9;
	if (n >= cap || snprintf(ret, cap, "%.*s", (int)n, arg) < 0 ||
	    fragment_name_check(ret) < 0)
		return err_set(e, EXIT_USAGE, "'%s' is not a fragment name: "
			       FRAGMENT_RULE, arg);
	return 0;
}

/* Builds generations/.new from src (the live tree, or the generation a
 * rollback restores), linking what is the same in generation `from`. */
static int stage(struct boot *b, const char *src, unsigned from,
		 struct err *e)
{
	char staging[PATH_MAX], s[PATH_MAX], d[PATH_MAX], l[PATH_MAX];
	char groot[PATH_MAX] = "";
	struct tree t;
	size_t i;
	int r;

	snprintf(staging, sizeof(staging), "%s/" STAGING, b->dir);
	snprintf(s, sizeof(s), "%s/" GEN_DIR, b->dir);
	if ((mkdir(s, 0755) < 0 && errno != EEXIST) ||
	    mkdir(staging, 0755) < 0) {
		r = -errno;
		goto fail;
	}
	snprintf(d, sizeof(d), "%s/extlinux", staging);
	if (mkdir(d, 0755) < 0) {
		r = -errno;
		goto fail;
	}
	if (from)
		gen_path(b, from, NULL, groot, sizeof(groot));
	r = tree_scan(src, &t);
	if (r < 0)
		goto fail;
	for (i = 0; i < t.n && r == 0; i++) {
		snprintf(s, sizeof(s), "%s/%s", src, t.v[i].rel);
		snprintf(d, sizeof(d), "%s/%s", staging, t.v[i].rel);
		if (S_ISDIR(t.v[i].mode)) {
			if (mkdir(d, t.v[i].mode & 07777) < 0 ||
			    chmod(d, t.v[i].mode & 07777) < 0)
				r = -errno;
			continue;
		}
		snprintf(l, sizeof(l), "%s/%s", groot, t.v[i].rel);
		if (groot[0] && S_ISREG(t.v[i].mode) && same_file(s, l) &&
		    link(l, d) == 0)
			continue;
		r = copy_node(s, d);
	}
	tree_free(&t);
	if (r == 0)
		return 0;
fail:
	remove_tree(staging);
	if (r == -ENOSPC || r == -EDQUOT)
		return -ENOSPC;
	return err_set(e, EXIT_FAILED, "cannot prepare the change in %s: %s",
		       staging, strerror(-r));
}

static int write_new(const char *path, const char *data, size_t len,
		     mode_t mode)
{
	int fd, r = 0;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static mode_t new_fragment_mode(const char *data, size_t len)
{
	if ((len >= 2 && data[0] == '#' && data[1] == '!') ||
	    (len >= 4 && !memcmp(data, "\177ELF", 4)))
		return 0755;
	return 0644;	/* the runner gives it to /bin/sh -e */
}

/* The files where the live tree and generation `latest` differ, as a
 * list for a description; 0 when none. */
static size_t live_changes(struct boot *b, unsigned latest, char *list,
			   size_t cap)
{
	char groot[PATH_MAX], a[PATH_MAX], g[PATH_MAX];
	struct tree lt = { 0 }, gt = { 0 };
	size_t i, n = 0, len = 0;

	list[0] = '\0';
	gen_path(b, latest, NULL, groot, sizeof(groot));
	if (tree_scan(b->dir, &lt) < 0 || tree_scan(groot, &gt) < 0) {
		tree_free(&lt);
		return 1;	/* unknown: let the record find out */
	}
	for (i = 0; i < lt.n + gt.n; i++) {
		const struct node *x = i < lt.n ? &lt.v[i] : &gt.v[i - lt.n];

		if (i >= lt.n && tree_find(&lt, x->rel))
			continue;
		snprintf(a, sizeof(a), "%s/%s", b->dir, x->rel);
		snprintf(g, sizeof(g), "%s/%s", groot, x->rel);
		if (same_file(a, g))
			continue;
		n++;
		if (len + strlen(x->rel) + 8 < cap)
			len += (size_t)snprintf(list + len, cap - len, "%s%s",
						len ? ", " : "", x->rel);
		else if (len + 5 < cap && !strstr(list, ", ..."))
			len += (size_t)snprintf(list + len, cap - len, ", ...");
	}
	tree_free(&lt);
	tree_free(&gt);
	return n;
}

struct plan {
	char desc[512];
	bool nothing;				/* already so: no generation */
};

/* Applies the change to generations/.new; refusals before any write. */
static int change_stage(struct boot *b, const struct change *c,
			unsigned latest, struct plan *p, FILE *out,
			struct err *e)
{
	char name[FRAGMENT_NAME_MAX + 1], newname[FRAGMENT_NAME_MAX + 1];
	char file[FRAGMENT_NAME_MAX + 16], to[FRAGMENT_NAME_MAX + 16];
	char path[PATH_MAX], path2[PATH_MAX], src[PATH_MAX];
	bool disabled = false, exists = false;
	unsigned rb = 0;
	struct stat st;
	int r;

	if (c->op == CHANGE_ROLLBACK) {
		rb = c->gen ? c->gen : latest - 1;
		gen_path(b, rb, "applied", src, sizeof(src));
		if (rb == 0 || access(src, F_OK) < 0)
			return err_set(e, EXIT_FAILED, "there is no generation "
				       "%u to roll back to; see 'earlyfs "
				       "generations'", rb);
		gen_path(b, rb, NULL, src, sizeof(src));
		snprintf(p->desc, sizeof(p->desc), "rollback to generation %u",
			 rb);
	} else {
		snprintf(src, sizeof(src), "%s", b->dir);
	}
	if (c->op != CHANGE_ROLLBACK && c->op != CHANGE_RECORD) {
		if (fragment_name_arg(c->name, name, sizeof(name), e) < 0)
			return -1;
		exists = fragment_find(b, name, file, sizeof(file),
				       &disabled) == 0;
		if (!exists && c->op != CHANGE_PUT && c->op != CHANGE_ADD)
			return err_set(e, EXIT_FAILED, "there is no fragment "
				       "%s in init.d; see 'earlyfs fragments'",
				       name);
	}
	switch (c->op) {
	case CHANGE_ADD:
		if (exists)
			return err_set(e, EXIT_REFUSED, "init.d/%s already "
				       "exists; change it with 'earlyfs edit "
				       "%s', or remove it first", file, name);
		/* fall through */
	case CHANGE_PUT:
		if (c->len > REQUEST_BODY_MAX)
			return err_set(e, EXIT_REFUSED, "%s is larger than 1 MiB",
				       name);
		if (c->has_base) {
			char *cur = NULL;
			size_t len = 0;

			snprintf(path, sizeof(path), "%s/init.d/%s", b->dir,
				 file);
			if (!exists || read_file(path, REQUEST_BODY_MAX, &cur,
						 &len) < 0 ||
			    request_hash(cur, len) != c->base) {
				free(cur);
				return err_set(e, EXIT_REFUSED, "init.d/%s "
					       "changed since you started "
					       "editing it; nothing written",
					       exists ? file : name);
			}
			free(cur);
		}
		if (!exists)
			snprintf(file, sizeof(file), "%s", name);
		snprintf(p->desc, sizeof(p->desc), "%s init.d/%s",
			 exists ? "edit" : "add", file);
		break;
	case CHANGE_RM:
		snprintf(p->desc, sizeof(p->desc), "remove init.d/%s", file);
		break;
	case CHANGE_ENABLE:
	case CHANGE_DISABLE:
		if (disabled == (c->op == CHANGE_DISABLE)) {
			fprintf(out, "earlyfs: %s is already %s\n", name,
				disabled ? "disabled" : "enabled");
			p->nothing = true;
			return 0;
		}
		snprintf(to, sizeof(to), "%s%s", name,
			 c->op == CHANGE_DISABLE ? ".disabled" : "");
		snprintf(p->desc, sizeof(p->desc), "%s init.d/%s",
			 c->op == CHANGE_DISABLE ? "disable" : "enable", name);
		break;
	case CHANGE_MV:
		if (fragment_name_arg(c->newname, newname, sizeof(newname),
				      e) < 0)
			return -1;
		if (fragment_find(b, newname, to, sizeof(to), &(bool){0}) == 0)
			return err_set(e, EXIT_REFUSED, "init.d/%s already "
				       "exists; remove it or choose another "
				       "name", to);
		snprintf(to, sizeof(to), "%s%s", newname,
			 disabled ? ".disabled" : "");
		snprintf(p->desc, sizeof(p->desc), "rename init.d/%s to "
			 "init.d/%s", file, to);
		break;
	case CHANGE_RECORD:
		if (!latest) {
			snprintf(p->desc, sizeof(p->desc), "initial state");
			break;
		}
		if (!live_changes(b, latest, path, 256)) {
			p->nothing = true;
			return 0;
		}
		snprintf(p->desc, sizeof(p->desc), "direct edit of %s", path);
		break;
	case CHANGE_ROLLBACK:
		break;
	}

	r = stage(b, src, c->op == CHANGE_ROLLBACK ? rb : latest, e);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/" STAGING "/init.d/%s", b->dir, file);
	snprintf(path2, sizeof(path2), "%s/" STAGING "/init.d/%s", b->dir, to);
	r = 0;
	switch (c->op) {
	case CHANGE_ADD:
	case CHANGE_PUT:
		r = write_new(path, c->data, c->len,
			      exists && stat(path, &st) == 0 ?
				      st.st_mode & 07777 :
				      new_fragment_mode(c->data, c->len));
		break;
	case CHANGE_RM:
		r = unlink(path) < 0 ? -errno : 0;
		break;
	case CHANGE_ENABLE:
	case CHANGE_DISABLE:
	case CHANGE_MV:
		r = rename(path, path2) < 0 ? -errno : 0;
		break;
	default:
		break;
	}
	if (r == -ENOSPC || r == -EDQUOT)
		return -ENOSPC;
	if (r < 0)
		return err_set(e, EXIT_FAILED, "cannot write %s: %s", path,
			       strerror(-r));
	return 0;
}

/* The 'previous' label boots generation `prev` with its default label. */
static int stage_previous(struct boot *b, unsigned prev, struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	const struct extlinux_label *from = NULL;
	char path[PATH_MAX], *buf = NULL, *out = NULL;
	struct problems p = { NULL, 0 };
	size_t len, i;
	int r = -1, n;

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	if (prev)
		gen_path(b, prev, CONF, path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/" STAGING "/" CONF, b->dir);
	if (validate_extlinux(b->dir, path, CONF, c, &p) < 0 && !c->n) {
		err_set(e, EXIT_FAILED, "%s does not parse; fix it first "
			"('earlyfs check' says where)", path);
		goto out;
	}
	from = c->default_label[0] ? extlinux_find(c, c->default_label) : NULL;
	for (i = 0; !from && i < c->n; i++)
		if (strcmp(c->labels[i].name, EXTLINUX_PREVIOUS))
			from = &c->labels[i];
	if (!from) {
		err_set(e, EXIT_FAILED, "%s has no label to boot", path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/" STAGING "/" CONF, b->dir);
	if (read_file(path, 64 * 1024, &buf, &len) < 0 ||
	    !(out = malloc(len + 4096))) {
		err_set(e, EXIT_FAILED, "cannot read %s", path);
		goto out;
	}
	n = extlinux_set_previous(buf, len, from, prev ? prev : 1, out,
				  len + 4096);
	if (n < 0) {
		err_set(e, EXIT_FAILED, "%s: too long", path);
		goto out;
	}
	if ((size_t)n == len && !memcmp(out, buf, len)) {
		r = 0;
		goto out;
	}
	r = write_new(path, out, (size_t)n, 0644);
	if (r == -ENOSPC || r == -EDQUOT)
		goto out;
	if (r < 0)
		err_set(e, EXIT_FAILED, "cannot write %s: %s", path,
			strerror(-r));
out:
	free(buf);
	free(out);
	free(c);
	return r;
}

/* What differs between .new and generation `latest` is validated; the
 * bytes the live tree will need are counted. */
static int review(struct boot *b, unsigned latest, struct plan *p,
		  bool force, size_t *ret_changed, uint64_t *ret_bytes,
		  struct err *e)
{
	char staging[PATH_MAX], groot[PATH_MAX] = "", s[PATH_MAX];
	char l[PATH_MAX], problems[2048] = "";
	struct tree t = { 0 }, g = { 0 };
	FILE *pf = fmemopen(problems, sizeof(problems) - 1, "w");
	struct problems pr = { pf, 0 };
	size_t i, changed = 0;
	struct stat st;
	int r;

	*ret_bytes = 0;
	snprintf(staging, sizeof(staging), "%s/" STAGING, b->dir);
	if (latest)
		gen_path(b, latest, NULL, groot, sizeof(groot));
	r = tree_scan(staging, &t);
	if (r == 0 && latest)
		r = tree_scan(groot, &g);
	if (r < 0) {
		if (pf)
			fclose(pf);
		tree_free(&t);
		return err_set(e, EXIT_FAILED, "cannot read %s: %s", staging,
			       strerror(-r));
	}
	for (i = 0; i < t.n; i++) {
		const char *rel = t.v[i].rel, *base = strrchr(rel, '/');

		snprintf(s, sizeof(s), "%s/%s", staging, rel);
		snprintf(l, sizeof(l), "%s/%s", b->dir, rel);
		if (S_ISREG(t.v[i].mode) && !same_file(s, l) &&
		    lstat(s, &st) == 0)
			*ret_bytes += (uint64_t)st.st_size + 4096;
		snprintf(l, sizeof(l), "%s/%s", groot, rel);
		if (S_ISDIR(t.v[i].mode) || (latest && same_file(s, l)))
			continue;
		changed++;
		base = base ? base + 1 : rel;
		if (!strncmp(rel, "init.d/", 7) && !strchr(rel + 7, '/') &&
		    fragment_name_classify(base) <= FRAGMENT_DISABLED)
			validate_fragment(b->dir, s, rel, &pr);
		else if (!strcmp(rel, "etc/fstab"))
			validate_fstab(s, rel, &pr);
		else if (!strcmp(rel, CONF))
			validate_extlinux(b->dir, s, rel, NULL, &pr);
	}
	for (i = 0; i < g.n; i++)
		if (!tree_find(&t, g.v[i].rel))
			changed++;
	tree_free(&t);
	tree_free(&g);
	if (pf)
		fclose(pf);
	*ret_changed = changed;
	if (pr.n && force) {
		size_t n = strlen(p->desc);

		snprintf(p->desc + n, sizeof(p->desc) - n, " (not valid: %zu "
			 "problem%s, see earlyfs check)", pr.n,
			 pr.n == 1 ? "" : "s");
	} else if (pr.n) {
		size_t n = strlen(problems);

		if (n && problems[n - 1] == '\n')
			problems[n - 1] = '\0';
		return err_set(e, EXIT_REFUSED, "%zu problem%s; nothing "
			       "changed:\n%s", pr.n, pr.n == 1 ? "" : "s",
			       problems);
	}
	return 0;
}

static int no_space(struct boot *b, const char *what, struct err *e)
{
	struct statvfs v;
	unsigned long long kib = 0;

	if (fstatvfs(b->fd, &v) == 0)
		kib = (unsigned long long)v.f_bfree * v.f_frsize / 1024;
	return err_set(e, EXIT_FAILED, "%s: the boot partition %s is full "
		       "(%llu KiB free); nothing was changed.  Free space on "
		       "it (old kernels, files you added; fewer generations "
		       "with keep_generations= in etc/earlyfs.conf) and try "
		       "again", what, b->dir, kib);
}

static int write_info(struct boot *b, const char *desc)
{
	char path[PATH_MAX], text[1024];
	size_t i, start;

	snprintf(text, sizeof(text), "time=%lld\ndescription=",
		 (long long)time(NULL));
	start = strlen(text);
	snprintf(text + start, sizeof(text) - start - 1, "%s", desc);
	for (i = start; text[i]; i++)
		if ((unsigned char)text[i] < 0x20)
			text[i] = '?';	/* file names may hold anything */
	strcat(text, "\n");
	snprintf(path, sizeof(path), "%s/" STAGING "/info", b->dir);
	return write_new(path, text, strlen(text), 0644);
}

static int commit_locked(struct boot *b, const struct change *c, FILE *out,
			 struct err *e)
{
	char staging[PATH_MAX], final[PATH_MAX];
	struct plan p = { "", false };
	struct statvfs v;
	uint64_t bytes = 0;
	size_t changed = 0;
	unsigned latest;
	int r;

	latest = gen_latest(b, NULL);
	if (c->op != CHANGE_RECORD &&
	    (!latest || live_changes(b, latest, staging, 256))) {
		/* the state before the change becomes a generation of its
		 * own: the first one, or edits made without earlyfs, which a
		 * rollback would otherwise overwrite unrecorded */
		const struct change first = { .op = CHANGE_RECORD,
					      .force = true };

		if (commit_locked(b, &first, out, e) < 0)
			return -1;
		latest = gen_latest(b, NULL);
	}
	snprintf(staging, sizeof(staging), "%s/" STAGING, b->dir);
	r = change_stage(b, c, latest, &p, out, e);
	if (r == -ENOSPC) {
		remove_tree(staging);
		return no_space(b, c->name ? c->name : "change", e);
	}
	if (r < 0 || p.nothing) {
		remove_tree(staging);
		return r < 0 ? -1 : 0;
	}
	r = stage_previous(b, latest, e);
	if (r == 0)
		r = review(b, latest, &p, c->force, &changed, &bytes, e);
	if (r == 0 && latest && !changed) {
		remove_tree(staging);
		if (c->op != CHANGE_RECORD)
			fprintf(out, "earlyfs: %s: nothing changed\n", p.desc);
		return 0;
	}
	if (r == 0)
		r = write_info(b, p.desc);
	if (r == 0 && fstatvfs(b->fd, &v) == 0 &&
	    (uint64_t)v.f_bfree * v.f_frsize < bytes + 65536)
		r = -ENOSPC;
	if (r == 0)
		r = sync_fs(b);
	if (r == -ENOSPC || r == -EDQUOT) {
		remove_tree(staging);
		return no_space(b, p.desc, e);
	}
	if (r < 0) {
		remove_tree(staging);
		if (r != -1)
			err_set(e, EXIT_FAILED, "%s: %s", p.desc, strerror(-r));
		return -1;
	}
	gen_path(b, latest + 1, NULL, final, sizeof(final));
	if (rename(staging, final) < 0) {
		r = -errno;
		remove_tree(staging);
		return err_set(e, EXIT_FAILED, "cannot record generation %u: "
			       "%s", latest + 1, strerror(-r));
	}
	if (gen_apply(b, latest + 1, e) < 0)
		return -1;
	prune(b, latest + 1);
	fprintf(out, "earlyfs: %s (generation %u)\n", p.desc, latest + 1);
	return 0;
}

int change_commit(struct boot *b, const struct change *c, FILE *out,
		  struct err *e)
{
	int r;

	if (boot_lock(b, out, e) < 0)
		return -1;
	r = commit_locked(b, c, out, e);
	boot_unlock(b, out);
	return r;
}

size_t direct_edits(struct boot *b, char *list, size_t cap)
{
	unsigned latest = gen_latest(b, NULL);

	if (!latest) {
		snprintf(list, cap, "(no generation yet)");
		return 1;
	}
	return live_changes(b, latest, list, cap);
}
