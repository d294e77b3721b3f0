/* cpio: newc archive entries, as the kernel's initramfs unpacker reads
 * them (the module stub, a sealed image's initramfs) */
#ifndef EARLYFS_CPIO_H
#define EARLYFS_CPIO_H
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* One entry (uid and gid 0, no time, one link) written to f; *ino counts
 * them, so that the same files make the same bytes.  The last entry of an
 * archive is "TRAILER!!!" with mode 0. */
void cpio_entry(FILE *f, unsigned *ino, const char *name, mode_t mode,
		const char *data, size_t len);
/* The same with an owner; a link's data is its target. */
void cpio_entry_owned(FILE *f, unsigned *ino, const char *name, mode_t mode,
		      unsigned uid, unsigned gid, const char *data, size_t len);
#endif
