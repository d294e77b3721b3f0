/* install: see install.h */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "atomic.h"
#include "beneath.h"
#include "change.h"
#include "elfdeps.h"
#include "install.h"
#include "layout.h"
#include "text.h"
#include "util.h"

#define LINK_HOPS_MAX 40
#define ENTRIES_MAX 4096
#define BINS_MAX 256
#define LDCONF_DIRS_MAX 64
#define MANIFEST_HEAD "# earlyfs install: what was copied from the host " \
	"(earlyfs install --refresh copies it again)\n"

/* One path of the tree, as on the host: a link made as a link, or a
 * regular file copied. */
struct entry {
	bool link;
	char path[PATH_MAX];
	char target[PATH_MAX];	/* a link's */
	struct stat st;		/* a file's, on the host */
	bool write;		/* differs from the tree's */
};

struct plan {
	struct entry *v;
	size_t n;
	char bins[BINS_MAX][PATH_MAX];
	size_t n_bins;
	unsigned elf_class, machine;
	int tree;		/* the partition's directory fd */
	char ldconf[LDCONF_DIRS_MAX][PATH_MAX];
	size_t n_ldconf;
	struct err *e;
};

/* "/a//b/./c/../d" -> "/a/b/d"; -EINVAL unless absolute and it fits. */
static int normalize(const char *in, char *out, size_t cap)
{
	size_t n = 0, len;
	const char *p = in;

	if (*in != '/')
		return -EINVAL;
	while (*p) {
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			if (n + 1 + len + 1 > cap)
				return -ENAMETOOLONG;
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return 0;
}

/* No blank or control character: one word of the manifest. */
static bool plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static struct entry *find(struct plan *pl, const char *path)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		if (!strcmp(pl->v[i].path, path))
			return &pl->v[i];
	return NULL;
}

static struct entry *add(struct plan *pl, bool link, const char *path)
{
	struct entry *x = find(pl, path);

	if (x)
		return x;
	if (pl->n == ENTRIES_MAX)
		return NULL;
	x = &pl->v[pl->n++];
	memset(x, 0, sizeof(*x));
	x->link = link;
	snprintf(x->path, sizeof(x->path), "%s", path);
	return x;
}

