/* tools: what earlyfs-init does when a fragment runs it (not PID 1):
 * open the LUKS volumes of etc/crypttab and pause, asking on the console
 * and over SSH (ask.c); name the root device.  The shipped fragments of
 * the features exec these. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "exitcode.h"
#include "atomic.h"
#include "crypttab.h"
#include "init.h"

/* Runs argv (found in PATH) on the console; its exit status, or -errno. */
static int run(char *const argv[])
{
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
	return exitcode_wait(pid);
}

/* cryptsetup with the passphrase on its standard input (a pipe: never a
 * file); its exit status, or -errno. */
static int run_with_key(char *const argv[], const char *key, size_t len)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(p[0], 0);
		child_clean();
		execvp(argv[0], argv);
		fprintf(stderr, "earlyfs-init: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(p[0]);
	/* a passphrase is far below the pipe's capacity: no deadlock */
	if (write(p[1], key, len) != (ssize_t)len)
		log_warn("cannot pass the passphrase to cryptsetup: %m");
	close(p[1]);
	return exitcode_wait(pid);
}

/* Asks for the passphrase of v (on the console and over SSH) until it
 * opens or its tries are used: 0, or 1 having said why. */
static int ask_volume(struct ask *a, char **argv, const char *dev,
		      const struct crypttab_entry *v, const char *mapped)
{
	char prompt[320], pass[ASK_ANSWER_MAX + 2];
	unsigned t;
	bool remote;
	ssize_t n;
	int r;

	printf("earlyfs: unlocking %s (%s)%s\n", v->name, v->device,
	       v->tries ? "" : "; asking until it opens");
	snprintf(prompt, sizeof(prompt), "Enter passphrase for %s: ", dev);
	for (t = 1; !v->tries || t <= v->tries;) {
		n = ask_question(a, true, prompt, pass, sizeof(pass), &remote);
		if (n < 0) {
			log_error("cannot ask for the passphrase of %s: the "
				  "console gave end-of-file and no SSH session "
				  "can answer", v->name);
			return 1;
		}
		if (n == 0) {
			ask_tell(a, "NO", "an empty passphrase; type it again");
			continue;
		}
		r = run_with_key(argv, pass, (size_t)n);
		explicit_bzero(pass, sizeof(pass));
		if (r == 0) {
			ask_tell(a, "OK", "opened %s (%s) as %s%s", dev,
				 v->device, mapped, remote ? ", answered over "
				 "SSH" : "");
			return 0;
		}
		if (r != 2)
			break;
		if (v->tries)
			ask_tell(a, "NO", "wrong passphrase for %s (%u of %u "
				 "tries)", v->name, t, v->tries);
		else
			ask_tell(a, "NO", "wrong passphrase for %s", v->name);
		t++;
	}
	ask_tell(a, "NO", "cannot open %s (%s) as %s: %s", dev, v->name,
		 mapped, r == 2 ? "no passphrase matched" : "cryptsetup "
		 "failed (its message is above)");
	return 1;
}

/* Opens one volume; 0, or 1 having said why. */
static int open_volume(struct ask *a, const struct crypttab_entry *v,
		       unsigned wait_s)
{
	char dev[256], mapped[128], what[128];
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
	argv[n++] = "cryptsetup";
	argv[n++] = "open";
	argv[n++] = "--type=luks";
	argv[n++] = "--tries=1";
	if (v->discard)
		argv[n++] = "--allow-discards";
	if (v->readonly)
		argv[n++] = "--readonly";
	argv[n++] = "--key-file";
	argv[n++] = v->keyfile[0] ? (char *)v->keyfile : "-";
	argv[n++] = dev;
	argv[n++] = (char *)v->name;
	argv[n] = NULL;
	if (!v->keyfile[0])
		return ask_volume(a, argv, dev, v, mapped);
	r = run(argv);
	if (r == 0) {
		log_info("opened %s (%s) as %s", dev, v->device, mapped);
		return 0;
	}
	log_error("cannot open %s (%s) as %s with the key file %s: "
		  "cryptsetup exited %d", dev, v->name, mapped, v->keyfile, r);
	return 1;
}

/* Sessions can answer too when an SSH server runs (the ssh feature). */
static void ask_start(struct ask *a)
{
	int r = ask_open(a, access(SSH_PIDFILE, F_OK) == 0);

	if (r < 0)
		log_warn("cannot listen on " ASK_SOCKET ": %s; only the "
			 "console can answer", strerror(-r));
}

int tool_unlock(const struct boot_config *cfg)
{
	struct crypttab_entry v[CRYPTTAB_MAX];
	const char *what = "";
	size_t len, line = 0, i;
	struct ask a;
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
	ask_start(&a);
	for (i = 0; i < (size_t)n; i++) {
		if (v[i].noauto)
			continue;
		if (open_volume(&a, &v[i], cfg->rootwait) == 0)
			continue;
		if (v[i].nofail)
			log_warn("%s: nofail, continuing without it", v[i].name);
		else
			failed = 1;
	}
	ask_close(&a);
	return failed;
}

int tool_pause(void)
{
	char ans[ASK_ANSWER_MAX + 2];
	struct ask a;
	bool remote;
	ssize_t n;

	ask_start(&a);
	n = ask_question(&a, false, a.lfd >= 0 ?
			 "earlyfs: paused before the root is mounted; press "
			 "Enter on the console (or run earlyfs-continue over "
			 "SSH) to continue" :
			 "earlyfs: paused before the root is mounted; press "
			 "Enter on the console to continue",
			 ans, sizeof(ans), &remote);
	if (n < 0)
		log_warn("the console gave end-of-file: not pausing");
	else
		ask_tell(&a, "OK", "continuing after the pause%s",
			 remote ? " (earlyfs-continue over SSH)" : "");
	ask_close(&a);
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
