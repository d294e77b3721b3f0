/* esp.h: the EFI System Partition: a FAT file system the firmware and the
 * EFI loaders read, reached as a mounted directory (a running machine's
 * /boot/efi) or, in an image, through mtools at the partition's offset (no
 * mount, no loop device, no vfat needed on the host)
 *
 * FAT has no journal, no hard links and no symlinks: what earlyfs puts
 * there is derived from the boot partition (kernels, stubs, loader
 * entries), written under a temporary name and renamed, never removed
 * before its replacement is complete, and written again by recovery.
 * Paths are absolute within the ESP ("/loader/entries/earlyfs.conf").
 */
#ifndef EARLYFS_ESP_H
#define EARLYFS_ESP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

struct esp {
	char shown[4200];	/* for messages */
	/* mounted: dir >= 0; an image's partition: image and offset */
	int dir;
	char image[4096];
	uint64_t offset, size;
};

/* The ESP mounted at path (a directory): 0 or -errno with e filled. */
int esp_open_dir(const char *path, struct esp *ret, struct err *e);
/* Partition partno of the image file image (it must be of type EFI
 * System, with a FAT file system): 0 or -errno with e filled. */
int esp_open_image(const char *image, unsigned partno, struct esp *ret,
		   struct err *e);
/* The FAT file system at offset of file (a device: 0), through mtools;
 * shown names it in messages. */
int esp_open_at(const char *file, uint64_t offset, uint64_t size,
		const char *shown, struct esp *ret, struct err *e);
void esp_close(struct esp *esp);
/* The smallest ESP earlyfs makes: room for a loader and one kernel. */
#define ESP_MIN_SIZE (16u << 20)
/* Makes a FAT file system (FAT32 from 512 MiB) on an image's partition (labelled ESP). */
int esp_format_image(const char *image, uint64_t offset, uint64_t size,
		     struct err *e);
/* Free bytes: 0 or -errno. */
int esp_free_bytes(const struct esp *esp, uint64_t *ret);
/* The directory path and its parents, made where missing. */
int esp_mkdirs(const struct esp *esp, const char *path);
/* path from the open file src (from its start), or (src < 0) from data,
 * len: written as path's temporary name, then renamed over path.  0 or
 * -errno. */
int esp_put(const struct esp *esp, const char *path, int src,
	    const void *data, size_t len);
/* A file's bytes (at most max, malloc'ed, NUL-terminated): 0, -ENOENT,
 * -EFBIG, -errno. */
int esp_read(const struct esp *esp, const char *path, size_t max,
	     char **ret, size_t *ret_len);
/* from renamed to (in the same directory; one there is replaced):
 * 0, -ENOENT, -EXDEV, -errno. */
int esp_rename(const struct esp *esp, const char *from, const char *to);
/* path is there (a file or a directory). */
bool esp_exists(const struct esp *esp, const char *path);
/* 0, or -ENOENT when it was not there. */
int esp_remove(const struct esp *esp, const char *path);
/* An empty directory removed: 0, -ENOENT, -ENOTEMPTY, -errno. */
int esp_rmdir(const struct esp *esp, const char *path);
/* The names in directory path (files only), one per line in *ret
 * (malloc'ed): 0, or -ENOENT. */
int esp_list(const struct esp *esp, const char *path, char **ret);
#endif
