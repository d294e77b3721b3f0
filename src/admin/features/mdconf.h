/* mdconf.h: etc/mdadm.conf from the host's arrays that back the root
 *
 * The arrays are the root itself when it is /dev/md*, and the md device
 * under the LUKS volume the root opens (/dev/mapper/NAME, found through
 * the crypttab).  The host's mdadm describes each (mdadm --detail
 * --brief: metadata, UUID, name); an array whose members are
 * device-mapper volumes (RAID built on LUKS) also gets
 * devices=/dev/mapper/... (and the file a DEVICE line that lets mdadm
 * find them), which tells 20-mdraid to leave it to 42-luks, after the
 * volumes are open.
 */
#ifndef EARLYFS_MDCONF_H
#define EARLYFS_MDCONF_H
#include <stddef.h>
#include "base/err.h"
#include "change/validate.h"


/* 0 with the file's text in *ret (malloc'd, NUL-terminated), or -errno
 * with e saying why and that --mdadm-conf FILE is the way out.  crypttab
 * (NULL if none) is the crypttab the boot will use. */
int mdconf_generate(const char *root, const char *crypttab, size_t ct_len,
		    char **ret, size_t *ret_len, struct err *e);
#endif
