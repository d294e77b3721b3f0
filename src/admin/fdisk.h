/* fdisk.h: libfdisk: partitions, the boot flag, disk images */
#ifndef EARLYFS_FDISK_H
#define EARLYFS_FDISK_H
#include <stdbool.h>
#include <stdint.h>
#include "err.h"
#include "target.h"

int disk_read_partition(struct target *t, struct err *e);
int disk_set_boot_flag(const struct target *t, struct err *e);
struct image_spec {
	uint64_t size, boot_size;
	enum table_type table;
	const char *root_from;
};
int image_create(const char *path, const struct image_spec *s, bool force,
		 struct err *e);

#endif
