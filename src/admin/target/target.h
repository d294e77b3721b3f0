/* target.h: what is provisioned or edited: a partition, or one of an image file */
#ifndef EARLYFS_TARGET_H
#define EARLYFS_TARGET_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/err.h"
#include "target/fdisk.h"

struct target {
	char arg[4096];		/* as given */
	bool is_image;
	char disk[4096];	/* the image file or the parent disk node */
	unsigned partno;
	uint64_t offset, size;	/* bytes, within disk */
	unsigned sector_size;
	enum table_type table;
	char partuuid[64];
	bool bootable;
	char dev[4096];		/* what mke2fs writes: partition or loop */
	bool loop_attached;
	int loop_fd;		/* keeps the (autoclear) loop device */
};

int target_resolve(const char *arg, unsigned partno, struct target *t,
		   struct err *e);
/* t->disk's partition t->partno read into t (fdisk.h): 0 or -errno. */
int target_read_partition(struct target *t, struct err *e);
/* Marks t's partition bootable (fdisk_set_boot_flag()). */
int target_set_boot_flag(const struct target *t, struct err *e);
/* Mounted, swap, holders, loops mapping an image's partition. */
/* Refuses (EXIT_REFUSED) an image file a loop device maps. */
int target_image_unused(const char *path, struct err *e);
int target_check_unused(const struct target *t, struct err *e);
/* Where a device (by number) is mounted, from mountinfo; "" if nowhere. */
void target_mounted_at(dev_t dev, char *ret, size_t cap);
int target_attach(struct target *t, struct err *e);
void target_detach(struct target *t);


#endif
