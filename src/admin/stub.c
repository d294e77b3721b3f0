/* stub: see stub.h */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "atomic.h"
#include "modinfo.h"
#include "stub.h"
#include "util.h"

#define MODULES_MAX 16384
#define MODULE_SIZE_MAX (32 << 20)
#define STUB_MODULES_MAX 64

struct index {
	char (*name)[MODINFO_NAME_MAX + 1];
	char (*path)[PATH_MAX];
	size_t n;
};

static struct index *walking;

static int visit(const char *path, const struct stat *st, int type,
		 struct FTW *f)
{
	const char *base = path + f->base;
	size_t l = strlen(base);

	if (type != FTW_F || l < 4 || strcmp(base + l - 3, ".ko") ||
	    l - 3 > MODINFO_NAME_MAX || walking->n == MODULES_MAX)
		return 0;
	memcpy(walking->name[walking->n], base, l - 3);
	walking->name[walking->n][l - 3] = '\0';
	snprintf(walking->path[walking->n++], PATH_MAX, "%s", path);
	return 0;
}

struct plan {
	struct index ix;
	char order[STUB_MODULES_MAX][MODINFO_NAME_MAX + 1];
	char paths[STUB_MODULES_MAX][PATH_MAX];
	size_t n, depth;
	struct err *e;
};

static int resolve(struct plan *p, const char *name, bool optional)
{
	struct modinfo m;
	char *buf;
	size_t i, len;
	int r;

	for (i = 0; i < p->n; i++)
		if (modinfo_same_name(p->order[i], name))
			return 0;
	if (++p->depth > 32)
		return err_set(p->e, EXIT_FAILED, "module dependencies of %s "
			       "go more than 32 deep", name);
	for (i = 0; i < p->ix.n; i++)
		if (modinfo_same_name(p->ix.name[i], name))
			break;
	if (i == p->ix.n) {
		p->depth--;
		if (optional)	/* built into that kernel, most likely */
			return 0;
		return err_set(p->e, EXIT_USAGE, "no module %s in the kernel's "
			       "module tree (is it built in, or misspelt?)",
			       name);
	}
	r = read_file(p->ix.path[i], MODULE_SIZE_MAX, &buf, &len);
	if (r < 0)
		return err_setr(p->e, r, EXIT_FAILED, "%s: %s", p->ix.path[i],
				strerror(-r));
	r = modinfo_parse(buf, len, &m);
	if (r < 0) {
		free(buf);
		return err_setr(p->e, r, EXIT_FAILED, "%s: not a kernel module "
				"this earlyfs can read (%s)", p->ix.path[i],
				strerror(-r));
	}
	for (size_t k = 0; k < m.n_depends && r == 0; k++)
		r = resolve(p, m.depends[k], false);
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

/* One newc cpio entry. */
static void entry(FILE *f, const char *name, mode_t mode, const char *data,
		  size_t len)
{
	static unsigned ino = 1;
	size_t nl = strlen(name) + 1;

	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X"
		"%08zX%08X", ino++, (unsigned)mode, 0u, 0u, 1u, 0u, len, 0u, 0u,
		0u, 0u, nl, 0u);
	fwrite(name, 1, nl, f);
	for (size_t pad = (4 - (110 + nl) % 4) % 4; pad; pad--)
		fputc(0, f);
	if (len)
		fwrite(data, 1, len, f);
	for (size_t pad = (4 - len % 4) % 4; pad; pad--)
		fputc(0, f);
}

size_t stub_host_modules(const char *dir, char (*ret)[64], size_t max)
{
	char sys[PATH_MAX], path[PATH_MAX + 16], link[PATH_MAX], *slash;
	struct stat st;
	size_t n = 0, i;
	ssize_t l;

	if (stat(dir, &st) < 0)
		return 0;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev),
		 minor(st.st_dev));
	snprintf(path, sizeof(path), "%s/partition", sys);
	snprintf(path, sizeof(path), access(path, F_OK) == 0 ?
		 "%s/../device" : "%s/device", sys);
	if (!realpath(path, sys))
		return 0;
	while (n < max && strlen(sys) > strlen("/sys/devices")) {
		/* the driver's module (sd -> sd_mod), else the driver */
		snprintf(path, sizeof(path), "%s/driver/module", sys);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0) {
			snprintf(path, sizeof(path), "%s/driver", sys);
			l = readlink(path, link, sizeof(link) - 1);
		}
		if (l > 0) {
			link[l] = '\0';
			slash = strrchr(link, '/');
			snprintf(ret[n], 64, "%s", slash ? slash + 1 : link);
			for (i = 0; i < n && !modinfo_same_name(ret[i], ret[n]);
			     i++)
				;
			if (i == n && strcmp(ret[n], "loop"))
				n++;
		}
		slash = strrchr(sys, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return n;
}

