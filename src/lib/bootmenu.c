/* bootmenu: see bootmenu.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bootmenu.h"
#include "layout.h"

int bootmenu_options_filter(const char *options, const char *const *drop,
			   size_t n_drop, const char *word, char *ret,
			   size_t cap)
{
	size_t o = 0, l, i;
	const char *w = options;
	int n;

	while (*w) {
		while (*w == ' ')
			w++;
		l = strcspn(w, " ");
		for (i = 0; l && i < n_drop; i++)
			if (!strncmp(w, drop[i], strlen(drop[i])))
				break;
		if (l && i == n_drop) {
			if (o + l + 1 >= cap)
				return -E2BIG;
			memmove(ret + o, w, l);	/* ret may be options */
			o += l;
			ret[o++] = ' ';
		}
		w += l;
	}
	if (!*word) {
		ret[o ? o - 1 : 0] = '\0';
		return 0;
	}
	n = snprintf(ret + o, cap - o, "%s", word);
	return n < 0 || (size_t)n >= cap - o ? -E2BIG : 0;
}

int bootmenu_options_with(const char *options, const char *word, char *ret,
			  size_t cap)
{
	static const char *const generation[] = { "earlyfs.generation=" };

	return bootmenu_options_filter(options, generation, 1, word, ret, cap);
}

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
		if (bootmenu_options_with(options, extra, e->options,
					  sizeof(e->options)) < 0)
			return -E2BIG;
	} else {
		n = snprintf(e->options, sizeof(e->options), "%s", options);
		if (n < 0 || (size_t)n >= sizeof(e->options))
			return -E2BIG;
	}
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

/* digits from p, at most 4 of them: the number and where they end, or
 * NULL */
static const char *digits(const char *p, unsigned *ret)
{
	unsigned v = 0;
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9' && n < 4)
		v = v * 10 + (unsigned)(p[n++] - '0');
	if (!n || (p[n] >= '0' && p[n] <= '9'))
		return NULL;
	*ret = v;
	return p + n;
}

int bootmenu_bls_counter(const char *name, char *base, size_t cap,
			 unsigned *left, unsigned *done)
{
	size_t len = strlen(name), stem;
	const char *plus, *p;

	*left = *done = 0;
	if (len + 1 > cap)
		return -EINVAL;
	memcpy(base, name, len + 1);
	if (len < 5 || strcmp(name + len - 5, ".conf"))
		return 0;
	for (plus = NULL, p = name; p < name + len - 5; p++)
		if (*p == '+')
			plus = p;	/* the last one */
	if (!plus || plus == name)
		return 0;
	p = digits(plus + 1, left);
	if (p && *p == '-')
		p = digits(p + 1, done);
	if (!p || p != name + len - 5)
		return 0;	/* '+' that is not a counter */
	stem = (size_t)(plus - name);
	memcpy(base + stem, ".conf", 6);
	return 1;
}
