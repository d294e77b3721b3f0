/* err: filling the one error message a command prints */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include "base/err.h"

static int errno_of(int code)
{
	switch (code) {
	case EXIT_USAGE: return -EINVAL;
	case EXIT_REFUSED: return -EPERM;
	case EXIT_KERNEL: return -ENOEXEC;
	default: return -EIO;
	}
}

static void fill(struct err *e, int code, const char *fmt, va_list ap)
{
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	e->code = code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fill(e, code, fmt, ap);
	va_end(ap);
	return errno_of(code);
}

int err_setr(struct err *e, int r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fill(e, code, fmt, ap);
	va_end(ap);
	return r < 0 ? r : errno_of(code);
}

void err_prefix(struct err *e, const char *what)
{
	char msg[sizeof(e->msg)];

	snprintf(msg, sizeof(msg), "%s", e->msg);
	snprintf(e->msg, sizeof(e->msg), "%s: %s", what, msg);
}
