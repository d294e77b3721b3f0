/* layout: paths of a boot partition built from one place */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "layout.h"
#include "text.h"

const struct layout_tracked layout_tracked[] = {
	{ LAYOUT_INITD, true, "", 0755 },
	{ LAYOUT_ETC, true, "", 0755 },
	{ LAYOUT_SSH_DIR, true, LAYOUT_ROOT_HOME, 0700 },
	{ LAYOUT_EXTLINUX_CONF, false, LAYOUT_EXTLINUX_DIR, 0755 },
};
const size_t n_layout_tracked = sizeof(layout_tracked) /
				sizeof(layout_tracked[0]);

int layout_generation_path(const char *root, unsigned n, const char *rel,
			   char *ret, size_t cap)
{
	size_t l = strlen(root);
	const char *sep = !l || root[l - 1] == '/' ? "" : "/";
	int w;

	if (rel)
		w = snprintf(ret, cap, "%s%s" LAYOUT_GENERATIONS "/%u/%s", root,
			     sep, n, rel);
	else
		w = snprintf(ret, cap, "%s%s" LAYOUT_GENERATIONS "/%u", root,
			     sep, n);
	return w < 0 || (size_t)w >= cap ? -ENAMETOOLONG : 0;
}

int layout_parse_generation(const char *s, size_t len, unsigned *ret)
{
	unsigned long v;
	int r = text_parse_uint(s, len, LAYOUT_GEN_MAX, &v);

	if (r < 0)
		return r;
	if (v == 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

unsigned layout_previous_generation(const struct layout_gen *v, size_t n)
{
	unsigned latest = 0, best = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].n > latest)
			latest = v[i].n;
	for (i = 0; i < n; i++)
		if (v[i].n < latest && v[i].valid && v[i].applied &&
		    v[i].n > best)
			best = v[i].n;
	return best;
}
