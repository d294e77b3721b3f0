/* modinfo: a kernel module's .modinfo strings, read purely
 *
 * The module stub (src/admin/stub.c) needs, for each module it carries,
 * the modules it depends on (depends=), from the .ko files of the kernel's module tree: Debian's package ships
 * no modules.dep (depmod makes it at install), so they are read from the
 * modules themselves, as depmod does.  Modules are ELF64 relocatable files
 * of either byte order; nothing in them is trusted.
 */
#ifndef EARLYFS_MODINFO_H
#define EARLYFS_MODINFO_H
#include <stdbool.h>
#include <stddef.h>

#define MODINFO_NAME_MAX 63
#define MODINFO_DEPENDS_MAX 16

struct modinfo {
	const char *strings;	/* the section, inside the caller's buffer */
	size_t len;
	char name[MODINFO_NAME_MAX + 1];	/* name=, "" if absent */
	char depends[MODINFO_DEPENDS_MAX][MODINFO_NAME_MAX + 1];
	size_t n_depends;
};

/* 0 with the section found and name/depends read; -ENOEXEC if buf is not
 * an ELF64 relocatable, -ENOENT without .modinfo, -EINVAL for headers or
 * strings outside the file, -E2BIG past the limits. */
int modinfo_parse(const void *buf, size_t len, struct modinfo *ret);
/* The next value of key ("alias") from *pos: 1, or 0 at the end. */
int modinfo_next(const struct modinfo *m, const char *key, size_t *pos,
		 const char **ret_value, size_t *ret_len);
/* A module name as the kernel compares them: '-' and '_' the same. */
bool modinfo_same_name(const char *a, const char *b);
#endif
