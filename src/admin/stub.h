/* stub.h: the module stub of a kernel whose disk or file system drivers
 * are modules (stock distribution kernels)
 *
 * A gzip'd newc initramfs holding only earlyfs-init as /init, the named
 * modules with every module they depend on (read from the modules'
 * .modinfo, deps first) under /m, and STUB_MARKER listing them in load
 * order.  At boot earlyfs-init loads them, mounts the boot partition
 * (root=), frees the stub and continues there as on a kernel with the
 * drivers built in (src/init/stub.c).
 */
#ifndef EARLYFS_STUB_H
#define EARLYFS_STUB_H
#include <stddef.h>
#include "err.h"
#include "layout.h"

/* The modules of the devices under the file system of dir, from sysfs
 * (each driver's module link, else the driver's name), disk first: what
 * a stub needs to reach it (host-only, as dracut's mode of that name).
 * A loop device's own driver is left out.  The number found. */
size_t stub_host_modules(const char *dir, char (*ret)[64], size_t max);
/* moddir: the kernel's module tree (/lib/modules/VERSION); names: the
 * modules to reach the boot partition, those from n_required on skipped
 * when the tree has no such module (built in).  0 with the image in
 * *ret. */
int stub_build(const char *moddir, const char *const *names, size_t n,
	       size_t n_required, char **ret, size_t *ret_len,
	       size_t *ret_modules, struct err *e);
#endif
