/* modinfo: see modinfo.h */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "modinfo.h"

static uint64_t get(const unsigned char *p, size_t n, bool be)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
	return v;
}

/* The value of key in the NUL-separated key=value strings, copied. */
static int copy_value(const struct modinfo *m, const char *key, char *ret,
		      size_t cap)
{
	const char *v;
	size_t pos = 0, l;

	ret[0] = '\0';
	if (modinfo_next(m, key, &pos, &v, &l) != 1)
		return 0;
	if (l >= cap)
		return -E2BIG;
	memcpy(ret, v, l);
	ret[l] = '\0';
	return 0;
}

int modinfo_parse(const void *data, size_t len, struct modinfo *ret)
{
	const unsigned char *b = data;
	uint64_t shoff, off, size, stroff, strsize, nameoff;
	size_t shentsize, shnum, shstrndx, i;
	char deps[MODINFO_DEPENDS_MAX * (MODINFO_NAME_MAX + 1)];
	bool be;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len < 64 || memcmp(b, "\177ELF", 4) || b[4] != 2 ||
	    (b[5] != 1 && b[5] != 2))
		return -ENOEXEC;
	be = b[5] == 2;
	if (get(b + 16, 2, be) != 1)	/* ET_REL */
		return -ENOEXEC;
	shoff = get(b + 40, 8, be);
	shentsize = (size_t)get(b + 58, 2, be);
	shnum = (size_t)get(b + 60, 2, be);
	shstrndx = (size_t)get(b + 62, 2, be);
	if (shentsize < 64 || shstrndx >= shnum || shoff > len ||
	    shnum > (len - shoff) / shentsize)
		return -EINVAL;
	stroff = get(b + shoff + shstrndx * shentsize + 24, 8, be);
	strsize = get(b + shoff + shstrndx * shentsize + 32, 8, be);
	if (stroff > len || strsize > len - stroff)
		return -EINVAL;
	for (i = 0; i < shnum; i++) {
		const unsigned char *sh = b + shoff + i * shentsize;

		nameoff = get(sh, 4, be);
		if (nameoff >= strsize || strsize - nameoff < 9 ||
		    memcmp(b + stroff + nameoff, ".modinfo", 9))
			continue;
		off = get(sh + 24, 8, be);
		size = get(sh + 32, 8, be);
		if (off > len || size > len - off)
			return -EINVAL;
		ret->strings = (const char *)b + off;
		ret->len = (size_t)size;
		break;
	}
	if (!ret->strings)
		return -ENOENT;
	r = copy_value(ret, "name", ret->name, sizeof(ret->name));
	if (r == 0)
		r = copy_value(ret, "depends", deps, sizeof(deps));
	for (const char *p = deps; r == 0 && *p;) {
		size_t l = strcspn(p, ",");

		if (l) {
			if (ret->n_depends == MODINFO_DEPENDS_MAX ||
			    l > MODINFO_NAME_MAX)
				return -E2BIG;
			memcpy(ret->depends[ret->n_depends], p, l);
			ret->depends[ret->n_depends++][l] = '\0';
		}
		p += l + (p[l] == ',');
	}
	return r;
}

int modinfo_next(const struct modinfo *m, const char *key, size_t *pos,
		 const char **ret_value, size_t *ret_len)
{
	size_t kl = strlen(key);

	while (*pos < m->len) {
		const char *s = m->strings + *pos;
		const char *end = memchr(s, '\0', m->len - *pos);
		size_t l = end ? (size_t)(end - s) : m->len - *pos;

		*pos += l + 1;
		if (l > kl && !memcmp(s, key, kl) && s[kl] == '=') {
			*ret_value = s + kl + 1;
			*ret_len = l - kl - 1;
			return 1;
		}
	}
	return 0;
}

bool modinfo_same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') &&
				  (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

static bool name_ok(const char *s, size_t len)
{
	return len && len <= MODINFO_NAME_MAX && !memchr(s, '\0', len) &&
	       !memchr(s, '/', len) && !memchr(s, ' ', len);
}

bool modinfo_pattern_ok(const char *s, size_t len)
{
	return len && len <= MODINFO_ALIAS_MAX && !memchr(s, '\0', len) &&
	       !memchr(s, ' ', len) && !memchr(s, '\t', len);
}

int modinfo_alias_line(const char *line, size_t len,
		       struct modinfo_span *pattern, struct modinfo_span *name)
{
	const char *sp;

	if (len < 6 || memcmp(line, "alias ", 6))
		return 0;
	sp = memchr(line + 6, ' ', len - 6);
	if (!sp)
		return 0;
	*pattern = (struct modinfo_span){ line + 6, (size_t)(sp - line - 6) };
	*name = (struct modinfo_span){ sp + 1, len - (size_t)(sp + 1 - line) };
	return modinfo_pattern_ok(pattern->s, pattern->len) &&
	       name_ok(name->s, name->len);
}

int modinfo_builtin_string(const char *s, size_t len, const char *key,
			   struct modinfo_span *name,
			   struct modinfo_span *value)
{
	const char *dot = memchr(s, '.', len), *eq;
	size_t kl = strlen(key);

	if (!dot || (size_t)(s + len - dot) < kl + 2 ||
	    memcmp(dot + 1, key, kl) || dot[kl + 1] != '=')
		return 0;
	eq = dot + kl + 1;
	*name = (struct modinfo_span){ s, (size_t)(dot - s) };
	*value = (struct modinfo_span){ eq + 1, len - (size_t)(eq + 1 - s) };
	return name_ok(name->s, name->len) &&
	       modinfo_pattern_ok(value->s, value->len);
}

int modinfo_builtin_line(const char *line, size_t len,
			 struct modinfo_span *name)
{
	const char *base;

	if (len < 4 || memcmp(line + len - 3, ".ko", 3))
		return 0;
	base = line + len - 3;
	while (base > line && base[-1] != '/')
		base--;
	*name = (struct modinfo_span){ base, (size_t)(line + len - 3 - base) };
	return name_ok(name->s, name->len);
}