static bool tree_dir(int tree, const char *path)
{
	struct stat st;

	return beneath_lstat(tree, path + 1, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Walks path on the host component by component: each link on the way
 * becomes a link entry and the walk goes on from its target; the regular
 * file at the end becomes a file entry, its path in ret (links resolved).
 * 0, -ENOENT (named in e), or another -errno.
 */
static int host_walk(struct plan *pl, const char *path, char *ret, size_t cap)
{
	char cur[PATH_MAX], rest[PATH_MAX], next[PATH_MAX], t[PATH_MAX];
	char joined[PATH_MAX * 2 + 2];
	const char *p;
	struct stat st;
	int hops = 0;
	ssize_t n;

	if (normalize(path, rest, sizeof(rest)) < 0)
		return err_set(pl->e, EXIT_USAGE, "%s: not an absolute path",
			       path);
restart:
	cur[0] = '\0';
	p = rest;
	for (;;) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if ((size_t)snprintf(next, sizeof(next), "%s/%.*s", cur,
				     (int)len, p) >= sizeof(next))
			return err_set(pl->e, EXIT_FAILED, "%s: path too long",
				       path);
		p += len;
		if (lstat(next, &st) < 0)
			return err_setr(pl->e, -errno, EXIT_FAILED, "%s: %s "
					"on the host: %s", path, next,
					strerror(errno));
		if (S_ISLNK(st.st_mode) && *p && tree_dir(pl->tree, next)) {
			/* the tree has a directory here (its own lib, bin,
			 * sbin): the path stays, the host's link is read
			 * through */
			snprintf(cur, sizeof(cur), "%s", next);
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			struct entry *x;

			if (++hops > LINK_HOPS_MAX)
				return err_set(pl->e, EXIT_FAILED, "%s: too "
					       "many links", path);
			n = readlink(next, t, sizeof(t) - 1);
			if (n <= 0)
				return err_set(pl->e, EXIT_FAILED, "%s: cannot "
					       "read the link %s", path, next);
			t[n] = '\0';
			x = add(pl, true, next);
			if (!x)
				return err_set(pl->e, EXIT_FAILED, "more than "
					       "%d files to install",
					       ENTRIES_MAX);
			snprintf(x->target, sizeof(x->target), "%s", t);
			if (t[0] == '/')
				snprintf(joined, sizeof(joined), "%s%s", t, p);
			else
				snprintf(joined, sizeof(joined), "%s/%s%s",
					 cur, t, p);
			if (normalize(joined, rest, sizeof(rest)) < 0)
				return err_set(pl->e, EXIT_FAILED, "%s: path "
					       "too long", path);
			goto restart;
		}
		if (*p) {
			if (!S_ISDIR(st.st_mode))
				return err_set(pl->e, EXIT_FAILED, "%s: %s is "
					       "not a directory", path, next);
			snprintf(cur, sizeof(cur), "%s", next);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			return err_set(pl->e, EXIT_FAILED, "%s: not a regular "
				       "file", path);
		struct entry *x = add(pl, false, next);

		if (!x)
			return err_set(pl->e, EXIT_FAILED, "more than %d files "
				       "to install", ENTRIES_MAX);
		x->st = st;
		snprintf(ret, cap, "%s", next);
		return 0;
	}
}

static const char *multiarch(unsigned machine)
{
	switch (machine) {
	case 62: return "x86_64-linux-gnu";
	case 183: return "aarch64-linux-gnu";
	case 3: return "i386-linux-gnu";
	case 40: return "arm-linux-gnueabihf";
	default: return "unknown";
	}
}

/* The host's ld.so.conf: its directories, includes followed (bounded). */
static void ldconf_read(struct plan *pl, const char *path, int depth)
{
	char *text, *line, *save = NULL;
	size_t len;

	if (depth > 4 || read_file(path, 64 * 1024, &text, &len) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *h = strchr(line, '#');

		if (h)
			*h = '\0';
		line += strspn(line, " \t");
		if (!strncmp(line, "include", 7) &&
		    (line[7] == ' ' || line[7] == '\t')) {
			char *pat = line + 8, full[PATH_MAX];
			glob_t g;
			size_t i;

			pat += strspn(pat, " \t");
			pat[strcspn(pat, " \t\r")] = '\0';
			if (*pat == '/')
				snprintf(full, sizeof(full), "%s", pat);
			else
				snprintf(full, sizeof(full), "/etc/%s", pat);
			if (glob(full, 0, NULL, &g) == 0) {
				for (i = 0; i < g.gl_pathc; i++)
					ldconf_read(pl, g.gl_pathv[i],
						    depth + 1);
				globfree(&g);
			}
		} else if (*line == '/' && pl->n_ldconf < LDCONF_DIRS_MAX) {
			line[strcspn(line, " \t\r=")] = '\0';
			snprintf(pl->ldconf[pl->n_ldconf++], PATH_MAX, "%s",
				 line);
		}
	}
	free(text);
}

/* Whether path on the host is an ELF file of the plan's kind. */
static bool elf_matches(struct plan *pl, const char *path)
{
	struct elf_deps d;

	return elf_read_deps(path, &d) == 0 && d.elf_class == pl->elf_class &&
	       d.machine == pl->machine;
}

/* Where the loader of the booted system finds a library without an
 * ld.so.cache: its default directories. */
static bool default_dir(struct plan *pl, const char *dir)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "/lib/%s", multiarch(pl->machine));
	snprintf(b, sizeof(b), "/usr/lib/%s", multiarch(pl->machine));
	return !strcmp(dir, a) || !strcmp(dir, b) || !strcmp(dir, "/lib") ||
	       !strcmp(dir, "/usr/lib") || !strcmp(dir, "/lib64") ||
	       !strcmp(dir, "/usr/lib64");
}

/* $ORIGIN in a run path: the directory of the object. */
static void expand_origin(const char *tok, const char *origin, char *ret,
			  size_t cap)
{
	const char *o = strstr(tok, "$ORIGIN"), *b = strstr(tok, "${ORIGIN}");

	if (o)
		snprintf(ret, cap, "%.*s%s%s", (int)(o - tok), tok, origin,
			 o + 7);
	else if (b)
		snprintf(ret, cap, "%.*s%s%s", (int)(b - tok), tok, origin,
			 b + 9);
	else
		snprintf(ret, cap, "%s", tok);
}

