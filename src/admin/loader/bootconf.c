/* bootconf: the label the next boot takes (extlinux --once) */
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
#include "loader/bootconf.h"
#include "change/change.h"
#include "extlinux.h"
#include "change/generation.h"
#include "layout.h"
#include "change/tree.h"
#include "base/run.h"
#include "change/validate.h"

int bootconf_once(struct boot *b, const char *label, FILE *out, struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	struct problems p = { NULL, 0 };
	char dir[PATH_MAX], opt[256], errbuf[512];
	char *const argv[] = { "extlinux", opt, dir, NULL };
	int r, fd;

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	r = change_lock(b, out, e);
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
