/* closure: a binary's ELF loader and library closure on the host; see
 * closure.h */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "features/closure.h"
#include "elfdeps.h"
#include "layout.h"
#include "text.h"
#include "base/host.h"

#define LINK_HOPS_MAX 40

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

struct entry *closure_find(struct plan *pl, const char *path)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		if (!strcmp(pl->v[i].path, path))
			return &pl->v[i];
	return NULL;
}

static struct entry *add(struct plan *pl, bool link, const char *path)
{
	struct entry *x = closure_find(pl, path);

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
void closure_ldconf(struct plan *pl, const char *path, int depth)
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
					closure_ldconf(pl, g.gl_pathv[i],
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

	return elf_deps_read(path, &d) == 0 && d.elf_class == pl->elf_class &&
	       d.machine == pl->machine;
}

/* The loader's default directories (no ld.so.cache on the partition):
 * the i-th in ret, false past the last. */
static bool default_dirs(const struct plan *pl, size_t i, char *ret,
			 size_t cap)
{
	static const char *const fmt[] = { "/lib/%s", "/usr/lib/%s", "/lib",
					   "/usr/lib", "/lib64", "/usr/lib64" };

	if (i >= (pl->elf_class == 2 ? 6 : 4))
		return false;
	snprintf(ret, cap, fmt[i], multiarch(pl->machine));
	return true;
}

static bool default_dir(const struct plan *pl, const char *dir)
{
	char d[64];
	size_t i;

	for (i = 0; default_dirs(pl, i, d, sizeof(d)); i++)
		if (!strcmp(dir, d))
			return true;
	return false;
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


/* Library name in dir: 1 when found there (and added, with what it
 * needs), 0 when not there, or -errno.  seen_by_loader: the loader of the
 * booted system looks in dir (a run path, a default directory); else it
 * is found through ld.so.conf only, which the tree has no cache of, so a
 * link in /usr/lib is added where the loader looks. */
static int try_dir(struct plan *pl, const char *dir, const char *name,
		   bool seen_by_loader, const char *shown, int depth)
{
	char cand[PATH_MAX], found[PATH_MAX];
	struct entry *x;
	int r;

	if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", dir, name) >=
		    sizeof(cand) ||
	    access(cand, F_OK) < 0 || !elf_matches(pl, cand))
		return 0;
	r = host_walk(pl, cand, found, sizeof(found));
	if (r == 0)
		r = closure_add_elf(pl, found, shown, depth + 1);
	if (r < 0)
		return r;
	if (!seen_by_loader) {
		snprintf(cand, sizeof(cand), "/usr/lib/%s", name);
		x = add(pl, true, cand);
		if (x && !x->target[0])
			snprintf(x->target, sizeof(x->target), "%s", found);
	}
	return 1;
}

/* Finds library name as the loader would for an object at `origin` with
 * run path rp (DT_RUNPATH, else DT_RPATH), and adds it. */
static int add_lib(struct plan *pl, const char *name, const char *rp,
		   const char *origin, const char *shown, int depth)
{
	char dir[PATH_MAX], *copy, *tok, *save = NULL;
	size_t i;
	int r = 0;

	if (strchr(name, '/'))
		return closure_add_elf(pl, name, shown, depth + 1);
	copy = strdup(rp);
	if (!copy)
		return err_set(pl->e, EXIT_FAILED, "out of memory");
	for (tok = strtok_r(copy, ":", &save); tok && !r;
	     tok = strtok_r(NULL, ":", &save)) {
		expand_origin(tok, origin, dir, sizeof(dir));
		r = try_dir(pl, dir, name, true, shown, depth);
	}
	free(copy);
	for (i = 0; !r && i < pl->n_ldconf; i++)
		r = try_dir(pl, pl->ldconf[i], name,
			    default_dir(pl, pl->ldconf[i]), shown, depth);
	for (i = 0; !r && default_dirs(pl, i, dir, sizeof(dir)); i++)
		r = try_dir(pl, dir, name, true, shown, depth);
	if (r)
		return r < 0 ? r : 0;
	return err_set(pl->e, EXIT_FAILED, "%s needs %s, which is not on "
		       "the host (searched its run path, ld.so.conf and "
		       "the default directories); nothing was installed",
		       shown, name);
}

/* Adds an ELF file (a link walk already done when depth > 0) and what it
 * needs, recursively. */
int closure_add_elf(struct plan *pl, const char *path, const char *shown,
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
	r = host_walk(pl, path, canon, sizeof(canon));
	if (r < 0)
		return r;
	x = closure_find(pl, canon);
	if (x->seen)
		return 0;
	x->seen = true;
	d = malloc(sizeof(*d));
	if (!d)
		return err_set(pl->e, EXIT_FAILED, "out of memory");
	r = elf_deps_read(canon, d);
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
		if (r == 0)
			closure_find(pl, loader)->seen = true;
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
int closure_bin_arg(struct plan *pl, const char *arg, bool from_manifest)
{
	char p[PATH_MAX], norm[PATH_MAX];
	struct stat st;
	size_t i;

	if (pl->n_bins == BINS_MAX)
		return err_set(pl->e, EXIT_USAGE, "more than %d binaries",
			       BINS_MAX);
	if (!strchr(arg, '/') && !from_manifest) {
		if (host_which(arg, p, sizeof(p)) < 0)
			return err_set(pl->e, EXIT_USAGE, "%s: not found in "
				       HOST_PATH_SHOWN "; give its path", arg);
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
			       LAYOUT_INSTALLED ": " : "", text_printable(p),
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

