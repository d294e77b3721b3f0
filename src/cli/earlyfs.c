/* earlyfs: the command line; option parsing and a subcommand table only */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "admin.h"

static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	uint64_t mul = 1;

	if (end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	if (*end || v == 0)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "earlyfs %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'earlyfs help'.\n");
	return EXIT_USAGE;
}

static int fail(const char *what, const char *target, struct err *e)
{
	fprintf(stderr, "earlyfs: cannot %s%s%s: %s\n", what,
		target ? " " : "", target ? target : "", e->msg);
	return e->code ? e->code : EXIT_FAILED;
}

static void add_drivers(const char **list, size_t *n, char *arg)
{
	char *save, *d;

	for (d = strtok_r(arg, ",", &save); d && *n < 16;
	     d = strtok_r(NULL, ",", &save))
		list[(*n)++] = d;
}

static int cmd_provision(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'L' },
		{ "driver", required_argument, NULL, 'd' },
		{ "menu-timeout", required_argument, NULL, 't' },
		{ "append", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-mbr", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct provision_opts o = { .label = "earlyfs", .timeout = 30 };
	struct err e = { "", 0 };
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.partno = (unsigned)atoi(optarg);
			if (o.partno == 0 || o.partno > 128)
				return usage_error("provision", "--partition "
						   "%s: give a number 1-128",
						   optarg);
			break;
		case 'r': o.root = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'c': o.config = optarg; break;
		case 'L':
			if (strlen(optarg) > 16)
				return usage_error("provision", "--label %s: "
						   "at most 16 characters",
						   optarg);
			o.label = optarg;
			break;
		case 'd': add_drivers(o.drivers, &o.n_drivers, optarg); break;
		case 't':
			if (atoi(optarg) < 1 || atoi(optarg) > 600)
				return usage_error("provision", "--menu-timeout "
						   "%s: 1 to 600 seconds", optarg);
			o.timeout = (unsigned)atoi(optarg) * 10;
			break;
		case 'a': o.append = optarg; break;
		case 'f': o.force = true; break;
		case 'n': o.dry_run = true; break;
		case 'M': o.no_mbr = true; break;
		default: return usage_error("provision", "%s", "bad option");
		}
	}
	if (optind != argc - 1)
		return usage_error("provision", "%s", "give one TARGET "
				   "(a partition, or an image file with "
				   "--partition N)");
	o.target = argv[optind];
	if (provision(&o, stdout, &e) < 0)
		return fail("provision", o.target, &e);
	return EXIT_OK;
}

static int cmd_check_kernel(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "driver", required_argument, NULL, 'd' },
		{ "root-type", required_argument, NULL, 'r' },
		{ "table", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct kernel_needs kn = { .boot_fstype = "ext4", .table = TABLE_NONE };
	struct kernel_info k;
	struct err e = { "", 0 };
	const char *config = NULL;
	char path[4096];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': add_drivers(kn.drivers, &kn.n_drivers, optarg); break;
		case 'r': kn.root_fstype = optarg; break;
		case 't':
			if (!strcmp(optarg, "dos"))
				kn.table = TABLE_DOS;
			else if (!strcmp(optarg, "gpt"))
				kn.table = TABLE_GPT;
			else
				return usage_error("check-kernel", "--table %s: "
						   "dos or gpt", optarg);
			break;
		default: return usage_error("check-kernel", "%s", "bad option");
		}
	}
	if (optind < argc - 1)
		return usage_error("check-kernel", "%s", "at most one FILE");
	if (optind == argc - 1)
		snprintf(path, sizeof(path), "%s", argv[optind]);
	else
		kernel_default_path(path, sizeof(path));
	if (kernel_inspect(path, config, &k, &e) < 0) {
		if (optind == argc && access(path, F_OK) < 0)
			err_set(&e, EXIT_USAGE, "the running kernel's image %s "
				"does not exist; give FILE", path);
		return fail("check the kernel", NULL, &e);
	}
	printf("kernel %s (%s), config from %s\n", k.version, path,
	       k.config_from);
	if (!kn.n_drivers)
		printf("  note: no --driver given: disk drivers not checked\n");
	if (kernel_check(&k, &kn, stdout, &e) < 0) {
		kernel_info_free(&k);
		fprintf(stderr, "earlyfs: %s\n", e.msg);
		return e.code;
	}
	printf("kernel %s can mount an earlyfs boot partition by itself\n",
	       k.version);
	kernel_info_free(&k);
	return EXIT_OK;
}

