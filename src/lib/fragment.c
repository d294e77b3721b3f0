/* fragment: the naming rule, run order and directives of init.d fragments */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bootcfg.h"
#include "fragment.h"
#include "text.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* The rule itself: NN-word[.sh] */
static bool name_runs(const char *name, size_t len)
{
	size_t i, end = len;

	if (len > FRAGMENT_NAME_MAX || len < 4)
		return false;
	if (name[0] < '0' || name[0] > '9' || name[1] < '0' || name[1] > '9' ||
	    name[2] != '-')
		return false;
	if (len > 3 + 3 && memcmp(name + len - 3, ".sh", 3) == 0)
		end = len - 3;
	for (i = 3; i < end; i++)
		if (!is_word_char(name[i]))
			return false;
	return end > 3;
}

enum fragment_class fragment_name_classify(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.' || ends_with(name, "~") || name[0] == '#' ||
	    ends_with(name, ".tmp") || ends_with(name, ".swp") ||
	    strstr(name, ".dpkg-") || ends_with(name, ".rpmnew") ||
	    ends_with(name, ".rpmsave") || ends_with(name, ".orig") ||
	    ends_with(name, ".bak"))
		return FRAGMENT_IGNORED;
	if (ends_with(name, ".disabled"))
		return name_runs(name, len - 9) ? FRAGMENT_DISABLED
						: FRAGMENT_INVALID;
	return name_runs(name, len) ? FRAGMENT_RUN : FRAGMENT_INVALID;
}

int fragment_name_check(const char *name)
{
	return fragment_name_classify(name) == FRAGMENT_RUN ? 0 : -EINVAL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

void fragment_list_sort(struct fragment_list *l)
{
	qsort(l->names, l->n, sizeof(l->names[0]), cmp_names);
}

int fragment_list_load(const char *dir, struct fragment_list *ret)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	ret->n = 0;
	ret->n_invalid = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		enum fragment_class c;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		c = fragment_name_classify(de->d_name);
		if (c == FRAGMENT_INVALID) {
			if (ret->n_invalid < 16)
				text_copy(ret->invalid[ret->n_invalid++],
					  FRAGMENT_NAME_MAX + 1, de->d_name,
					  strnlen(de->d_name, FRAGMENT_NAME_MAX));
			continue;
		}
		if (c != FRAGMENT_RUN)
			continue;
		if (ret->n == FRAGMENTS_MAX) {
			r = -E2BIG;
			break;
		}
		strcpy(ret->names[ret->n++], de->d_name);
	}
	closedir(d);
	fragment_list_sort(ret);
	return r;
}

static int directive_word(const char *w, size_t len,
			  struct fragment_directives *ret)
{
	if (len == 8 && memcmp(w, "optional", 8) == 0) {
		ret->optional = true;
		return 0;
	}
	if (len > 8 && memcmp(w, "timeout=", 8) == 0) {
		if (bootcfg_parse_seconds(w + 8, len - 8, &ret->timeout) < 0)
			return -EINVAL;
		ret->has_timeout = true;
		return 0;
	}
	return -EINVAL;
}

int fragment_directives_parse(const char *buf, size_t len,
			      struct fragment_directives *ret,
			      size_t *ret_line)
{
	static const char tag[] = "# earlyfs:";
	size_t pos = 0, lineno = 0, l;
	const char *line;
	int r, err = 0;

	memset(ret, 0, sizeof(*ret));
	*ret_line = 0;
	while (lineno < 20 && (r = text_next_line(buf, len, &pos, &line, &l))) {
		size_t fpos = sizeof(tag) - 1, wl;
		const char *w;

		lineno++;
		if (r < 0 || l < sizeof(tag) - 1 ||
		    memcmp(line, tag, sizeof(tag) - 1) != 0)
			continue;
		while (text_next_field(line, l, &fpos, &w, &wl) == 1) {
			if (directive_word(w, wl, ret) < 0 && !err) {
				err = -EINVAL;
				*ret_line = lineno;
			}
		}
	}
	return err;
}

int fragment_interpreter(const char *buf, size_t len, char *ret, size_t cap)
{
	size_t i = 2, n;

	if (cap)
		ret[0] = '\0';
	if (len < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	for (n = 0; i + n < len && buf[i + n] != ' ' && buf[i + n] != '\t' &&
		    buf[i + n] != '\n' && buf[i + n] != '\0'; n++)
		;
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(ret, buf + i, n);
	ret[n] = '\0';
	return (int)n;
}
