/* stub: see stub.h */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "modinfo.h"
#include "cpio.h"
#include "kernel/stub.h"
#include "text.h"
#include "base/run.h"
#include "base/host.h"

#define MODULES_MAX 16384
#define MODULE_SIZE_MAX (32 << 20)
#define STUB_MODULES_MAX 64
#define ALIASES_MAX (1 << 20)

struct index {
	char (*name)[MODINFO_NAME_MAX + 1];
	char (*path)[PATH_MAX];
	size_t n;
};

static struct index *walking;

/* Module files as distributions ship them, and what decompresses them
 * (the host's tools: Ubuntu and Arch use zstd, Fedora xz). */
static const struct {
	const char *suffix, *tool;
} kinds[] = {
	{ ".ko", NULL },
	{ ".ko.zst", "zstd" },
	{ ".ko.xz", "xz" },
	{ ".ko.gz", "gzip" },
};

/* The kind of a module file's name, or -1. */
static int kind_of(const char *base, size_t *ret_stem)
{
	size_t l = strlen(base), sl;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		sl = strlen(kinds[k].suffix);
		if (l > sl && !strcmp(base + l - sl, kinds[k].suffix)) {
			*ret_stem = l - sl;
			return (int)k;
		}
	}
	return -1;
}

/* The tree is walked as depmod searches it ("search updates built-in",
 * then every other directory: extra/ for DKMS and vendors): updates/
 * first, then the rest without it, so that the first of a name wins. */
static bool walking_updates;

static int visit(const char *path, const struct stat *st, int type,
		 struct FTW *f)
{
	const char *base = path + f->base;
	size_t l;

	(void)st;
	if (type == FTW_D && f->level == 1 && !walking_updates &&
	    !strcmp(base, "updates"))
		return FTW_SKIP_SUBTREE;
	if (type != FTW_F || kind_of(base, &l) < 0 || l > MODINFO_NAME_MAX ||
	    walking->n == MODULES_MAX)
		return FTW_CONTINUE;
	memcpy(walking->name[walking->n], base, l);
	walking->name[walking->n][l] = '\0';
	snprintf(walking->path[walking->n++], PATH_MAX, "%s", path);
	return FTW_CONTINUE;
}

/* Every module file under moddir into ix, updates/ first; links are not
 * followed (build/ and source/ point out of it). */
static void walk_tree(struct index *ix, const char *moddir)
{
	char path[PATH_MAX + 16];

	walking = ix;
	walking_updates = true;
	snprintf(path, sizeof(path), "%s/updates", moddir);
	nftw(path, visit, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	walking_updates = false;
	nftw(moddir, visit, 16, FTW_PHYS | FTW_ACTIONRETVAL);
}

/* A module's ELF bytes: the file, or what its decompressor makes of it.
 * 0, or -errno with e saying why. */
static int read_module(const char *path, char **ret, size_t *ret_len,
		       struct err *e)
{
	const char *slash = strrchr(path, '/');
	size_t stem;
	int k = kind_of(slash ? slash + 1 : path, &stem), in, r;
	char why[256] = "";

	if (k <= 0) {
		r = read_file(path, MODULE_SIZE_MAX, ret, ret_len);
		return r < 0 ? err_setr(e, r, EXIT_FAILED, "%s: %s", path,
					strerror(-r)) : 0;
	}
	char *argv[] = { (char *)kinds[k].tool, "-dc", NULL };

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s", path,
				strerror(errno));
	r = run_capture(argv, in, 0, MODULE_SIZE_MAX, ret, ret_len, why,
			sizeof(why));
	close(in);
	if (r != 0) {
		free(*ret);
		*ret = NULL;
		return err_set(e, EXIT_FAILED, "%s: %s -dc: %s (is %s "
			       "installed?)", path, kinds[k].tool,
			       r < 0 ? strerror(-r) : why, kinds[k].tool);
	}
	return 0;
}

struct alias {
	char *pattern;
	char name[MODINFO_NAME_MAX + 1];
	bool builtin;
};

struct plan {
	struct index ix;
	char (*builtin)[MODINFO_NAME_MAX + 1];	/* modules.builtin */
	size_t n_builtin;
	struct alias *al;
	size_t n_al, cap_al;
	char order[STUB_MODULES_MAX][MODINFO_NAME_MAX + 1];
	char paths[STUB_MODULES_MAX][PATH_MAX];
	size_t n, depth;
	const char *version;	/* the kernel's: each module's vermagic */
	struct err *e;
	FILE *out;		/* warnings */
};

/* The first word of a module's vermagic= (the kernel release it was built
 * for) into ret: 0, or -ENOENT without one. */
