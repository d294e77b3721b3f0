/* util.h: running host commands, loop devices, temporary directories, files */
#ifndef EARLYFS_UTIL_H
#define EARLYFS_UTIL_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* Runs argv (a host binary, found in PATH), waits; returns its exit
 * status, or -errno if it could not start.  stdout goes to /dev/null,
 * stderr (its start) to errbuf. */
int run_cmd(char *const argv[], char *errbuf, size_t errcap);
/* The same with stdin read from fd in at in_off and stdout written to fd
 * out (at most out_max bytes: a larger output ends it with SIGXFSZ); -1
 * for /dev/null.  No shell: argv is never parsed. */
int run_filter(char *const argv[], int in, off_t in_off, int out,
	       off_t out_max, char *errbuf, size_t errcap);
/* run_filter() with stdout kept: once the program ran (its status, >= 0,
 * returned), *ret holds its output, at most max bytes, NUL-terminated,
 * malloc'ed (a decompressor fed a stream with trailing bytes complains
 * and still gives it); -errno if it could not run or its output cannot
 * be read (-EFBIG past max). */
int run_capture(char *const argv[], int in, off_t in_off, size_t max,
		char **ret, size_t *ret_len, char *errbuf, size_t errcap);
/* A memfd holding buf, at offset 0: something to feed run_filter() or
 * run_capture(); or -errno. */
int memfd_of(const char *name, const void *buf, size_t len);
/* A sysfs attribute's text without its trailing newline and blanks: 0,
 * or -errno. */
int sysfs_read(const char *path, char *buf, size_t cap);
/* A loop device (autoclear) on file's range: an fd that keeps it until
 * closed (and unmounted), its path in ret_dev; or -errno. */
int loop_attach(const char *file, uint64_t offset, uint64_t size,
		bool readonly, char *ret_dev, size_t cap);
/* Our mounts from here on are our own: they go with the process, even
 * when it is killed (a mount namespace of its own, slave of the host's). */
int private_mounts(void);
/* Removes the empty $TMPDIR/earlyfs-{edit,mnt}.PID.* of dead processes. */
void tmp_clean_dead(void);
int loop_detach(const char *dev);
/* $TMPDIR (or /tmp)/PREFIX.PID.XXXXXX, created 0700. */
int mkdtemp_in(const char *prefix, char *ret, size_t cap);
/* A new private file in $TMPDIR (or /tmp): its fd, its path in ret. */
int mkstemp_in(const char *prefix, char *ret, size_t cap);
int copy_file_dense(const char *src, const char *dst, mode_t mode);
int rm_rf(const char *path);
/* The path of host command name in the system's directories (not $PATH:
 * what root runs or copies does not come from a user's directory): 0, or
 * -ENOENT. */
int host_which(const char *name, char *ret, size_t cap);
#define HOST_PATH_SHOWN \
	"/usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin"
const char *data_dir(void);	/* templates/, init.d/, earlyfs-init */
const char *init_binary(void);
int write_text(const char *path, const char *text, mode_t mode);
uint64_t tree_bytes(const char *dir);
double elapsed_s(const struct timespec *start);
/* The host's own busybox (busybox-static): what provisioning copies, and
 * the shell that checks a fragment's syntax.  Never the target's. */
#define HOST_BUSYBOX "/bin/busybox"
/* KEY=value from etc/earlyfs.conf beneath the boot partition's fd dir:
 * 0, -ENOENT, -E2BIG, -errno. */
int boot_conf_get(int dir, const char *key, char *ret, size_t cap);
/* The text of LAYOUT_CONF with KEY=value set: its line (the first with
 * that key, as boot_conf_get() reads it) replaced, the others with the
 * key dropped, or the line added; malloc'ed, or NULL. */
char *boot_conf_with(int dir, const char *key, const char *value,
		     size_t *ret_len);
struct elf_deps;
#define ELF_SIZE_MAX (1LL << 30)
/* 0 with what an ELF file needs, -ENOEXEC if it is not ELF, -EFBIG above
 * ELF_SIZE_MAX, -errno. */
int elf_read_deps(const char *path, struct elf_deps *ret);
int elf_read_deps_fd(int fd, struct elf_deps *ret);
#endif
