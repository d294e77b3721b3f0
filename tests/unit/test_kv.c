/* Unit tests: KEY=value lines (kv), the reader every such file shares */
#include <errno.h>
#include <string.h>
#include "check.h"
#include "kv.h"
#include "text.h"

static void test_lines(void)
{
	const char *n, *v;
	size_t nl, vl;

	CHECK_INT(kv_parse_line("A=1", 3, &n, &nl, &v, &vl), 1);
	CHECK_INT(nl, 1);
	CHECK_INT(vl, 1);
	CHECK_INT(kv_parse_line("pid_udhcpc=", 11, &n, &nl, &v, &vl), 1);
	CHECK_INT(vl, 0);
	CHECK_INT(kv_parse_line("X=a=b c", 7, &n, &nl, &v, &vl), 1);
	CHECK_INT(vl, 5);
	CHECK_INT(kv_parse_line("", 0, &n, &nl, &v, &vl), 0);
	CHECK_INT(kv_parse_line("  # c", 5, &n, &nl, &v, &vl), 0);
	CHECK_INT(kv_parse_line("1A=1", 4, &n, &nl, &v, &vl), -EINVAL);
	CHECK_INT(kv_parse_line("A B=1", 5, &n, &nl, &v, &vl), -EINVAL);
	CHECK_INT(kv_parse_line("=1", 2, &n, &nl, &v, &vl), -EINVAL);
	CHECK_INT(kv_parse_line("export A=1", 10, &n, &nl, &v, &vl), -EINVAL);
	CHECK_INT(kv_parse_line("novalue", 7, &n, &nl, &v, &vl), -EINVAL);
}

static void test_next(void)
{
	static const char text[] = "# c\nboot=/b\n\nbad\nsocket=/s";
	size_t pos = 0, lineno = 0, kl, vl;
	const char *k, *v;

	CHECK_INT(kv_next(text, strlen(text), &pos, &lineno, &k, &kl, &v, &vl), 1);
	CHECK_INT(lineno, 2);
	CHECK(kl == 4 && !memcmp(k, "boot", 4) && vl == 2);
	CHECK_INT(kv_next(text, strlen(text), &pos, &lineno, &k, &kl, &v, &vl),
		  -EINVAL);
	CHECK_INT(lineno, 4);
	CHECK_INT(kv_next(text, strlen(text), &pos, &lineno, &k, &kl, &v, &vl), 1);
	CHECK(kl == 6 && vl == 2 && !memcmp(v, "/s", 2));	/* no final \n */
	CHECK_INT(kv_next(text, strlen(text), &pos, &lineno, &k, &kl, &v, &vl), 0);
}

static void test_get(void)
{
	static const char conf[] = "root=PARTUUID=1-02\nbad line\nkeep=3\n"
				   "keep=4\nkeeper=9\n";
	char big[TEXT_LINE_MAX + 16], v[32];

	CHECK_INT(kv_get(conf, strlen(conf), "root", v, sizeof(v)), 0);
	CHECK_STR(v, "PARTUUID=1-02");		/* '=' in the value */
	CHECK_INT(kv_get(conf, strlen(conf), "keep", v, sizeof(v)), 0);
	CHECK_STR(v, "3");			/* the first one counts */
	CHECK_INT(kv_get(conf, strlen(conf), "kee", v, sizeof(v)), -ENOENT);
	CHECK_INT(kv_get(conf, strlen(conf), "root", v, 4), -E2BIG);
	CHECK_INT(kv_get("", 0, "root", v, sizeof(v)), -ENOENT);
	/* an over-long line is skipped, the next one still read */
	memset(big, 'x', sizeof(big));
	memcpy(big, "a=", 2);
	memcpy(big + sizeof(big) - 6, "\nb=1\n", 5);
	CHECK_INT(kv_get(big, sizeof(big) - 1, "b", v, sizeof(v)), 0);
	CHECK_STR(v, "1");
	CHECK_INT(kv_get(big, sizeof(big) - 1, "a", v, sizeof(v)), -ENOENT);
	/* a NUL byte inside ends nothing but that line */
	CHECK_INT(kv_get("a=1\0x\nb=2\n", 10, "b", v, sizeof(v)), 0);
}

int main(void)
{
	test_lines();
	test_next();
	test_get();
	return check_done("kv");
}
