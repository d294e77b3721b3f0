/* extlinux: syslinux on the boot partition itself (legacy BIOS): its
 * extlinux.conf is a member of each generation, written by the change
 * that makes it (bootloader.c renders the first one), so there is
 * nothing to export; --once through extlinux's own ADV */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "base/run.h"
#include "extlinux.h"
#include "layout.h"
#include "loader/loader.h"

/* The partition's extlinux.conf, parsed (malloc'ed): 0 or -errno. */
static int conf_read(struct boot *b, struct extlinux_conf **ret)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	const char *what;
	size_t len, line;
	char *buf;
	int r;

	*ret = NULL;
	if (!c)
		return -ENOMEM;
	r = beneath_read(b->fd, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX,
			 &buf, &len);
	if (r == 0) {
		r = extlinux_parse(buf, len, c, &line, &what);
		free(buf);
	}
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/* The staged extlinux.conf's 'previous' label: generation prev's
 * default label (prev 0: the staged one's, generation 1 being the
 * first), with EXTLINUX_PREVIOUS_WORD. */
static int stage(struct loader_site *s, unsigned prev, struct err *e)
{
	struct boot *b = s->b;
	struct extlinux_conf *c = malloc(sizeof(*c));
	const struct extlinux_label *from = NULL;
	char path[PATH_MAX], staged[PATH_MAX], tmp[PATH_MAX];
	char *buf = NULL, *out = NULL, *src = NULL;
	const char *what;
	size_t len, slen, line, i;
	int r, n, fd;

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	snprintf(staged, sizeof(staged), LAYOUT_STAGING "/"
		 LAYOUT_EXTLINUX_CONF);
	if (prev)
		layout_generation_path("", prev, LAYOUT_EXTLINUX_CONF, path,
				       sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", staged);
	r = beneath_read(b->fd, path, LAYOUT_EXTLINUX_MAX, &src, &slen);
	/* a label from what parses (the checks say what does not) */
	if (r == 0 && extlinux_parse(src, slen, c, &line, &what) < 0 && !c->n)
		r = -EINVAL;
	free(src);
	if (r < 0) {
		r = err_setr(e, r, EXIT_FAILED, "%s/%s does not parse; fix it "
			     "first ('earlyfs check' says where)", b->dir, path);
		goto out;
	}
	from = c->default_label[0] ? extlinux_find(c, c->default_label) : NULL;
	for (i = 0; !from && i < c->n; i++)
		if (strcmp(c->labels[i].name, EXTLINUX_PREVIOUS))
			from = &c->labels[i];
	if (!from) {
		r = err_set(e, EXIT_FAILED, "%s/%s has no label to boot",
			    b->dir, path);
		goto out;
	}
	r = beneath_read(b->fd, staged, LAYOUT_EXTLINUX_MAX, &buf, &len);
	if (r == 0 && !(out = malloc(len + 4096)))
		r = -ENOMEM;
	if (r < 0) {
		r = err_setr(e, r, EXIT_FAILED, "cannot read %s/%s: %s", b->dir,
			     staged, strerror(-r));
		goto out;
	}
	n = extlinux_set_previous(buf, len, from, out, len + 4096);
	if (n < 0) {
		r = err_setr(e, n, EXIT_FAILED, "%s/%s: too long", b->dir,
			     staged);
		goto out;
	}
	if ((size_t)n == len && !memcmp(out, buf, len)) {
		r = 0;
		goto out;
	}
	/* a new file: the staged one may be a link to the generation's */
	fd = beneath_tmpfile(b->fd, staged, tmp, sizeof(tmp));
	r = fd < 0 ? fd : write_all(fd, out, (size_t)n);
	if (fd >= 0 && r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = beneath_rename(b->fd, tmp, staged);
	else if (fd >= 0)
		beneath_unlink(b->fd, tmp, false);
	if (r == -EDQUOT)
		r = -ENOSPC;	/* the caller says what to free */
	if (r < 0)
		err_setr(e, r, EXIT_FAILED, "cannot write %s/%s: %s", b->dir,
			 staged, strerror(-r));
out:
	free(buf);
	free(out);
	free(c);
	return r;
}

static int by_version_desc(const void *a, const void *b)
{
	const struct kernlist_entry *x = *(const struct kernlist_entry *const *)a;
	const struct kernlist_entry *y = *(const struct kernlist_entry *const *)b;

	return strverscmp(y->version, x->version);
}

/* extlinux.conf with the labels of kl: 'earlyfs' and 'rescue' boot its
 * default, one "earlyfs-VERSION" label per ok kernel, newest first. */
static int kernels_file(struct loader_site *s, const struct kernlist *kl,
			const char **ret_rel, char **ret_text, size_t *ret_len,
			struct err *e)
{
	const struct kernlist_entry *def = kernlist_default(kl);
	const struct kernlist_entry *sorted[KERNLIST_MAX];
	const char *versions[KERNLIST_MAX], *initrds[KERNLIST_MAX];
	char rd[KERNLIST_MAX][KERNLIST_VERSION_MAX + 16], defrd[96];
	char *ext = NULL, *out;
	size_t n = 0, i, len;
	int r;

	for (i = 0; i < kl->n; i++)
		if (kl->v[i].ok)
			sorted[n++] = &kl->v[i];
	qsort(sorted, n, sizeof(sorted[0]), by_version_desc);
	for (i = 0; i < n; i++) {
		versions[i] = sorted[i]->version;
		snprintf(rd[i], sizeof(rd[i]), "/" LAYOUT_STUB,
			 sorted[i]->version);
		initrds[i] = sorted[i]->stub ? rd[i] : NULL;
	}
	if (def)
		snprintf(defrd, sizeof(defrd), "/" LAYOUT_STUB, def->version);
	r = beneath_read(s->b->fd, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX,
			 &ext, &len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read %s/%s: %s",
				s->b->dir, LAYOUT_EXTLINUX_CONF, strerror(-r));
	out = def ? malloc(len + 8192) : NULL;
	r = out ? extlinux_set_kernels(ext, len, def->version,
				       def->stub ? defrd : NULL, versions,
				       initrds, n, out, len + 8192)
		: -ENOMEM;
	free(ext);
	if (r < 0) {
		free(out);
		return err_setr(e, r, EXIT_FAILED, r == -EINVAL ? "%s/%s has no "
				"'earlyfs' label to take the kernel's command "
				"line from" : "%s/%s: out of memory or too "
				"long", s->b->dir, LAYOUT_EXTLINUX_CONF);
	}
	*ret_rel = LAYOUT_EXTLINUX_CONF;
	*ret_text = out;
	*ret_len = (size_t)r;
	return 1;
}

/* extlinux --once=LABEL: a label of extlinux.conf, the menu's or one the
 * admin wrote there. */
static int once(struct loader_site *s, const struct bootmenu *m,
		const struct bootmenu_entry *x, FILE *out, struct err *e)
{
	struct boot *b = s->b;
	struct extlinux_conf *c;
	char dir[PATH_MAX], opt[256], errbuf[512];
	char *const argv[] = { "extlinux", opt, dir, NULL };
	const char *label = x->id;
	int r, fd;

	(void)m;
	r = conf_read(b, &c);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "%s/" LAYOUT_EXTLINUX_CONF
				" does not parse; see 'earlyfs check'", b->dir);
	if (!extlinux_find(c, label)) {
		free(c);
		return err_set(e, EXIT_USAGE, "extlinux.conf has no label '%s'",
			       label);
	}
	free(c);
	r = boot_writable(b, e);
	if (r < 0)
		return r;
	/* extlinux writes to the file system DIR is on: it must be ours */
	fd = beneath_open(b->fd, LAYOUT_EXTLINUX_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return err_setr(e, fd, EXIT_FAILED, "%s/" LAYOUT_EXTLINUX_DIR
				": %s; it must be a directory of the boot "
				"partition", b->dir, strerror(-fd));
	close(fd);
	snprintf(dir, sizeof(dir), "%s/" LAYOUT_EXTLINUX_DIR, b->dir);
	snprintf(opt, sizeof(opt), "--once=%s", label);
	r = run_cmd(argv, errbuf, sizeof(errbuf));
	if (r != 0)
		return err_set(e, EXIT_FAILED, "extlinux --once=%s failed (%d): "
			       "%s", label, r, errbuf);
	r = boot_sync(b);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot sync %s: %s", b->dir,
				strerror(-r));
	fprintf(out, "earlyfs: the next boot, and only that one, takes label "
		"%s\n", label);
	return 0;
}

static void status(struct loader_site *s, FILE *out)
{
	struct extlinux_conf *c;

	if (conf_read(s->b, &c) < 0) {
		fprintf(out, ", " LAYOUT_EXTLINUX_CONF " does not parse");
		return;
	}
	fprintf(out, ", " LAYOUT_EXTLINUX_CONF " (default label %s, %zu "
		"labels)", c->default_label[0] ? c->default_label : "none",
		c->n);
	free(c);
}

/* extlinux.conf is checked with the partition's files (validate.c). */
static void check(struct loader_site *s, const struct bootmenu *m, FILE *out,
		  unsigned *ret)
{
	(void)s;
	(void)m;
	(void)out;
	(void)ret;
}

const struct loader_ops loader_extlinux = {
	.name = "extlinux", .esp = false, .uefi = false, .bios = true,
	.stage = stage, .kernels_file = kernels_file, .once = once, .status = status, .check = check,
};
