/* rescue: the console shell every failure ends in, or a wait that never ends */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <unistd.h>
#include "init.h"

static const char *const shells[] = { SHELL_PATH, "/boot/bin/sh" };

/*
 * A shell that exits at once (a console at end of file, a hung up line)
 * must not be restarted in a busy loop: after RESPAWN_FREE quick exits in
 * a row, each restart waits twice as long as the one before, up to
 * RESPAWN_MAX_S, like init's "respawning too fast".
 */
#define RESPAWN_QUICK_MS 5000
#define RESPAWN_FREE 3
#define RESPAWN_MAX_S 60
static unsigned quick_exits;

static void backoff(void)
{
	unsigned n;
	long s;

	if (quick_exits < RESPAWN_FREE)
		return;
	n = quick_exits - RESPAWN_FREE;
	s = n >= 6 ? RESPAWN_MAX_S : 1L << n;
	if (s > RESPAWN_MAX_S)
		s = RESPAWN_MAX_S;
	if (n == 0)
		log_warn("the rescue shell exited at once %u times in a row "
			 "(console at end of file?): restarting it ever more "
			 "slowly, up to every %d s", quick_exits,
			 RESPAWN_MAX_S);
	child_sleep(s * 1000);
}

bool rescue_shell(const struct envlist *env, const char *why)
{
	const char *sh = NULL;
	size_t i;
	int status;
	long started;
	pid_t pid;

	for (i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (access(shells[i], X_OK) == 0) {
			sh = shells[i];
			break;
		}
	if (!sh) {
		log_error("no shell at %s: cannot open a rescue shell",
			  SHELL_PATH);
		return false;
	}
	backoff();
	log_notice("rescue shell: %s", why);
	log_notice("type 'exit' to continue the boot");
	started = now_ms();
	pid = fork();
	if (pid < 0) {
		log_error("cannot start the rescue shell: %m");
		return false;
	}
	if (pid == 0) {
		char *const argv[] = { "sh", "-i", NULL };
		char *vars[ENVLIST_MAX + 2];

		for (i = 0; i < env->n; i++)
			vars[i] = env->vars[i];
		vars[i++] = "PS1=earlyfs# ";
		vars[i] = NULL;
		child_clean();
		setsid();
		ioctl(STDIN_FILENO, TIOCSCTTY, 1);
		execve(sh, argv, vars);
		_exit(127);
	}
	child_wait(pid, -1, &status);
	if (now_ms() - started < RESPAWN_QUICK_MS)
		quick_exits++;
	else
		quick_exits = 0;
	return true;
}

void rescue_or_hang(const struct boot_config *cfg, const struct envlist *env,
		    const char *why)
{
	sigset_t chld;

	if (cfg->shell == SHELL_ON_FAILURE && rescue_shell(env, why))
		return;
	log_error("%s", why);
	if (cfg->shell == SHELL_REBOOT) {
		/* a loader that counts boots takes this as a failed try */
		log_error("earlyfs.shell=reboot: restarting the machine");
		sync();
		reboot(RB_AUTOBOOT);
		log_error("cannot restart the machine: %m");
	}
	log_error("no rescue shell (earlyfs.shell=never or no %s): the boot "
		  "stops here. Boot the 'rescue' label to repair it",
		  SHELL_PATH);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		sigwaitinfo(&chld, NULL);
		child_reap();
	}
}