static int add_elf(struct plan *pl, const char *path, const char *shown,
		   int depth);

/* Finds library name as the loader would for an object at `origin` with
 * run path rp, and adds it. */
static int add_lib(struct plan *pl, const char *name, const char *rp,
		   const char *origin, const char *shown, int depth)
{
	char dirs[LDCONF_DIRS_MAX + 8 + 32][PATH_MAX], cand[PATH_MAX * 2];
	char *copy, *tok, *save = NULL;
	size_t n = 0, i;
	bool via_rp;

	if (strchr(name, '/'))
		return add_elf(pl, name, shown, depth + 1);
	copy = strdup(rp);
	for (tok = copy ? strtok_r(copy, ":", &save) : NULL; tok && n < 32;
	     tok = strtok_r(NULL, ":", &save))
		expand_origin(tok, origin, dirs[n++], PATH_MAX);
	free(copy);
	size_t n_rp = n;

	for (i = 0; i < pl->n_ldconf; i++)
		snprintf(dirs[n++], PATH_MAX, "%s", pl->ldconf[i]);
	snprintf(dirs[n++], PATH_MAX, "/lib/%s", multiarch(pl->machine));
	snprintf(dirs[n++], PATH_MAX, "/usr/lib/%s", multiarch(pl->machine));
	snprintf(dirs[n++], PATH_MAX, "/lib");
	snprintf(dirs[n++], PATH_MAX, "/usr/lib");
	if (pl->elf_class == 2) {
		snprintf(dirs[n++], PATH_MAX, "/lib64");
		snprintf(dirs[n++], PATH_MAX, "/usr/lib64");
	}
	for (i = 0; i < n; i++) {
		char found[PATH_MAX];
		int r;

		snprintf(cand, sizeof(cand), "%s/%s", dirs[i], name);
		if (access(cand, F_OK) < 0 || !elf_matches(pl, cand))
			continue;
		via_rp = i < n_rp;
		r = host_walk(pl, cand, found, sizeof(found));
		if (r == 0)
			r = add_elf(pl, found, shown, depth + 1);
		if (r == 0 && !via_rp && !default_dir(pl, dirs[i])) {
			/* found through ld.so.conf only: the tree has no
			 * ld.so.cache, so a link where the loader looks */
			char at[PATH_MAX];
			struct entry *x;

			snprintf(at, sizeof(at), "/usr/lib/%s", name);
			x = add(pl, true, at);
			if (x && !x->target[0])
				snprintf(x->target, sizeof(x->target), "%s",
					 found);
		}
		return r;
	}
	return err_set(pl->e, EXIT_FAILED, "%s needs %s, which is not on "
		       "the host (searched its run path, ld.so.conf and "
		       "the default directories); nothing was installed",
		       shown, name);
}

/* Adds an ELF file (a link walk already done when depth > 0) and what it
 * needs, recursively. */
static int add_elf(struct plan *pl, const char *path, const char *shown,
		   int depth)
{
	char canon[PATH_MAX], origin[PATH_MAX], *slash;
	struct elf_deps *d;
	struct entry *x;
	size_t i;
	int r;

	if (depth > 32)
		return err_set(pl->e, EXIT_FAILED, "%s: libraries nested too "
			       "deep", shown);
	x = find(pl, path);
	if (depth > 0 && x && !x->link && x->write)
		return 0;	/* done already (write marks it seen) */
	r = host_walk(pl, path, canon, sizeof(canon));
	if (r < 0)
		return r;
	x = find(pl, canon);
	if (x->write)
		return 0;
	x->write = true;
	d = malloc(sizeof(*d));
	if (!d)
		return err_set(pl->e, EXIT_FAILED, "out of memory");
	r = elf_read_deps(canon, d);
	if (r < 0) {
		free(d);
		return err_set(pl->e, r == -ENOEXEC ? EXIT_REFUSED : EXIT_FAILED,
			       "%s: %s", depth ? canon : shown, r == -ENOEXEC ?
			       "not an ELF file (a script?); earlyfs install "
			       "copies binaries and their libraries" :
			       "cannot read its ELF headers");
	}
	if (!pl->elf_class) {
		pl->elf_class = d->elf_class;
		pl->machine = d->machine;
	} else if (d->elf_class != pl->elf_class ||
		   d->machine != pl->machine) {
		free(d);
		return err_set(pl->e, EXIT_REFUSED, "%s is built for another "
			       "architecture than %s; nothing was installed",
			       canon, pl->bins[0]);
	}
	snprintf(origin, sizeof(origin), "%s", canon);
	slash = strrchr(origin, '/');
	if (slash)
		*(slash == origin ? slash + 1 : slash) = '\0';
	if (d->interp[0]) {
		char loader[PATH_MAX];

		r = host_walk(pl, d->interp, loader, sizeof(loader));
		if (r == 0) {
			x = find(pl, loader);
			x->write = true;
		}
	}
	for (i = 0; r == 0 && i < d->n_needed; i++)
		r = add_lib(pl, d->needed[i], d->runpath, origin, shown, depth);
	free(d);
	return r;
}

