/* kernlist: etc/earlyfs.kernels, the kernels a boot partition keeps
 *
 * One line each, in the order they were added:
 *   ok VERSION [stub]          /vmlinuz-VERSION passed the kernel check
 *                              (stub: with /stub-VERSION.img, its module
 *                              stub, which gives it its drivers)
 *   refused VERSION REASON     failed it: not copied, not booted
 *   default VERSION            the admin's choice (earlyfs kernel add
 *                              --default); else the newest ok one
 * A VERSION is 1 to 63 of [A-Za-z0-9._+-], not starting with '.' or '-'.
 */
#ifndef EARLYFS_KERNLIST_H
#define EARLYFS_KERNLIST_H
#include <stdbool.h>
#include <stddef.h>

#define KERNLIST_MAX 16
#define KERNLIST_REFUSED_KEEP 4	/* refusals remembered, the newest */
#define KERNLIST_VERSION_MAX 63
#define KERNLIST_WHY_MAX 200

struct kernlist_entry {
	char version[KERNLIST_VERSION_MAX + 1];
	bool ok, stub;
	char why[KERNLIST_WHY_MAX + 1];		/* refused: the reason */
};

struct kernlist {
	struct kernlist_entry v[KERNLIST_MAX];
	size_t n;
	char pinned[KERNLIST_VERSION_MAX + 1];	/* "" : the newest ok */
};

bool kernlist_version_ok(const char *s, size_t len);
/* 0, or -EINVAL/-E2BIG with *ret_line and *ret_what for the first bad
 * line (a version given twice is one). */
int kernlist_parse(const char *buf, size_t len, struct kernlist *ret,
		   size_t *ret_line, const char **ret_what);
/* The default kernel's entry: the pinned one if it is ok, else the ok one
 * with the highest version (strverscmp); NULL if none is ok. */
const struct kernlist_entry *kernlist_default(const struct kernlist *k);
struct kernlist_entry *kernlist_find(struct kernlist *k, const char *version);
/*
 * The entry of version, made if it is not listed: the refusals beyond the
 * newest KERNLIST_REFUSED_KEEP - 1 age out first, then, if the list is
 * still full, the oldest refusal goes, else the oldest-version ok entry
 * that is neither the default nor pinned.  Never the default, never the
 * pinned one.  A new entry is zeroed, version set (not ok).  NULL if
 * nothing may go (a list of one).
 */
struct kernlist_entry *kernlist_add(struct kernlist *k, const char *version);
/* The text of the file into out: its length, or -E2BIG. */
int kernlist_format(const struct kernlist *k, char *out, size_t cap);
#endif
