/* main: earlyfs-init, PID 1 of the boot partition; the stages in order */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "bootcfg.h"
#include "cmdline.h"
#include "envfile.h"
#include "kv.h"
#include "layout.h"
#include "mountinfo.h"
#include "init.h"
#include "seal.h"
#include "profile.h"
#include "text.h"

#ifndef EARLYFS_VERSION
#define EARLYFS_VERSION "unknown"
#endif

static struct cmdline cmdline;
static struct boot_config cfg;
static struct boot_report rep;
static struct envlist env;

static void load_cmdline(void)
{
	size_t len, i;
	char *buf;
	int r;

	r = read_file("/proc/cmdline", CMDLINE_MAX * 2, &buf, &len);
	if (r < 0) {
		log_error("cannot read /proc/cmdline: %s; using defaults",
			  strerror(-r));
		buf = NULL;
		len = 0;
	}
	r = cmdline_parse(buf ? buf : "", len, &cmdline);
	if (r < 0)
		log_error("kernel command line too long or too many "
			  "parameters; using defaults");
	free(buf);
	bootcfg_from_cmdline(&cmdline, &cfg);
	for (i = 0; i < cfg.n_problems; i++)
		log_warn("%s", cfg.problems[i]);
	log_debug_on = cfg.debug;
}

static char fragment_dir[64] = FRAGMENT_DIR, fstab_path[64] = FSTAB_PATH;

/* The newest generation in /generations, if it was recorded but never
 * applied (a change interrupted between its commit point and the end of
 * its apply: the live tree may be half old, half new); else 0. */
static unsigned unapplied_generation(void)
{
	unsigned latest = 0, n, seen = 0;
	char path[64];
	struct dirent *de;
	DIR *d = opendir("/" LAYOUT_GENERATIONS);

	while (d && (de = readdir(d)) && seen++ < 100000)
		if (layout_parse_generation(de->d_name, strlen(de->d_name),
					    &n) == 0 && n > latest)
			latest = n;
	if (d)
		closedir(d);
	if (!latest || layout_generation_path("/", latest, LAYOUT_GEN_APPLIED,
					      path, sizeof(path)) < 0 ||
	    access(path, F_OK) == 0)
		return 0;
	return latest;
}

/* earlyfs.generation=previous: the newest valid, applied generation
 * before the newest (what 'earlyfs generations' marks previous); 0 if
 * there is none. */
static unsigned previous_generation(void)
{
	static struct layout_gen v[256];
	char path[64], *info, valid[8];
	struct dirent *de;
	size_t n = 0, len;
	DIR *d = opendir("/" LAYOUT_GENERATIONS);

	while (d && (de = readdir(d)) && n < sizeof(v) / sizeof(v[0])) {
		struct layout_gen *g = &v[n];

		if (layout_parse_generation(de->d_name, strlen(de->d_name),
					    &g->n) < 0)
			continue;
		layout_generation_path("/", g->n, LAYOUT_GEN_APPLIED, path,
				       sizeof(path));
		g->applied = access(path, F_OK) == 0;
		layout_generation_path("/", g->n, LAYOUT_GEN_INFO, path,
				       sizeof(path));
		g->valid = true;
		if (read_regular(path, LAYOUT_GEN_INFO_MAX, &info, &len) == 0) {
			g->valid = kv_get(info, len, "valid", valid,
					  sizeof(valid)) < 0 ||
				   strcmp(valid, "0");
			free(info);
		}
		n++;
	}
	if (d)
		closedir(d);
	return layout_previous_generation(v, n);
}

/* earlyfs.generation=N: that generation's fragments and fstab, which
 * earlyfs keeps in /generations/N (the 'previous' label passes it).
 * Without it, the live ones, unless a change was interrupted before the
 * live tree was complete: then the generation it recorded, which is. */