/* A binary argument: a path, or a name looked up in the host's PATH.
 * Manifest entries come from the partition: they must be absolute,
 * normalized, printable, and owned by root on the host, not writable by
 * others (a manifest names host files to read, nothing else). */
static int bin_arg(struct plan *pl, const char *arg, bool from_manifest)
{
	static const char *const path[] = { "/usr/local/sbin",
		"/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	char p[PATH_MAX], norm[PATH_MAX];
	struct stat st;
	size_t i;

	if (pl->n_bins == BINS_MAX)
		return err_set(pl->e, EXIT_USAGE, "more than %d binaries",
			       BINS_MAX);
	if (!strchr(arg, '/') && !from_manifest) {
		for (i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", path[i], arg);
			if (access(p, X_OK) == 0)
				break;
		}
		if (i == sizeof(path) / sizeof(path[0]))
			return err_set(pl->e, EXIT_USAGE, "%s: not found in "
				       "/usr/local/sbin, /usr/local/bin, "
				       "/usr/sbin, /usr/bin, /sbin, /bin; give "
				       "its path", arg);
	} else if (arg[0] != '/' && !from_manifest) {
		if (!realpath(arg, p))
			return err_set(pl->e, EXIT_USAGE, "%s: %s", arg,
				       strerror(errno));
	} else {
		snprintf(p, sizeof(p), "%s", arg);
	}
	if (normalize(p, norm, sizeof(norm)) < 0 || !plain(norm) ||
	    (from_manifest && strcmp(norm, p)))
		return err_set(pl->e, from_manifest ? EXIT_FAILED : EXIT_USAGE,
			       "%s%s: not a plain absolute path (no blanks or "
			       "control characters)%s", from_manifest ?
			       LAYOUT_INSTALLED ": " : "", text_printable(
			       strncpy(norm, arg, sizeof(norm) - 1)),
			       from_manifest ? "; fix or remove that line" :
			       "");
	if (stat(norm, &st) < 0)
		return err_set(pl->e, from_manifest ? EXIT_FAILED : EXIT_USAGE,
			       "%s: %s on the host%s", norm, strerror(errno),
			       from_manifest ? " (installed earlier; remove "
			       "its line from " LAYOUT_INSTALLED " to drop it)"
			       : "");
	if (st.st_uid != 0 || (st.st_mode & 022))
		return err_set(pl->e, EXIT_REFUSED, "%s: not owned by root or "
			       "writable by others on the host; refused",
			       norm);
	for (i = 0; i < pl->n_bins; i++)
		if (!strcmp(pl->bins[i], norm))
			return 0;
	snprintf(pl->bins[pl->n_bins++], PATH_MAX, "%s", norm);
	return 0;
}

/* The binaries the manifest lists ("binary PATH" lines). */
static int manifest_bins(struct boot *b, struct plan *pl)
{
	char *text, *line, *save = NULL;
	size_t len;
	int r;

	r = beneath_read(b->fd, LAYOUT_INSTALLED, LAYOUT_INSTALLED_MAX, &text,
			 &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_setr(pl->e, r, EXIT_FAILED, LAYOUT_INSTALLED ": %s",
				r == -EINVAL ? "not a regular file" :
				strerror(-r));
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "binary ", 7))
			r = bin_arg(pl, line + 7, true);
	free(text);
	return r;
}

