/* text: bounded line iteration shared by every line-oriented parser */
#include <errno.h>
#include <string.h>
#include "text.h"

int text_next_line(const char *buf, size_t len, size_t *pos,
		   const char **ret_line, size_t *ret_len)
{
	size_t start = *pos, end;
	const char *nl;

	if (start >= len)
		return 0;
	nl = memchr(buf + start, '\n', len - start);
	end = nl ? (size_t)(nl - buf) : len;
	*pos = nl ? end + 1 : len;
	*ret_line = buf + start;
	*ret_len = end - start;
	if (end - start > TEXT_LINE_MAX)
		return -E2BIG;
	if (memchr(buf + start, '\0', end - start))
		return -EINVAL;
	return 1;
}

int text_copy(char *dst, size_t cap, const char *src, size_t len)
{
	if (cap == 0)
		return -E2BIG;
	if (len >= cap) {
		dst[0] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int text_next_field(const char *line, size_t len, size_t *pos,
		    const char **ret_field, size_t *ret_len)
{
	size_t i = *pos, start;

	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i >= len) {
		*pos = i;
		return 0;
	}
	start = i;
	while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
		i++;
	*ret_field = line + start;
	*ret_len = i - start;
	*pos = i;
	return 1;
}

int text_parse_uint(const char *s, size_t len, unsigned long max,
		    unsigned long *ret)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -ERANGE;
	}
	*ret = v;
	return 0;
}

int text_is_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

char *text_printable(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}
