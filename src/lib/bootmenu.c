/* bootmenu: see bootmenu.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bootmenu.h"
#include "layout.h"

static int entry(struct bootmenu *m, enum bootmenu_kind kind, const char *id,
		 const char *title, const struct kernlist_entry *k,
		 const char *options, const char *extra)
{
	struct bootmenu_entry *e = &m->v[m->n];
	int n;

	if (m->n == BOOTMENU_MAX)
		return -E2BIG;
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->title, sizeof(e->title), "%s", title);
	snprintf(e->version, sizeof(e->version), "%s", k->version);
	snprintf(e->kernel, sizeof(e->kernel), "/" LAYOUT_KERNEL, k->version);
	if (k->stub)
		snprintf(e->initrd, sizeof(e->initrd), "/" LAYOUT_STUB,
			 k->version);
	if (extra) {
		/* the word replaces any earlyfs.generation= of options */
		size_t o = 0, l;
		const char *w = options;

		while (*w) {
			while (*w == ' ')
				w++;
			l = strcspn(w, " ");
			if (l && strncmp(w, "earlyfs.generation=", 19)) {
				if (o + l + 1 >= sizeof(e->options))
					return -E2BIG;
				memcpy(e->options + o, w, l);
				o += l;
				e->options[o++] = ' ';
			}
			w += l;
		}
		n = snprintf(e->options + o, sizeof(e->options) - o, "%s",
			     extra);
		n = n < 0 ? n : n + (int)o;
	} else {
		n = snprintf(e->options, sizeof(e->options), "%s", options);
	}
	if (n < 0 || (size_t)n >= sizeof(e->options))
		return -E2BIG;
	m->n++;
	return 0;
}

static int by_version_desc(const void *a, const void *b)
{
	const struct kernlist_entry *x = *(const struct kernlist_entry *const *)a;
	const struct kernlist_entry *y = *(const struct kernlist_entry *const *)b;

	return strverscmp(y->version, x->version);
}

int bootmenu_build(const struct bootmenu_input *in, struct bootmenu *ret)
{
	const struct kernlist_entry *def = kernlist_default(in->kernels);
	const struct kernlist_entry *sorted[KERNLIST_MAX];
	const char *name = in->name ? in->name : "earlyfs";
	char id[80], title[160];
	size_t i, n = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!def)
		return -ENOENT;
	snprintf(title, sizeof(title), "%s (%s)", name, def->version);
	r = entry(ret, BOOTMENU_DEFAULT, "earlyfs", title, def, in->options,
		  NULL);
	snprintf(title, sizeof(title), "%s rescue shell (%s)", name,
		 def->version);
	if (r == 0)
		r = entry(ret, BOOTMENU_RESCUE, "rescue", title, def,
			  in->rescue_options, NULL);
	snprintf(title, sizeof(title), "%s, the generation before (%s)", name,
		 (in->previous ? in->previous : def)->version);
	if (r == 0)
		r = entry(ret, BOOTMENU_PREVIOUS, "previous", title,
			  in->previous ? in->previous : def,
			  in->previous_options ? in->previous_options
					       : in->options,
			  BOOTMENU_PREVIOUS_WORD);
	for (i = 0; i < in->kernels->n; i++)
		if (in->kernels->v[i].ok)
			sorted[n++] = &in->kernels->v[i];
	qsort(sorted, n, sizeof(sorted[0]), by_version_desc);
	for (i = 0; i < n && r == 0; i++) {
		snprintf(id, sizeof(id), "earlyfs-%s", sorted[i]->version);
		snprintf(title, sizeof(title), "%s with kernel %s", name,
			 sorted[i]->version);
		r = entry(ret, BOOTMENU_KERNEL, id, title, sorted[i],
			  in->options, NULL);
	}
	return r;
}

const struct bootmenu_entry *bootmenu_find(const struct bootmenu *m,
					   const char *id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].id, id))
			return &m->v[i];
	return NULL;
}
