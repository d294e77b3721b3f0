/* tools: what earlyfs-init does when a fragment runs it (not PID 1):
 * open the LUKS volumes of etc/crypttab, wait at the console, name the
 * root device.  The shipped fragments of the features exec these. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "atomic.h"
#include "crypttab.h"
#include "init.h"

/* Runs argv (found in PATH) on the console; its exit status, or -errno. */
static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_clean();
		execvp(argv[0], argv);
		fprintf(stderr, "earlyfs-init: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 128 + WTERMSIG(status);
}

/* Opens one volume; 0, or 1 having said why. */
static int open_volume(const struct crypttab_entry *v, unsigned wait_s)
{
	char dev[256], mapped[128], tries[32], what[128];
	char *argv[16];
	struct stat st;
	size_t n = 0;
	int r;

	snprintf(mapped, sizeof(mapped), "/dev/mapper/%.64s", v->name);
	if (stat(mapped, &st) == 0) {
		log_info("%s is already open", mapped);
		return 0;
	}
	snprintf(what, sizeof(what), "the device of " LAYOUT_CRYPTTAB
		 " volume %.64s", v->name);
	if (rootdev_wait(v->device, wait_s, what, "/" LAYOUT_CRYPTTAB, dev,
			 sizeof(dev)) < 0)
		return 1;
	snprintf(tries, sizeof(tries), "--tries=%u", v->tries);
	argv[n++] = "cryptsetup";
	argv[n++] = "open";
	argv[n++] = "--type=luks";
	argv[n++] = tries;
	if (v->discard)
		argv[n++] = "--allow-discards";
	if (v->readonly)
		argv[n++] = "--readonly";
	if (v->keyfile[0]) {
		argv[n++] = "--key-file";
		argv[n++] = (char *)v->keyfile;
	}
	argv[n++] = dev;
	argv[n++] = (char *)v->name;
	argv[n] = NULL;
	if (!v->keyfile[0])
		printf("earlyfs: unlocking %s (%s)%s\n", v->name, v->device,
		       v->tries ? "" : "; asking until it opens");
	fflush(stdout);
	r = run(argv);
	if (r == 0) {
		log_info("opened %s (%s) as %s", dev, v->device, mapped);
		return 0;
	}
	log_error("cannot open %s (%s) as %s: cryptsetup exited %d%s", dev,
		  v->name, mapped, r, r == 2 ? " (no key matched: a wrong "
		  "passphrase, or too many attempts)" : "");
	return 1;
}

int tool_unlock(const struct boot_config *cfg)
{
	struct crypttab_entry v[CRYPTTAB_MAX];
	const char *what = "";
	size_t len, line = 0, i;
	char *buf;
	int n, failed = 0;

	n = read_file("/" LAYOUT_CRYPTTAB, LAYOUT_CRYPTTAB_MAX, &buf, &len);
	if (n < 0) {
		log_error("cannot read /" LAYOUT_CRYPTTAB ": %s", strerror(-n));
		return 1;
	}
	n = crypttab_parse(buf, len, v, &line, &what);
	free(buf);
	if (n < 0) {
		log_error("/" LAYOUT_CRYPTTAB ":%zu: %s; fix it with 'earlyfs "
			  "feature add luks --crypttab FILE'", line, what);
		return 1;
	}
	mkdir("/run/cryptsetup", 0700);	/* its lock directory */
	for (i = 0; i < (size_t)n; i++) {
		if (v[i].noauto)
			continue;
		if (open_volume(&v[i], cfg->rootwait) == 0)
			continue;
		if (v[i].nofail)
			log_warn("%s: nofail, continuing without it", v[i].name);
		else
			failed = 1;
	}
	return failed;
}

int tool_pause(void)
{
	char c;
	ssize_t n;

	printf("earlyfs: paused before the root is mounted; press Enter on "
	       "the console to continue\n");
	fflush(stdout);
	while ((n = read(0, &c, 1)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || c == '\n' || c == '\r')
			break;
	}
	if (n == 0)
		log_warn("the console gave end-of-file: not pausing");
	log_info("continuing after the pause");
	return 0;
}

int tool_root_device(const struct boot_config *cfg)
{
	char dev[256], type[32];

	if (!cfg->root) {
		log_error("earlyfs.root= is not set");
		return 1;
	}
	if (rootdev_wait(cfg->root, cfg->rootwait, "root device",
			 "earlyfs.root", dev, sizeof(dev)) < 0)
		return 1;
	rootdev_probe(dev, type, sizeof(type));
	printf("%s %s\n", dev, type[0] ? type : "unknown");
	return 0;
}
