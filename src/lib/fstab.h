/* fstab: parse fstab(5) text, with octal escapes, into entries */
#ifndef EARLYFS_FSTAB_H
#define EARLYFS_FSTAB_H
#include <stddef.h>

#define FSTAB_ENTRIES_MAX 256	/* an early fstab holds a handful */
#define FSTAB_ERRORS_MAX 16
#define FSTAB_FIELD_MAX 1024

struct fstab_entry {
	char spec[FSTAB_FIELD_MAX];
	char file[FSTAB_FIELD_MAX];
	char vfstype[64];
	char mntops[FSTAB_FIELD_MAX];
	int freq;
	int passno;
	size_t line;
};

struct fstab_error {
	size_t line;
	int error;		/* -EINVAL, -E2BIG */
	const char *what;
};

struct fstab {
	struct fstab_entry entries[FSTAB_ENTRIES_MAX];
	size_t n;
	struct fstab_error errors[FSTAB_ERRORS_MAX];
	size_t n_errors;
};

/*
 * Parses one line.  Returns 1 with an entry, 0 for a blank or comment line,
 * or -errno with *ret_what saying what is wrong.
 */
int fstab_parse_line(const char *line, size_t len, struct fstab_entry *ret,
		     const char **ret_what);

/*
 * Parses a whole file: good lines become entries, bad ones errors (with line
 * numbers), so one bad line does not hide the rest.  Returns the number of
 * errors, or -E2BIG when there are more entries than FSTAB_ENTRIES_MAX.
 */
int fstab_parse(const char *buf, size_t len, struct fstab *ret);

/* Decodes \NNN octal escapes of s[0..len) into ret; -EINVAL on \000. */
int fstab_unescape(const char *s, size_t len, char *ret, size_t cap);
#endif