int stub_build(const char *moddir, const char *const *names, size_t n,
	       size_t n_required, char **ret, size_t *ret_len,
	       size_t *ret_modules, struct err *e)
{
	struct plan *p = calloc(1, sizeof(*p));
	char *cpio = NULL, *list = NULL, *buf, path[PATH_MAX + 16];
	size_t clen = 0, llen = 0, len, i;
	FILE *f = NULL, *lf = NULL;
	int r = 0, in = -1, out = -1;

	*ret = NULL;
	if (!p)
		return err_set(e, EXIT_FAILED, "out of memory");
	p->e = e;
	p->ix.name = calloc(MODULES_MAX, sizeof(*p->ix.name));
	p->ix.path = calloc(MODULES_MAX, sizeof(*p->ix.path));
	if (!p->ix.name || !p->ix.path) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/kernel", moddir);
	walking = &p->ix;
	if (nftw(path, visit, 16, FTW_PHYS) != 0 || !p->ix.n) {
		r = err_set(e, EXIT_USAGE, "no kernel modules under %s (give "
			    "the kernel's module tree, /lib/modules/VERSION)",
			    path);
		goto out;
	}
	for (i = 0; i < n && r == 0; i++)
		r = resolve(p, names[i], i >= n_required);
	if (r < 0)
		goto out;
	f = open_memstream(&cpio, &clen);
	lf = open_memstream(&list, &llen);
	if (!f || !lf) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	r = read_file(init_binary(), 4 << 20, &buf, &len);
	if (r < 0) {
		r = err_setr(e, r, EXIT_FAILED, "%s: %s", init_binary(),
			     strerror(-r));
		goto out;
	}
	entry(f, "init", S_IFREG | 0755, buf, len);
	free(buf);
	entry(f, "m", S_IFDIR | 0755, NULL, 0);
	for (i = 0; i < p->n && r == 0; i++) {
		r = read_file(p->paths[i], MODULE_SIZE_MAX, &buf, &len);
		if (r < 0) {
			r = err_setr(e, r, EXIT_FAILED, "%s: %s", p->paths[i],
				     strerror(-r));
			break;
		}
		snprintf(path, sizeof(path), "m/%s.ko", p->order[i]);
		entry(f, path, S_IFREG | 0644, buf, len);
		fprintf(lf, "module /%s\n", path);
		free(buf);
	}
	if (r < 0)
		goto out;
	fclose(lf);
	lf = NULL;
	entry(f, STUB_MARKER + 1, S_IFREG | 0644, list, llen);
	entry(f, "TRAILER!!!", 0, NULL, 0);
	fclose(f);
	f = NULL;
	/* gzip -9n, which every kernel with an initramfs can read */
	in = memfd_create("stub-cpio", MFD_CLOEXEC);
	out = memfd_create("stub-gz", MFD_CLOEXEC);
	if (in < 0 || out < 0 || write(in, cpio, clen) != (ssize_t)clen) {
		r = err_set(e, EXIT_FAILED, "memfd: %s", strerror(errno));
		goto out;
	}
	{
		char *argv[] = { "gzip", "-9", "-n", "-c", NULL };
		char why[256];

		if (run_filter(argv, in, 0, out, 64 << 20, why,
			       sizeof(why)) != 0) {
			r = err_set(e, EXIT_FAILED, "gzip: %s", why);
			goto out;
		}
	}
	len = (size_t)lseek(out, 0, SEEK_END);
	*ret = malloc(len ? len : 1);
	if (!*ret || pread(out, *ret, len, 0) != (ssize_t)len) {
		free(*ret);
		*ret = NULL;
		r = err_set(e, EXIT_FAILED, "cannot read the compressed stub");
		goto out;
	}
	*ret_len = len;
	*ret_modules = p->n;
out:
	if (f)
		fclose(f);
	if (lf)
		fclose(lf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(cpio);
	free(list);
	free(p->ix.name);
	free(p->ix.path);
	free(p);
	return r;
}
