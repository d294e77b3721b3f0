/* earlyfs: the command line; option parsing and a subcommand table only */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "admin.h"
#include "atomic.h"
#include "report.h"
#include "request.h"
#include "text.h"

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

/* ---- editing early userspace: options every such command takes ---- */

struct edit_args {
	const char *boot, *target, *socket, *report;
	unsigned partno;
	bool replace;
	char **pos;		/* positional arguments */
	int n_pos;
};

static int edit_parse(const char *cmd, int argc, char **argv, int min,
		      int max, struct edit_args *a)
{
	static const struct option opts[] = {
		{ "boot", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "partition", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "no-daemon", no_argument, NULL, 'n' },
		{ "report", required_argument, NULL, 'r' },
		{ "replace", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("EARLYFS_SOCKET");
	int c;

	memset(a, 0, sizeof(*a));
	a->socket = env && *env ? env : SOCKET_DEFAULT;
	a->report = REPORT_PATH;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': a->boot = optarg; break;
		case 't': a->target = optarg; break;
		case 'p':
			a->partno = (unsigned)atoi(optarg);
			if (a->partno == 0 || a->partno > 128)
				return usage_error(cmd, "--partition %s: give "
						   "a number 1-128", optarg);
			break;
		case 's': a->socket = optarg; break;
		case 'n': a->socket = NULL; break;
		case 'r': a->report = optarg; break;
		case 'R':
			if (strcmp(cmd, "add"))
				return usage_error(cmd, "%s", "--replace is an "
						   "option of 'add'");
			a->replace = true;
			break;
		default: return usage_error(cmd, "%s", "bad option");
		}
	}
	if (a->boot && a->target)
		return usage_error(cmd, "%s", "give --boot DIR or --target "
				   "TARGET, not both");
	a->pos = argv + optind;
	a->n_pos = argc - optind;
	if (a->n_pos < min || a->n_pos > max)
		return usage_error(cmd, "%s", "wrong number of arguments; see "
				   "'earlyfs help'");
	return -1;
}

static int open_boot(struct edit_args *a, bool write, struct boot *b,
		     struct err *e)
{
	return boot_open(a->boot, a->target, a->partno, write, b, e);
}

/* Read-only views: no lock, no daemon. */
static int cmd_view(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct edit_args a;
	struct err e = { "", 0 };
	struct boot b;
	bool show = !strcmp(cmd, "show"), chk = !strcmp(cmd, "check");
	int r;

	r = edit_parse(cmd, argc, argv, show ? 1 : 0, show ? 1 : 0, &a);
	if (r >= 0)
		return r;
	if (!strcmp(cmd, "log")) {
		if (a.boot || a.target)
			return usage_error(cmd, "%s", "the boot report is in "
					   "/run on the running system; "
					   "give --report FILE for another");
		return log_print(a.report, stdout, &e) < 0 ?
			fail("show the boot log", NULL, &e) : EXIT_OK;
	}
	if (open_boot(&a, false, &b, &e) < 0)
		return fail(cmd, NULL, &e);
	if (show)
		r = fragment_show(&b, a.pos[0], stdout, &e);
	else if (chk)
		r = check_tree(&b, !a.target, stdout, &e);
	else if (!strcmp(cmd, "generations"))
		r = generations_print(&b, stdout, &e);
	else
		r = fragments_print(&b, a.report, stdout, &e);
	boot_close(&b);
	if (r < 0 && chk)
		return e.code;	/* the problems are printed already */
	return r < 0 ? fail(cmd, show ? a.pos[0] : NULL, &e) : EXIT_OK;
}

static char *read_input(const char *path, size_t *ret_len, struct err *e)
{
	char *buf;
	int r = read_file(strcmp(path, "-") ? path : "/dev/stdin",
			  REQUEST_BODY_MAX, &buf, ret_len);

	if (r == -EFBIG)
		err_set(e, EXIT_REFUSED, "%s is larger than 1 MiB", path);
	else if (r < 0)
		err_set(e, EXIT_USAGE, "%s: %s", path, strerror(-r));
	return r < 0 ? NULL : buf;
}

