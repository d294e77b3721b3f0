/* Unit tests: the earlyfsd request format */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "request.h"

static int parse(const char *s, struct request *r, const char **what)
{
	return request_parse(s, strlen(s), r, what);
}

static void test_good(void)
{
	struct request r;
	const char *what = NULL;

	CHECK_INT(parse("earlyfs/1 put 60-net base=00ff boot=2049:12\n"
			"echo hi\n", &r, &what), 0);
	CHECK_STR(r.verb, "put");
	CHECK_INT(r.n_args, 1);
	CHECK_STR(r.args[0], "60-net");
	CHECK(r.has_base && r.base == 0xff);
	CHECK(r.has_boot && r.boot_dev == 2049 && r.boot_ino == 12);
	CHECK_INT(r.body_len, 8);
	CHECK(memcmp(r.body, "echo hi\n", 8) == 0);
	CHECK_INT(parse("earlyfs/1  mv\t10-a 20-b\n", &r, &what), 0);
	CHECK_INT(r.n_args, 2);
	CHECK_STR(r.args[1], "20-b");
	CHECK_INT(r.body_len, 0);
	CHECK(!r.has_base && !r.has_boot);
	/* a body may hold anything, NUL bytes and newlines included */
	CHECK_INT(request_parse("earlyfs/1 put x\n\0\n\0", 19, &r, &what), 0);
	CHECK_INT(r.body_len, 3);
}

static void test_bad(void)
{
	struct request r;
	const char *what = NULL;
	char *big;

	CHECK_INT(parse("earlyfs/1 put 60-a", &r, &what), -EINVAL);
	CHECK_STR(what, "no newline after the header");
	CHECK_INT(parse("\n", &r, &what), -EINVAL);
	CHECK_STR(what, "empty header");
	CHECK_INT(parse("earlyfs/1\n", &r, &what), -EINVAL);
	CHECK_STR(what, "no verb");
	CHECK_INT(parse("earlyfs/2 ping\n", &r, &what), -EINVAL);
	CHECK_STR(what, "not an earlyfs/1 request");
	CHECK_INT(parse("GET / HTTP/1.0\n", &r, &what), -EINVAL);
	CHECK_INT(parse("earlyfs/1 put a b c d\n", &r, &what), -E2BIG);
	CHECK_STR(what, "too many arguments");
	CHECK_INT(parse("earlyfs/1 put x base=XYZ\n", &r, &what), -EINVAL);
	CHECK_INT(parse("earlyfs/1 put x base=\n", &r, &what), -EINVAL);
	CHECK_INT(parse("earlyfs/1 put x base=00000000000000000\n", &r,
			&what), -EINVAL);
	CHECK_INT(parse("earlyfs/1 put x boot=12\n", &r, &what), -EINVAL);
	CHECK_INT(parse("earlyfs/1 put x boot=1:\n", &r, &what), -EINVAL);
	CHECK_INT(parse("earlyfs/1 put x color=red\n", &r, &what), -EINVAL);
	CHECK_STR(what, "unknown option");
	CHECK_INT(parse("earlyfs/1 averyveryverylongverb\n", &r, &what),
		  -E2BIG);
	CHECK_INT(request_parse("earlyfs/1 p\0ut\n", 15, &r, &what), -EINVAL);
	CHECK_STR(what, "NUL byte in the header");
	/* a header without a newline in its first 1025 bytes */
	big = malloc(REQUEST_BODY_MAX + 64);
	memset(big, 'a', 2000);
	CHECK_INT(request_parse(big, 2000, &r, &what), -E2BIG);
	CHECK_STR(what, "header longer than 1024 bytes");
	/* a body one byte too large */
	memcpy(big, "earlyfs/1 put x\n", 16);
	memset(big + 16, 'b', REQUEST_BODY_MAX + 1);
	CHECK_INT(request_parse(big, 16 + REQUEST_BODY_MAX + 1, &r, &what),
		  -E2BIG);
	CHECK_INT(request_parse(big, 16 + REQUEST_BODY_MAX, &r, &what), 0);
	/* an argument one byte too long */
	memset(big, 0, 300);
	memcpy(big, "earlyfs/1 put ", 14);
	memset(big + 14, 'n', REQUEST_ARG_MAX);
	big[14 + REQUEST_ARG_MAX] = '\n';
	CHECK_INT(request_parse(big, 15 + REQUEST_ARG_MAX, &r, &what), -E2BIG);
	CHECK_STR(what, "argument too long");
	free(big);
}

static void test_hash(void)
{
	/* FNV-1a reference values */
	CHECK(request_hash("", 0) == 0xcbf29ce484222325ULL);
	CHECK(request_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(request_hash("ab", 2) != request_hash("ba", 2));
}

int main(void)
{
	test_good();
	test_bad();
	test_hash();
	return check_done("request");
}
