/* kernelcheck.h: can a kernel mount the boot partition with no initramfs? */
#ifndef EARLYFS_KERNELCHECK_H
#define EARLYFS_KERNELCHECK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "err.h"
#include "target.h"

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
	size_t n_extra;
	bool only_extra;		/* check nothing else */
};
/* Returns 0 if every need is built in; else EXIT_KERNEL with the list. */
int kernel_check(const struct kernel_info *k, const struct kernel_needs *n,
		 FILE *out, struct err *e);
/* Drivers between a block device and the bus, from sysfs. */
size_t disk_drivers(const char *dev, const char **ret, size_t max);

#endif
