/* procs: what the early stage started, stopped when it must not outlive it
 *
 * PID 1 runs one fragment at a time and starts nothing else, so a process
 * that started after a fragment did is that fragment's, however it
 * detached (setsid, a double fork: its orphans come to PID 1).  At the
 * fragment's time limit those are stopped; at the pivot every process
 * left from the early stage is, but those a fragment asked to keep
 * (EARLYFS_KEEP in $EARLYFS_ENV) and their children.  Kernel threads are
 * never touched.  /proc/PID/stat gives each one's start time, parent and
 * flags.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "init.h"
#include "text.h"

#define PF_KTHREAD 0x00200000
#define KEEP_MAX 32
#define SCAN_MAX 4096

struct proc {
	pid_t pid, ppid;
	unsigned long long start;	/* clock ticks after boot */
	char comm[16];
};

static struct proc kept[KEEP_MAX];
static size_t n_kept;

/* One process from /proc/PID/stat: 1, 0 for a kernel thread, or -errno. */
static int proc_read(pid_t pid, struct proc *ret)
{
	char path[32], buf[1024], *rp, *f;
	unsigned long flags = 0;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* "PID (COMM) STATE PPID ..." where COMM may hold anything */
	f = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!f || !rp || rp < f)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->pid = pid;
	snprintf(ret->comm, sizeof(ret->comm), "%.*s",
		 (int)(rp - f - 1 < 15 ? rp - f - 1 : 15), f + 1);
	for (i = 0; ret->comm[i]; i++)
		if ((unsigned char)ret->comm[i] <= ' ' || ret->comm[i] == 0x7f)
			ret->comm[i] = '_';
	f = rp + 2;
	if (*f == 'Z' || *f == 'X')
		return -ESRCH;	/* dead, waiting to be reaped */
	/* fields from 3 (state): ppid is 4, flags 9, starttime 22 */
	for (i = 3; f && *f && i <= 22; i++) {
		if (i == 4)
			ret->ppid = (pid_t)strtol(f, NULL, 10);
		else if (i == 9)
			flags = strtoul(f, NULL, 10);
		else if (i == 22)
			ret->start = strtoull(f, NULL, 10);
		f = strchr(f, ' ');
		if (f)
			f++;
	}
	if (i <= 22)
		return -EINVAL;
	return (flags & PF_KTHREAD) || pid == 2 || ret->ppid == 2 ? 0 : 1;
}

/* Every user process but PID 1: how many, into v (at most cap). */
static size_t proc_scan(struct proc *v, size_t cap)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir("/proc");
	unsigned long pid;

	while (d && (de = readdir(d)) && n < cap)
		if (text_parse_uint(de->d_name, strlen(de->d_name), 1u << 22,
				    &pid) == 0 && pid > 1 &&
		    proc_read((pid_t)pid, &v[n]) == 1)
			n++;
	if (d)
		closedir(d);
	return n;
}

static bool is_kept(const struct proc *p, const struct proc *all, size_t n)
{
	size_t i, j, depth;
	pid_t pid = p->pid;

	/* the kept process itself, or a descendant still linked to it */
	for (depth = 0; pid > 1 && depth < 64; depth++) {
		for (i = 0; i < n_kept; i++)
			if (kept[i].pid == pid)
				return true;
		for (j = 0; j < n && all[j].pid != pid; j++)
			;
		if (j == n)
			return false;
		pid = all[j].ppid;
	}
	return false;
}

unsigned long long procs_ticks_now(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
	       (unsigned long long)ts.tv_nsec / (1000000000ULL / (unsigned long long)hz);
}

void procs_keep(const char *list)
{
	const char *s = list;
	struct proc p;

	while (s && *s) {
		size_t len = strcspn(s, " \t,");
		unsigned long pid;
		size_t i;

		if (len && text_parse_uint(s, len, 1u << 22, &pid) == 0 &&
		    pid > 1 && proc_read((pid_t)pid, &p) == 1) {
			for (i = 0; i < n_kept && kept[i].pid != p.pid; i++)
				;
			if (i == n_kept && n_kept < KEEP_MAX) {
				kept[n_kept++] = p;
				log_info("keeping process %d (%s) past the pivot "
					 "(EARLYFS_KEEP)", (int)p.pid, p.comm);
			}
		} else if (len) {
			log_warn("EARLYFS_KEEP: '%.*s' is not a running "
				 "process, ignored", (int)len, s);
		}
		s += len;
		s += strspn(s, " \t,");
	}
}

static void note(struct boot_report *rep, const struct proc *p, bool keep,
		 const char *when)
{
	struct report_proc *r;

	if (rep->n_procs == REPORT_PROCS_MAX)
		return;
	r = &rep->procs[rep->n_procs++];
	r->kept = keep;
	r->pid = (int)p->pid;
	snprintf(r->when, sizeof(r->when), "%s", when);
	snprintf(r->comm, sizeof(r->comm), "%s", p->comm);
}

/* The processes to stop now: started at or after `since` (0: any), not
 * kept.  Signals them with sig; how many. */
static size_t signal_all(unsigned long long since, int sig,
			 struct boot_report *rep, const char *when)
{
	struct proc *v = malloc(SCAN_MAX * sizeof(*v));
	size_t n, i, hit = 0;

	if (!v)
		return 0;
	n = proc_scan(v, SCAN_MAX);
	for (i = 0; i < n; i++) {
		if (v[i].start < since || is_kept(&v[i], v, n))
			continue;
		if (kill(v[i].pid, sig) < 0)
			continue;
		hit++;
		if (rep && sig == SIGTERM) {
			log_warn("%s: stopping process %d (%s)%s", when,
				 (int)v[i].pid, v[i].comm, since ? ", which "
				 "outlived its time limit" : ", left running "
				 "by a fragment");
			note(rep, &v[i], false, when);
		}
	}
	free(v);
	return hit;
}

/* Every process the early stage started and that still runs descends
 * from PID 1 (an orphan comes to PID 1), so when PID 1 has no child
 * there is nothing to stop, and /proc need not be read. */
static bool has_children(void)
{
	siginfo_t si;

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 ||
	       errno != ECHILD;
}

void procs_stop(unsigned long long since, struct boot_report *rep,
		const char *when)
{
	long end;

	if (!has_children() || !signal_all(since, SIGTERM, rep, when))
		return;
	/* a short grace, reaping what exits; then SIGKILL what is left */
	end = now_ms() + PROCS_GRACE_MS;
	while (now_ms() < end) {
		child_sleep(50);
		if (!signal_all(since, 0, NULL, when))
			return;
	}
	signal_all(since, SIGKILL, NULL, when);
	child_sleep(50);
}

void procs_report_kept(struct boot_report *rep)
{
	struct proc p;
	size_t i;

	for (i = 0; i < n_kept; i++)
		if (proc_read(kept[i].pid, &p) == 1 && p.start == kept[i].start)
			note(rep, &p, true, "pivot");
}
