/* fragments: run init.d fragments in order, each in its own session */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "atomic.h"
#include "fragment.h"
#include "init.h"
#include "text.h"
#include "profile.h"

static void read_head(const char *path, struct fragment_directives *d,
		      const char *name)
{
	char buf[2048];
	size_t line;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	memset(d, 0, sizeof(*d));
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return;
	if (fragment_directives_parse(buf, (size_t)n, d, &line) < 0)
		log_warn("%s line %zu: unknown '# earlyfs:' directive "
			 "(known: optional, timeout=SECONDS), ignored",
			 name, line);
}

/* The child: its own session, so a timeout can kill it and its children. */
static void exec_fragment(const char *path, const struct envlist *env,
			  int errfd)
{
	char *const direct[] = { (char *)path, NULL };
	char *const viash[] = { "sh", "-e", (char *)path, NULL };
	struct stat st;
	int e;

	child_clean();
	setsid();
	if (chdir("/") < 0) {
		/* cannot happen on a mounted root; run from wherever we are */
	}
	if (stat(path, &st) == 0 && (st.st_mode & S_IXUSR)) {
		execve(path, direct, env->vars);
		if (errno != ENOEXEC)
			goto fail;
	}
	execve(SHELL_PATH, viash, env->vars);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0) {
		/* the parent sees exit 127 either way */
	}
	_exit(127);
}

static void describe(const struct report_fragment *f, char *buf, size_t cap)
{
	switch (f->status) {
	case STATUS_FAILED:
		snprintf(buf, cap, "exit status %d", f->code);
		break;
	case STATUS_SIGNAL:
		snprintf(buf, cap, "killed by signal %d (%s)", f->code,
			 strsignal(f->code));
		break;
	case STATUS_TIMEOUT:
		snprintf(buf, cap, "timed out after %d s and was killed",
			 f->code);
		break;
	case STATUS_ERROR:
		snprintf(buf, cap, "could not be executed: %s",
			 strerror(f->code));
		break;
	default:
		snprintf(buf, cap, "%s", report_status_name(f->status));
	}
}

/* Reads the state fragments appended to $EARLYFS_ENV into env. */
#define ENV_FILE_MAX (256 * 1024)

static void apply_env_file(struct envlist *env, size_t *warned_upto)
{
	size_t len, bad;
	char *buf;
	int r;

	r = read_regular(ENV_FILE, ENV_FILE_MAX, &buf, &len);
	if (r == -EINVAL || r == -EFBIG) {
		log_warn("%s: %s; not read", ENV_FILE, r == -EINVAL ?
			 "not a regular file (replaced by a fragment?)" :
			 "larger than 256 KiB");
		return;
	}
	if (r < 0)
		return;
	r = envfile_apply(buf, len, env, &bad);
	if (r > 0 && bad > *warned_upto) {
		log_warn("%s line %zu: not NAME=VALUE, ignored", ENV_FILE, bad);
		*warned_upto = bad;
	} else if (r < 0) {
		log_warn("%s: %s; later lines not passed on", ENV_FILE,
			 strerror(-r));
	}
	free(buf);
}

