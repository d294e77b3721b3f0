/* image.h: a disk image file for a machine to be: a DOS or GPT table, the
 * boot partition (1) to provision, the root (2) as ext4; or, with an ESP
 * (GPT only), the ESP (1, FAT), the boot partition (2) and the root (3) */
#ifndef EARLYFS_IMAGE_H
#define EARLYFS_IMAGE_H
#include <stdbool.h>
#include <stdint.h>
#include "base/err.h"
#include "target/fdisk.h"

struct image_spec {
	uint64_t size, boot_size, esp_size;	/* esp_size 0: none */
	enum table_type table;
	const char *root_from;	/* the root's files, or NULL: empty */
};
/* Refuses an existing file (unless force), anything else than a regular
 * file, and an image a loop device maps; removes what it made when a
 * step fails. */
/* The partition numbers of an image made from s. */
#define IMAGE_BOOT_PART(s) ((s)->esp_size ? 2u : 1u)
#define IMAGE_ROOT_PART(s) ((s)->esp_size ? 3u : 2u)
int image_create(const char *path, const struct image_spec *s, bool force,
		 struct err *e);
#endif