static int vermagic(const struct modinfo *m, char *ret, size_t cap)
{
	const char *v;
	size_t at = 0, l;

	if (!modinfo_next(m, "vermagic", &at, &v, &l))
		return -ENOENT;
	snprintf(ret, cap, "%.*s", (int)strcspn(v, " "), v);
	(void)l;
	return 0;
}

/* The tree's module of that name, or ix.n. */
static size_t tree_index(const struct plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ix.n; i++)
		if (modinfo_same_name(p->ix.name[i], name))
			break;
	return i;
}

static int resolve(struct plan *p, const char *name)
{
	struct modinfo m;
	char *buf;
	size_t i, len;
	int r;

	for (i = 0; i < p->n; i++)
		if (modinfo_same_name(p->order[i], name))
			return 0;
	i = tree_index(p, name);
	if (i == p->ix.n)
		return err_set(p->e, EXIT_USAGE, "no module %s in the kernel's "
			       "module tree (is it built in, or misspelt?)",
			       name);
	if (++p->depth > 32)
		return err_set(p->e, EXIT_FAILED, "module dependencies of %s "
			       "go more than 32 deep", name);
	r = read_module(p->ix.path[i], &buf, &len, p->e);
	if (r < 0)
		return r;
	r = modinfo_parse(buf, len, &m);
	if (r < 0) {
		free(buf);
		return err_setr(p->e, r, EXIT_FAILED, "%s: not a kernel module "
				"this earlyfs can read (%s)", p->ix.path[i],
				strerror(-r));
	}
	{
		char built[128];

		if (p->version && vermagic(&m, built, sizeof(built)) == 0 &&
		    strcmp(built, p->version)) {
			free(buf);
			return err_set(p->e, EXIT_USAGE, "%s is built for kernel "
				       "%s, not %s: give %s's module tree",
				       p->ix.path[i], built, p->version,
				       p->version);
		}
	}
	for (size_t k = 0; k < m.n_depends && r == 0; k++)
		r = resolve(p, m.depends[k]);
	free(buf);
	p->depth--;
	if (r < 0)
		return r;
	if (p->n == STUB_MODULES_MAX)
		return err_set(p->e, EXIT_FAILED, "more than %d modules",
			       STUB_MODULES_MAX);
	snprintf(p->order[p->n], sizeof(p->order[0]), "%s", name);
	snprintf(p->paths[p->n++], PATH_MAX, "%s", p->ix.path[i]);
	return 0;
}

static bool in_tree(const struct plan *p, const char *name)
{
	return tree_index(p, name) < p->ix.n;
}

static bool is_builtin(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_builtin; i++)
		if (modinfo_same_name(p->builtin[i], name))
			return true;
	return false;
}

/* modules.builtin: the modules built into the kernel. */
static void load_builtin(struct plan *p, const char *moddir)
{
	char path[PATH_MAX + 32], *buf;
	size_t len, pos = 0, l;
	const char *line;
	struct modinfo_span name;

	snprintf(path, sizeof(path), "%s/modules.builtin", moddir);
	if (read_file(path, 4 << 20, &buf, &len) < 0)
		return;
	p->builtin = calloc(MODULES_MAX, sizeof(*p->builtin));
	while (p->builtin && p->n_builtin < MODULES_MAX &&
	       text_next_line(buf, len, &pos, &line, &l) > 0)
		if (modinfo_builtin_line(line, l, &name))
			snprintf(p->builtin[p->n_builtin++],
				 sizeof(p->builtin[0]), "%.*s",
				 (int)name.len, name.s);
	free(buf);
}

static int add_alias(struct plan *p, struct modinfo_span pat,
		     struct modinfo_span name, bool builtin)
{
	struct alias *a;

	if (p->n_al == p->cap_al) {
		size_t cap = p->cap_al ? p->cap_al * 2 : 4096;

		if (cap > ALIASES_MAX ||
		    !(a = realloc(p->al, cap * sizeof(*a))))
			return err_set(p->e, EXIT_FAILED, "more than %d "
				       "module aliases", ALIASES_MAX);
		p->al = a;
		p->cap_al = cap;
	}
	a = &p->al[p->n_al];
	if (!(a->pattern = strndup(pat.s, pat.len)))
		return err_set(p->e, EXIT_FAILED, "out of memory");
	snprintf(a->name, sizeof(a->name), "%.*s", (int)name.len, name.s);
	a->builtin = builtin;
	p->n_al++;
	return 0;
}

