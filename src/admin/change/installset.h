/* installset.h: where the installed host files live on a boot partition,
 * so that an install replaces them all at once
 *
 * Every file and link of the installed binaries' closures is kept at its
 * host path under one directory, LAYOUT_INSTALLED_SET ".N"
 * ("installed.3/usr/sbin/cryptsetup"); LAYOUT_INSTALLED_SET ("installed")
 * is a link to the current one; each path the booted system looks up (a
 * binary, its loader, a library, a link to one) is a link into it
 * ("usr/sbin/cryptsetup" -> "../../installed/usr/sbin/cryptsetup"), and a
 * link to a directory (lib64 -> usr/lib64) is made as it is.  A new set is
 * built beside the current one (hard links for what did not change) and
 * made current by renaming one link: whatever stops it (a kill, a crash, a
 * power cut) leaves the old set or the new, whole, for the next boot.
 * Files a partition holds from before (copied at their paths) are first
 * moved into a set as they are, one path at a time, each step booting
 * the same bytes.
 */
#ifndef EARLYFS_INSTALLSET_H
#define EARLYFS_INSTALLSET_H
#include <stdbool.h>
#include <stdio.h>
#include "target/boot.h"
#include <limits.h>
#include <sys/stat.h>
#include "base/err.h"

#define ENTRIES_MAX 4096

/* One path of a set, as on the host: a link made as a link, or a regular
 * file copied (closure.c finds them). */
struct entry {
	bool link;
	char path[PATH_MAX];
	char target[PATH_MAX];	/* a link's */
	struct stat st;		/* a file's, on the host */
	bool seen;		/* an ELF file whose needs were added */
	bool write;		/* differs from the current set's */
	bool kept;		/* an image's, carried as it is: its path
				 * is never looked up on the host */
};

struct entries {
	struct entry *v;
	size_t n;
};

/* Makes keep (copied from the host where the current set differs) the
 * current set, with the paths of carry[0..n_carry) (at most 2: the
 * closure of binaries being dropped, kept until installset_drop(); the
 * files an image lists that were not named) as the current set has them:
 * a new set built and switched to when anything of keep differs from the
 * current one or a path of keep is not yet a link into it.  Under the
 * lock, before the change that lists them; syncs.  0 or -errno with e
 * filled (nothing switched then). */
int installset_update(struct boot *b, const struct entries *keep,
		      const struct entries *const *carry, size_t n_carry,
		      struct err *e);
/* After that change: the paths of gone that keep does not have leave
 * the current set and the tree (only links into the set are removed
 * from the tree).  The number removed. */
size_t installset_drop(struct boot *b, const struct entries *keep,
		       const struct entries *gone);
/* Sets other than the current one (an interrupted update's, or the one
 * an update replaced): counted, removed unless dry. */
size_t installset_leftovers(int dir, bool dry, FILE *out);
/* Whether the current set holds path (as a file or a link). */
bool installset_has(int dir, const char *path);
/* Whether the regular file the booted system finds at path (links
 * followed) exists: 0 with st, or -errno. */
int installset_stat(int dir, const char *path, struct stat *st);
#endif
