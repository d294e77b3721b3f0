/* kernelplan.h: whether a kernel boots a boot partition, and the module
 * stub that gives it what it has as modules
 *
 * Where it boots (struct kernel_site): the partition's features, and its
 * disk: this machine's (the devices under the partition in sysfs, whose
 * modaliases pick the modules), the drivers --driver names, or, for an
 * image whose disk is not known, the drivers a VM or a PC boots from
 * (kernel_generic_disks: virtio, NVMe, AHCI, IDE, SCSI disks).  A kernel
 * that has them built in needs no stub; one that has some as modules gets
 * a stub of those, with ext4, crc32c and the features' needs where they
 * are modules (and the network interfaces' drivers, with the network
 * feature); one that cannot reach the disk either way is refused with the
 * reason.  kernel add, provision --kernel and feature add (remaking the
 * stubs its needs change) decide here, the same way.
 */
#ifndef EARLYFS_KERNELPLAN_H
#define EARLYFS_KERNELPLAN_H
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "base/err.h"
#include "kernel/kernelcheck.h"

/* Where a kernel's module stub comes from: its module tree (default
 * /lib/modules/VERSION) and the disk drivers that reach the partition. */
struct kernels_opts {
	const char *modules;
	const char *drivers[16];
	size_t n_drivers;
};

struct kernel_site {
	unsigned features;		/* feature.h's mask */
	bool image;			/* its disk is not this machine's */
	dev_t dev;			/* the partition's, when !image */
	const char *root_fstype;	/* the real root's, NULL: not checked */
	enum table_type table;		/* TABLE_NONE: either */
	const char *name;		/* the partition, for messages */
	bool list;			/* each option checked said on out */
};

struct kernel_plan {
	bool refused;			/* cannot boot there: why says why */
	struct err why;
	char *stub;			/* its module stub, or NULL */
	size_t stub_len;
	char mods[1024];		/* the stub's modules, in load order */
};

/* The plan for k at s: 0 with ret filled (refused, or a stub or none);
 * what is decided is said on out.  force: a refused kernel is taken as
 * it is (no stub tried).  -errno with e only when the site cannot be
 * read. */
int kernelplan_make(const struct kernel_info *k, const struct kernels_opts *o,
		     const struct kernel_site *s, bool force,
		     struct kernel_plan *ret, FILE *out, struct err *e);
void kernelplan_free(struct kernel_plan *p);
#endif