/* The aliases modules answer to: the built-in ones from
 * modules.builtin.modinfo, the modules' from depmod's modules.alias
 * where the tree has one, else from each module's own .modinfo, as
 * depmod reads them. */
static int load_aliases(struct plan *p, const char *moddir)
{
	char path[PATH_MAX + 32], *buf;
	size_t len, pos, l, i;
	const char *line;
	struct modinfo_span pat, name;
	int r = 0;

	snprintf(path, sizeof(path), "%s/modules.builtin.modinfo", moddir);
	if (read_file(path, 16 << 20, &buf, &len) == 0) {
		for (pos = 0; pos < len && r == 0; pos += l + 1) {
			l = strnlen(buf + pos, len - pos);
			if (modinfo_builtin_string(buf + pos, l, "alias", &name,
						   &pat))
				r = add_alias(p, pat, name, true);
		}
		free(buf);
	}
	snprintf(path, sizeof(path), "%s/modules.alias", moddir);
	if (r == 0 && read_file(path, 64 << 20, &buf, &len) == 0) {
		for (pos = 0; r == 0 &&
		     text_next_line(buf, len, &pos, &line, &l) > 0;)
			if (modinfo_alias_line(line, l, &pat, &name))
				r = add_alias(p, pat, name, false);
		free(buf);
		return r;
	}
	for (i = 0; i < p->ix.n && r == 0; i++) {
		struct modinfo m;
		struct err ignore;
		size_t at = 0;

		if (read_module(p->ix.path[i], &buf, &len, &ignore) < 0)
			continue;
		name = (struct modinfo_span){ p->ix.name[i],
					      strlen(p->ix.name[i]) };
		if (modinfo_parse(buf, len, &m) == 0)
			while (r == 0 && modinfo_next(&m, "alias", &at, &pat.s,
						      &pat.len))
				if (modinfo_pattern_ok(pat.s, pat.len))
					r = add_alias(p, pat, name, false);
		free(buf);
	}
	return r;
}

/* A module the stub must hold: in the tree (with its dependencies), or
 * built into the kernel; else an error naming it. */
static int need(struct plan *p, const char *name, const char *what)
{
	if (in_tree(p, name))
		return resolve(p, name);
	if (is_builtin(p, name))
		return 0;
	return err_set(p->e, EXIT_USAGE, "%s %s: no such module in the "
		       "kernel's module tree and not built into it", what,
		       name);
}

/* A device the boot partition sits on: the modules its modalias names
 * (as modprobe and dracut's host-only mode find them), nothing if a
 * built-in one does; without a match, its driver's module.  A driver the
 * host has built in that matches nothing is taken to be built in here
 * too (the buses' own); one the host has as a module must be found. */
static int host_device(struct plan *p, const struct disk_driver *d,
		       const char *moddir)
{
	const char *missing = NULL;
	bool matched = false, found = false;
	size_t i;
	int r = 0;

	for (i = 0; d->modalias[0] && i < p->n_al; i++) {
		if (fnmatch(p->al[i].pattern, d->modalias, 0))
			continue;
		if (p->al[i].builtin)
			return 0;
		matched = true;
	}
	for (i = 0; matched && i < p->n_al && r == 0; i++) {
		if (fnmatch(p->al[i].pattern, d->modalias, 0))
			continue;
		if (in_tree(p, p->al[i].name)) {
			r = resolve(p, p->al[i].name);
			found = true;
		} else {
			missing = p->al[i].name;
		}
	}
	/* the aliases name a module the tree does not hold */
	if (matched && !found && r == 0)
		return err_set(p->e, EXIT_USAGE, "this machine's device %s "
			       "(driver %s) needs module %s, which the "
			       "kernel's aliases name but no file under %s "
			       "is: the stub would not reach the disk",
			       d->modalias, d->driver, missing, moddir);
	if (missing && p->out)
		fprintf(p->out, "earlyfs: warning: the kernel's aliases name "
			"module %s for this machine's device %s, and no file "
			"under %s is; the stub has the others that match\n",
			missing, d->modalias, moddir);
	if (matched || r < 0)
		return r;
	if (d->module[0])
		return need(p, d->module, "this machine's driver module");
	if (in_tree(p, d->driver))
		return resolve(p, d->driver);
	return 0;
}

int stub_tree_version(const char *moddir, char *ret, size_t cap)
{
	struct index ix = { NULL, NULL, 0 };
	struct modinfo m;
	struct err ignore;
	char *buf = NULL;
	size_t len, i;
	int r = -ENOENT;

	ix.name = calloc(MODULES_MAX, sizeof(*ix.name));
	ix.path = calloc(MODULES_MAX, sizeof(*ix.path));
	if (ix.name && ix.path)
		walk_tree(&ix, moddir);
	for (i = 0; i < ix.n && r < 0 && i < 8; i++) {
		if (read_module(ix.path[i], &buf, &len, &ignore) < 0)
			continue;
		if (modinfo_parse(buf, len, &m) == 0)
			r = vermagic(&m, ret, cap);
		free(buf);
	}
	free(ix.name);
	free(ix.path);
	return r;
}

