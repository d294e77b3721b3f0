/* host.h: this machine's files earlyfs reads and writes: its commands,
 * earlyfs's data directory, sysfs, temporary files, dense copies */
#ifndef EARLYFS_HOST_H
#define EARLYFS_HOST_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* The path of host command name in the system's directories (not $PATH:
 * what root runs or copies does not come from a user's directory): 0, or
 * -ENOENT. */
int host_which(const char *name, char *ret, size_t cap);
#define HOST_PATH_SHOWN \
	"/usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin"
/* The host's own busybox (busybox-static): what provisioning copies, and
 * the shell that checks a fragment's syntax.  Never the target's. */
#define HOST_BUSYBOX "/bin/busybox"
const char *host_data_dir(void);	/* templates/, init.d/, earlyfs-init */
const char *host_init_binary(void);
/* A new private file in $TMPDIR (or /tmp): its fd, its path in ret. */
int host_mkstemp(const char *prefix, char *ret, size_t cap);
/* Every block written, zeros included: syslinux cannot read holes. */
int host_copy_dense(const char *src, const char *dst, mode_t mode);
int host_rm_rf(const char *path);
int host_write_text(const char *path, const char *text, mode_t mode);
uint64_t host_tree_bytes(const char *dir);
double host_elapsed_s(const struct timespec *start);
/* A sysfs attribute's text without its trailing newline and blanks: 0,
 * or -errno. */
int host_sysfs_read(const char *path, char *buf, size_t cap);
#endif
