/* extlinux: the labels of an extlinux.conf */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "extlinux.h"
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
