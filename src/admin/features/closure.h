/* closure.h: what a host binary needs to run elsewhere, found on the host
 *
 * From a binary's ELF headers: its loader (PT_INTERP) and every library of
 * its DT_NEEDED closure, found as the loader would (DT_RUNPATH or DT_RPATH
 * with $ORIGIN, the host's ld.so.conf, the default directories), of the
 * binary's class and machine only.  Each path is walked on the host
 * component by component: a link becomes a link entry and the walk goes on
 * from its target, except where the boot partition has a directory of its
 * own (bin, sbin, lib), which the path keeps.  Host files are read, never
 * executed.  Errors are -errno with pl->e filled (err.h).
 */
#ifndef EARLYFS_CLOSURE_H
#define EARLYFS_CLOSURE_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include "base/err.h"
#include "change/installset.h"

#define BINS_MAX 256
#define LDCONF_DIRS_MAX 64

struct plan {
	struct entry *v;
	size_t n;
	char bins[BINS_MAX][PATH_MAX];
	size_t n_bins;
	unsigned elf_class, machine;
	int tree;		/* the partition's directory fd */
	char ldconf[LDCONF_DIRS_MAX][PATH_MAX];
	size_t n_ldconf;
	struct err *e;
};

/* Adds the directories of the host's ld.so.conf at path (includes
 * followed, bounded). */
void closure_ldconf(struct plan *pl, const char *path, int depth);
/* A binary asked for: a path, or a name in the host's PATH.  One from the
 * partition's manifest (from_manifest) must be a plain, normalized
 * absolute path; either must be root-owned and not writable by others. */
int closure_bin_arg(struct plan *pl, const char *arg, bool from_manifest);
/* Adds the ELF file at path (depth 0: a binary asked for) and what it
 * needs, recursively. */
int closure_add_elf(struct plan *pl, const char *path, const char *shown,
		    int depth);
struct entry *closure_find(struct plan *pl, const char *path);
#endif
