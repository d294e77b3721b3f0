/* kernelfiles.h: a kept kernel's files at the top of a boot partition
 *
 * vmlinuz-VERSION, its module stub stub-VERSION.img, its configuration
 * config-VERSION (so that a later check of the features' needs finds
 * it), and the /vmlinuz link to the default.  A change of kernels copies
 * them before its generation (written beside their place, synced,
 * renamed) and removes, after it, the files of kernels earlyfs kept that
 * no label boots any more.  What a killed copy or a package's removal of
 * a kernel leaves is found (and removed by recovery) here too.
 */
#ifndef EARLYFS_KERNELFILES_H
#define EARLYFS_KERNELFILES_H
#include <stdbool.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"
#include "kernlist.h"
#include "change/validate.h"

#define KERNEL_STUBS_MAX KERNLIST_MAX

/* What a change of kernels writes and removes. */
struct kernel_job {
	const char *src;		/* the kernel to copy, or NULL */
	const char *config;		/* its configuration, or NULL */
	size_t config_len;
	char *stub;			/* its module stub, or NULL */
	size_t stub_len;
	char version[KERNLIST_VERSION_MAX + 1];
	char def[KERNLIST_VERSION_MAX + 1];
	struct kernlist before;		/* what earlyfs kept: all it removes */
	/* stubs made again for kernels already kept (feature add) */
	struct {
		char version[KERNLIST_VERSION_MAX + 1];
		char *data;
		size_t len;
	} remade[KERNEL_STUBS_MAX];
	size_t n_remade;
};

/* dst at the top of the partition dir (shown in messages), from the file
 * src or from data: written beside its place, synced, renamed; every
 * block written (syslinux reads no holes).  0 or -errno with e filled. */
int kernelfiles_put(int dir, const char *shown, const char *dst,
		    const char *src, const char *data, size_t len,
		    struct err *e);
/* j's kernel (j->src), its stub and its configuration (unless the
 * partition has one) put there: kernel add and provisioning alike. */
int kernelfiles_place(int dir, const char *shown,
		      const struct kernel_job *j, struct err *e);
/* /vmlinuz -> vmlinuz-VERSION, replaced at once: 0 or -errno. */
int kernelfiles_link_default(int dir, const char *version);
/* A change's prepare step (ctx: a struct kernel_job): the new kernel, its
 * stub and configuration, and the remade stubs, in place and synced. */
int kernelfiles_copy(struct boot *b, void *ctx, struct err *e);
/* A change's finish step: /vmlinuz names j->def; the files of kernels
 * earlyfs kept before that no entry of the live menu boots ('previous',
 * of generation prev, counts) nor a label of extlinux.conf are
 * removed. */
void kernelfiles_prune(struct boot *b, void *ctx, unsigned prev, FILE *out);
void kernelfiles_job_free(struct kernel_job *j);
/* What an interrupted kernel add or a package's removal of a kernel left
 * at the partition's top: temp copies (LAYOUT_KERNEL_TMP) and module
 * stubs whose vmlinuz-VERSION is gone.  Counted; removed (and said on
 * out) when remove; one problem each on p when p is not NULL. */
size_t kernelfiles_leftovers(int dir, bool remove, FILE *out,
			     struct problems *p);
#endif