static void choose_generation(void)
{
	bool given = cfg.generation != 0 || cfg.generation_previous;
	char dir[64];
	struct stat st;

	if (cfg.generation_previous) {
		cfg.generation = previous_generation();
		if (!cfg.generation) {
			/* the first generation has none before it */
			log_notice("earlyfs.generation=previous: no valid "
				   "generation before the newest; running the "
				   "current fragments and fstab");
			return;
		}
	}
	if (!given) {
		cfg.generation = unapplied_generation();
		if (!cfg.generation)
			return;
		log_warn("generation %u was recorded but not applied (an "
			 "interrupted change): running it from /"
			 LAYOUT_GENERATIONS "/%u; the next earlyfs change "
			 "completes it", cfg.generation, cfg.generation);
	}
	if (layout_generation_path("/", cfg.generation, LAYOUT_INITD, dir,
				   sizeof(dir)) < 0 ||
	    stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("earlyfs.generation=%u: %s is missing (see 'earlyfs "
			  "generations'); running the current fragments and "
			  "fstab", cfg.generation, dir);
		return;
	}
	snprintf(fragment_dir, sizeof(fragment_dir), "%s", dir);
	layout_generation_path("/", cfg.generation, LAYOUT_FSTAB, fstab_path,
			       sizeof(fstab_path));
	rep.generation = cfg.generation;
	if (given && cfg.generation_previous)
		log_notice("earlyfs.generation=previous: running generation "
			   "%u's fragments and fstab", cfg.generation);
	else if (given)
		log_notice("earlyfs.generation=%u: running generation %u's "
			   "fragments and fstab", cfg.generation,
			   cfg.generation);
}

static void set(const char *name, const char *value)
{
	envlist_set(&env, name, strlen(name), value, strlen(value));
}

/* The fragments' environment: the kernel's, PATH, and every earlyfs.* key. */
static void build_env(char **envp)
{
	char name[128], num[16];
	size_t i;

	envlist_init(&env);
	envlist_add_all(&env, envp);
	set("PATH", "/sbin:/bin:/usr/sbin:/usr/bin");
	if (!envlist_get(&env, "HOME"))
		set("HOME", "/");
	if (!envlist_get(&env, "TERM"))
		set("TERM", "linux");
	for (i = 0; i < cmdline.n; i++) {
		const struct cmdline_param *p = &cmdline.params[i];

		if (cmdline_env_name(p->key, name, sizeof(name)) == 0)
			set(name, p->value ? p->value : "1");
	}
	/* effective values, defaults included */
	set("EARLYFS_INIT", cfg.init);
	snprintf(num, sizeof(num), "%u", cfg.rootwait);
	set("EARLYFS_ROOTWAIT", num);
	set("EARLYFS_ROOTMODE", cfg.root_rw ? "rw" : "ro");
	set("EARLYFS_NEWROOT", NEWROOT);
	set("EARLYFS_ENV", ENV_FILE);
}

