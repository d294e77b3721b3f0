/* template: fill @NAME@ placeholders of the files in templates/ */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "template.h"

static const char *lookup(const struct template_var *vars, size_t n,
			  const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0)
			return vars[i].value;
	return NULL;
}

/* @NAME@ with NAME of [A-Z0-9_]+: anything else is literal text. */
static size_t placeholder(const char *p)
{
	size_t i = 1;

	while ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
	       p[i] == '_')
		i++;
	return i > 1 && p[i] == '@' ? i - 1 : 0;
}

int template_render(const char *text, const struct template_var *vars,
		    size_t n, char **ret, char *ret_unknown)
{
	size_t cap = strlen(text) + 1, len = 0, i;
	char *out;
	const char *p;

	for (i = 0; i < n; i++) {
		if (strchr(vars[i].value, '\n'))
			return -EINVAL;
		cap += strlen(vars[i].value) * 8;
	}
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	for (p = text; *p;) {
		size_t nl = *p == '@' ? placeholder(p) : 0;

		if (nl) {
			const char *v = lookup(vars, n, p + 1, nl);

			if (!v) {
				size_t k = nl < 31 ? nl : 31;

				memcpy(ret_unknown, p + 1, k);
				ret_unknown[k] = '\0';
				free(out);
				return -EINVAL;
			}
			if (len + strlen(v) + 1 > cap) {
				free(out);
				return -ENOMEM;
			}
			memcpy(out + len, v, strlen(v));
			len += strlen(v);
			p += nl + 2;
			continue;
		}
		if (len + 2 > cap) {
			free(out);
			return -ENOMEM;
		}
		out[len++] = *p++;
	}
	out[len] = '\0';
	*ret = out;
	return 0;
}
