/* provision.h: making a boot partition: checks, then steps */
#ifndef EARLYFS_PROVISION_H
#define EARLYFS_PROVISION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "base/err.h"
#include "features/feature.h"

struct provision_opts {
	const char *target;
	unsigned partno;
	const char *root;
	const char *kernel;
	const char *config;
	const char *label;
	const char *drivers[16];
	size_t n_drivers;
	const char *modules;	/* a stock kernel's module tree */
	bool force, dry_run, no_mbr;
	unsigned timeout;	/* extlinux menu, tenths of a second */
	const char *append;	/* extra kernel command line */
	const char *bootloader;	/* NULL or "auto": see loader_choose() */
	bool secure_boot;	/* the distribution's signed chain */
	bool make_default;	/* earlyfs's entry what the machine boots */
	const char *esp;	/* --esp: a partition number of the disk, or
				 * the directory the ESP is mounted on */
	const char *with;	/* features: "luks,fsck" */
	struct feature_opts fo;	/* their configuration (fo.force unused) */
};
int provision(const struct provision_opts *o, FILE *out, struct err *e);

#endif
