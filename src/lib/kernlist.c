/* kernlist: see kernlist.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "kernlist.h"
#include "text.h"

bool kernlist_version_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > KERNLIST_VERSION_MAX || s[0] == '.' ||
	    s[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._+-", s[i]) || !s[i])
			return false;
	return true;
}

static int bad(size_t *ret_line, size_t line, const char **ret_what,
	       const char *what, int r)
{
	*ret_line = line;
	*ret_what = what;
	return r;
}

struct kernlist_entry *kernlist_find(struct kernlist *k, const char *version)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (!strcmp(k->v[i].version, version))
			return &k->v[i];
	return NULL;
}

static void drop(struct kernlist *k, struct kernlist_entry *e)
{
	memmove(e, e + 1, sizeof(*e) * (size_t)(&k->v[k->n] - e - 1));
	k->n--;
}

/* The entry kernlist_add() may drop to make room, or NULL. */
static struct kernlist_entry *evictable(struct kernlist *k, bool refused_only)
{
	const struct kernlist_entry *def = kernlist_default(k);
	struct kernlist_entry *old = NULL;
	size_t i;

	for (i = 0; i < k->n; i++)	/* in the order they were added */
		if (!k->v[i].ok)
			return &k->v[i];
	if (refused_only)
		return NULL;
	for (i = 0; i < k->n; i++) {
		struct kernlist_entry *v = &k->v[i];

		if (v == def || !strcmp(v->version, k->pinned))
			continue;
		if (!old || strverscmp(v->version, old->version) < 0)
			old = v;
	}
	return old;
}

struct kernlist_entry *kernlist_add(struct kernlist *k, const char *version)
{
	struct kernlist_entry *e = kernlist_find(k, version), *old;
	size_t refused = 0, i;

	if (e)
		return e;
	for (i = 0; i < k->n; i++)
		refused += !k->v[i].ok;
	for (; refused >= KERNLIST_REFUSED_KEEP; refused--)
		drop(k, evictable(k, true));
	if (k->n == KERNLIST_MAX) {
		old = evictable(k, false);
		if (!old)
			return NULL;
		drop(k, old);
	}
	e = &k->v[k->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->version, sizeof(e->version), "%s", version);
	return e;
}

int kernlist_parse(const char *buf, size_t len, struct kernlist *ret,
		   size_t *ret_line, const char **ret_what)
{
	size_t pos = 0, l, fpos, kl, vl, lineno = 0;
	const char *line, *kw, *v;
	int r;

	memset(ret, 0, sizeof(*ret));
	while ((r = text_next_line(buf, len, &pos, &line, &l)) != 0) {
		lineno++;
		if (r < 0)
			return bad(ret_line, lineno, ret_what, "line too long",
				   -E2BIG);
		fpos = 0;
		if (text_next_field(line, l, &fpos, &kw, &kl) != 1 ||
		    kw[0] == '#')
			continue;
		if (text_next_field(line, l, &fpos, &v, &vl) != 1 ||
		    !kernlist_version_ok(v, vl))
			return bad(ret_line, lineno, ret_what, "not a kernel "
				   "version (1 to 63 of A-Z a-z 0-9 . _ + -)",
				   -EINVAL);
		if (kl == 7 && !memcmp(kw, "default", 7)) {
			memcpy(ret->pinned, v, vl);
			ret->pinned[vl] = '\0';
			continue;
		}
		bool ok = kl == 2 && !memcmp(kw, "ok", 2);

		if (!ok && !(kl == 7 && !memcmp(kw, "refused", 7)))
			return bad(ret_line, lineno, ret_what, "not 'ok', "
				   "'refused' or 'default'", -EINVAL);
		if (ret->n == KERNLIST_MAX)
			return bad(ret_line, lineno, ret_what, "more than 16 "
				   "kernels", -E2BIG);
		struct kernlist_entry *e = &ret->v[ret->n];

		memcpy(e->version, v, vl);
		e->version[vl] = '\0';
		if (kernlist_find(ret, e->version))	/* among those before */
			return bad(ret_line, lineno, ret_what, "a version listed "
				   "twice", -EINVAL);
		e->ok = ok;
		if (ok) {
			const char *w;
			size_t wl;

			if (text_next_field(line, l, &fpos, &w, &wl) == 1) {
				if (wl != 4 || memcmp(w, "stub", 4))
					return bad(ret_line, lineno, ret_what,
						   "'ok VERSION' takes only "
						   "'stub' after it", -EINVAL);
				e->stub = true;
			}
		}
		while (fpos < l && (line[fpos] == ' ' || line[fpos] == '\t'))
			fpos++;
		if (!ok)
			snprintf(e->why, sizeof(e->why), "%.*s",
				 (int)(l - fpos), line + fpos);
		ret->n++;
	}
	return 0;
}

const struct kernlist_entry *kernlist_default(const struct kernlist *k)
{
	const struct kernlist_entry *best = NULL;
	size_t i;

	for (i = 0; i < k->n; i++) {
		if (!k->v[i].ok)
			continue;
		if (k->pinned[0] && !strcmp(k->v[i].version, k->pinned))
			return &k->v[i];
		if (!best || strverscmp(k->v[i].version, best->version) > 0)
			best = &k->v[i];
	}
	return best;
}

int kernlist_format(const struct kernlist *k, char *out, size_t cap)
{
	size_t used = 0, i;
	int n;

	n = snprintf(out, cap, "# kernels kept here (earlyfs kernel add|rm "
		     "changes this)\n");
	for (i = 0; n >= 0 && (size_t)n < cap - used && i < k->n; i++) {
		used += (size_t)n;
		n = k->v[i].ok ? snprintf(out + used, cap - used, "ok %s%s\n",
					  k->v[i].version, k->v[i].stub ?
					  " stub" : "")
			       : snprintf(out + used, cap - used, "refused %s "
					  "%s\n", k->v[i].version, k->v[i].why);
	}
	if (n >= 0 && (size_t)n < cap - used && k->pinned[0]) {
		used += (size_t)n;
		n = snprintf(out + used, cap - used, "default %s\n", k->pinned);
	}
	if (n < 0 || (size_t)n >= cap - used)
		return -E2BIG;
	return (int)(used + (size_t)n);
}
