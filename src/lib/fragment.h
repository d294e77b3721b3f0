/* fragment: the naming rule, run order and directives of init.d fragments */
#ifndef EARLYFS_FRAGMENT_H
#define EARLYFS_FRAGMENT_H
#include <stdbool.h>
#include <stddef.h>

#define FRAGMENT_NAME_MAX 64
#define FRAGMENTS_MAX 100
#define FRAGMENT_DEFAULT_TIMEOUT 60

/* The rule, for messages: the runner and the CLI show the same text. */
#define FRAGMENT_RULE \
	"NN-name: two digits, '-', then letters, digits, '_' or '-' " \
	"(at most 64 characters), optionally ending in .sh"

enum fragment_class {
	FRAGMENT_RUN,		/* runs at boot */
	FRAGMENT_DISABLED,	/* NN-name.disabled */
	FRAGMENT_IGNORED,	/* dotfile, backup, package or temp file */
	FRAGMENT_INVALID,	/* anything else: a name the rule rejects */
};

/* Which class a directory entry's name falls in.  Pure. */
enum fragment_class fragment_name_classify(const char *name);

/* 0 if name may run, -EINVAL otherwise (with the rule as the reason). */
int fragment_name_check(const char *name);

struct fragment_list {
	char names[FRAGMENTS_MAX][FRAGMENT_NAME_MAX + 1];
	size_t n;
	/* names the rule rejected, so callers can warn about them */
	char invalid[16][FRAGMENT_NAME_MAX + 1];
	size_t n_invalid;
};

/* Sorts names in byte order (strcmp), the order they run in. */
void fragment_list_sort(struct fragment_list *l);

/*
 * Reads directory dir and keeps the names that run, sorted.  Returns 0,
 * -errno from opendir, or -E2BIG if more than FRAGMENTS_MAX would run.
 */
int fragment_list_load(const char *dir, struct fragment_list *ret);

struct fragment_directives {
	bool optional;
	bool has_timeout;
	unsigned timeout;
};

/*
 * Reads "# earlyfs: optional timeout=SECONDS" lines among the first 20
 * lines of a fragment.  Returns 0, or -EINVAL for an unknown or malformed
 * directive (*ret_line says where); the good ones are still filled in.
 */
int fragment_directives_parse(const char *buf, size_t len,
			      struct fragment_directives *ret,
			      size_t *ret_line);

/*
 * The interpreter a "#!" line names, as the kernel reads it: blanks after
 * "#!" skipped, the path up to a blank or the line's end, never past len
 * (the bytes need not be NUL-terminated).  Returns its length (copied to
 * ret, NUL-terminated), 0 when buf does not start with "#!" or names
 * nothing, or -ENAMETOOLONG when it does not fit in cap.
 */
int fragment_interpreter(const char *buf, size_t len, char *ret, size_t cap);
#endif