static void prepare_state(void)
{
	int fd;

	mkdir(STATE_DIR, 0755);
	fd = open(ENV_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK |
			  O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		log_warn("cannot create %s: %m; fragments cannot pass state",
			 ENV_FILE);
	else
		close(fd);
}

static long peak_kib(void)
{
	size_t len;
	char *buf, *p;
	long v = 0;

	if (read_file("/proc/self/status", 64 * 1024, &buf, &len) < 0)
		return 0;
	p = strstr(buf, "VmHWM:");
	if (p)
		v = atol(p + 6);
	free(buf);
	return v;
}

void report_write(struct boot_report *r)
{
	static char buf[16384];
	int n;

	r->total_ms = now_ms() - r->start_ms;
	n = report_format(r, buf, sizeof(buf));
	if (n < 0 || atomic_write_file(REPORT_PATH, buf, (size_t)n, 0644) < 0)
		log_warn("cannot write %s, continuing", REPORT_PATH);
}

/* Fills in the report's root line when a fragment mounted the root. */
static void describe_fragment_root(void)
{
	struct mountinfo_entry *m = malloc(sizeof(*m));
	size_t pos = 0, len, l;
	const char *line;
	char *buf;

	snprintf(rep.root_how, sizeof(rep.root_how), "fragment");
	if (!m || read_file("/proc/self/mountinfo", 1024 * 1024, &buf, &len) < 0) {
		free(m);
		return;
	}
	while (text_next_line(buf, len, &pos, &line, &l) > 0) {
		if (mountinfo_parse_line(line, l, m) <= 0 ||
		    strcmp(m->mount_point, NEWROOT) != 0)
			continue;
		snprintf(rep.root_fstype, sizeof(rep.root_fstype), "%.31s",
			 m->fstype);
		snprintf(rep.root_device, sizeof(rep.root_device), "%.255s",
			 m->source);
	}
	free(buf);
	free(m);
}

static void mount_root(void)
{
	char why[256];

	while (!is_mountpoint(NEWROOT)) {
		if (rootdev_mount(&cfg, &rep) == 0)
			return;
		snprintf(why, sizeof(why), "the real root is not mounted; "
			 "mount it on %s by hand, then 'exit' continues the "
			 "boot", NEWROOT);
		rescue_or_hang(&cfg, &env, why);
	}
	if (!rep.root_how[0])
		describe_fragment_root();
}

static void check_init(void)
{
	char why[512];
	int r;

	while ((r = switchroot_check_init(cfg.init)) < 0) {
		snprintf(why, sizeof(why), "the real init %s is missing or "
			 "not executable in the real root (%s): %s. Fix it, "
			 "or set earlyfs.init=; 'exit' retries", cfg.init,
			 rep.root_device[0] ? rep.root_device : NEWROOT,
			 strerror(-r));
		log_error("%s", why);
		rescue_or_hang(&cfg, &env, why);
	}
}

static void pivot_and_exec(char **argv, char **envp)
{
	char why[512];
	int r;

	/* nothing the early stage started outlives it, unless asked for */
	procs_stop(0, &rep, "pivot");
	procs_report_kept(&rep);
	profile_mark("procs");

	argv[0] = (char *)cfg.init;
	for (;;) {
		rep.pivot_ms = now_ms();
		rep.peak_kib = peak_kib();
		snprintf(rep.init, sizeof(rep.init), "%s", cfg.init);
		log_kmsg_restore();
		profile_mark("pre-pivot");
		r = switchroot(cfg.boot_at);
		if (r == 0)
			break;
		snprintf(rep.pivot, sizeof(rep.pivot), "failed");
		report_write(&rep);
		snprintf(why, sizeof(why), "cannot switch to the real root: "
			 "%s; 'exit' retries", strerror(-r));
		log_kmsg_unlimit();
		rescue_or_hang(&cfg, &env, why);
		check_init();
	}
	profile_mark("pivot");
	snprintf(rep.pivot, sizeof(rep.pivot), "ok");
	report_write(&rep);
	profile_mark("report");
	profile_dump();
	log_info("switched to the real root in %ld ms (%zu fragments); "
		 "starting %s", rep.total_ms, rep.n, cfg.init);
	for (;;) {
		/* the real init starts as clean as the kernel would start it */
		child_clean();
		execve(cfg.init, argv, envp);
		child_setup_signals();
		snprintf(why, sizeof(why), "cannot execute the real init %s: "
			 "%m; 'exit' retries", cfg.init);
		log_error("%s", why);
		rescue_or_hang(&cfg, &env, why);
	}
}

static int tool_mount_root(int argc, char **argv)
{
	/* it mounts /proc, /sys and /run where they are not: never on a
	 * running system by mistake */
	if (!getenv("EARLYFS_ENV")) {
		fprintf(stderr, "earlyfs-init mount-root: run it from a "
			"fragment or the rescue shell of early userspace "
			"($EARLYFS_ENV is not set here); nothing mounted\n");
		return 2;
	}
	mounts_ensure_api();
	load_cmdline();
	if (argc == 3 && !cfg.root)
		return 0;	/* the runner says it is missing */
	if (is_mountpoint(NEWROOT)) {
		log_info("%s is already mounted", NEWROOT);
		return 0;
	}
	return rootdev_mount(&cfg, &rep) < 0 ? 1 : 0;
}

static int tool_unlock_cmd(int argc, char **argv)
{
	load_cmdline();
	return tool_unlock(&cfg);
}

static int tool_pause_cmd(int argc, char **argv)
{
	return tool_pause();
}

static int tool_root_device_cmd(int argc, char **argv)
{
	load_cmdline();
	return tool_root_device(&cfg);
}

static int tool_version(int argc, char **argv)
{
	printf("earlyfs-init %s\n", EARLYFS_VERSION);
	return 0;
}

static int client_shell_cmd(int argc, char **argv)
{
	return client_shell(argc, argv);
}

static int client_unlock_cmd(int argc, char **argv)
{
	return client_unlock();
}

static int client_continue_cmd(int argc, char **argv)
{
	return client_continue();
}

/*
 * What earlyfs-init does when it is not PID 1: by the name it is run as
 * (a link: name), or by its first argument (arg; at most max_args
 * arguments, the second a path when path is set: "#!/sbin/earlyfs-init
 * mount-root" runs a fragment as earlyfs-init mount-root FRAGMENT).
 */
static const struct tool {
	const char *name, *arg;
	int max_args;
	bool path;
	int (*run)(int argc, char **argv);
	const char *usage;
} tools[] = {
	{ "earlyfs-shell", NULL, -1, false, client_shell_cmd,
	  "earlyfs-shell [-c CMD]     (root's login shell: the prompt waiting, "
	  "else sh)" },
	{ NULL, "mount-root", 2, true, tool_mount_root,
	  "earlyfs-init mount-root    (from a fragment: mount earlyfs.root= on "
	  NEWROOT ")" },
	{ NULL, "root-device", 1, false, tool_root_device_cmd,
	  "earlyfs-init root-device   (print earlyfs.root='s device and type)" },
	{ NULL, "unlock", 1, false, tool_unlock_cmd,
	  "earlyfs-init unlock        (open the LUKS volumes of /"
	  LAYOUT_CRYPTTAB ")" },
	{ NULL, "pause", 1, false, tool_pause_cmd,
	  "earlyfs-init pause         (wait for Enter on the console or "
	  "earlyfs-continue)" },
	{ "earlyfs-unlock", NULL, 0, false, client_unlock_cmd,
	  "earlyfs-unlock < FILE      (over SSH: answer the passphrase prompt)" },
	{ "earlyfs-continue", NULL, 0, false, client_continue_cmd,
	  "earlyfs-continue           (over SSH: end a pause)" },
	{ NULL, "--version", 1, false, tool_version,
	  "earlyfs-init --version" },
};

static int tool_main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
						  : argv[0];
	size_t i;

	if (name[0] == '-')		/* a login shell */
		name++;
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		const struct tool *t = &tools[i];

		if (t->name && !strcmp(name, t->name) &&
		    (t->max_args < 0 || argc - 1 <= t->max_args))
			return t->run(argc, argv);
		if (t->arg && argc >= 2 && !strcmp(argv[1], t->arg) &&
		    (argc == 2 || (t->path && argc - 1 <= t->max_args &&
				   argv[2][0] == '/')))
			return t->run(argc, argv);
	}
	fprintf(stderr, "usage: earlyfs-init               (as PID 1, from "
		"the kernel's init=)\n");
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		fprintf(stderr, "       %s\n", tools[i].usage);
	return 2;
}

