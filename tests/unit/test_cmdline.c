/* Unit tests: cmdline and bootcfg (the earlyfs.* key table) */
#include <errno.h>
#include <stdlib.h>
#include "bootcfg.h"
#include "check.h"
#include "cmdline.h"
#include "text.h"

static struct cmdline c;
static struct boot_config cfg;

static void parse(const char *s)
{
	CHECK_INT(cmdline_parse(s, strlen(s), &c), 0);
	bootcfg_from_cmdline(&c, &cfg);
}

static void test_split(void)
{
	parse("BOOT_IMAGE=/vmlinuz root=PARTUUID=1234abcd-01 ro  quiet\n");
	CHECK_INT(c.n, 4);
	CHECK_STR(cmdline_get(&c, "root"), "PARTUUID=1234abcd-01");
	CHECK_STR(cmdline_get(&c, "quiet"), NULL);
	CHECK(cmdline_has(&c, "quiet"));
	CHECK(!cmdline_has(&c, "splash"));

	/* quoted values keep their blanks; quotes go */
	parse("earlyfs.rootflags=\"noatime,commit=5\" earlyfs.root=\"LABEL=my root\" x");
	CHECK_STR(cfg.root, "LABEL=my root");
	CHECK_STR(cfg.rootflags, "noatime,commit=5");
	CHECK_STR(cmdline_get(&c, "x"), NULL);
	CHECK_INT(c.n, 3);

	/* an unterminated quote runs to the end, as in the kernel */
	parse("a=\"b c d");
	CHECK_STR(cmdline_get(&c, "a"), "b c d");

	/* the last of a repeated key wins; "--" ends the kernel's part */
	parse("earlyfs.init=/a earlyfs.init=/b -- earlyfs.init=/c single");
	CHECK_STR(cfg.init, "/b");
	CHECK_INT(c.n, 2);

	/* empty and blank lines */
	parse("");
	CHECK_INT(c.n, 0);
	parse("   \t\n");
	CHECK_INT(c.n, 0);
}

static void test_oversized(void)
{
	char *big = malloc(CMDLINE_MAX + 2), *many = malloc(4096);
	size_t i;

	memset(big, 'a', CMDLINE_MAX + 1);
	big[CMDLINE_MAX + 1] = '\0';
	CHECK_INT(cmdline_parse(big, CMDLINE_MAX + 1, &c), -E2BIG);
	CHECK_INT(c.n, 0);
	/* exactly at the limit is fine */
	CHECK_INT(cmdline_parse(big, CMDLINE_MAX, &c), 0);
	CHECK_INT(c.n, 1);
	/* more parameters than the table holds */
	for (i = 0; i < 2 * (CMDLINE_PARAMS_MAX + 1); i += 2) {
		many[i] = 'x';
		many[i + 1] = ' ';
	}
	CHECK_INT(cmdline_parse(many, 2 * (CMDLINE_PARAMS_MAX + 1), &c), -E2BIG);
	CHECK_INT(c.n, 0);
	free(big);
	free(many);
}

static void test_defaults_and_keys(void)
{
	parse("root=/dev/sda1");
	CHECK_STR(cfg.root, NULL);
	CHECK_INT(cfg.rootwait, 30);
	CHECK_STR(cfg.init, "/sbin/init");
	CHECK(!cfg.root_rw);
	CHECK(!cfg.debug);
	CHECK_INT(cfg.shell, SHELL_ON_FAILURE);
	CHECK_INT(cfg.n_problems, 0);

	parse("ro rw earlyfs.root=UUID=ab-cd earlyfs.rootwait=5 earlyfs.debug "
	      "earlyfs.shell=never earlyfs.rootfstype=ext4 earlyfs.generation=3");
	CHECK(cfg.root_rw);
	CHECK_STR(cfg.root, "UUID=ab-cd");
	CHECK_INT(cfg.rootwait, 5);
	CHECK(cfg.debug);
	CHECK_INT(cfg.shell, SHELL_NEVER);
	CHECK_STR(cfg.rootfstype, "ext4");
	CHECK_INT(cfg.generation, 3);
	parse("earlyfs.shell=reboot");
	CHECK_INT(cfg.shell, SHELL_REBOOT);
	CHECK_INT(cfg.n_problems, 0);
	parse("earlyfs.generation=86401");	/* more changes than seconds a day */
	CHECK_INT(cfg.generation, 86401);
	CHECK_INT(cfg.n_problems, 0);
	parse("earlyfs.generation=previous");
	CHECK(cfg.generation_previous && cfg.generation == 0);
	CHECK_INT(cfg.n_problems, 0);
	parse("earlyfs.generation=0");
	CHECK_INT(cfg.generation, 0);
	CHECK_INT(cfg.n_problems, 1);
	parse("rw ro");
	CHECK(!cfg.root_rw);
}

