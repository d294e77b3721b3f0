/* validate.h: what must hold for a fragment, fstab or extlinux.conf to
 * boot, and the check of a whole boot partition */
#ifndef EARLYFS_VALIDATE_H
#define EARLYFS_VALIDATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "boot.h"
#include "err.h"

/* Each problem is one line on out (when not NULL), counted. */
struct problems {
	FILE *out;
	size_t n;
};
void problem(struct problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* root: the tree the file belongs to (interpreters, libraries, busybox);
 * file: where to read it; shown: its name in messages. */
void validate_fragment(const char *root, const char *file, const char *shown,
		       struct problems *p);
void validate_elf(const char *root, const char *file, const char *shown,
		  struct problems *p);
void validate_fstab(const char *file, const char *shown, struct problems *p);
struct extlinux_conf;
/* Parses and checks every label's kernel exists under boot: 0, or
 * -EINVAL when there are problems (counted in p). */
int validate_extlinux(const char *boot, const char *file, const char *shown,
		      struct extlinux_conf *ret, struct problems *p);

/* check.c: the whole partition, one line per problem on out; -EIO with
 * e filled if any.  running: the root spec must resolve on this machine. */
int check_tree(const struct boot *b, bool running, FILE *out, struct err *e);
#endif
