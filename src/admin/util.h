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
int loop_attach(const char *file, uint64_t offset, uint64_t size,
		bool readonly, char *ret_dev, size_t cap);
int loop_detach(const char *dev);
int mkdtemp_in(const char *prefix, char *ret, size_t cap);
int copy_file_dense(const char *src, const char *dst, mode_t mode);
int rm_rf(const char *path);
const char *data_dir(void);	/* templates/, init.d/, earlyfs-init */
const char *init_binary(void);
int write_text(const char *path, const char *text, mode_t mode);
uint64_t tree_bytes(const char *dir);
double elapsed_s(const struct timespec *start);
/* KEY=value from BOOT/etc/earlyfs.conf: 0, -ENOENT, -E2BIG, -errno. */
int boot_conf_get(const char *boot, const char *key, char *ret, size_t cap);
struct elf_deps;
/* 0 with what an ELF file needs, -ENOEXEC if it is not ELF, -errno. */
int elf_read_deps(const char *path, struct elf_deps *ret);
#endif
