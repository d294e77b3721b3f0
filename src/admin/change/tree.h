/* tree.h: the files a generation holds (init.d/, etc/, extlinux.conf) */
#ifndef EARLYFS_TREE_H
#define EARLYFS_TREE_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "target/boot.h"
#include "base/err.h"

#define TREE_MAX 4096		/* files and directories */
#define TREE_MAX_TEXT "4096"

struct node {
	char rel[256];
	mode_t mode;
};

struct tree {
	struct node *v;
	size_t n;
};

/* Every path below is relative to dir, the partition's directory fd, and
 * goes through beneath.h: no link is followed, nothing outside dir is
 * touched.  A tree's root is "" (the live tree) or "generations/N". */

/* root/rel, or rel when root is "": 0 or -ENAMETOOLONG. */
int tree_join(char *ret, size_t cap, const char *root, const char *rel);
/* The generation's files under root (init.d, etc, root/.ssh,
 * extlinux.conf), directories before what they hold:
 * 0 or -errno (-E2BIG above TREE_MAX). */
int tree_scan(int dir, const char *root, struct tree *t);
void tree_free(struct tree *t);
/* What a tree_*() error means, limits named. */
const char *tree_strerror(int r);
const struct node *tree_find(const struct tree *t, const char *rel);
/* Same type, permissions and bytes (or link target). */
bool tree_same_file(int dir, const char *a, const char *b);
/* Copies a regular file or a link (as a link) to dst, which must not
 * exist; no fsync. */
int tree_copy_node(int dir, const char *src, const char *dst);
/* Creates rel (replacing what is there) with data; no fsync. */
int tree_write_new(int dir, const char *rel, const char *data, size_t len,
		   mode_t mode);
/* rm -r without following links: 0 or -errno. */
int tree_remove(int dir, const char *rel);
/* Removes the ".NAME.tmpXXXXXX" files a killed write left in rel (only
 * counts them with dry): how many. */
size_t tree_remove_temps(int dir, const char *rel, int depth, bool dry);

/* NAME or NAME.disabled in init.d: 0 with the file name, or -ENOENT. */
int tree_fragment_find(const struct boot *b, const char *name, char *ret_file,
		  size_t cap, bool *ret_disabled);
/* A user's NAME (".disabled" dropped) checked against the naming rule. */
int tree_fragment_name_arg(const char *arg, char *ret, size_t cap, struct err *e);
#endif
