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
#include <stdio.h>
#include "base/err.h"
#include "kernel/kernelcheck.h"
#include "target/devices.h"
#include "layout.h"

/* moddir: the kernel's module tree (/lib/modules/VERSION); names: modules
 * to hold (each in the tree or built in); host: the devices under the
 * boot partition (kernelcheck.h), each giving the modules its modalias
 * matches.  Every module's dependencies come along.  The tree is read as
 * depmod reads it: updates/ first, then every other directory (kernel/,
 * extra/ ...).  0 with the image in *ret and the modules' names, in load
 * order, in ret_names; a module the aliases name for a device that has
 * another is a warning on out, one it has none of an error; a module
 * built for another kernel than version (vermagic) is an error. */
int stub_build(const char *moddir, const char *version,
	       const char *const *names, size_t n,
	       const struct disk_driver *host, size_t n_host, char **ret,
	       size_t *ret_len, char *ret_names, size_t names_cap, FILE *out,
	       struct err *e);
/* The kernel release a module tree's modules were built for (their
 * vermagic): 0 with it in ret, or -ENOENT. */
int stub_tree_version(const char *moddir, char *ret, size_t cap);
#endif
