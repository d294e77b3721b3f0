/* child: SIGCHLD handling, waiting with a deadline, reaping orphans */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include "init.h"

static sigset_t chld_set;

/*
 * PID 1 blocks SIGCHLD and waits for it with sigtimedwait, so a deadline
 * and the reaping of every orphan fit in one loop.
 */
void child_setup_signals(void)
{
	sigemptyset(&chld_set);
	sigaddset(&chld_set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld_set, NULL);
}

void child_reset_signals(void)
{
	sigset_t none;
	int s;

	for (s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void child_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int child_wait(pid_t pid, long timeout_ms, int *ret_status)
{
	long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;

	for (;;) {
		struct timespec ts;
		int status;
		pid_t r;

		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			if (r == pid) {
				*ret_status = status;
				child_reap();
				return 0;
			}
		if (r < 0 && errno == ECHILD)
			return -ECHILD;
		if (timeout_ms < 0) {
			sigwaitinfo(&chld_set, NULL);
			continue;
		}
		long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sigtimedwait(&chld_set, NULL, &ts);
	}
}

void child_kill_group(pid_t pgid, int *ret_status)
{
	kill(-pgid, SIGTERM);
	if (child_wait(pgid, 2000, ret_status) == 0)
		goto rest;
	kill(-pgid, SIGKILL);
	if (child_wait(pgid, 5000, ret_status) < 0)
		log_error("process %d did not die after SIGKILL, continuing",
			  (int)pgid);
rest:
	/* background children of the fragment share its group */
	kill(-pgid, SIGKILL);
	child_reap();
}
