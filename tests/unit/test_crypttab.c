/* Unit tests: etc/crypttab lines (the luks feature) */
#include <errno.h>
#include <string.h>
#include "check.h"
#include "crypttab.h"

static struct crypttab_entry v[CRYPTTAB_MAX];

static void test_good(void)
{
	static const char text[] =
		"# comment\n\n"
		"root UUID=5a1c3e2f-7b6d-4e8a-9c0b-1d2e3f405162 none luks,tries=2\n"
		"  data\t/dev/md0\n"
		"swap PARTUUID=0a0b0c0d-03 - discard,readonly,nofail\r\n"
		"later /dev/sdb1 /dev/disk-key noauto,initramfs";
	size_t line = 0;
	const char *what = NULL;

	CHECK_INT(crypttab_parse(text, sizeof(text) - 1, v, &line, &what), 4);
	CHECK_STR(v[0].name, "root");
	CHECK_STR(v[0].device, "UUID=5a1c3e2f-7b6d-4e8a-9c0b-1d2e3f405162");
	CHECK_STR(v[0].keyfile, "");
	CHECK_INT(v[0].tries, 2);
	CHECK_INT(v[0].line, 3);
	CHECK_STR(v[1].device, "/dev/md0");
	CHECK_INT(v[1].tries, CRYPTTAB_TRIES_DEFAULT);
	CHECK(v[2].discard && v[2].readonly && v[2].nofail && !v[2].noauto);
	CHECK_STR(v[2].keyfile, "");
	CHECK_STR(v[3].keyfile, "/dev/disk-key");
	CHECK(v[3].noauto);
	line = 0;
	CHECK_INT(crypttab_parse("k /dev/x /dev/disk/by-id/usb-0..1-part1\n",
				 40, v, &line, &what), 1);
	CHECK_STR(v[0].keyfile, "/dev/disk/by-id/usb-0..1-part1");
}

static void bad(const char *line, const char *want)
{
	struct crypttab_entry e;
	const char *what = "";

	CHECK(crypttab_parse_line(line, strlen(line), &e, &what) < 0);
	CHECK(strstr(what, want) != NULL);
}

static void test_bad(void)
{
	bad("root", "no device");
	bad("root /dev/sda2 none luks extra", "more than four");
	bad("ro/ot /dev/sda2", "the name");
	bad(".. /dev/sda2", "the name");
	bad("root sda2", "");			/* not a device spec */
	bad("root /dev/sda2 key luks", "absolute path");
	/* spelled to look like a device while naming the boot partition */
	bad("root /dev/sda2 /dev/../etc/luks.key", "no '.', '..'");
	bad("root /dev/sda2 /dev/./../etc/k", "no '.', '..'");
	bad("root /dev/sda2 /dev//sdb1", "'//'");
	bad("root /dev/sda2 /dev/sdb1/", "absolute path");
	bad("root /dev/sda2 /dev/..", "absolute path");
	bad("root /dev/sda2 /", "absolute path");
	bad("root /dev/sda2 none tries=x", "tries=");
	bad("root /dev/sda2 none tries=101", "tries=");
	bad("root /dev/sda2 none keyscript=/bin/x", "does not support");
	bad("root /dev/sda2 none plain", "does not support");
	bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " /dev/sda2", "the name");
}

static void test_file_limits(void)
{
	char text[CRYPTTAB_MAX * 32 + 64];
	size_t used = 0, line = 0, i;
	const char *what = "";

	CHECK_INT(crypttab_parse("a /dev/x\na /dev/y\n", 18, v, &line, &what),
		  -EINVAL);
	CHECK_INT(line, 2);
	CHECK(strstr(what, "twice") != NULL);
	for (i = 0; i <= CRYPTTAB_MAX; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "v%zu /dev/x%zu\n", i, i);
	CHECK_INT(crypttab_parse(text, used, v, &line, &what), -E2BIG);
	CHECK_INT(line, CRYPTTAB_MAX + 1);
	/* the 16 before the refusal are intact */
	CHECK_STR(v[CRYPTTAB_MAX - 1].name, "v15");
}

int main(void)
{
	test_good();
	test_bad();
	test_file_limits();
	return check_done("crypttab");
}
