/* populate.h: the tree a boot partition starts with */
#ifndef EARLYFS_POPULATE_H
#define EARLYFS_POPULATE_H
#include "base/err.h"

/* The FHS tree, busybox, earlyfs-init, templates and fragments, staged
 * in root (an empty directory) for mke2fs -d. */
int populate_stage(const char *root, struct err *e);
#endif
