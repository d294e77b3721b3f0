/* tree.h: the files a generation holds (init.d/, etc/, extlinux.conf) */
#ifndef EARLYFS_TREE_H
#define EARLYFS_TREE_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "boot.h"
#include "err.h"

#define TREE_MAX 4096		/* files and directories */

struct node {
	char rel[256];
	mode_t mode;
};

struct tree {
	struct node *v;
	size_t n;
};

/* The generation's files under root, directories before what they hold:
 * 0 or -errno (-E2BIG above TREE_MAX). */
int tree_scan(const char *root, struct tree *t);
void tree_free(struct tree *t);
const struct node *tree_find(const struct tree *t, const char *rel);
/* Same type, permissions and bytes (or link target). */
bool tree_same_file(const char *a, const char *b);
/* Copies a file or link to dst, which must not exist; no fsync. */
int tree_copy_node(const char *src, const char *dst);
/* Creates path (replacing what is there) with data; no fsync. */
int tree_write_new(const char *path, const char *data, size_t len,
		   mode_t mode);
/* rm -r without following links: 0 or -errno. */
int tree_remove(const char *path);
/* Removes the ".NAME.tmpXXXXXX" files a killed write left in dir. */
void tree_remove_temps(const char *dir, int depth);

/* NAME or NAME.disabled in init.d: 0 with the file name, or -ENOENT. */
int fragment_find(const struct boot *b, const char *name, char *ret_file,
		  size_t cap, bool *ret_disabled);
/* A user's NAME (".disabled" dropped) checked against the naming rule. */
int fragment_name_arg(const char *arg, char *ret, size_t cap, struct err *e);
#endif
