/* seal: what a sealed boot partition holds, as the signed image carries it
 *
 * A manifest is a header, "earlyfs-seal 1" or "earlyfs-seal 1
 * generation=N", and one line per entry of the partition, in walk order
 * (each directory's names sorted bytewise, depth first):
 *
 *   TYPE MODE UID GID DATA PATH
 *
 * TYPE f d l c b p s; MODE the permission bits in octal (4 digits);
 * DATA for a file "SIZE:SHA256", for a link its target, for a device
 * "MAJOR:MINOR", else "-".  PATH is relative ("." the top), and in it and
 * in a target every byte outside '!'..'~' and every '\' is written \xHH,
 * so that any name the partition holds makes one line.  Directories,
 * links, modes and owners count as content; times do not.  Names the
 * early stage never reads are left out (seal_skipped()): they may come
 * and go without a reseal.  A manifest of generation N is that of an
 * image booting earlyfs.generation=N: the fragments and fstab it runs are
 * generations/N's, so the live init.d and etc/fstab and the other
 * generations are left out too, and later changes of those leave it
 * valid.
 */
#ifndef EARLYFS_SEAL_H
#define EARLYFS_SEAL_H
#include <stdbool.h>
#include <stddef.h>

#define SEAL_MANIFEST	"/earlyfs-seal"	/* in a sealed image's initramfs */
#define SEAL_HEADER	"earlyfs-seal 1"
#define SEAL_ENTRIES_MAX 100000
#define SEAL_DEPTH_MAX	32
#define SEAL_MAX	(16u << 20)		/* a manifest's bytes */

/* What a manifest covers: generation 0 the live partition, N the state
 * an image booting earlyfs.generation=N reads. */
struct seal_scope {
	unsigned generation;
};

/* A name at the top of the partition that no sealed boot reads: the
 * kernels, their stubs and the default's link (the signed image holds
 * its own), BIOS's loader files, lost+found. */
bool seal_skipped(const char *top_name);

/* Every entry of the tree under dirfd that a manifest of scope holds, in
 * its order: visit gets each one's directory fd and name (dirfd and "."
 * for the top), its path as the manifest writes it before escaping, and
 * its lstat.  Links are never followed, other file systems never entered.
 * 0, visit's -errno, or seal_scan()'s errors. */
struct stat;
typedef int seal_visit_fn(void *ctx, int dfd, const char *name,
			  const char *path, size_t path_len,
			  const struct stat *st);
int seal_walk(int dirfd, const struct seal_scope *scope,
	      seal_visit_fn *visit, void *ctx);

/* The manifest of the tree under dirfd (links never followed, other file
 * systems never entered: a mount point's directory is listed, not what is
 * on it).  0 with a malloc'ed text in *ret; -E2BIG past SEAL_ENTRIES_MAX
 * or SEAL_DEPTH_MAX, -EXDEV for a mount inside, or -errno of a read. */
int seal_scan(int dirfd, const struct seal_scope *scope, char **ret,
	      size_t *ret_len);
/* The scope a manifest's header states: 0, or -EINVAL for no header. */
int seal_scope_of(const char *text, size_t len, struct seal_scope *ret);

/* One difference: the path (escaped, as in the manifest) and the sealed
 * and found lines, either NULL (missing; added). */
typedef void seal_diff_fn(void *ctx, const char *path, size_t path_len,
			  const char *sealed, size_t sealed_len,
			  const char *found, size_t found_len);

/* Compares a sealed manifest with a found one (both seal_scan()'s form):
 * the number of differences, each given to fn; -EINVAL if either is not a
 * manifest (no header, a line without six fields) or their headers
 * differ. */
long seal_compare(const char *sealed, size_t sealed_len, const char *found,
		  size_t found_len, seal_diff_fn *fn, void *ctx);

/* A line's fields: 0, or -EINVAL when it has fewer than six. */
struct seal_line {
	const char *type, *mode, *uid, *gid, *data, *path;
	size_t type_len, mode_len, uid_len, gid_len, data_len, path_len;
};
int seal_parse_line(const char *line, size_t len, struct seal_line *ret);
#endif
