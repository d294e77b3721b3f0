/* Unit tests: fstab parsing (escapes, errors, limits) and mount options */
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
#include "check.h"
#include "fstab.h"
#include "mntopts.h"

static struct fstab t;

static void test_good(void)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"/dev/pts\t/dev/pts\tdevpts\tnoexec,nosuid\t0 0\n"
		"   # indented comment\n"
		"LABEL=my\\040disk /mnt/my\\040disk ext4 defaults,noatime 1 2\n"
		"proc /proc proc\n"
		"tmpfs /tmp tmpfs mode=1777\r\n"
		"back\\134slash /a\\011tab auto ro";	/* no final newline */

	CHECK_INT(fstab_parse(text, sizeof(text) - 1, &t), 0);
	CHECK_INT(t.n, 5);
	CHECK_STR(t.entries[0].spec, "/dev/pts");
	CHECK_STR(t.entries[0].mntops, "noexec,nosuid");
	CHECK_INT(t.entries[0].line, 3);
	CHECK_STR(t.entries[1].spec, "LABEL=my disk");
	CHECK_STR(t.entries[1].file, "/mnt/my disk");
	CHECK_INT(t.entries[1].freq, 1);
	CHECK_INT(t.entries[1].passno, 2);
	CHECK_STR(t.entries[2].mntops, "defaults");
	CHECK_INT(t.entries[2].passno, 0);
	CHECK_STR(t.entries[3].mntops, "mode=1777");
	CHECK_STR(t.entries[4].spec, "back\\slash");
	CHECK_STR(t.entries[4].file, "/a\ttab");
	CHECK_INT(t.entries[4].line, 8);
}

static void test_bad(void)
{
	static const char text[] =
		"/dev/sda1 /boot\n"				/* 1: two fields */
		"/dev/sda1 /boot ext4 defaults 0 0 extra\n"	/* 2: seven */
		"/dev/sda1 /boot ext4 defaults x 0\n"		/* 3: freq */
		"/dev/sda1 /bo\\000ot ext4\n"			/* 4: \000 */
		"proc /proc proc\n"				/* 5: good */
		"/dev/sda1 /a\\08 ext4\n";			/* 6: not octal: kept */
	const char *what;
	struct fstab_entry e;

	CHECK_INT(fstab_parse(text, sizeof(text) - 1, &t), 4);
	CHECK_INT(t.n, 2);
	CHECK_STR(t.entries[0].file, "/proc");
	CHECK_STR(t.entries[1].file, "/a\\08");
	CHECK_INT(t.errors[0].line, 1);
	CHECK_INT(t.errors[1].line, 2);
	CHECK_INT(t.errors[2].line, 3);
	CHECK_INT(t.errors[3].line, 4);
	CHECK(strstr(t.errors[1].what, "six") != NULL);

	CHECK_INT(fstab_parse_line("a b", 3, &e, &what), -EINVAL);
	CHECK_INT(fstab_parse_line("   ", 3, &e, &what), 0);
	CHECK_INT(fstab_parse_line("a b c d 1 99999", 15, &e, &what), -EINVAL);
	/* a NUL byte inside a line is an error, not a truncation */
	CHECK_INT(fstab_parse("a b c\0d\n", 8, &t), 1);
	CHECK_INT(t.n, 0);
}

static void test_oversized(void)
{
	size_t n = 5000, i, len;
	char *big = malloc(n + 64);

	/* a line longer than the line limit */
	memset(big, 'x', n);
	memcpy(big + n, "\nproc /proc proc\n", 17);
	CHECK_INT(fstab_parse(big, n + 17, &t), 1);
	CHECK_INT(t.errors[0].error, -E2BIG);
	CHECK_INT(t.n, 1);
	/* a field longer than FSTAB_FIELD_MAX on an allowed line */
	memset(big, 'y', 2000);
	memcpy(big + 2000, " /x ext4\n", 9);
	CHECK_INT(fstab_parse(big, 2009, &t), 1);
	CHECK_INT(t.errors[0].error, -E2BIG);
	free(big);
	/* more entries than the table holds */
	big = malloc(20 * (FSTAB_ENTRIES_MAX + 1));
	for (i = 0, len = 0; i <= FSTAB_ENTRIES_MAX; i++)
		len += (size_t)sprintf(big + len, "p /p%zu proc\n", i);
	CHECK_INT(fstab_parse(big, len, &t), -E2BIG);
	free(big);
}

static void test_unescape(void)
{
	char out[8];

	CHECK_INT(fstab_unescape("a\\040b", 6, out, sizeof(out)), 0);
	CHECK_STR(out, "a b");
	CHECK_INT(fstab_unescape("\\777", 4, out, sizeof(out)), -EINVAL);
	CHECK_INT(fstab_unescape("\\04", 3, out, sizeof(out)), 0);
	CHECK_STR(out, "\\04");
	CHECK_INT(fstab_unescape("12345678", 8, out, sizeof(out)), -E2BIG);
}

static void test_mntopts(void)
{
	struct mount_opts o;
	char big[MNTOPTS_DATA_MAX + 10];

	CHECK_INT(mntopts_parse("nodev,noexec,nosuid", &o), 0);
	CHECK_INT(o.flags, MS_NODEV | MS_NOEXEC | MS_NOSUID);
	CHECK_STR(o.data, "");
	CHECK_INT(mntopts_parse("defaults,ro,mode=0755,,noauto,x-systemd.foo,"
				"nofail,size=10%,_netdev,rw,noatime", &o), 0);
	CHECK_INT(o.flags, MS_NOATIME);
	CHECK_STR(o.data, "mode=0755,size=10%");
	CHECK(o.noauto);
	CHECK(o.nofail);
	CHECK_INT(mntopts_parse(NULL, &o), 0);
	CHECK_INT(o.flags, 0);
	CHECK_INT(mntopts_parse("rbind", &o), 0);
	CHECK_INT(o.flags, MS_BIND | MS_REC);
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(mntopts_parse(big, &o), -E2BIG);
}

int main(void)
{
	test_good();
	test_bad();
	test_oversized();
	test_unescape();
	test_mntopts();
	return check_done("fstab");
}