/* Every change: through earlyfsd when it runs, else in-process. */
static int cmd_change(int argc, char **argv)
{
	static const struct {
		const char *cmd;
		enum change_op op;
		int min, max;
	} table[] = {
		{ "add", CHANGE_ADD, 1, 2 }, { "rm", CHANGE_RM, 1, 1 },
		{ "enable", CHANGE_ENABLE, 1, 1 },
		{ "disable", CHANGE_DISABLE, 1, 1 },
		{ "mv", CHANGE_MV, 2, 2 }, { "rollback", CHANGE_ROLLBACK, 0, 1 },
		{ "edit", CHANGE_PUT, 1, 1 }, { "once", CHANGE_RECORD, 1, 1 },
	};
	const char *cmd = argv[0];
	struct change c = { .op = CHANGE_RECORD };
	struct err e = { "", 0 };
	struct edit_args a;
	struct boot b;
	char *data = NULL;
	size_t i;
	int r;

	for (i = 0; strcmp(table[i].cmd, cmd); i++)
		;
	r = edit_parse(cmd, argc, argv, table[i].min, table[i].max, &a);
	if (r >= 0)
		return r;
	c.op = table[i].op;
	c.name = a.n_pos > 0 ? a.pos[0] : NULL;
	c.newname = a.n_pos > 1 ? a.pos[1] : NULL;
	if (c.op == CHANGE_ROLLBACK) {
		unsigned long g = 0;

		c.name = NULL;
		if (a.n_pos && (text_parse_uint(a.pos[0], strlen(a.pos[0]),
						1u << 30, &g) < 0 || !g))
			return usage_error(cmd, "%s: not a generation number",
					   a.pos[0]);
		c.gen = (unsigned)g;
	}
	if (c.op == CHANGE_ADD) {
		c.newname = NULL;
		data = read_input(a.n_pos > 1 ? a.pos[1] : "-", &c.len, &e);
		if (!data)
			return fail("add", c.name, &e);
		c.data = data;
		if (a.replace)
			c.op = CHANGE_PUT;
	}
	if (open_boot(&a, true, &b, &e) < 0) {
		free(data);
		return fail(cmd, c.name, &e);
	}
	if (!strcmp(cmd, "edit"))
		r = fragment_edit(&b, a.socket, c.name, stdout, &e);
	else if (!strcmp(cmd, "once"))
		r = once_submit(&b, a.socket, c.name, stdout, &e);
	else
		r = change_submit(&b, a.socket, &c, stdout, &e);
	boot_close(&b);
	free(data);
	if (r < 0 && !strcmp(cmd, "once"))
		return fail("boot once with label", c.name, &e);
	return r < 0 ? fail(!strcmp(cmd, "rollback") ? "roll back" : cmd,
			    c.name, &e) : EXIT_OK;
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
	{ "fragments", cmd_view,
	  "fragments [--report FILE]\n"
	  "      each fragment in run order: enabled, size, last boot's result" },
	{ "show", cmd_view, "show NAME\n      print a fragment" },
	{ "add", cmd_change,
	  "add [--replace] NAME [FILE|-]\n"
	  "      a new fragment from FILE or standard input (--replace: or a\n"
	  "      new content for an existing one)" },
	{ "edit", cmd_change,
	  "edit NAME\n"
	  "      $VISUAL/$EDITOR on a copy; written when it validates" },
	{ "rm", cmd_change, "rm NAME\n      remove a fragment" },
	{ "enable", cmd_change, "enable NAME\n      let a fragment run" },
	{ "disable", cmd_change,
	  "disable NAME\n      keep a fragment, as NAME.disabled" },
	{ "mv", cmd_change, "mv NAME NEWNAME\n      rename (renumber) a fragment" },
	{ "check", cmd_view,
	  "check\n"
	  "      validate the whole boot partition: one line per problem" },
	{ "log", cmd_view,
	  "log [--report FILE]\n"
	  "      the last boot: each fragment's result and time, root, pivot" },
	{ "once", cmd_change,
	  "once LABEL\n      boot extlinux label LABEL on the next boot only" },
	{ "generations", cmd_view,
	  "generations\n      the recorded generations, newest last" },
	{ "rollback", cmd_change,
	  "rollback [N]\n"
	  "      restore generation N (default: the previous one) as a new one" },
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
	printf("The commands from 'fragments' on take [--boot DIR | --target "
	       "TARGET [--partition N]]:\nthe mounted boot partition (default "
	       "/boot), or an unmounted one or an image.\nChanges go through "
	       "earlyfsd when it listens ([--socket PATH] [--no-daemon]).\n\n");
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
