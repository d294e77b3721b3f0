/* child: SIGCHLD handling, waiting with a deadline, reaping orphans */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "init.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

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

/*
 * What every process PID 1 starts (a fragment, the rescue shell) and the
 * real init get: default dispositions, an empty signal mask, and no
 * descriptor but 0, 1 and 2 once it execs (the others are marked
 * close-on-exec, so a pipe that reports a failed exec still works).
 * As PID 1 the dispositions need no resetting: the kernel starts init
 * with all of them default, earlyfs-init changes none (it blocks SIGCHLD
 * and waits), and exec would reset a handler anyway; only an ignored
 * signal survives exec, and nothing here ignores one
 * (tests/boot/test_hygiene.py reads SigIgn of fragments and of the real
 * init).  That saves 64 system calls before each exec.  As a tool
 * (earlyfs-shell under dropbear, say) what it inherited is not known:
 * every disposition is reset.
 */
bool child_dispositions_default;

void child_clean(void)
{
	sigset_t none;
	int s, fd;

	for (s = 1; !child_dispositions_default && s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (fd = 3; fd < 1024; fd++)	/* before Linux 5.11 */
			fcntl(fd, F_SETFD, FD_CLOEXEC);
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

void child_sleep(long ms)
{
	long deadline = now_ms() + ms, left;
	struct timespec ts;

	while ((left = deadline - now_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sigtimedwait(&chld_set, NULL, &ts);
		child_reap();
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
