/* err: the error contract of the management library (src/admin)
 *
 * Every function returns >= 0 on success and a negative errno on failure;
 * none returns a bare -1.  A function that takes a struct err fills it on
 * every failure with the message the CLI prints and the CLI's exit code,
 * so the caller only passes it up; the errno returned is then the cause
 * where one is known (-ENOSPC, -EEXIST, ...), else the one err_set()
 * derives from the exit code.  Library code never prints an error and
 * never exits; libext2fs' errcode_t and libblkid's codes are translated
 * where they are called.
 */
#ifndef EARLYFS_ERR_H
#define EARLYFS_ERR_H

/* Exit codes of the CLI, documented in earlyfs(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* a step failed; the message names it */
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,	/* a safety check refused the target */
	EXIT_KERNEL = 4,	/* the kernel cannot boot without an initramfs */
};

struct err {
	char msg[1024];
	int code;		/* one of the EXIT_* */
};

/* Fills e; returns -EIO for EXIT_FAILED, -EINVAL for EXIT_USAGE, -EPERM
 * for EXIT_REFUSED, -ENOEXEC for EXIT_KERNEL. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, returning r (a negative errno the caller knows better). */
int err_setr(struct err *e, int r, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefixes e's message with "what: " (a step's name, a file). */
void err_prefix(struct err *e, const char *what);
#endif
