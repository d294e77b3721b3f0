/* crypttab: the LUKS volumes the luks feature opens (etc/crypttab, in
 * crypttab(5) form: NAME DEVICE [KEYFILE [OPTIONS]])
 *
 * The runner reads it at every boot and the management tools validate it
 * before writing: one parser for both.  Only what early userspace does is
 * accepted; an option it would ignore (keyscript=, plain mode) is an error,
 * not a surprise at boot.
 */
#ifndef EARLYFS_CRYPTTAB_H
#define EARLYFS_CRYPTTAB_H
#include <stdbool.h>
#include <stddef.h>

#define CRYPTTAB_MAX 16			/* volumes */
#define CRYPTTAB_NAME_MAX 64		/* a device-mapper name */
#define CRYPTTAB_TRIES_DEFAULT 3
#define CRYPTTAB_TRIES_MAX 100

struct crypttab_entry {
	char name[CRYPTTAB_NAME_MAX + 1];	/* /dev/mapper/NAME */
	char device[256];			/* a device spec */
	char keyfile[256];			/* "" : ask for a passphrase;
						 * else absolute, no '.', '..'
						 * or empty component */
	unsigned tries;				/* 0: ask until it opens */
	bool discard, readonly, nofail, noauto;
	size_t line;
};

/* One line: 1 with an entry, 0 for a blank or comment line, -EINVAL or
 * -E2BIG with *ret_what saying what is wrong. */
int crypttab_parse_line(const char *line, size_t len,
			struct crypttab_entry *ret, const char **ret_what);

/* A whole file into v (at most CRYPTTAB_MAX): the number of entries, or
 * -errno with *ret_line and *ret_what for the first bad line (a name
 * given twice is one). */
int crypttab_parse(const char *buf, size_t len, struct crypttab_entry *v,
		   size_t *ret_line, const char **ret_what);
#endif
