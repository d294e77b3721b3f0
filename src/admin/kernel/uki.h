/* uki.h: earlyfs seal: the boot partition's manifest (src/lib/seal.h) in
 * unified kernel images signed on the owner's key, booted by a
 * systemd-boot signed on the same key
 *
 * Each image is systemd's EFI stub with the kernel, the command line, an
 * os-release and an initramfs: the kernel's module stub (if it has one),
 * then this host's earlyfs-init as /init and the manifest.  At boot that
 * init mounts the partition read-only, compares it with the manifest and
 * runs nothing from it unless they agree (src/init/stub.c).  The images
 * are LOADER_UKI_DIR/earlyfs.efi (the default) and earlyfs.rescue.efi; their
 * presence on the ESP is what makes the partition sealed for the other
 * commands (loader_sealed()): systemd-boot's type 1 entries and the
 * kernels' copies go.
 */
#ifndef EARLYFS_UKI_H
#define EARLYFS_UKI_H
#include <stdbool.h>
#include <stdio.h>
#include "base/err.h"
#include "loader/loader.h"

#define UKI_STUB_EFI	"/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

/* earlyfs seal: key and cert (PEM) checked before anything is written (the
 * key a regular file of root's that no one else may read, on neither the
 * boot partition nor the ESP), the images made and signed, then written
 * with the signed loader and a loader.conf without its editor.  0 or
 * -errno with e filled. */
int uki_seal(struct loader_site *s, const char *key, const char *cert,
	     FILE *out, struct err *e);
#endif
