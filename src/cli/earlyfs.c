/* earlyfs: the command line; option parsing and a subcommand table only */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "atomic.h"
#include "change/change.h"
#include "base/err.h"
#include "target/image.h"
#include "kernel/kernelcheck.h"
#include "layout.h"
#include "provision.h"
#include "report.h"
#include "view/status.h"
#include "verb.h"

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

/* The options of features (provision --with, feature add), in both
 * option tables. */
#define FEATURE_OPTIONS \
	{ "crypttab", required_argument, NULL, 'C' }, \
	{ "mdadm-conf", required_argument, NULL, 'D' }, \
	{ "authorized-keys", required_argument, NULL, 'K' }, \
	{ "ssh-host-keys", required_argument, NULL, 'H' }, \
	{ "ssh-port", required_argument, NULL, 'P' }

/* 1 if c was one of FEATURE_OPTIONS (stored in fo), 0 if not, or the
 * exit code of a usage error. */
static int feature_option(const char *cmd, int c, const char *arg,
			  struct feature_opts *fo)
{
	switch (c) {
	case 'C': fo->crypttab = arg; return 1;
	case 'D': fo->mdadm_conf = arg; return 1;
	case 'K': fo->authorized_keys = arg; return 1;
	case 'H': fo->ssh_host_keys = arg; return 1;
	case 'P':
		if (atoi(arg) < 1 || atoi(arg) > 65535 ||
		    strspn(arg, "0123456789") != strlen(arg))
			return -usage_error(cmd, "--ssh-port %s: a port, 1 to "
					    "65535", arg);
		fo->ssh_port = (unsigned)atoi(arg);
		return 1;
	}
	return 0;
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
		{ "modules", required_argument, NULL, 'O' },
		{ "menu-timeout", required_argument, NULL, 't' },
		{ "append", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-mbr", no_argument, NULL, 'M' },
		{ "with", required_argument, NULL, 'w' },
		{ "bootloader", required_argument, NULL, 'B' },
		{ "esp", required_argument, NULL, 'E' },
		{ "secure-boot", no_argument, NULL, 'S' },
		{ "default", no_argument, NULL, 'X' },
		FEATURE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct provision_opts o = { .label = "earlyfs", .timeout = 30 };
	struct err e = { "", 0 };
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int f = feature_option("provision", c, optarg, &o.fo);

		if (f < 0)
			return -f;
		if (f)
			continue;
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
		case 'O': o.modules = optarg; break;
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
		case 'w': o.with = optarg; break;
		case 'B': o.bootloader = optarg; break;
		case 'E': o.esp = optarg; break;
		case 'S': o.secure_boot = true; break;
		case 'X': o.make_default = true; break;
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
		{ "esp-size", required_argument, NULL, 'E' },
		{ "table", required_argument, NULL, 't' },
		{ "root-from", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_spec s = { .boot_size = 64ULL << 20, .table = TABLE_DOS };
	struct err e = { "", 0 };
	bool force = false, table_given = false;
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
		case 'E':
			if (parse_size(optarg, &s.esp_size) < 0 || !s.esp_size)
				return usage_error("image create", "--esp-size "
						   "%s: a size such as 128M",
						   optarg);
			break;
		case 't':
			table_given = true;
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
	if (s.esp_size && !table_given)
		s.table = TABLE_GPT;
	if (image_create(argv[optind], &s, force, &e) < 0)
		return fail("create", argv[optind], &e);
	if (s.esp_size)
		printf("earlyfs: created %s: partition 1 the ESP (%llu MiB, "
		       "FAT), partition 2 (%llu MiB) for 'earlyfs provision %s "
		       "--partition 2', partition 3 the root\n", argv[optind],
		       (unsigned long long)(s.esp_size >> 20),
		       (unsigned long long)(s.boot_size >> 20), argv[optind]);
	else
		printf("earlyfs: created %s: partition 1 (%llu MiB, bootable) "
		       "for 'earlyfs provision %s --partition 1', partition 2 "
		       "the root\n", argv[optind],
		       (unsigned long long)(s.boot_size >> 20), argv[optind]);
	return EXIT_OK;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'J' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "cpio", required_argument, NULL, 'X' },
		{ "uki", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = { "", 0 };
	unsigned partno = 0;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'J') {
			json = true;
			continue;
		}
		if (c != 'p')
			return usage_error("status", "%s", "bad option");
		partno = (unsigned)atoi(optarg);
	}
	if (optind == argc) {
		if (status_running(json, stdout, &e) < 0)
			return fail("show status", NULL, &e);
		return EXIT_OK;
	}
	if (status_target(argv[optind], partno, json, stdout, &e) < 0)
		return fail("show status of", argv[optind], &e);
	return EXIT_OK;
}

/* ---- the commands on a boot partition: src/admin/verb.c's table ---- */

