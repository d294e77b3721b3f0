/* previous: the 'previous' label, which boots the generation before */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "base/beneath.h"
#include "change/generation.h"
#include "change/previous.h"
#include "change/tree.h"
#include "change/validate.h"
#include "extlinux.h"
#include "layout.h"

/* The 'previous' label boots generation `prev` with its default label. */
int previous_stage(struct boot *b, unsigned prev, struct err *e)
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
