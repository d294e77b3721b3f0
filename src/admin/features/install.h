/* install.h: binaries from the host, with their whole shared-library
 * closure and ELF loader, copied into the boot partition
 *
 * Each binary and everything it needs (PT_INTERP, DT_NEEDED found through
 * DT_RUNPATH/DT_RPATH with $ORIGIN, the host's ld.so.conf and the loader's
 * default directories) is copied to the same path in the tree; symbolic
 * links on the way (/lib64 -> usr/lib64, libfoo.so.1 -> libfoo.so.1.2) are
 * made as links, except where the tree already has a directory (its bin,
 * sbin, lib).  What was copied is listed in LAYOUT_INSTALLED, a file of
 * the generation, so `install --refresh` re-copies the same binaries after
 * a host upgrade and `check` says when a copy is older than the host's.
 * Only the host's files are read; nothing is executed.
 */
#ifndef EARLYFS_INSTALL_H
#define EARLYFS_INSTALL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"
#include "change/validate.h"

/* Installs bins (paths, or names found in the host's PATH) and every
 * binary the manifest already lists, as one change (a generation).
 * 0 or -errno with e filled; nothing is written when a refusal is
 * found (a missing library, a foreign architecture, too little space). */
int install_run(struct boot *b, char *const *bins, size_t n, FILE *out,
		struct err *e);

struct change_file;
/* The same with more: binaries of the manifest to drop (by name: the
 * files only they needed are removed after the change), and other files
 * of the generation written or removed in the same change (features). */
struct install_req {
	char *const *bins;
	size_t n;
	const char *const *drop;
	size_t n_drop;
	const struct change_file *files;
	size_t n_files;
	const char *desc;	/* the generation's; NULL: "install ..." */
	/* a step of its own after the files are installed, before the
	 * generation (kernels' module stubs), or NULL */
	int (*prepare)(struct boot *b, void *ctx, struct err *e);
	void *ctx;
};
int install_apply(struct boot *b, const struct install_req *q, FILE *out,
		  struct err *e);
/* One problem per installed file that is missing from the tree, gone
 * from the host, or older than the host's copy. */
void install_check(int root, struct problems *p);
#endif
