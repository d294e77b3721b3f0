/* bootloader.h: syslinux: extlinux.conf from its template, extlinux, the MBR */
#ifndef EARLYFS_BOOTLOADER_H
#define EARLYFS_BOOTLOADER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "base/err.h"
#include "target/target.h"

struct template_var;
/* extlinux.conf from its template; with a kernel version and its module
 * stub (initrd, a path on the partition), the 'earlyfs' and 'rescue'
 * labels load the stub too. */
int bootloader_write_conf(const char *mnt, const struct template_var *vars,
			size_t n, const char *version, const char *initrd,
			struct err *e);
int bootloader_install(const char *mnt, struct err *e);
/* Before anything is written: the disk's MBR boot code is none or
 * syslinux's; another loader's is refused (e naming it and the ways
 * out) unless force.  What is there is said on out (a phrase). */
int bootloader_check_mbr(const char *disk, bool force, FILE *out,
			 struct err *e);
int bootloader_write_mbr(const char *disk, enum table_type table, struct err *e);
#endif
