/* Unit tests: etc/earlyfs.kernels */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "kernlist.h"

static void test_versions(void)
{
	CHECK(kernlist_version_ok("6.1.0-57-amd64", 14));
	CHECK(kernlist_version_ok("6.1.192+x_1", 11));
	CHECK(!kernlist_version_ok("", 0));
	CHECK(!kernlist_version_ok("-rc1", 4));
	CHECK(!kernlist_version_ok(".hidden", 7));
	CHECK(!kernlist_version_ok("6.1/../x", 8));
	CHECK(!kernlist_version_ok("a b", 3));
	CHECK(!kernlist_version_ok("a\nb", 3));
	CHECK(!kernlist_version_ok("1234567890123456789012345678901234567890"
				   "123456789012345678901234", 64));
}

static void test_parse(void)
{
	static const char text[] =
		"# comment\nok 6.1.9\nrefused 6.1.0-57-amd64 CONFIG_VIRTIO_BLK "
		"is a module\nok 6.1.10 stub\n\nok 6.1.2\n";
	struct kernlist k;
	const char *what;
	size_t line;
	char out[1024];
	int n;

	CHECK_INT(kernlist_parse(text, strlen(text), &k, &line, &what), 0);
	CHECK_INT(k.n, 4);
	CHECK(!k.v[1].ok);
	CHECK_STR(k.v[1].why, "CONFIG_VIRTIO_BLK is a module");
	/* the newest ok by version order, not by position */
	CHECK_STR(kernlist_default(&k)->version, "6.1.10");
	strcpy(k.pinned, "6.1.2");
	CHECK_STR(kernlist_default(&k)->version, "6.1.2");
	strcpy(k.pinned, "6.1.0-57-amd64");	/* refused: not the default */
	CHECK_STR(kernlist_default(&k)->version, "6.1.10");
	/* format and parse again: the same */
	n = kernlist_format(&k, out, sizeof(out));
	CHECK(n > 0);
	struct kernlist k2;

	CHECK_INT(kernlist_parse(out, (size_t)n, &k2, &line, &what), 0);
	CHECK_INT(k2.n, 4);
	CHECK_STR(k2.pinned, "6.1.0-57-amd64");
	CHECK_STR(k2.v[1].why, "CONFIG_VIRTIO_BLK is a module");
	CHECK(k2.v[2].stub && !k2.v[3].stub);
	CHECK_INT(kernlist_parse("ok 1 stubs\n", 11, &k, &line, &what),
		  -EINVAL);
	CHECK_INT(kernlist_format(&k, out, 20), -E2BIG);
	/* bad lines */
	CHECK_INT(kernlist_parse("ok ../x\n", 8, &k, &line, &what), -EINVAL);
	CHECK_INT(line, 1);
	CHECK_INT(kernlist_parse("ok 1\nok 1\n", 10, &k, &line, &what), -EINVAL);
	CHECK_INT(line, 2);
	CHECK_INT(kernlist_parse("maybe 1\n", 8, &k, &line, &what), -EINVAL);
	CHECK_INT(kernlist_parse("ok\n", 3, &k, &line, &what), -EINVAL);
	k.n = 0;
	CHECK(kernlist_default(&k) == NULL);
}

static void fill(struct kernlist *k, size_t n_ok, size_t n_refused)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < n_ok + n_refused; i++) {
		snprintf(k->v[i].version, sizeof(k->v[i].version), "6.1.%zu",
			 i + 1);
		k->v[i].ok = i < n_ok;
	}
	k->n = n_ok + n_refused;
}

/* A full list never loses its default or its pinned kernel; refusals
 * age out first. */
static void test_add(void)
{
	struct kernlist k;
	struct kernlist_entry *e;
	size_t i, refused;

	/* the pinned default is the first and oldest; two ok, 14 refused */
	fill(&k, 2, KERNLIST_MAX - 2);
	strcpy(k.pinned, "6.1.1");
	e = kernlist_add(&k, "6.1.99");
	CHECK(e != NULL && !e->ok && !strcmp(e->version, "6.1.99"));
	CHECK(kernlist_find(&k, "6.1.1") && kernlist_find(&k, "6.1.2"));
	CHECK_STR(kernlist_default(&k)->version, "6.1.1");
	for (i = 0, refused = 0; i < k.n; i++)
		refused += !k.v[i].ok;
	/* the newest three refusals and the new entry */
	CHECK_INT(refused, KERNLIST_REFUSED_KEEP);
	CHECK(!kernlist_find(&k, "6.1.3") && kernlist_find(&k, "6.1.16"));
	/* listed already: the same entry, nothing dropped */
	CHECK(kernlist_add(&k, "6.1.2") == kernlist_find(&k, "6.1.2"));
	/* all ok and full: the oldest version that is neither the default
	 * (the newest) nor pinned goes */
	fill(&k, KERNLIST_MAX, 0);
	strcpy(k.pinned, "6.1.1");
	e = kernlist_add(&k, "6.1.20");
	CHECK(e != NULL && k.n == KERNLIST_MAX);
	CHECK(kernlist_find(&k, "6.1.1") && !kernlist_find(&k, "6.1.2"));
	/* unpinned: the default is the newest ok, which stays */
	fill(&k, KERNLIST_MAX, 0);
	e = kernlist_add(&k, "6.1.0");
	CHECK(e != NULL && !kernlist_find(&k, "6.1.1") &&
	      kernlist_find(&k, "6.1.16"));
}

int main(void)
{
	test_versions();
	test_parse();
	test_add();
	return check_done("kernlist");
}
