/* extlinux: the labels of an extlinux.conf */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "extlinux.h"
#include "layout.h"
#include "text.h"

const struct extlinux_label *extlinux_find(const struct extlinux_conf *c,
					   const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->labels[i].name, name) == 0)
			return &c->labels[i];
	return NULL;
}

static int fail(size_t *ret_line, size_t line, const char **ret_what,
		const char *what, int r)
{
	*ret_line = line;
	*ret_what = what;
	return r;
}

int extlinux_parse(const char *buf, size_t len, struct extlinux_conf *ret,
		   size_t *ret_line, const char **ret_what)
{
	struct extlinux_label *cur = NULL;
	size_t pos = 0, lineno = 0, l, i;
	const char *line;
	int r;

	memset(ret, 0, sizeof(*ret));
	while ((r = text_next_line(buf, len, &pos, &line, &l)) != 0) {
		size_t fpos = 0, kl, rest;
		const char *kw;

		lineno++;
		if (r < 0)
			return fail(ret_line, lineno, ret_what,
				    "line too long or has a NUL byte", r);
		if (text_next_field(line, l, &fpos, &kw, &kl) != 1 ||
		    kw[0] == '#')
			continue;
		while (fpos < l && (line[fpos] == ' ' || line[fpos] == '\t'))
			fpos++;
		rest = l - fpos;
		while (rest && (line[fpos + rest - 1] == ' ' ||
				line[fpos + rest - 1] == '\r'))
			rest--;
		if (kl == 5 && !strncasecmp(kw, "LABEL", 5)) {
			if (ret->n == EXTLINUX_LABELS_MAX)
				return fail(ret_line, lineno, ret_what,
					    "too many labels", -E2BIG);
			if (cur && !cur->kernel[0])
				return fail(ret_line, cur->line, ret_what,
					    "label without KERNEL", -EINVAL);
			cur = &ret->labels[ret->n++];
			cur->line = lineno;
			if (!rest || text_copy(cur->name, sizeof(cur->name),
					       line + fpos, rest) < 0)
				return fail(ret_line, lineno, ret_what,
					    "bad label name", -EINVAL);
		} else if ((kl == 6 && !strncasecmp(kw, "KERNEL", 6)) ||
			   (kl == 5 && !strncasecmp(kw, "LINUX", 5))) {
			if (!cur)
				return fail(ret_line, lineno, ret_what,
					    "KERNEL outside a LABEL", -EINVAL);
			if (text_copy(cur->kernel, sizeof(cur->kernel),
				      line + fpos, rest) < 0)
				return fail(ret_line, lineno, ret_what,
					    "kernel path too long", -E2BIG);
		} else if (kl == 6 && !strncasecmp(kw, "INITRD", 6)) {
			if (!cur)
				return fail(ret_line, lineno, ret_what,
					    "INITRD outside a LABEL", -EINVAL);
			if (text_copy(cur->initrd, sizeof(cur->initrd),
				      line + fpos, rest) < 0)
				return fail(ret_line, lineno, ret_what,
					    "initrd path too long", -E2BIG);
		} else if (kl == 6 && !strncasecmp(kw, "APPEND", 6)) {
			if (!cur)
				return fail(ret_line, lineno, ret_what,
					    "APPEND outside a LABEL", -EINVAL);
			if (text_copy(cur->append, sizeof(cur->append),
				      line + fpos, rest) < 0)
				return fail(ret_line, lineno, ret_what,
					    "APPEND too long", -E2BIG);
		} else if (kl == 7 && !strncasecmp(kw, "DEFAULT", 7)) {
			size_t w = 0;

			/* "DEFAULT label extra args": the label is the first
			 * word */
			while (w < rest && line[fpos + w] != ' ' &&
			       line[fpos + w] != '\t')
				w++;
			if (text_copy(ret->default_label,
				      sizeof(ret->default_label), line + fpos,
				      w) < 0)
				return fail(ret_line, lineno, ret_what,
					    "DEFAULT too long", -E2BIG);
		}
	}
	if (cur && !cur->kernel[0])
		return fail(ret_line, cur->line, ret_what,
			    "label without KERNEL", -EINVAL);
	if (ret->default_label[0]) {
		for (i = 0; i < ret->n; i++)
			if (!strcmp(ret->labels[i].name, ret->default_label))
				break;
		if (i == ret->n)
			return fail(ret_line, 0, ret_what,
				    "DEFAULT names no LABEL", -EINVAL);
	}
	return 0;
}

/* Whether line[0..l) starts with keyword kw (any case); *pos then
 * points after it. */
static bool keyword(const char *line, size_t l, const char *kw, size_t *pos)
{
	size_t kl;
	const char *f;

	*pos = 0;
	return text_next_field(line, l, pos, &f, &kl) == 1 &&
	       kl == strlen(kw) && !strncasecmp(f, kw, kl);
}

/* Whether line[0..l) is "LABEL name" (name NULL: any label). */
static bool is_label_line(const char *line, size_t l, const char *name)
{
	size_t pos, nl;
	const char *n;

	if (!keyword(line, l, "LABEL", &pos))
		return false;
	if (!name)
		return true;
	if (text_next_field(line, l, &pos, &n, &nl) != 1)
		return false;
	return nl == strlen(name) && !memcmp(n, name, nl);
}

struct sink {
	char *out;
	size_t cap, len;
	bool full;
};

static void put(struct sink *s, const char *p, size_t n)
{
	if (s->full || n >= s->cap - s->len) {
		s->full = true;
		return;
	}
	memcpy(s->out + s->len, p, n);
	s->len += n;
}

static void puts_(struct sink *s, const char *p)
{
	put(s, p, strlen(p));
}