static void test_lists(void)
{
	parse("earlyfs.break=20,pivot earlyfs.skip=30,31");
	CHECK(bootcfg_breaks_at(&cfg, "20-net"));
	CHECK(!bootcfg_breaks_at(&cfg, "21-net"));
	CHECK(cfg.break_pivot);
	CHECK(bootcfg_skips(&cfg, "31-x"));
	CHECK(!bootcfg_skips(&cfg, "32-x"));

	parse("earlyfs.timeout=90,50:300");
	CHECK_INT(bootcfg_timeout_for(&cfg, "50-mountroot"), 300);
	CHECK_INT(bootcfg_timeout_for(&cfg, "10-net"), 90);
	parse("earlyfs.timeout=50:0");
	CHECK_INT(bootcfg_timeout_for(&cfg, "50-x"), 0);
	CHECK_INT(bootcfg_timeout_for(&cfg, "10-x"), -1);
}

static void test_bad_values(void)
{
	parse("earlyfs.rootwait=soon earlyfs.init=sbin/init earlyfs.shell=maybe");
	CHECK_INT(cfg.rootwait, 30);
	CHECK_STR(cfg.init, "/sbin/init");
	CHECK_INT(cfg.shell, SHELL_ON_FAILURE);
	CHECK_INT(cfg.n_problems, 3);
	CHECK(strstr(cfg.problems[0], "earlyfs.rootwait=soon") != NULL);

	parse("earlyfs.rootwait=999999 earlyfs.break=2 earlyfs.skip=abc "
	      "earlyfs.timeout=10:x earlyfs.colour=blue earlyfs.root=");
	CHECK_INT(cfg.rootwait, 30);
	CHECK_INT(cfg.n_breaks, 0);
	CHECK_INT(cfg.n_skips, 0);
	CHECK_INT(cfg.n_timeouts, 0);
	CHECK_STR(cfg.root, NULL);
	CHECK_INT(cfg.n_problems, 6);

	/* too many list items: the first ones stay, the problem is named */
	parse("earlyfs.skip=01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17");
	CHECK_INT(cfg.n_skips, BOOTCFG_LIST_MAX);
	CHECK_INT(cfg.n_problems, 1);
}

static void test_boot_at(void)
{
	static const char *const bad[] = {
		"earlyfs.boot=earlyfs", "earlyfs.boot=/", "earlyfs.boot=//x",
		"earlyfs.boot=/x/", "earlyfs.boot=/../etc", "earlyfs.boot=/a/..",
		"earlyfs.boot=/a/./b", "earlyfs.boot=\"/a b\"", "earlyfs.boot=/a$b",
		"earlyfs.boot", "earlyfs.boot=/0123456789012345678901234567890123"
		"4567890123456789012345678901234",	/* 65 bytes */
	};
	size_t i;

	parse("ro");
	CHECK_STR(cfg.boot_at, "/boot");
	parse("earlyfs.boot=/earlyfs");
	CHECK_STR(cfg.boot_at, "/earlyfs");
	CHECK_INT(cfg.n_problems, 0);
	parse("earlyfs.boot=/mnt/early-fs_1.x");
	CHECK_STR(cfg.boot_at, "/mnt/early-fs_1.x");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i]);
		CHECK_STR(cfg.boot_at, "/boot");
		CHECK_INT(cfg.n_problems, 1);
	}
}

static void test_env_names(void)
{
	char n[32];

	CHECK_INT(cmdline_env_name("earlyfs.root", n, sizeof(n)), 0);
	CHECK_STR(n, "EARLYFS_ROOT");
	CHECK_INT(cmdline_env_name("earlyfs.net.if-name", n, sizeof(n)), 0);
	CHECK_STR(n, "EARLYFS_NET_IF_NAME");
	CHECK_INT(cmdline_env_name("root", n, sizeof(n)), -EINVAL);
	CHECK_INT(cmdline_env_name("earlyfs.", n, sizeof(n)), -EINVAL);
	CHECK_INT(cmdline_env_name("earlyfs.a/b", n, sizeof(n)), -EINVAL);
	CHECK_INT(cmdline_env_name("earlyfs.a_very_long_key_name_here", n, 16),
		  -E2BIG);
}

static void test_numbers(void)
{
	unsigned long v = 7;
	unsigned sec;

	CHECK_INT(text_parse_uint("0", 1, 10, &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(text_parse_uint("4294967295", 10, 4294967295UL, &v), 0);
	CHECK_INT(v, 4294967295UL);
	CHECK_INT(text_parse_uint("", 0, 10, &v), -EINVAL);
	CHECK_INT(text_parse_uint("-1", 2, 10, &v), -EINVAL);
	CHECK_INT(text_parse_uint(" 1", 2, 10, &v), -EINVAL);
	CHECK_INT(text_parse_uint("12x", 3, 100, &v), -EINVAL);
	/* overflowing digits stop at max, never wrap */
	CHECK_INT(text_parse_uint("99999999999999999999999", 23, 100, &v),
		  -ERANGE);
	CHECK_INT(bootcfg_parse_seconds("86400", 5, &sec), 0);
	CHECK_INT(sec, 86400);
	CHECK_INT(bootcfg_parse_seconds("86401", 5, &sec), -ERANGE);
	/* the length bounds the number: "120,5" read as 3 bytes is 120 */
	CHECK_INT(bootcfg_parse_seconds("120,5", 3, &sec), 0);
	CHECK_INT(sec, 120);
}

int main(void)
{
	test_numbers();
	test_split();
	test_oversized();
	test_defaults_and_keys();
	test_lists();
	test_bad_values();
	test_boot_at();
	test_env_names();
	return check_done("cmdline");
}
