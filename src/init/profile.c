/* profile: see profile.h; empty unless built with -DEARLYFS_PROFILE */
#ifdef EARLYFS_PROFILE
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "profile.h"

#define MARKS_MAX 64

static struct {
	char stage[32];
	long us, cpu_us;
} marks[MARKS_MAX];
static int n_marks;

static long clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static long now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

void profile_mark(const char *stage)
{
	if (n_marks == MARKS_MAX)
		return;
	marks[n_marks].us = now_us();
	/* the CPU time PID 1 has used (user and system): the difference
	 * between two marks is the stage's own work, the rest of its time
	 * is waiting (for the disk, mostly) */
	marks[n_marks].cpu_us = clock_us(CLOCK_PROCESS_CPUTIME_ID);
	snprintf(marks[n_marks++].stage, sizeof(marks[0].stage), "%s", stage);
}

void profile_dump(void)
{
	char line[4096];
	int n, i, fd;

	n = snprintf(line, sizeof(line), "earlyfs-profile: now=%ld", now_us());
	for (i = 0; i < n_marks && n < (int)sizeof(line) - 64; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%ld:%ld",
			      marks[i].stage, marks[i].us, marks[i].cpu_us);
	line[n++] = '\n';
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) < 0) {
		/* a profile is best effort */
	}
	close(fd);
}
#else
typedef int profile_unused;	/* ISO C wants a declaration */
#endif
