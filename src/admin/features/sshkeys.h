/* sshkeys.h: the ssh feature's files besides its fragments and dropbear
 *
 * root/.ssh/authorized_keys from --authorized-keys FILE: a file that
 * someone else could have written (it, or a directory on its path, is
 * owned by another user, or group- or world-writable short of a sticky
 * directory such as /tmp) is refused, and every line must hold a public
 * key.  Host keys in
 * etc/dropbear: by default new ones made for the partition with the
 * host's dropbearkey (the partition is not encrypted: the system's own
 * keys stay off it unless asked), or the system's OpenSSH keys
 * converted with dropbearconvert (--ssh-host-keys=system, or a directory
 * holding ssh_host_*_key files).  Every key file is 0600 from the moment
 * it exists, in a 0700 directory.  etc/dropbear/port holds the port.
 */
#ifndef EARLYFS_SSHKEYS_H
#define EARLYFS_SSHKEYS_H
#include <stdio.h>
#include "target/boot.h"
#include "change/change.h"
#include "base/err.h"
#include "change/validate.h"

#define SSH_KEY_TYPES 3		/* ed25519, ecdsa, rsa */

/* --authorized-keys FILE opened for reading: a regular file that root
 * (or the caller) owns, on a path whose every directory root (or the
 * caller) owns, none writable by group or others (a sticky directory
 * excepted); reached again with no link followed after realpath(), so
 * that what was checked is what is read.  The fd, or -errno with e
 * saying which step and why. */
int ssh_open_keys(const char *path, struct err *e);
/* Its lines, each reported to p when it holds no public key; the number
 * of keys. */
size_t ssh_validate_keys(const char *buf, size_t len, const char *shown,
			 struct problems *p);
/* dropbear's tools are on the host, host_keys (--ssh-host-keys: "system",
 * a directory, or NULL) names keys: 0, or -errno with e saying what is
 * missing. */
int ssh_check_opts(const char *host_keys, struct err *e);
/* The host key and port files a 'feature add ssh' writes (or removes):
 * keys made for the partition, or converted from host_keys; port (0:
 * keep, 22 at first); appended to files (*n, at most cap), the keys'
 * fingerprints and any warning on out: 0 or -errno with e filled. */
int ssh_files(struct boot *b, const char *host_keys, unsigned port,
	      struct change_file *files, size_t *n, size_t cap, FILE *out,
	      struct err *e);
/* The files 'feature rm ssh' removes besides the configuration. */
int ssh_remove_files(struct change_file *files, size_t *n, size_t cap);
/* check: the partition has a host key, and a key on every line of its
 * authorized_keys. */
void ssh_check(int root, struct problems *p);
#endif
