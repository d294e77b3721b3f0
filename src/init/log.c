/* log: messages to the console and to the kernel log */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "init.h"

bool log_debug_on;
static int kmsg_fd = -1;
static char devkmsg_saved[16];

#define DEVKMSG "/proc/sys/kernel/printk_devkmsg"

static void write_string(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, s, strlen(s)) < 0) {
		/* the default stays; messages may be rate-limited */
	}
	close(fd);
}

/*
 * The kernel rate-limits /dev/kmsg writers (10 lines per 5 s by default),
 * and it would drop the runner's messages silently.  Lift the limit while
 * PID 1 runs; log_kmsg_restore() puts the setting back before the pivot.
 */
void log_kmsg_unlimit(void)
{
	ssize_t n;
	int fd = open(DEVKMSG, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, devkmsg_saved, sizeof(devkmsg_saved) - 1);
	close(fd);
	devkmsg_saved[n > 0 ? n : 0] = '\0';
	if (strncmp(devkmsg_saved, "ratelimit", 9) == 0)
		write_string(DEVKMSG, "on\n");
	else
		devkmsg_saved[0] = '\0';
}

void log_kmsg_restore(void)
{
	if (devkmsg_saved[0])
		write_string(DEVKMSG, devkmsg_saved);
	devkmsg_saved[0] = '\0';
}

void log_open(void)
{
	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The kernel echoes /dev/kmsg lines below console_loglevel to the console
 * itself; write to the console directly only when it will not, so that each
 * message shows once.  The level can change (40-printk), so it is read for
 * each message, from a descriptor opened once: after the pivot the early
 * /proc is gone, and a path would be looked up in the real root (a cold
 * disk read, or a file of its own).  Without it the last known level stands.
 */
static int console_loglevel(void)
{
	static int level = -1, fd = -1;
	char buf[32];
	ssize_t n;

	if (fd < 0)
		fd = open("/proc/sys/kernel/printk", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			level = atoi(buf);
		}
	}
	/* before /proc: the kernel's default (CONSOLE_LOGLEVEL_DEFAULT) */
	return level < 0 ? 7 : level;
}

/*
 * Every message goes to /dev/kmsg at its level (what dmesg keeps after the
 * pivot).  On the console it shows once: echoed by the kernel when its level
 * is below console_loglevel, else written directly if it is a notice or
 * worse (or earlyfs.debug is on).  So 'quiet' and 40-printk quiet routine
 * lines, never a failure, a wait or a rescue shell.
 */
void log_msg(int level, const char *fmt, ...)
{
	char buf[1024];
	int saved = errno, n;
	bool echoed = false;
	va_list ap;

	n = snprintf(buf, sizeof(buf), "<%d>earlyfs: ", level);
	if (level >= 7)	/* debug lines carry the time since the kernel started */
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "[%ld ms] ",
			      now_ms());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (kmsg_fd >= 0 && write(kmsg_fd, buf, (size_t)n) == n)
		echoed = level < console_loglevel();
	else
		level = 0;	/* no kernel log: the console is all there is */
	if (!echoed && (level <= 5 || log_debug_on) &&
	    write(STDERR_FILENO, buf + 3, (size_t)n - 3) < 0) {
		/* nothing better to do on a dead console */
	}
	errno = saved;
}