struct verb_args {
	const char *boot, *target, *socket, *report, *key, *cert, *cpio, *uki;
	unsigned partno;
	bool replace, refresh, make_default, json;
	struct feature_opts fo;
	struct kernels_opts ko;
	char **pos;		/* positional arguments */
	size_t n_pos;
};

/* Options every verb takes; -1 when parsed, else the exit code. */
static int verb_parse(const struct verb *v, int argc, char **argv,
		      struct verb_args *a)
{
	static const struct option opts[] = {
		{ "boot", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "partition", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "no-daemon", no_argument, NULL, 'n' },
		{ "report", required_argument, NULL, 'r' },
		{ "replace", no_argument, NULL, 'R' },
		{ "refresh", no_argument, NULL, 'F' },
		FEATURE_OPTIONS,
		{ "force", no_argument, NULL, 'f' },
		{ "default", no_argument, NULL, 'E' },
		{ "modules", required_argument, NULL, 'O' },
		{ "driver", required_argument, NULL, 'V' },
		{ "json", no_argument, NULL, 'J' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "cpio", required_argument, NULL, 'X' },
		{ "uki", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("EARLYFS_SOCKET");
	size_t max = v->max_args + (v->flags & VERB_BODY ? 1 : 0);
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
				return usage_error(v->name, "--partition %s: "
						   "give a number 1-128", optarg);
			break;
		case 's': a->socket = optarg; break;
		case 'k': case 'c':
			if (!(v->flags & VERB_SEAL))
				return usage_error(v->name, "%s", "--key and "
						   "--cert are options of 'seal' "
						   "and 'export'");
			*(c == 'k' ? &a->key : &a->cert) = optarg;
			break;
		case 'X': case 'U':
			if (!(v->flags & VERB_EXPORT))
				return usage_error(v->name, "%s", "--cpio and "
						   "--uki are options of "
						   "'export'");
			*(c == 'X' ? &a->cpio : &a->uki) = optarg;
			break;
		case 'n': a->socket = NULL; break;
		case 'r': a->report = optarg; break;
		case 'R':
			if (!(v->flags & VERB_BODY))
				return usage_error(v->name, "%s", "--replace is "
						   "an option of 'add'");
			a->replace = true;
			break;
		case 'J':
			if (!(v->flags & VERB_JSON))
				return usage_error(v->name, "%s", "--json is an "
						   "option of status, fragments, "
						   "generations, log, check, "
						   "kernel list and feature list");
			a->json = true;
			break;
		case 'F':
			if (!(v->flags & VERB_REFRESH))
				return usage_error(v->name, "%s", "--refresh is "
						   "an option of 'install'");
			a->refresh = true;
			break;
		case 'E': case 'O': case 'V':
			if (!(v->flags & VERB_KERNEL) &&
			    (c == 'E' || !(v->flags & VERB_FEATURE)))
				return usage_error(v->name, "%s", "--default, "
						   "--modules and --driver are "
						   "options of 'kernel add' "
						   "(the last two also of "
						   "'feature add')");
			if (c == 'E')
				a->make_default = true;
			else if (c == 'O')
				a->ko.modules = optarg;
			else
				add_drivers(a->ko.drivers, &a->ko.n_drivers,
					    optarg);
			break;
		case 'f':
			if (!(v->flags & (VERB_FEATURE | VERB_KERNEL)))
				return usage_error(v->name, "%s", "--force is "
						   "an option of 'feature' and "
						   "'kernel'");
			a->fo.force = true;
			break;
		case 'C': case 'D': case 'K': case 'H': case 'P':
			if (!(v->flags & VERB_FEATURE))
				return usage_error(v->name, "%s", "the features' "
						   "options are options of "
						   "'feature'");
			if ((c = feature_option(v->name, c, optarg,
						&a->fo)) < 0)
				return -c;
			break;
		default: return usage_error(v->name, "%s", "bad option");
		}
	}
	if (a->boot && a->target)
		return usage_error(v->name, "%s", "give --boot DIR or --target "
				   "TARGET, not both");
	if ((v->flags & VERB_NO_BOOT) && (a->boot || a->target))
		return usage_error(v->name, "%s", "the boot report is in /run "
				   "on the running system; give --report FILE "
				   "for another");
	a->pos = argv + optind;
	a->n_pos = (size_t)(argc - optind);
	if (a->n_pos < v->min_args || a->n_pos > max)
		return usage_error(v->name, "%s", "wrong number of arguments; "
				   "see 'earlyfs help'");
	return -1;
}

static char *read_input(const char *path, size_t *ret_len, struct err *e)
{
	char *buf;
	int r = read_file(strcmp(path, "-") ? path : "/dev/stdin",
			  LAYOUT_FRAGMENT_MAX, &buf, ret_len);

	if (r == -EFBIG)
		err_set(e, EXIT_REFUSED, "%s is larger than 1 MiB", path);
	else if (r < 0)
		err_set(e, EXIT_USAGE, "%s: %s", path, strerror(-r));
	return r < 0 ? NULL : buf;
}

