/* cmdline: the kernel command line split into parameters, and earlyfs.* keys */
#include <errno.h>
#include <string.h>
#include "cmdline.h"
#include "text.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_parse(const char *buf, size_t len, struct cmdline *ret)
{
	size_t i = 0, o = 0;

	ret->n = 0;
	ret->buf[0] = '\0';
	if (len > CMDLINE_MAX)
		return -E2BIG;
	while (i < len) {
		bool quoted = false;
		size_t start;
		char *eq;

		while (i < len && is_blank(buf[i]))
			i++;
		if (i >= len || buf[i] == '\0')
			break;
		start = o;
		for (; i < len && buf[i] != '\0'; i++) {
			if (buf[i] == '"') {
				quoted = !quoted;
				continue;
			}
			if (!quoted && is_blank(buf[i]))
				break;
			ret->buf[o++] = buf[i];
		}
		ret->buf[o++] = '\0';
		if (strcmp(ret->buf + start, "--") == 0)
			break;
		if (ret->n == CMDLINE_PARAMS_MAX) {
			ret->n = 0;
			return -E2BIG;
		}
		ret->params[ret->n].key = ret->buf + start;
		eq = strchr(ret->buf + start, '=');
		if (eq) {
			*eq = '\0';
			ret->params[ret->n].value = eq + 1;
		} else {
			ret->params[ret->n].value = NULL;
		}
		ret->n++;
	}
	return 0;
}

const char *cmdline_get(const struct cmdline *c, const char *key)
{
	size_t i = c->n;

	while (i-- > 0)
		if (strcmp(c->params[i].key, key) == 0)
			return c->params[i].value;
	return NULL;
}

bool cmdline_has(const struct cmdline *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->params[i].key, key) == 0)
			return true;
	return false;
}

int cmdline_env_name(const char *key, char *ret, size_t cap)
{
	size_t i, n;

	if (strncmp(key, "earlyfs.", 8) != 0 || key[8] == '\0')
		return -EINVAL;
	n = strlen(key);
	if (n + 1 > cap)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		char c = key[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '.' || c == '-')
			c = '_';
		ret[i] = c;
	}
	ret[n] = '\0';
	return text_is_name(ret, n) ? 0 : -EINVAL;
}