/* Whether the tree already holds what entry x would write. */
static bool tree_has(int dir, const struct entry *x)
{
	const char *rel = x->path + 1;
	char t[PATH_MAX], *mine = NULL, *theirs = NULL;
	size_t l1 = 0, l2 = 0;
	struct stat st;
	bool same;

	if (beneath_lstat(dir, rel, &st) < 0)
		return false;
	if (x->link)
		return S_ISDIR(st.st_mode) ||	/* the tree's own directory */
		       (S_ISLNK(st.st_mode) &&
			beneath_readlink(dir, rel, t, sizeof(t)) == 0 &&
			!strcmp(t, x->target));
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

/* Directories of rel that the tree lacks, made 0755. */
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

/* Copies the host file into a new temp file beside rel: its name in tmp. */
static int write_temp(int dir, const struct entry *x, const char *rel,
		      char *tmp, size_t cap)
{
	char buf[65536];
	ssize_t n;
	int in, out, r = 0;

	out = beneath_tmpfile(dir, rel, tmp, cap);
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
	close(out);
	if (r < 0)
		beneath_unlink(dir, tmp, false);
	return r;
}

struct job {
	struct plan *pl;
	char desc[512];
};

/* Under the lock, the partition writable, before the generation: every
 * file written beside its place first, then all renamed at once, so an
 * interrupted install leaves either the old or the new copy of each and
 * a failed one leaves no temp file. */
static int copy_files(struct boot *b, void *ctx, struct err *e)
{
	struct job *j = ctx;
	struct plan *pl = j->pl;
	char (*tmp)[PATH_MAX] = calloc(pl->n, PATH_MAX);
	unsigned long long need = 0;
	struct statvfs v;
	size_t i;
	int r = 0;

	if (!tmp)
		return err_set(e, EXIT_FAILED, "out of memory");
	for (i = 0; i < pl->n; i++) {
		struct entry *x = &pl->v[i];

		x->write = !tree_has(b->fd, x);
		if (x->write && !x->link)
			need += ((unsigned long long)x->st.st_size + 4095) /
				4096 * 4096 + 4096;
	}
	if (fstatvfs(b->fd, &v) == 0 &&
	    (unsigned long long)v.f_bavail * v.f_frsize < need + 65536) {
		free(tmp);
		return err_setr(e, -ENOSPC, EXIT_FAILED, "the binaries need "
				"%llu KiB, the boot partition %s has %llu KiB "
				"free; nothing was installed", need / 1024,
				b->dir, (unsigned long long)v.f_bavail *
				v.f_frsize / 1024);
	}
	for (i = 0; i < pl->n && r == 0; i++) {
		struct entry *x = &pl->v[i];
		const char *rel = x->path + 1;

		if (!x->write)
			continue;
		r = make_parents(b->fd, rel);
		if (r == 0 && x->link) {
			r = beneath_tmpfile(b->fd, rel, tmp[i], PATH_MAX);
			if (r >= 0) {
				close(r);
				beneath_unlink(b->fd, tmp[i], false);
				r = beneath_symlink(x->target, b->fd, tmp[i]);
			}
		} else if (r == 0) {
			r = write_temp(b->fd, x, rel, tmp[i], PATH_MAX);
		}
		if (r < 0) {
			tmp[i][0] = '\0';
			err_setr(e, r, EXIT_FAILED, "cannot install %s: %s%s",
				 x->path, strerror(-r), r == -ENOTDIR ?
				 " (the boot partition has a file or a link "
				 "where a directory is needed)" : "");
		}
	}
	if (r == 0)
		r = boot_sync(b);
	for (i = 0; i < pl->n; i++) {
		if (!tmp[i][0])
			continue;
		if (r == 0)
			r = beneath_rename(b->fd, tmp[i], pl->v[i].path + 1);
		else
			beneath_unlink(b->fd, tmp[i], false);
		if (r < 0 && !e->msg[0])
			err_setr(e, r, EXIT_FAILED, "cannot install %s: %s",
				 pl->v[i].path, strerror(-r));
	}
	free(tmp);
	return r < 0 ? (r == -ENOSPC ? r : -EIO) : 0;
}

/* The manifest: every binary asked for, every path written, with the
 * host file's size and time for 'earlyfs check'. */
static char *manifest(const struct plan *pl, size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs(MANIFEST_HEAD, f);
	for (i = 0; i < pl->n_bins; i++)
		fprintf(f, "binary %s\n", pl->bins[i]);
	for (i = 0; i < pl->n; i++) {
		const struct entry *x = &pl->v[i];

		if (x->link)
			fprintf(f, "link %s %s\n", x->path, x->target);
		else
			fprintf(f, "file %s %lld %lld\n", x->path,
				(long long)x->st.st_size,
				(long long)x->st.st_mtime);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*ret_len = len;
	return text;
}

/* Whether every file is there already, and the manifest the same. */
static bool unchanged(struct boot *b, struct plan *pl, const char *text,
		      size_t len)
{
	char *cur = NULL;
	size_t i, l = 0;
	bool same;

	for (i = 0; i < pl->n; i++)
		if (!tree_has(b->fd, &pl->v[i]))
			return false;
	same = beneath_read(b->fd, LAYOUT_INSTALLED, LAYOUT_INSTALLED_MAX,
			    &cur, &l) == 0 && l == len && !memcmp(cur, text, l);
	free(cur);
	return same;
}

int install_run(struct boot *b, char *const *bins, size_t n, FILE *out,
		struct err *e)
{
	struct plan *pl = calloc(1, sizeof(*pl));
	struct job j = { pl, "" };
	struct change c = { .op = CHANGE_INSTALL };
	size_t i, n_old, len, used;
	char *text;
	int r = 0;

	if (!pl || !(pl->v = calloc(ENTRIES_MAX, sizeof(*pl->v)))) {
		if (pl)
			free(pl);
		return err_set(e, EXIT_FAILED, "out of memory");
	}
	pl->e = e;
	pl->tree = b->fd;
	ldconf_read(pl, "/etc/ld.so.conf", 0);
	for (i = 0; i < n && r == 0; i++)
		r = bin_arg(pl, bins[i], false);
	n_old = pl->n_bins;
	if (r == 0)
		r = manifest_bins(b, pl);
	n_old = pl->n_bins - n_old;
	for (i = 0; i < pl->n_bins && r == 0; i++)
		r = add_elf(pl, pl->bins[i], pl->bins[i], 0);
	if (r < 0)
		goto out;
	if (!pl->n_bins) {
		r = err_set(e, EXIT_USAGE, "nothing to install: give binaries, "
			    "or use --refresh on a partition that has some");
		goto out;
	}
	text = manifest(pl, &len);
	if (!text) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	used = (size_t)snprintf(j.desc, sizeof(j.desc), "install");
	for (i = 0; i < n && i < pl->n_bins && used < sizeof(j.desc); i++)
		used += (size_t)snprintf(j.desc + used, sizeof(j.desc) - used,
					 " %s", pl->bins[i]);
	if (!n)
		snprintf(j.desc, sizeof(j.desc), "refresh %zu installed "
			 "binar%s", n_old, n_old == 1 ? "y" : "ies");
	if (unchanged(b, pl, text, len)) {
		fprintf(out, "earlyfs: %s: nothing changed (the boot partition "
			"has these copies already)\n", j.desc);
		free(text);
		goto out;
	}
	c.name = j.desc;
	c.data = text;
	c.len = len;
	c.prepare = copy_files;
	c.ctx = &j;
	r = change_commit(b, &c, out, e);
	free(text);
out:
	free(pl->v);
	free(pl);
	return r;
}

void install_check(int root, struct problems *p)
{
	char *text, *line, *save = NULL, path[PATH_MAX];
	long long size, mtime;
	struct stat st, host;
	size_t len;

	if (beneath_read(root, LAYOUT_INSTALLED, LAYOUT_INSTALLED_MAX, &text,
			 &len) < 0)
		return;
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "file %4095s %lld %lld", path, &size,
			   &mtime) != 3 || path[0] != '/')
			continue;
		if (beneath_lstat(root, path + 1, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			problem(p, "%s: installed from the host, missing from "
				"the boot partition; run 'earlyfs install "
				"--refresh'", path);
		else if (lstat(path, &host) < 0)
			problem(p, "%s: installed from the host, which no "
				"longer has it", path);
		else if ((long long)host.st_mtime != mtime ||
			 (long long)host.st_size != size)
			problem(p, "%s: the host's copy changed since it was "
				"installed (upgraded?); run 'earlyfs install "
				"--refresh'", path);
	}
	free(text);
}
