/* validate.h: what must hold for a fragment, fstab or extlinux.conf to
 * boot, and the check of a whole boot partition */
#ifndef EARLYFS_VALIDATE_H
#define EARLYFS_VALIDATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"

/* Each problem is one line on out (when not NULL), counted. */
struct json;
struct problems {
	FILE *out;
	size_t n;
	struct json *json;	/* set: each problem a string of its array */
};
void validate_problem(struct problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* root: the partition's directory fd (where interpreters, libraries and
 * kernels are looked up, as the booted system would); rel: the file to
 * read, beneath root (see beneath.h); shown: its name in messages.
 * Nothing read is executed: shell syntax is checked by the host's
 * busybox on a private copy. */
void validate_fragment(int root, const char *rel, const char *shown,
		       struct problems *p);
/* The same for bytes not written yet (a fragment an edit brings). */
void validate_fragment_bytes(int root, const char *buf, size_t len,
			     bool exec, const char *shown, struct problems *p);
void validate_elf(int root, const char *rel, const char *shown,
		  struct problems *p);
/* etc/earlyfs.conf (at path under root, shown as rel): the loader it
 * names, its ESP and command lines, boot_tries=. */
void validate_conf(int root, const char *path, const char *rel,
		   struct problems *p);
void validate_fstab(int root, const char *rel, const char *shown,
		    struct problems *p);
/* etc/crypttab: the shared parser, and no key file on the partition. */
void validate_crypttab(int root, const char *rel, const char *shown,
		       struct problems *p);
void validate_crypttab_bytes(const char *buf, size_t len, const char *shown,
			     struct problems *p);
/* mdadm scans /proc/partitions (dm-N names) unless told: members named
 * by devices=/dev/mapper/... are found only with this line. */
#define MDCONF_DEVICE_DM "DEVICE partitions containers /dev/mapper/*"
/* etc/mdadm.conf: an ARRAY line, and a DEVICE line for /dev/mapper
 * members. */
void validate_mdadm_conf_bytes(const char *buf, size_t len,
			       const char *shown, struct problems *p);
/* What checks a file of the tracked tree, by its path there (rel):
 * read at path, named rel; NULL when nothing does (an etc/ file the
 * runner does not read). */
typedef void validate_fn(int root, const char *path, const char *rel,
			 struct problems *p);
validate_fn *validate_for(const char *rel);
struct extlinux_conf;
/* Parses and checks every label's kernel exists on the partition: 0, or
 * -EINVAL when there are problems (counted in p). */
int validate_extlinux(int root, const char *rel, const char *shown,
		      struct extlinux_conf *ret, struct problems *p);

#endif
