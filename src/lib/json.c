/* json: see json.h */
#include <string.h>
#include "json.h"

static void put_str(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	fputc('"', out);
	while (p < end) {
		unsigned c = *p, need, cp, i;

		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(out, c == '\n' ? "\\n" : c == '\t' ? "\\t" :
				"\\u%04x", c);
			p++;
			continue;
		}
		if (c < 0x80) {
			fputc((int)c, out);
			p++;
			continue;
		}
		/* a UTF-8 sequence, whole and shortest, or U+FFFD */
		need = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 :
		       c >= 0xc2 && c <= 0xdf ? 1 : 0;
		if (c >= 0xf5)
			need = 0;
		cp = c & (0x3f >> need);
		for (i = 1; need && i <= need; i++) {
			if (p + i >= end || (p[i] & 0xc0) != 0x80) {
				need = 0;
				break;
			}
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (!need || (need == 2 && (cp < 0x800 ||
					    (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		fwrite(p, 1, need + 1, out);
		p += need + 1;
	}
	fputc('"', out);
}

static void member(struct json *j, const char *key)
{
	if (j->had[j->depth])
		fputc(',', j->out);
	j->had[j->depth] = true;
	fprintf(j->out, "\n%*s", 2 * j->depth, "");
	if (key) {
		put_str(j->out, key, strlen(key));
		fputs(": ", j->out);
	}
}

/* the views nest a few levels; deeper would be a bug, kept well-formed */
static void open_(struct json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->out);
	if (j->depth < JSON_DEPTH - 1)
		j->depth++;
	j->had[j->depth] = false;
	j->closer[j->depth] = c == '{' ? '}' : ']';
}

void json_object(struct json *j, const char *key)
{
	open_(j, key, '{');
}

void json_array(struct json *j, const char *key)
{
	open_(j, key, '[');
}

void json_close(struct json *j)
{
	bool had = j->had[j->depth];
	char c = j->closer[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		fprintf(j->out, "\n%*s", 2 * j->depth, "");
	fputc(c, j->out);
}

void json_begin(struct json *j, FILE *out, const char *command)
{
	j->out = out;
	j->depth = 1;
	j->had[1] = false;
	j->closer[1] = '}';
	fputc('{', out);
	json_int(j, "earlyfs_json", JSON_SCHEMA);
	json_str(j, "command", command);
}

void json_end(struct json *j)
{
	while (j->depth > 0)
		json_close(j);
	fputc('\n', j->out);
	fflush(j->out);
}

void json_strn(struct json *j, const char *key, const char *s, size_t n)
{
	member(j, key);
	put_str(j->out, s, n);
}

void json_str(struct json *j, const char *key, const char *s)
{
	if (!s) {
		json_null(j, key);
		return;
	}
	json_strn(j, key, s, strlen(s));
}

void json_int(struct json *j, const char *key, long long v)
{
	member(j, key);
	fprintf(j->out, "%lld", v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}
