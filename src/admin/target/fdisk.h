/* fdisk.h: partition tables, through libfdisk: a partition's place and
 * identity, the boot flag, an image's table */
#ifndef EARLYFS_FDISK_H
#define EARLYFS_FDISK_H
#include <stdbool.h>
#include <stdint.h>
#include "base/err.h"

enum table_type { TABLE_NONE, TABLE_DOS, TABLE_GPT, TABLE_OTHER };

struct fdisk_part {
	enum table_type table;
	unsigned sector_size;
	uint64_t offset, size;	/* bytes, within the disk */
	bool bootable;		/* DOS active, GPT legacy BIOS bootable */
	char partuuid[64];	/* as the kernel spells it */
	char type[64];		/* GPT: the type GUID, lower case; DOS: "83" */
};

/* Partition partno of disk (a device or an image file): 0 with ret
 * filled, or -errno with e naming what extlinux cannot boot from (no
 * table, another kind, no such partition, a logical DOS one). */
int fdisk_read_partition(const char *disk, unsigned partno,
			 struct fdisk_part *ret, struct err *e);
/* Marks partno bootable (DOS: the only active one; GPT: legacy BIOS
 * bootable); the table is written only if something changes. */
int fdisk_set_boot_flag(const char *disk, unsigned partno,
			enum table_type table, struct err *e);
/* The GPT type of an EFI System partition, as fdisk_part.type spells it. */
#define FDISK_ESP_TYPE "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
/* The partition of disk whose PARTUUID is partuuid, or (NULL) its first
 * EFI System Partition: 0 with its number and record, or -ENOENT (e
 * says what is missing), -errno. */
int fdisk_find_esp(const char *disk, const char *partuuid,
		   unsigned *ret_partno, struct fdisk_part *ret, struct err *e);
/* Where the first partition of disk starts, in 512-byte sectors
 * (UINT64_MAX: none): 0 or -errno with e. */
int fdisk_first_lba(const char *disk, uint64_t *ret, struct err *e);
/* A new table on the image file path.  Without an ESP: partition 1 of
 * boot_size bytes from 1 MiB (bootable), partition 2 the rest.  With one
 * (esp_size > 0, GPT only): 1 the ESP from 1 MiB, 2 of boot_size, 3 the
 * rest. */
int fdisk_make_image_table(const char *path, uint64_t esp_size,
			   uint64_t boot_size, enum table_type table,
			   struct err *e);
#endif