static void run_one(const char *dir, const char *name,
		    const struct boot_config *cfg, struct envlist *env,
		    struct report_fragment *f, struct boot_report *rep)
{
	unsigned long long since;
	struct fragment_directives d;
	struct stat st;
	char path[512];
	long timeout, start;
	int pipefd[2], status = 0, e = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	start = now_ms();
	f->start_ms = start;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		/* a FIFO or a device would block PID 1 (or sh) forever */
		log_warn("%s: %s; skipped", name, errno == ENOENT ?
			 "vanished" : "not a regular file (a FIFO, a device?)");
		f->status = STATUS_SKIPPED;
		return;
	}
	read_head(path, &d, name);
	f->optional = d.optional;
	timeout = bootcfg_timeout_for(cfg, name);
	if (timeout < 0)
		timeout = d.has_timeout ? (long)d.timeout
					: FRAGMENT_DEFAULT_TIMEOUT;
	envlist_set(env, "EARLYFS_FRAGMENT", 16, name, strlen(name));
	log_debug("running %s (timeout %ld s%s)", name, timeout,
		  d.optional ? ", optional" : "");
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		f->status = STATUS_ERROR;
		f->code = errno;
		return;
	}
	profile_mark("head");
	since = procs_ticks_now();
	pid = fork();
	if (pid == 0)
		exec_fragment(path, env, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0) {
		f->status = STATUS_ERROR;
		f->code = errno;
		close(pipefd[0]);
		return;
	}
	if (child_wait(pid, timeout ? timeout * 1000 : -1, &status) < 0) {
		log_error("%s: still running after %ld s, killing it", name,
			  timeout);
		child_kill_group(pid, &status);
		/* and whatever it started, however it detached */
		procs_stop(since, rep, name);
		f->status = STATUS_TIMEOUT;
		f->code = (int)timeout;
	} else if (read(pipefd[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		f->status = STATUS_ERROR;
		f->code = e;
	} else if (WIFEXITED(status)) {
		f->code = WEXITSTATUS(status);
		f->status = f->code ? STATUS_FAILED : STATUS_OK;
	} else {
		f->status = STATUS_SIGNAL;
		f->code = WTERMSIG(status);
	}
	profile_mark(name);
	close(pipefd[0]);
	f->duration_ms = now_ms() - start;
}

/* EARLYFS_NOTE=TEXT from a fragment (a degraded array, a volume left
 * closed): on the console and in the report.  The env file is read
 * whole after each fragment: a note counts when its value changed. */
static void take_note(struct envlist *env, const char *name,
		      struct boot_report *rep)
{
	static char last[sizeof(rep->notes[0].text)];
	const char *t = envlist_get(env, "EARLYFS_NOTE");
	struct report_note *n;

	if (!t || !*t || !strncmp(t, last, sizeof(last) - 1))
		return;
	snprintf(last, sizeof(last), "%s", t);
	log_notice("%s: %s", name, t);
	if (rep->n_notes < REPORT_NOTES_MAX) {
		n = &rep->notes[rep->n_notes++];
		text_copy(n->from, sizeof(n->from), name, strlen(name));
		snprintf(n->text, sizeof(n->text), "%s", t);
		text_printable(n->text);
	}
}

void fragments_run(const char *dir, const struct boot_config *cfg,
		   struct envlist *env, struct boot_report *rep)
{
	struct fragment_list *l;
	char how[160], why[512];
	size_t i, warned = 0;
	bool paused = false;
	int r;

	l = malloc(sizeof(*l));
	if (!l) {
		log_error("out of memory listing %s; no fragments run", dir);
		return;
	}
	r = fragment_list_load(dir, l);
	if (r == -E2BIG)
		log_error("%s: more than %d fragments; the rest do not run",
			  dir, FRAGMENTS_MAX);
	else if (r < 0)
		log_warn("cannot read %s: %s; no fragments run", dir,
			 strerror(-r));
	for (i = 0; i < l->n_invalid; i++)
		log_warn("%s/%s: not a fragment name (" FRAGMENT_RULE
			 "), ignored", dir, l->invalid[i]);

	for (i = 0; i <= l->n && rep->n < FRAGMENTS_MAX; i++) {
		struct report_fragment *f;

		/* earlyfs.pause: once, where the root is about to be mounted
		 * (before 50), unless a fragment paused (EARLYFS_PAUSED) */
		if (cfg->pause && !paused && (i == l->n ||
		    strncmp(l->names[i], "50", 2) >= 0)) {
			paused = true;
			if (!envlist_get(env, "EARLYFS_PAUSED"))
				tool_pause();
		}
		if (i == l->n)
			break;
		f = &rep->fragments[rep->n++];
		memset(f, 0, sizeof(*f));
		snprintf(f->name, sizeof(f->name), "%s", l->names[i]);
		if (bootcfg_breaks_at(cfg, f->name)) {
			snprintf(why, sizeof(why), "break before %s "
				 "(earlyfs.break)", f->name);
			rescue_shell(env, why);
		}
		if (bootcfg_skips(cfg, f->name)) {
			f->status = STATUS_SKIPPED;
			f->start_ms = now_ms();
			log_notice("%s: skipped (earlyfs.skip)", f->name);
			continue;
		}
		run_one(dir, f->name, cfg, env, f, rep);
		if (f->status == STATUS_SKIPPED)
			continue;	/* not a regular file: said why */
		apply_env_file(env, &warned);
		procs_keep(envlist_get(env, "EARLYFS_KEEP"));
		take_note(env, f->name, rep);
		profile_mark("env-file");
		describe(f, how, sizeof(how));
		if (f->status == STATUS_OK) {
			log_debug("%s: ok (%ld ms)", f->name, f->duration_ms);
			continue;
		}
		if (f->optional) {
			log_warn("%s: %s after %ld ms; optional, continuing",
				 f->name, how, f->duration_ms);
			continue;
		}
		snprintf(why, sizeof(why), "fragment %s failed: %s after "
			 "%ld ms", f->name, how, f->duration_ms);
		log_error("%s", why);
		if (cfg->shell == SHELL_NEVER) {
			log_error("earlyfs.shell=never: continuing the boot");
			continue;
		}
		rescue_or_hang(cfg, env, why);
		log_notice("rescue shell exited; continuing the boot after %s",
			 f->name);
	}
	free(l);
}
