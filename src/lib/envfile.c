/* envfile: NAME=VALUE lines that fragments append to $EARLYFS_ENV */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "envfile.h"
#include "kv.h"
#include "text.h"

void envlist_init(struct envlist *e)
{
	e->n = 0;
	e->vars[0] = NULL;
}

static long find(const struct envlist *e, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strncmp(e->vars[i], name, len) == 0 && e->vars[i][len] == '=')
			return (long)i;
	return -1;
}

int envlist_set(struct envlist *e, const char *name, size_t name_len,
		const char *value, size_t value_len)
{
	long at;
	char *s;

	if (!text_is_name(name, name_len))
		return -EINVAL;
	s = malloc(name_len + value_len + 2);
	if (!s)
		return -ENOMEM;
	memcpy(s, name, name_len);
	s[name_len] = '=';
	memcpy(s + name_len + 1, value, value_len);
	s[name_len + value_len + 1] = '\0';
	at = find(e, name, name_len);
	if (at >= 0) {
		free(e->vars[at]);
		e->vars[at] = s;
		return 0;
	}
	if (e->n == ENVLIST_MAX) {
		free(s);
		return -E2BIG;
	}
	e->vars[e->n++] = s;
	e->vars[e->n] = NULL;
	return 0;
}

int envlist_add_all(struct envlist *e, char *const *vars)
{
	int r;

	for (; vars && *vars; vars++) {
		const char *eq = strchr(*vars, '=');

		if (!eq)
			continue;
		r = envlist_set(e, *vars, (size_t)(eq - *vars), eq + 1,
				strlen(eq + 1));
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

const char *envlist_get(const struct envlist *e, const char *name)
{
	long at = find(e, name, strlen(name));

	return at < 0 ? NULL : strchr(e->vars[at], '=') + 1;
}

void envlist_free(struct envlist *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->vars[i]);
	envlist_init(e);
}

int envfile_apply(const char *buf, size_t len, struct envlist *e,
		  size_t *ret_bad_line)
{
	size_t pos = 0, lineno = 0, nl, vl;
	const char *name, *value;
	int r, bad = 0;

	*ret_bad_line = 0;
	while ((r = kv_next(buf, len, &pos, &lineno, &name, &nl, &value,
			    &vl)) != 0) {
		if (r > 0) {
			r = envlist_set(e, name, nl, value, vl);
			if (r == -ENOMEM || r == -E2BIG)
				return r;	/* the environment is full */
		}
		if (r < 0 && bad++ == 0)
			*ret_bad_line = lineno;
	}
	return bad;
}