int stub_build(const char *moddir, const char *version,
	       const char *const *names, size_t n,
	       const struct disk_driver *host, size_t n_host, char **ret,
	       size_t *ret_len, char *ret_names, size_t names_cap, FILE *out,
	       struct err *e)
{
	struct plan *p = calloc(1, sizeof(*p));
	char *cpio = NULL, *list = NULL, *buf, path[PATH_MAX + 16];
	size_t clen = 0, llen = 0, len, i;
	FILE *f = NULL, *lf = NULL;
	unsigned ino = 1;
	int r = 0, in = -1;

	*ret = NULL;
	if (!p)
		return err_set(e, EXIT_FAILED, "out of memory");
	p->e = e;
	p->out = out;
	p->version = version;
	p->ix.name = calloc(MODULES_MAX, sizeof(*p->ix.name));
	p->ix.path = calloc(MODULES_MAX, sizeof(*p->ix.path));
	if (!p->ix.name || !p->ix.path) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	walk_tree(&p->ix, moddir);
	if (!p->ix.n) {
		r = err_set(e, EXIT_USAGE, "no kernel modules under %s (give "
			    "the kernel's module tree, /lib/modules/VERSION)",
			    moddir);
		goto out;
	}
	load_builtin(p, moddir);
	for (i = 0; i < n && r == 0; i++)
		r = need(p, names[i], "module");
	if (r == 0 && n_host)
		r = load_aliases(p, moddir);
	for (i = 0; i < n_host && r == 0; i++)
		r = host_device(p, &host[i], moddir);
	if (r < 0)
		goto out;
	f = open_memstream(&cpio, &clen);
	lf = open_memstream(&list, &llen);
	if (!f || !lf) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	r = read_file(host_init_binary(), 4 << 20, &buf, &len);
	if (r < 0) {
		r = err_setr(e, r, EXIT_FAILED, "%s: %s", host_init_binary(),
			     strerror(-r));
		goto out;
	}
	cpio_entry(f, &ino, "init", S_IFREG | 0755, buf, len);
	free(buf);
	cpio_entry(f, &ino, "m", S_IFDIR | 0755, NULL, 0);
	for (i = 0; i < p->n && r == 0; i++) {
		r = read_module(p->paths[i], &buf, &len, e);
		if (r < 0)
			break;
		snprintf(path, sizeof(path), "m/%s.ko", p->order[i]);
		cpio_entry(f, &ino, path, S_IFREG | 0644, buf, len);
		fprintf(lf, "module /%s\n", path);
		free(buf);
	}
	if (r < 0)
		goto out;
	fclose(lf);
	lf = NULL;
	cpio_entry(f, &ino, &STUB_MARKER[1], S_IFREG | 0644, list, llen);
	cpio_entry(f, &ino, "TRAILER!!!", 0, NULL, 0);
	fclose(f);
	f = NULL;
	/* gzip -9n, which every kernel with an initramfs can read */
	in = run_memfd("stub-cpio", cpio, clen);
	if (in < 0) {
		r = err_setr(e, in, EXIT_FAILED, "memfd: %s", strerror(-in));
		goto out;
	}
	{
		char *argv[] = { "gzip", "-9", "-n", "-c", NULL };
		char why[256] = "";

		r = run_capture(argv, in, 0, 64 << 20, ret, ret_len, why,
				sizeof(why));
		if (r != 0) {
			free(*ret);
			*ret = NULL;
			r = err_set(e, EXIT_FAILED, "gzip: %s",
				    r < 0 ? strerror(-r) : why);
			goto out;
		}
	}
	ret_names[0] = '\0';
	for (i = 0, len = 0; i < p->n && len < names_cap; i++)
		len += (size_t)snprintf(ret_names + len, names_cap - len,
					"%s%s", i ? " " : "", p->order[i]);
out:
	if (f)
		fclose(f);
	if (lf)
		fclose(lf);
	if (in >= 0)
		close(in);
	free(cpio);
	free(list);
	for (i = 0; i < p->n_al; i++)
		free(p->al[i].pattern);
	free(p->al);
	free(p->builtin);
	free(p->ix.name);
	free(p->ix.path);
	free(p);
	return r;
}