static int cmd_image(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "boot-size", required_argument, NULL, 'b' },
		{ "table", required_argument, NULL, 't' },
		{ "root-from", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_spec s = { .boot_size = 64ULL << 20, .table = TABLE_DOS };
	struct err e = { "", 0 };
	bool force = false;
	int c;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return usage_error("image", "%s", "the subcommand is 'image "
				   "create FILE --size S'");
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &s.size) < 0)
				return usage_error("image create", "--size %s: "
						   "a size such as 256M", optarg);
			break;
		case 'b':
			if (parse_size(optarg, &s.boot_size) < 0)
				return usage_error("image create", "--boot-size "
						   "%s: a size such as 64M", optarg);
			break;
		case 't':
			if (!strcmp(optarg, "dos"))
				s.table = TABLE_DOS;
			else if (!strcmp(optarg, "gpt"))
				s.table = TABLE_GPT;
			else
				return usage_error("image create", "--table %s: "
						   "dos or gpt", optarg);
			break;
		case 'r': s.root_from = optarg; break;
		case 'f': force = true; break;
		default: return usage_error("image create", "%s", "bad option");
		}
	}
	if (optind != argc - 1 || !s.size)
		return usage_error("image create", "%s", "give FILE and --size");
	if (image_create(argv[optind], &s, force, &e) < 0)
		return fail("create", argv[optind], &e);
	printf("earlyfs: created %s: partition 1 (%llu MiB, bootable) for "
	       "'earlyfs provision %s --partition 1', partition 2 the root\n",
	       argv[optind], (unsigned long long)(s.boot_size >> 20),
	       argv[optind]);
	return EXIT_OK;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = { "", 0 };
	unsigned partno = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'p')
			return usage_error("status", "%s", "bad option");
		partno = (unsigned)atoi(optarg);
	}
	if (optind == argc) {
		if (status_running(stdout, &e) < 0)
			return fail("show status", NULL, &e);
		return EXIT_OK;
	}
	if (status_target(argv[optind], partno, stdout, &e) < 0)
		return fail("show status of", argv[optind], &e);
	return EXIT_OK;
}

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "provision", cmd_provision,
	  "provision TARGET [--partition N] [--root SPEC] [--kernel FILE]\n"
	  "          [--config FILE] [--label L] [--driver NAME[,NAME]]\n"
	  "          [--menu-timeout SECONDS] [--append ARGS] [--force]\n"
	  "          [--dry-run] [--no-mbr]\n"
	  "      make TARGET (a partition, or partition N of an image file)\n"
	  "      a bootable earlyfs boot partition with a 'rescue' label" },
	{ "check-kernel", cmd_check_kernel,
	  "check-kernel [FILE] [--config FILE] [--driver NAME[,NAME]]\n"
	  "          [--root-type TYPE] [--table dos|gpt]\n"
	  "      can the kernel mount the boot partition with no initramfs?" },
	{ "image", cmd_image,
	  "image create FILE --size S [--boot-size S] [--table dos|gpt]\n"
	  "          [--root-from DIR] [--force]\n"
	  "      a disk image: a bootable boot partition and a root partition" },
	{ "status", cmd_status,
	  "status [TARGET [--partition N]]\n"
	  "      what a boot partition holds; without TARGET, /boot and the\n"
	  "      last boot report" },
	{ "help", cmd_help, "help\n      this text" },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	printf("usage: earlyfs COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  earlyfs %s\n\n", commands[i].usage);
	printf("Exit status: 0 done, 1 a step failed, 2 usage, 3 refused "
	       "(nothing written),\n4 the kernel cannot boot without an "
	       "initramfs.  See earlyfs(8).\n");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return cmd_help(argc, argv), EXIT_USAGE;
	if (!strcmp(argv[1], "--version")) {
		printf("earlyfs %s\n", EARLYFS_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc, argv);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "earlyfs: unknown command '%s'; try 'earlyfs help'\n",
		argv[1]);
	return EXIT_USAGE;
}