int main(int argc, char **argv, char **envp)
{
	if (getpid() != 1)
		return tool_main(argc, argv);
	/* an exported early userspace (its fragments here) behind a stub */
	if (access(STUB_MARKER, F_OK) == 0 && access("/" LAYOUT_INITD, F_OK) == 0)
		stub_exported();
	/* /init of a module stub, or of a sealed image */
	else if (access(STUB_MARKER, F_OK) == 0 ||
		 access(SEAL_MANIFEST, F_OK) == 0)
		return stub_main(envp);
	profile_mark("exec");
	child_dispositions_default = true;
	child_setup_signals();
	umask(022);
	long t_dev, t_fstab;
	bool proc_here;

	rep.start_ms = now_ms();
	mounts_early();
	profile_mark("dev");
	t_dev = now_ms();
	log_debug("earlyfs-init %s", EARLYFS_VERSION);
	/* the command line picks the generation whose fstab is mounted */
	proc_here = mounts_proc_for_cmdline();
	load_cmdline();
	profile_mark("cmdline");
	choose_generation();
	profile_mark("generation");
	mounts_fstab(fstab_path, proc_here);
	t_fstab = now_ms();
	profile_mark("fstab");
	mounts_ensure_api();
	log_kmsg_unlimit();
	log_debug("stage: started at %ld ms, /dev ready at %ld, command line "
		  "read, fstab mounted at %ld", rep.start_ms, t_dev, t_fstab);
	prepare_state();
	build_env(envp);
	profile_mark("env");
	fragments_run(fragment_dir, &cfg, &env, &rep);
	log_debug("stage: fragments done");
	mount_root();
	profile_mark("root");
	log_debug("stage: root mounted");
	if (cfg.break_pivot)
		rescue_shell(&env, "break before the pivot (earlyfs.break=pivot)");
	check_init();
	profile_mark("init-check");
	log_debug("stage: real init checked");
	pivot_and_exec(argv, envp);
	return 0;	/* not reached: pivot_and_exec never returns */
}
