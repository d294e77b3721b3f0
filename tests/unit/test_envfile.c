/* Unit tests: $EARLYFS_ENV lines and the bounded environment */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "envfile.h"

static void test_apply(void)
{
	static const char text[] = "A=1\nbad line\nB=two words\nA=3\n\nC\n";
	char *base[] = { "PATH=/bin", "A=0", "junk", NULL };
	struct envlist e;
	size_t bad;

	envlist_init(&e);
	CHECK_INT(envlist_add_all(&e, base), 0);
	CHECK_INT(e.n, 2);
	CHECK_INT(envfile_apply(text, sizeof(text) - 1, &e, &bad), 2);
	CHECK_INT(bad, 2);
	CHECK_STR(envlist_get(&e, "A"), "3");
	CHECK_STR(envlist_get(&e, "B"), "two words");
	CHECK_STR(envlist_get(&e, "PATH"), "/bin");
	CHECK_STR(envlist_get(&e, "C"), NULL);
	CHECK_INT(e.n, 3);
	CHECK(e.vars[e.n] == NULL);
	/* a value with a newline cannot be smuggled: lines end values */
	CHECK_INT(envfile_apply("D=x\nE=y", 7, &e, &bad), 0);
	CHECK_STR(envlist_get(&e, "D"), "x");
	envlist_free(&e);
	CHECK_INT(e.n, 0);
}

static void test_limits(void)
{
	struct envlist e;
	char name[16], *big;
	size_t i, bad;
	int r = 0;

	envlist_init(&e);
	for (i = 0; i <= ENVLIST_MAX && r == 0; i++) {
		snprintf(name, sizeof(name), "V%zu", i);
		r = envlist_set(&e, name, strlen(name), "x", 1);
	}
	CHECK_INT(r, -E2BIG);
	CHECK_INT(e.n, ENVLIST_MAX);
	/* replacing an existing name still works when full */
	CHECK_INT(envlist_set(&e, "V0", 2, "y", 1), 0);
	CHECK_STR(envlist_get(&e, "V0"), "y");
	CHECK_INT(envlist_set(&e, "bad name", 8, "y", 1), -EINVAL);
	envlist_free(&e);

	/* an over-long line is a bad line, the rest still applies */
	big = malloc(10000);
	memset(big, 'a', 9000);
	memcpy(big, "L=", 2);
	memcpy(big + 9000, "\nOK=1\n", 6);
	CHECK_INT(envfile_apply(big, 9006, &e, &bad), 1);
	CHECK_INT(bad, 1);
	CHECK_STR(envlist_get(&e, "OK"), "1");
	envlist_free(&e);
	free(big);
}

int main(void)
{
	test_apply();
	test_limits();
	return check_done("envfile");
}
