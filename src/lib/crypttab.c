/* crypttab: see crypttab.h */
#include <errno.h>
#include <string.h>
#include "crypttab.h"
#include "devspec.h"
#include "text.h"

/* The next blank-separated word of s[*pos..len): its start and length. */
static size_t word(const char *s, size_t len, size_t *pos, const char **ret)
{
	size_t i = *pos, start;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	start = i;
	while (i < len && s[i] != ' ' && s[i] != '\t')
		i++;
	*pos = i;
	*ret = s + start;
	return i - start;
}

static bool name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && !memcmp(s, "..", 2)))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("_.+-", s[i])))
			return false;
	return true;
}

/* An absolute path with no empty, '.' or '..' component: what it names
 * is what it says (the management side tells a key file on the boot
 * partition from a key device by its /dev/ prefix alone). */
static bool plain_path(const char *s, size_t n)
{
	size_t i = 0, c;

	if (n < 2 || s[0] != '/' || s[n - 1] == '/')
		return false;
	while (i < n) {
		i++;	/* the '/' */
		for (c = 0; i + c < n && s[i + c] != '/'; c++)
			;
		if (c == 0 || (c == 1 && s[i] == '.') ||
		    (c == 2 && s[i] == '.' && s[i + 1] == '.'))
			return false;
		i += c;
	}
	return true;
}

static bool is(const char *o, size_t n, const char *what)
{
	return strlen(what) == n && !memcmp(o, what, n);
}

/* One comma-separated option. */
static int option(const char *o, size_t n, struct crypttab_entry *ret,
		  const char **ret_what)
{
	unsigned long v;

	if (is(o, n, "luks") || is(o, n, "initramfs") || n == 0)
		return 0;	/* what earlyfs does anyway */
	if (is(o, n, "discard"))
		ret->discard = true;
	else if (is(o, n, "readonly") || is(o, n, "read-only"))
		ret->readonly = true;
	else if (is(o, n, "nofail"))
		ret->nofail = true;
	else if (is(o, n, "noauto"))
		ret->noauto = true;
	else if (n > 6 && !memcmp(o, "tries=", 6)) {
		if (text_parse_uint(o + 6, n - 6, CRYPTTAB_TRIES_MAX, &v) < 0) {
			*ret_what = "tries= takes a number of attempts, 0 to "
				    "100 (0: until it opens)";
			return -EINVAL;
		}
		ret->tries = (unsigned)v;
	} else {
		*ret_what = "an option early boot does not support (known: "
			    "luks, tries=N, discard, readonly, nofail, noauto)";
		return -EINVAL;
	}
	return 0;
}

int crypttab_parse_line(const char *line, size_t len,
			struct crypttab_entry *ret, const char **ret_what)
{
	const char *w[5];
	size_t n[5], pos = 0, i, k;
	struct devspec ds;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->tries = CRYPTTAB_TRIES_DEFAULT;
	if (len && line[len - 1] == '\r')
		len--;
	for (i = 0; i < 5; i++)
		n[i] = word(line, len, &pos, &w[i]);
	if (n[0] == 0 || w[0][0] == '#')
		return 0;
	if (memchr(line, '\0', len)) {
		*ret_what = "a NUL byte";
		return -EINVAL;
	}
	if (n[1] == 0) {
		*ret_what = "no device: NAME DEVICE [KEYFILE [OPTIONS]]";
		return -EINVAL;
	}
	if (n[4]) {
		*ret_what = "more than four fields";
		return -EINVAL;
	}
	if (n[0] > CRYPTTAB_NAME_MAX || !name_ok(w[0], n[0])) {
		*ret_what = "the name must be 1-64 letters, digits, '_', '.', "
			    "'+' or '-'";
		return -EINVAL;
	}
	memcpy(ret->name, w[0], n[0]);
	if (n[1] >= sizeof(ret->device)) {
		*ret_what = "the device is too long";
		return -E2BIG;
	}
	memcpy(ret->device, w[1], n[1]);
	r = devspec_parse(ret->device, &ds, ret_what);
	if (r < 0)
		return r;
	if (n[2] && !is(w[2], n[2], "none") && !is(w[2], n[2], "-")) {
		if (!plain_path(w[2], n[2]) || n[2] >= sizeof(ret->keyfile)) {
			*ret_what = "the key file must be an absolute path with "
				    "no '.', '..' or '//' (such as /dev/sdb1), "
				    "or none";
			return -EINVAL;
		}
		memcpy(ret->keyfile, w[2], n[2]);
	}
	for (i = 0; i < n[3]; i = k + 1) {
		for (k = i; k < n[3] && w[3][k] != ','; k++)
			;
		r = option(w[3] + i, k - i, ret, ret_what);
		if (r < 0)
			return r;
	}
	return 1;
}

int crypttab_parse(const char *buf, size_t len, struct crypttab_entry *v,
		   size_t *ret_line, const char **ret_what)
{
	size_t pos = 0, l, lineno = 0, n = 0, i;
	struct crypttab_entry one;
	const char *line;
	int r;

	while ((r = text_next_line(buf, len, &pos, &line, &l)) != 0) {
		*ret_line = ++lineno;
		if (r < 0) {
			*ret_what = "a line longer than the limit";
			return r;
		}
		r = crypttab_parse_line(line, l, &one, ret_what);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (n == CRYPTTAB_MAX) {
			*ret_what = "more than 16 volumes";
			return -E2BIG;
		}
		v[n] = one;
		v[n].line = lineno;
		for (i = 0; i < n; i++)
			if (!strcmp(v[i].name, v[n].name)) {
				*ret_what = "a name given twice";
				return -EINVAL;
			}
		n++;
	}
	return (int)n;
}
