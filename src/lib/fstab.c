/* fstab: parse fstab(5) text, with octal escapes, into entries */
#include <errno.h>
#include <string.h>
#include "fstab.h"
#include "text.h"

static int is_octal(char c)
{
	return c >= '0' && c <= '7';
}

int fstab_unescape(const char *s, size_t len, char *ret, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len && is_octal(s[i + 1]) &&
		    is_octal(s[i + 2]) && is_octal(s[i + 3])) {
			int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
				(s[i + 3] - '0');
			if (v == 0 || v > 255)
				return -EINVAL;
			c = (char)v;
			i += 3;
		}
		if (o + 1 >= cap)
			return -E2BIG;
		ret[o++] = c;
	}
	ret[o] = '\0';
	return 0;
}

int fstab_parse_line(const char *line, size_t len, struct fstab_entry *ret,
		     const char **ret_what)
{
	const char *f[7];
	size_t fl[7], n = 0, pos = 0;
	unsigned long v = 0;
	int r;

	while (n < 7 && text_next_field(line, len, &pos, &f[n], &fl[n]) == 1) {
		if (n == 0 && f[0][0] == '#')
			return 0;
		n++;
	}
	if (n == 0)
		return 0;
	if (n < 3) {
		*ret_what = "needs at least spec, mount point and type";
		return -EINVAL;
	}
	if (n > 6) {
		*ret_what = "more than six fields (escape blanks as \\040)";
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	*ret_what = "field too long or has a \\000 escape";
	r = fstab_unescape(f[0], fl[0], ret->spec, sizeof(ret->spec));
	if (r < 0)
		return r;
	r = fstab_unescape(f[1], fl[1], ret->file, sizeof(ret->file));
	if (r < 0)
		return r;
	r = fstab_unescape(f[2], fl[2], ret->vfstype, sizeof(ret->vfstype));
	if (r < 0)
		return r;
	if (n > 3)
		r = fstab_unescape(f[3], fl[3], ret->mntops,
				   sizeof(ret->mntops));
	else
		r = text_copy(ret->mntops, sizeof(ret->mntops), "defaults", 8);
	if (r < 0)
		return r;
	*ret_what = "dump and pass fields must be small numbers";
	if (n > 4 && text_parse_uint(f[4], fl[4], 9999, &v) < 0)
		return -EINVAL;
	ret->freq = n > 4 ? (int)v : 0;
	if (n > 5 && text_parse_uint(f[5], fl[5], 9999, &v) < 0)
		return -EINVAL;
	ret->passno = n > 5 ? (int)v : 0;
	*ret_what = NULL;
	return 1;
}

int fstab_parse(const char *buf, size_t len, struct fstab *ret)
{
	size_t pos = 0, lineno = 0, l;
	const char *line;
	int r;

	ret->n = 0;
	ret->n_errors = 0;
	while ((r = text_next_line(buf, len, &pos, &line, &l)) != 0) {
		const char *what = NULL;

		lineno++;
		if (r > 0) {
			if (ret->n == FSTAB_ENTRIES_MAX)
				return -E2BIG;
			r = fstab_parse_line(line, l, &ret->entries[ret->n],
					     &what);
			if (r > 0)
				ret->entries[ret->n++].line = lineno;
		} else {
			what = r == -E2BIG ? "line too long" : "NUL byte in line";
		}
		if (r < 0 && ret->n_errors < FSTAB_ERRORS_MAX) {
			ret->errors[ret->n_errors].line = lineno;
			ret->errors[ret->n_errors].error = r;
			ret->errors[ret->n_errors++].what = what;
		}
	}
	return (int)ret->n_errors;
}
