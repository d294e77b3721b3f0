/* kv: KEY=value lines */
#include <errno.h>
#include <string.h>
#include "kv.h"
#include "text.h"

int kv_parse_line(const char *line, size_t len, const char **ret_key,
		  size_t *ret_key_len, const char **ret_value,
		  size_t *ret_value_len)
{
	const char *eq;
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	eq = memchr(line, '=', len);
	if (!eq || !text_is_name(line, (size_t)(eq - line)))
		return -EINVAL;
	*ret_key = line;
	*ret_key_len = (size_t)(eq - line);
	*ret_value = eq + 1;
	*ret_value_len = len - *ret_key_len - 1;
	return 1;
}

int kv_next(const char *buf, size_t len, size_t *pos, size_t *lineno,
	    const char **ret_key, size_t *ret_key_len, const char **ret_value,
	    size_t *ret_value_len)
{
	const char *line;
	size_t l;
	int r;

	while ((r = text_next_line(buf, len, pos, &line, &l)) != 0) {
		(*lineno)++;
		if (r < 0)
			return r;
		r = kv_parse_line(line, l, ret_key, ret_key_len, ret_value,
				  ret_value_len);
		if (r != 0)
			return r;
	}
	return 0;
}

int kv_get(const char *buf, size_t len, const char *key, char *ret,
	   size_t cap)
{
	size_t pos = 0, lineno = 0, kl, vl, want = strlen(key);
	const char *k, *v;
	int r;

	while ((r = kv_next(buf, len, &pos, &lineno, &k, &kl, &v, &vl)) != 0)
		if (r > 0 && kl == want && !memcmp(k, key, kl))
			return text_copy(ret, cap, v, vl);
	return -ENOENT;
}
