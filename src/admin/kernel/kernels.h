/* kernels.h: the kernels a boot partition keeps (earlyfs kernel ...)
 *
 * Each kept kernel is /vmlinuz-VERSION with a label earlyfs-VERSION; the
 * 'earlyfs' and 'rescue' labels (and the /vmlinuz link) boot the default:
 * the newest that passed the kernel check (the boot partition, the
 * installed features' needs), unless one was chosen with --default.  A
 * kernel that fails the check is listed with the reason, not copied, and
 * in no label.  The newest keep_kernels= (etc/earlyfs.conf, default 2)
 * stay.  Every change is one generation (extlinux.conf, etc/earlyfs.kernels,
 * kernel= of etc/earlyfs.conf); the kernel file is written, synced and
 * renamed into place first, and files no label boots any more (the
 * 'previous' label counts) are removed after.
 */
#ifndef EARLYFS_KERNELS_H
#define EARLYFS_KERNELS_H
#include <stdbool.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"
#include "kernel/kernelplan.h"
#include "change/validate.h"

int kernels_list(struct boot *b, bool as_json, FILE *out, struct err *e);
/* 0; EXIT_KERNEL (after recording why) for a kernel that fails the check
 * unless force or, given drivers, a module stub gives it what it lacks;
 * EXIT_REFUSED without room for it, nothing written. */
int kernels_add(struct boot *b, const char *file, bool make_default,
		bool force, const struct kernels_opts *o, FILE *out,
		struct err *e);
/* check: each kept kernel's file is there, and a kernel with a module
 * stub has one at least as new as the kernel (else: add it again). */
void kernels_check(const struct boot *b, struct problems *p);
struct change_file;
struct kernel_job;
/* Before a feature add of added: each kept kernel checked with what the
 * features then need; where that is modules, its module stub is made
 * (again) with them: into j->remade, for kernelfiles_copy() in the same
 * change, and when a kernel gains a stub, its labels and the list in
 * files.  The number of files (0 to 3, freed with kernels_files_free()),
 * or -errno with e: a kernel that cannot boot with them (unless force)
 * refuses the change, nothing written. */
int kernels_restub(struct boot *b, unsigned added,
		   const struct kernels_opts *o, bool force,
		   struct kernel_job *j, struct change_file *files,
		   FILE *out, struct err *e);
void kernels_files_free(struct change_file *files, size_t n);
/* Refuses the only kernel that boots. */
int kernels_rm(struct boot *b, const char *version, FILE *out,
	       struct err *e);
#endif
