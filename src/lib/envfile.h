/* envfile: NAME=VALUE lines that fragments append to $EARLYFS_ENV */
#ifndef EARLYFS_ENVFILE_H
#define EARLYFS_ENVFILE_H
#include <stddef.h>

#define ENVLIST_MAX 256

/* A bounded environment: "NAME=VALUE" strings, later settings replace. */
struct envlist {
	char *vars[ENVLIST_MAX + 1];	/* NULL-terminated, for execve */
	size_t n;
};

void envlist_init(struct envlist *e);
/* Sets name to value (a copy); -ENOMEM, -E2BIG when full, -EINVAL for a
 * bad name. */
int envlist_set(struct envlist *e, const char *name, size_t name_len,
		const char *value, size_t value_len);
/* Adds every NAME=VALUE string of a NULL-terminated array. */
int envlist_add_all(struct envlist *e, char *const *vars);
const char *envlist_get(const struct envlist *e, const char *name);
void envlist_free(struct envlist *e);

/*
 * Applies every good line of an env file to e.  Returns the number of bad
 * lines (the first one's number in *ret_bad_line), or -errno from envlist.
 */
int envfile_apply(const char *buf, size_t len, struct envlist *e,
		  size_t *ret_bad_line);
#endif
