/* Unit tests: the fragment naming rule, run order, directives */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "fragment.h"

static void test_classify(void)
{
	CHECK_INT(fragment_name_classify("00-mounts"), FRAGMENT_RUN);
	CHECK_INT(fragment_name_classify("50-mount_root-2.sh"), FRAGMENT_RUN);
	CHECK_INT(fragment_name_classify("99-x"), FRAGMENT_RUN);
	CHECK_INT(fragment_name_classify("10-net.disabled"), FRAGMENT_DISABLED);
	CHECK_INT(fragment_name_classify("10-net.sh.disabled"), FRAGMENT_DISABLED);
	CHECK_INT(fragment_name_classify(".10-net"), FRAGMENT_IGNORED);
	CHECK_INT(fragment_name_classify(".10-net.tmpAbC123"), FRAGMENT_IGNORED);
	CHECK_INT(fragment_name_classify("10-net~"), FRAGMENT_IGNORED);
	CHECK_INT(fragment_name_classify("10-net.dpkg-old"), FRAGMENT_IGNORED);
	CHECK_INT(fragment_name_classify("10-net.dpkg-new"), FRAGMENT_IGNORED);
	CHECK_INT(fragment_name_classify("10-net.swp"), FRAGMENT_IGNORED);
	CHECK_INT(fragment_name_classify("#10-net#"), FRAGMENT_IGNORED);
	CHECK_INT(fragment_name_classify("README"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("1-net"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("100-net"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("10_net"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("10-"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("10-.sh"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("10-net.py"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("10-ne t"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("10-net\nrm -rf"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("10-nét"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_classify("x.disabled"), FRAGMENT_INVALID);
	CHECK_INT(fragment_name_check("10-net"), 0);
	CHECK_INT(fragment_name_check("10 net"), -EINVAL);
}

static void test_length(void)
{
	char name[FRAGMENT_NAME_MAX + 2];

	memset(name, 'a', sizeof(name));
	memcpy(name, "10-", 3);
	name[FRAGMENT_NAME_MAX] = '\0';
	CHECK_INT(fragment_name_classify(name), FRAGMENT_RUN);
	name[FRAGMENT_NAME_MAX] = 'a';
	name[FRAGMENT_NAME_MAX + 1] = '\0';
	CHECK_INT(fragment_name_classify(name), FRAGMENT_INVALID);
}

static void touch(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
}

static void test_list(void)
{
	char dir[] = "/tmp/earlyfs-unit-XXXXXX";
	struct fragment_list *l = malloc(sizeof(*l));
	int i;

	CHECK(mkdtemp(dir) != NULL);
	touch(dir, "50-b");
	touch(dir, "10-z.sh");
	touch(dir, "10-a");
	touch(dir, "10-Z");
	touch(dir, "README");
	touch(dir, ".hidden");
	touch(dir, "20-off.disabled");
	touch(dir, "09-nine~");
	touch(dir, "10-net\nx");
	CHECK_INT(fragment_list_load(dir, l), 0);
	CHECK_INT(l->n, 4);
	/* byte order: uppercase sorts before lowercase */
	CHECK_STR(l->names[0], "10-Z");
	CHECK_STR(l->names[1], "10-a");
	CHECK_STR(l->names[2], "10-z.sh");
	CHECK_STR(l->names[3], "50-b");
	CHECK_INT(l->n_invalid, 2);
	CHECK_INT(fragment_list_load("/nonexistent-dir", l), -ENOENT);

	/* more fragments than the runner takes */
	for (i = 0; i <= FRAGMENTS_MAX; i++) {
		char n[32];

		snprintf(n, sizeof(n), "%02d-f%d", i % 100, i);
		touch(dir, n);
	}
	CHECK_INT(fragment_list_load(dir, l), -E2BIG);
	CHECK_INT(system("rm -rf /tmp/earlyfs-unit-??????"), 0);
	free(l);
}

static void test_directives(void)
{
	struct fragment_directives d;
	size_t line;
	const char *s;

	s = "#!/bin/sh\n# earlyfs: optional timeout=120\necho hi\n";
	CHECK_INT(fragment_directives_parse(s, strlen(s), &d, &line), 0);
	CHECK(d.optional);
	CHECK(d.has_timeout);
	CHECK_INT(d.timeout, 120);

	s = "echo none\n";
	CHECK_INT(fragment_directives_parse(s, strlen(s), &d, &line), 0);
	CHECK(!d.optional);
	CHECK(!d.has_timeout);

	s = "# comment\n# earlyfs: timeout=abc optinal\n# earlyfs: optional\n";
	CHECK_INT(fragment_directives_parse(s, strlen(s), &d, &line), -EINVAL);
	CHECK_INT(line, 2);
	CHECK(d.optional);
	CHECK(!d.has_timeout);

	s = "# earlyfs: timeout=999999\n";
	CHECK_INT(fragment_directives_parse(s, strlen(s), &d, &line), -EINVAL);

	/* only the first 20 lines count */
	char buf[512] = "";
	int i;
	for (i = 0; i < 20; i++)
		strcat(buf, "echo\n");
	strcat(buf, "# earlyfs: optional\n");
	CHECK_INT(fragment_directives_parse(buf, strlen(buf), &d, &line), 0);
	CHECK(!d.optional);
}

/* The '#!' line: bounded by the bytes given, never by a NUL. */
static void test_interpreter(void)
{
	char out[16], big[300];

	CHECK_INT(fragment_interpreter("#!/bin/sh\necho\n", 15, out,
				       sizeof(out)), 7);
	CHECK_STR(out, "/bin/sh");
	CHECK_INT(fragment_interpreter("#!  /bin/busybox sh -e\n", 23, out,
				       sizeof(out)), 12);
	CHECK_STR(out, "/bin/busybox");
	/* the body ends inside the line: what follows is not read */
	CHECK_INT(fragment_interpreter("#!/SECRET", 3, out, sizeof(out)), 1);
	CHECK_STR(out, "/");
	CHECK_INT(fragment_interpreter("#!SECRET", 2, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_INT(fragment_interpreter("#!/bin/sh\r\n", 11, out,
				       sizeof(out)), 8);
	CHECK_STR(out, "/bin/sh\r");
	CHECK_INT(fragment_interpreter("echo hi", 7, out, sizeof(out)), 0);
	CHECK_INT(fragment_interpreter("#", 1, out, sizeof(out)), 0);
	memset(big, 'a', sizeof(big));
	big[0] = '#';
	big[1] = '!';
	big[2] = '/';
	CHECK_INT(fragment_interpreter(big, sizeof(big), out, sizeof(out)),
		  -ENAMETOOLONG);
	CHECK_INT(fragment_interpreter("#!/bin/shell", 12, out, 8),
		  -ENAMETOOLONG);
	CHECK_INT(fragment_interpreter("#!/bin/sh", 9, out, 8), 7);
}

int main(void)
{
	test_interpreter();
	test_classify();
	test_length();
	test_list();
	test_directives();
	return check_done("fragment");
}
