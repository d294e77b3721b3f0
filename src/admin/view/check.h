/* check.h: the whole boot partition, as the runner and syslinux will see
 * it */
#ifndef EARLYFS_CHECK_H
#define EARLYFS_CHECK_H
#include <stdbool.h>
#include <stdio.h>
#include "base/err.h"
#include "target/boot.h"

/* One line per problem on out; -EIO with e filled if any.  running: the
 * root spec must resolve on this machine. */
int check_tree(const struct boot *b, bool running, bool as_json, FILE *out,
	       struct err *e);
#endif
