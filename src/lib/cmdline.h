/* cmdline: the kernel command line split into parameters, and earlyfs.* keys */
#ifndef EARLYFS_CMDLINE_H
#define EARLYFS_CMDLINE_H
#include <stdbool.h>
#include <stddef.h>

#define CMDLINE_MAX 4096	/* x86 COMMAND_LINE_SIZE is 2048 */
#define CMDLINE_PARAMS_MAX 256

struct cmdline_param {
	const char *key;
	const char *value;	/* NULL for a bare word such as "ro" */
};

struct cmdline {
	char buf[CMDLINE_MAX + 1];
	struct cmdline_param params[CMDLINE_PARAMS_MAX];
	size_t n;
};

/*
 * Splits like the kernel: blanks separate parameters except inside double
 * quotes, which are removed ('key="a b"' gives key, "a b").  Stops at "--".
 * Returns 0, or -E2BIG when the line or the number of parameters is over the
 * limit (nothing is kept then).
 */
int cmdline_parse(const char *buf, size_t len, struct cmdline *ret);

/* The value of the last parameter named key; NULL if absent or bare. */
const char *cmdline_get(const struct cmdline *c, const char *key);
/* true when key appears at all, bare or with a value */
bool cmdline_has(const struct cmdline *c, const char *key);

/* "earlyfs.root" -> "EARLYFS_ROOT"; -EINVAL if not an earlyfs.* key that
 * makes a valid variable name, -E2BIG if it does not fit. */
int cmdline_env_name(const char *key, char *ret, size_t cap);
#endif
