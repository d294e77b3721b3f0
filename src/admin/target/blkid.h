/* blkid.h: libblkid: signatures and root device specs */
#ifndef EARLYFS_BLKID_H
#define EARLYFS_BLKID_H
#include <stdint.h>
#include <stddef.h>
#include "base/err.h"

struct signature {
	char type[64], label[256], uuid[128];
};
/* 1 with the first signature found in [offset, offset+size) of path,
 * 0 if none, -errno. */
int blkid_signature(const char *path, uint64_t offset, uint64_t size,
		    struct signature *ret);
/* Checks a root spec resolves here; fills the device and its fs type. */
int blkid_root_resolve(const char *spec, char *ret_dev, size_t cap,
		 char *ret_type, size_t tcap, struct err *e);
/* The device node of TAG=value on this machine (PARTUUID, UUID,
 * LABEL): 0 or -ENOENT. */
int blkid_device_of(const char *tag, const char *value, char *ret,
		    size_t cap);
/* The spec of the device mounted at / now (PARTUUID= if it has one). */
int blkid_root_current(char *ret_spec, size_t cap, struct err *e);

/* Wipes every signature (file system, RAID, partition table) on dev,
 * opened O_EXCL (a mount or holder that took it since: refused). */
int blkid_wipe(const char *dev, struct err *e);
#endif
