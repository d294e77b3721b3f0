/* Unit tests: json, the writer of --json's documents (escaping what a
 * partition holds, nesting, separators) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "json.h"

/* The document's text, from what fill writes after json_begin(). */
static char *doc(void (*fill)(struct json *j))
{
	static char *buf;
	size_t len;
	struct json j;
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	json_begin(&j, f, "t");
	fill(&j);
	json_end(&j);
	fclose(f);
	return buf;
}

/* One string member's value as written: the text between "s": and the
 * newline after it. */
static const char *value_of(const char *text)
{
	static char v[256];
	const char *p = strstr(text, "\"s\": ");
	size_t n;

	if (!p)
		return "";
	p += 5;
	n = strcspn(p, "\n");
	snprintf(v, sizeof(v), "%.*s", (int)n, p);
	return v;
}

static const char *in;
static size_t in_len;
static void one_string(struct json *j)
{
	json_strn(j, "s", in, in_len);
}

static const char *escaped(const char *s, size_t n)
{
	in = s;
	in_len = n;
	return value_of(doc(one_string));
}

static void test_escapes(void)
{
	CHECK_STR(escaped("plain", 5), "\"plain\"");
	CHECK_STR(escaped("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	CHECK_STR(escaped("l1\nl2\tx", 7), "\"l1\\nl2\\tx\"");
	CHECK_STR(escaped("\x1b[31m", 5), "\"\\u001b[31m\"");
	CHECK_STR(escaped("\x7f", 1), "\"\\u007f\"");
	CHECK_STR(escaped("a\0b", 3), "\"a\\u0000b\"");
	/* UTF-8 kept whole */
	CHECK_STR(escaped("caf\xc3\xa9", 5), "\"caf\xc3\xa9\"");
	CHECK_STR(escaped("\xe2\x82\xac", 3), "\"\xe2\x82\xac\"");
	CHECK_STR(escaped("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"");
	/* what is not UTF-8: U+FFFD per byte, the rest kept */
	CHECK_STR(escaped("\xff", 1), "\"\\ufffd\"");
	CHECK_STR(escaped("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");	/* overlong */
	CHECK_STR(escaped("\xe0\x80\xaf", 3), "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_STR(escaped("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	CHECK_STR(escaped("\xf4\x90\x80\x80", 4),
		  "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* > U+10FFFF */
	CHECK_STR(escaped("x\xc3", 2), "\"x\\ufffd\"");	/* cut short */
	CHECK_STR(escaped("\xc3(", 2), "\"\\ufffd(\"");
}

static void nested(struct json *j)
{
	json_array(j, "a");
	json_int(j, NULL, -3);
	json_bool(j, NULL, true);
	json_null(j, NULL);
	json_object(j, NULL);
	json_str(j, "k", NULL);
	json_close(j);
	json_close(j);
	json_array(j, "empty");
	json_close(j);
	json_object(j, "o");	/* left open: json_end closes it */
	json_int(j, "n", 1);
}

static void test_nesting(void)
{
	const char *t = doc(nested);

	CHECK_STR(t, "{\n"
		  "  \"earlyfs_json\": 1,\n"
		  "  \"command\": \"t\",\n"
		  "  \"a\": [\n"
		  "    -3,\n"
		  "    true,\n"
		  "    null,\n"
		  "    {\n"
		  "      \"k\": null\n"
		  "    }\n"
		  "  ],\n"
		  "  \"empty\": [],\n"
		  "  \"o\": {\n"
		  "    \"n\": 1\n"
		  "  }\n"
		  "}\n");
}

int main(void)
{
	test_escapes();
	test_nesting();
	return check_done("json");
}
