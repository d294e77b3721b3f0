/* bootconf: extlinux.conf's 'previous' label, and the next boot's label */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "beneath.h"
#include "bootconf.h"
#include "extlinux.h"
#include "generation.h"
#include "layout.h"
#include "tree.h"
#include "util.h"
#include "validate.h"

/* The 'previous' label boots generation `prev` with its default label. */
int bootconf_stage_previous(struct boot *b, unsigned prev, struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	const struct extlinux_label *from = NULL;
	char path[PATH_MAX], staged[PATH_MAX], *buf = NULL, *out = NULL;
	struct problems p = { NULL, 0 };
	size_t len, i;
	int r, n;

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	snprintf(staged, sizeof(staged), LAYOUT_STAGING "/"
		 LAYOUT_EXTLINUX_CONF);
	if (prev)
		gen_path(prev, LAYOUT_EXTLINUX_CONF, path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", staged);
	if (validate_extlinux(b->fd, path, LAYOUT_EXTLINUX_CONF, c, &p) < 0 &&
	    !c->n) {
		r = err_set(e, EXIT_FAILED, "%s/%s does not parse; fix it "
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
	n = extlinux_set_previous(buf, len, from, prev ? prev : 1, out,
				  len + 4096);
	if (n < 0) {
		r = err_setr(e, n, EXIT_FAILED, "%s/%s: too long", b->dir,
			     staged);
		goto out;
	}
	if ((size_t)n == len && !memcmp(out, buf, len)) {
		r = 0;
		goto out;
	}
	r = tree_write_new(b->fd, staged, out, (size_t)n, 0644);
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

int bootconf_once(struct boot *b, const char *label, FILE *out, struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	struct problems p = { NULL, 0 };
	char dir[PATH_MAX], opt[256], errbuf[512];
	char *const argv[] = { "extlinux", opt, dir, NULL };
	int r, fd;

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	r = boot_lock(b, out, e);
	if (r < 0)
		goto out;

	if (validate_extlinux(b->fd, LAYOUT_EXTLINUX_CONF, "extlinux.conf",
			      c, &p) < 0 && !c->n) {
		r = err_set(e, EXIT_FAILED, "%s/" LAYOUT_EXTLINUX_CONF " does "
			    "not parse; see 'earlyfs check'", b->dir);
		goto unlock;
	}
	if (!extlinux_find(c, label)) {
		r = err_set(e, EXIT_USAGE, "extlinux.conf has no label '%s'",
			    label);
		goto unlock;
	}
	r = boot_writable(b, e);
	if (r < 0)
		goto unlock;
	/* extlinux writes to the file system DIR is on: it must be ours */
	fd = beneath_open(b->fd, LAYOUT_EXTLINUX_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		r = err_setr(e, fd, EXIT_FAILED, "%s/" LAYOUT_EXTLINUX_DIR ": %s; "
			     "it must be a directory of the boot partition",
			     b->dir, strerror(-fd));
		goto unlock;
	}
	close(fd);
	snprintf(dir, sizeof(dir), "%s/" LAYOUT_EXTLINUX_DIR, b->dir);
	snprintf(opt, sizeof(opt), "--once=%s", label);
	r = run_cmd(argv, errbuf, sizeof(errbuf));
	if (r != 0) {
		r = err_set(e, EXIT_FAILED, "extlinux --once=%s failed (%d): %s",
			    label, r, errbuf);
		goto unlock;
	}
	r = boot_sync(b);
	if (r < 0) {
		err_setr(e, r, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			 strerror(-r));
		goto unlock;
	}
	fprintf(out, "earlyfs: the next boot, and only that one, takes label "
		"%s\n", label);
unlock:
	boot_unlock(b, out);
out:
	free(c);
	return r;
}
