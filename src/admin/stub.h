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

/* moddir: the kernel's module tree (/lib/modules/VERSION); names: the
 * modules to reach the boot partition.  0 with the image in *ret. */
int stub_build(const char *moddir, const char *const *names, size_t n,
	       char **ret, size_t *ret_len, size_t *ret_modules,
	       struct err *e);
#endif