/* Every verb: options, its body, the partition, then the table's handler
 * (through earlyfsd when it listens, for a change). */
static int cmd_verb(const struct verb *v, int argc, char **argv)
{
	struct verb_call call = { .data = NULL };
	struct err e = { "", 0 };
	struct verb_args a;
	const char *name;
	char *data = NULL;
	struct boot b;
	int r;

	r = verb_parse(v, argc, argv, &a);
	if (r >= 0)
		return r;
	call.args = a.pos;
	call.n_args = a.n_pos;
	call.socket = a.socket;
	call.report = a.report;
	call.running = !a.target;
	call.refresh = a.refresh;
	call.fo = a.fo;
	call.make_default = a.make_default;
	call.ko = a.ko;
	call.json = a.json;
	call.key = a.key;
	call.cert = a.cert;
	call.cpio = a.cpio;
	call.uki = a.uki;
	name = v->op == CHANGE_ROLLBACK || !a.n_pos ? NULL : a.pos[0];
	if (verb_args(v, &call, &e) < 0)
		return usage_error(v->name, "%s", e.msg);
	if (v->flags & VERB_BODY) {
		call.n_args = v->max_args;
		data = read_input(a.n_pos > v->max_args ? a.pos[v->max_args] :
				  "-", &call.len, &e);
		if (!data)
			return fail(v->what, name, &e);
		call.data = data;
		if (a.replace)
			v = verb_find("put", VERB_SERVED);
	}
	if (v->flags & VERB_NO_BOOT) {
		r = v->run(NULL, v, &call, stdout, &e);
		free(data);
		return r < 0 ? fail(v->what, name, &e) : EXIT_OK;
	}
	r = boot_open(a.boot, a.target, a.partno, v->flags & VERB_CHANGES, &b,
		      &e);
	if (r == 0) {
		r = verb_run(&b, v, &call, stdout, &e);
		boot_close(&b);
		if (r < 0 && (v->flags & VERB_REPORTS)) {
			free(data);
			return e.code;	/* its output said why */
		}
	}
	free(data);
	return r < 0 ? fail(v->what, name, &e) : EXIT_OK;
}

static int cmd_help(int argc, char **argv);

/* The commands that are not about an opened boot partition; the others
 * are the CLI verbs of src/admin/verb.c. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "provision", cmd_provision,
	  "provision TARGET [--partition N] [--root SPEC] [--kernel FILE]\n"
	  "          [--config FILE] [--label L] [--driver NAME[,NAME]]\n"
	  "          [--modules DIR] [--menu-timeout SECONDS] [--append ARGS]\n"
	  "          [--force] [--dry-run] [--no-mbr] [--with FEATURE[,FEATURE]]\n"
	  "          [--crypttab FILE] [--mdadm-conf FILE]\n"
	  "          [--authorized-keys FILE] [--ssh-host-keys system|DIR]\n"
	  "          [--ssh-port PORT]\n"
	  "          [--bootloader auto|extlinux|systemd-boot|grub|efistub]\n"
	  "          [--esp N|DIR]\n"
	  "          [--secure-boot] [--default]\n"
	  "      make TARGET (a partition, or partition N of an image file)\n"
	  "      a bootable earlyfs boot partition with a 'rescue' label" },
	{ "check-kernel", cmd_check_kernel,
	  "check-kernel [FILE] [--config FILE] [--driver NAME[,NAME]]\n"
	  "          [--root-type TYPE] [--table dos|gpt]\n"
	  "      can the kernel mount the boot partition with no initramfs?" },
	{ "image", cmd_image,
	  "image create FILE --size S [--boot-size S] [--table dos|gpt]\n"
	  "          [--esp-size S] [--root-from DIR] [--force]\n"
	  "      a disk image: a bootable boot partition and a root partition;\n"
	  "      with --esp-size (GPT): 1 the ESP, 2 the boot partition, 3 the root" },
	{ "status", cmd_status,
	  "status [TARGET [--partition N]] [--json]\n"
	  "      what a boot partition holds; without TARGET, /boot and the\n"
	  "      last boot report" },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	printf("usage: earlyfs COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  earlyfs %s\n\n", commands[i].usage);
	for (i = 0; i < n_verbs; i++)
		if (verbs[i].flags & VERB_CLI)
			printf("  earlyfs %s\n\n", verbs[i].usage);
	printf("  earlyfs help\n      this text\n\n");
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
	const struct verb *v;
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
	if (!strcmp(argv[1], "help"))
		return cmd_help(argc - 1, argv + 1);
	v = verb_find(argv[1], VERB_CLI);
	if (v)
		return cmd_verb(v, argc - 1, argv + 1);
	fprintf(stderr, "earlyfs: unknown command '%s'; try 'earlyfs help'\n",
		argv[1]);
	return EXIT_USAGE;
}
