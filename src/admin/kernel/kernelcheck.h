/* kernelcheck.h: can a kernel mount the boot partition with no initramfs? */
#ifndef EARLYFS_KERNELCHECK_H
#define EARLYFS_KERNELCHECK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include "base/err.h"
#include "target/target.h"

struct kernel_info {
	char path[4096];
	char version[128];	/* first word of the bzImage version string */
	char config_from[4096];
	char *config;		/* text of .config, malloc'ed */
};
/* The running kernel's image: /boot/vmlinuz-$(uname -r). */
void kernel_default_path(char *ret, size_t cap);
int kernel_inspect(const char *path, const char *config_path,
		   struct kernel_info *k, struct err *e);
void kernel_info_free(struct kernel_info *k);
/* CONFIG_<sym>: "y", "m" or "" (not set). */
const char *kernel_config(const struct kernel_info *k, const char *sym);
struct kernel_needs {
	const char *boot_fstype;	/* "ext4" */
	const char *root_fstype;	/* NULL if unknown */
	enum table_type table;		/* TABLE_NONE: both parsers */
	const char *drivers[16];	/* driver names from sysfs or --driver */
	size_t n_drivers;
	/* the features' needs (feature.h): "SYM" or "SYM|SYM" (one of them
	 * built in), and why */
#define KERNEL_EXTRA_MAX 24
	const char *extra_sym[KERNEL_EXTRA_MAX], *extra_why[KERNEL_EXTRA_MAX];
	const char *extra_mod[KERNEL_EXTRA_MAX];	/* a stub's, or NULL */
	size_t n_extra;
	bool only_extra;		/* check nothing else */
	/* a module stub loads them: the file systems, disk drivers and
	 * features' needs (those with modules) may be modules (=m) */
	bool stub;
};
/* Returns 0 if every need is built in; else EXIT_KERNEL with the list. */
int kernel_check(const struct kernel_info *k, const struct kernel_needs *n,
		 FILE *out, struct err *e);
/* The disk drivers a VM or a PC boots from (virtio, NVMe, AHCI, IDE, SCSI
 * disks; dracut's no-hostonly set is the anchor), for an image whose
 * disk is not known: as sysfs names them, and their modules. */
struct generic_disk {
	const char *driver, *module;
};
extern const struct generic_disk kernel_generic_disks[];
extern const size_t n_kernel_generic_disks;
/* How the kernel has a disk driver (as sysfs names it): "y", "m", "",
 * or NULL when earlyfs does not know the driver or the configuration. */
const char *kernel_driver_config(const struct kernel_info *k,
				 const char *driver);
#endif
