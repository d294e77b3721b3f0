/* modinfo: a kernel module's .modinfo strings, read purely
 *
 * The module stub (src/admin/stub.c) needs, for each module it carries,
 * the modules it depends on (depends=), from the .ko files of the kernel's module tree: Debian's package ships
 * no modules.dep (depmod makes it at install), so they are read from the
 * modules themselves, as depmod does.  Modules are ELF64 relocatable files
 * of either byte order; nothing in them is trusted.  Also the lines of
 * modules.alias, modules.builtin and modules.builtin.modinfo, which match
 * a device's modalias to modules.
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

/* The text files of a module tree (depmod's, and the kernel build's for
 * built-in modules).  Each takes one line or string, finds its parts in
 * place, and returns 1, or 0 for anything else (a comment, another key,
 * a name longer than MODINFO_NAME_MAX, a pattern longer than
 * MODINFO_ALIAS_MAX or holding a blank or NUL). */
#define MODINFO_ALIAS_MAX 512
struct modinfo_span {
	const char *s;
	size_t len;
};
/* An alias pattern of at most MODINFO_ALIAS_MAX bytes with no blank or
 * NUL (what all three files, and .modinfo's alias=, hold). */
bool modinfo_pattern_ok(const char *s, size_t len);
/* modules.alias: "alias PATTERN NAME". */
int modinfo_alias_line(const char *line, size_t len,
		       struct modinfo_span *pattern, struct modinfo_span *name);
/* modules.builtin.modinfo, NUL-separated "NAME.KEY=VALUE": 1 when the
 * key is key and the value would do as a pattern (key "alias"). */
int modinfo_builtin_string(const char *s, size_t len, const char *key,
			   struct modinfo_span *name,
			   struct modinfo_span *value);
/* modules.builtin: "kernel/fs/ext4/ext4.ko" is ext4. */
int modinfo_builtin_line(const char *line, size_t len,
			 struct modinfo_span *name);
#endif