/* from's APPEND without earlyfs.generation= words */
static void put_append(struct sink *s, const char *append)
{
	size_t pos = 0, fl, len = strlen(append);
	const char *f;
	bool first = true;

	while (text_next_field(append, len, &pos, &f, &fl) == 1) {
		if (fl >= 19 && !memcmp(f, "earlyfs.generation=", 19))
			continue;
		if (!first)
			put(s, " ", 1);
		put(s, f, fl);
		first = false;
	}
	if (!first)
		put(s, " ", 1);
}

/* The name of a LABEL line, as a field: 1, or 0 if it is not one. */
static int label_name(const char *line, size_t l, const char **name,
		      size_t *nl)
{
	size_t pos;

	return keyword(line, l, "LABEL", &pos) &&
	       text_next_field(line, l, &pos, name, nl) == 1;
}

int extlinux_set_kernels(const char *buf, size_t len, const char *def,
			 const char *def_initrd, const char *const *versions,
			 const char *const *initrds, size_t n, char *out,
			 size_t cap)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	struct sink s = { out, cap, 0, false };
	const struct extlinux_label *main_label;
	char append[sizeof(c->labels[0].append)];
	size_t pos = 0, start, l, nl, i, line_no;
	const char *line, *name, *what;
	enum { KEEP, DROP, SET } mode = KEEP;
	size_t kpos;
	int r;

	if (!c)
		return -ENOMEM;
	r = extlinux_parse(buf, len, c, &line_no, &what) < 0 ||
	    !(main_label = extlinux_find(c, "earlyfs")) ? -EINVAL : 0;
	if (r == 0)
		memcpy(append, main_label->append, sizeof(append));
	free(c);
	if (r < 0 || cap == 0)
		return r < 0 ? r : -E2BIG;
	for (;;) {
		start = pos;
		r = text_next_line(buf, len, &pos, &line, &l);
		if (r == 0)
			break;
		if (r > 0 && label_name(line, l, &name, &nl)) {
			const size_t pl = strlen(EXTLINUX_KERNEL_PREFIX);

			if (nl > pl && !memcmp(name, EXTLINUX_KERNEL_PREFIX, pl))
				mode = DROP;
			else if ((nl == 7 && !memcmp(name, "earlyfs", 7)) ||
				 (nl == 6 && !memcmp(name, "rescue", 6)))
				mode = SET;
			else
				mode = KEEP;
		}
		if (mode == DROP)
			continue;
		if (mode == SET && r > 0 && keyword(line, l, "INITRD", &kpos))
			continue;
		if (mode == SET && r > 0 && (keyword(line, l, "KERNEL", &kpos) ||
					     keyword(line, l, "LINUX", &kpos))) {
			puts_(&s, "\tKERNEL /" LAYOUT_KERNEL_PREFIX);
			puts_(&s, def);
			puts_(&s, "\n");
			if (def_initrd) {
				puts_(&s, "\tINITRD ");
				puts_(&s, def_initrd);
				puts_(&s, "\n");
			}
			continue;
		}
		put(&s, buf + start, pos - start);
	}
	while (s.len && (s.out[s.len - 1] == '\n' || s.out[s.len - 1] == ' ' ||
			 s.out[s.len - 1] == '\t'))
		s.len--;
	if (s.len)
		puts_(&s, "\n");
	for (i = 0; i < n; i++) {
		puts_(&s, "\nLABEL " EXTLINUX_KERNEL_PREFIX);
		puts_(&s, versions[i]);
		puts_(&s, "\n\t# written by earlyfs: this kernel, kept\n"
			  "\tKERNEL /" LAYOUT_KERNEL_PREFIX);
		puts_(&s, versions[i]);
		if (initrds && initrds[i]) {
			puts_(&s, "\n\tINITRD ");
			puts_(&s, initrds[i]);
		}
		puts_(&s, "\n\tAPPEND ");
		put_append(&s, append);
		while (s.len && s.out[s.len - 1] == ' ')
			s.len--;
		puts_(&s, "\n");
	}
	if (s.full)
		return -E2BIG;
	s.out[s.len] = '\0';
	return (int)s.len;
}

int extlinux_set_previous(const char *buf, size_t len,
			  const struct extlinux_label *from, char *out,
			  size_t cap)
{
	struct sink s = { out, cap, 0, false };
	size_t pos = 0, start, l;
	const char *line;
	bool skipping = false;
	int r;

	if (cap == 0)
		return -E2BIG;
	for (;;) {
		start = pos;
		r = text_next_line(buf, len, &pos, &line, &l);
		if (r == 0)
			break;
		if (r > 0 && is_label_line(line, l, NULL))
			skipping = is_label_line(line, l, EXTLINUX_PREVIOUS);
		if (!skipping)
			put(&s, buf + start, pos - start);
	}
	/* one blank line before the label, however the file ended */
	while (s.len && (s.out[s.len - 1] == '\n' || s.out[s.len - 1] == ' ' ||
			 s.out[s.len - 1] == '\t'))
		s.len--;
	if (s.len)
		puts_(&s, "\n\n");
	puts_(&s, "LABEL " EXTLINUX_PREVIOUS "\n"
		  "\t# written by earlyfs: the generation before the newest, "
		  "with its default label\n\tKERNEL ");
	puts_(&s, from->kernel);
	if (from->initrd[0]) {
		puts_(&s, "\n\tINITRD ");
		puts_(&s, from->initrd);
	}
	puts_(&s, "\n\tAPPEND ");
	put_append(&s, from->append);
	puts_(&s, EXTLINUX_PREVIOUS_WORD "\n");
	if (s.full)
		return -E2BIG;
	s.out[s.len] = '\0';
	return (int)s.len;
}
