/* elfdeps: what an ELF file needs at run time (loader, libraries), read purely */
#ifndef EARLYFS_ELFDEPS_H
#define EARLYFS_ELFDEPS_H
#include <stdbool.h>
#include <stddef.h>

#define ELF_NEEDED_MAX 64
#define ELF_NAME_MAX 256

struct elf_deps {
	unsigned elf_class;		/* 1: 32-bit, 2: 64-bit */
	unsigned machine;		/* e_machine (62: x86-64) */
	bool dynamic;			/* has a PT_DYNAMIC segment */
	char interp[ELF_NAME_MAX];	/* PT_INTERP, "" when static */
	char needed[ELF_NEEDED_MAX][ELF_NAME_MAX];
	size_t n_needed;
	char runpath[1024];		/* DT_RUNPATH, else DT_RPATH */
};

/* 1 when buf starts with the ELF magic. */
bool elf_is_elf(const void *buf, size_t len);

/*
 * Parses the program headers and dynamic section of a 32- or 64-bit ELF
 * file of either byte order held in buf[0..len).  Returns 0, -ENOEXEC if
 * it is not ELF, -EINVAL if a header or offset points outside the file or a
 * string is unterminated, -E2BIG past ELF_NEEDED_MAX libraries.
 */
int elf_deps_parse(const void *buf, size_t len, struct elf_deps *ret);
#define ELF_SIZE_MAX (1LL << 30)
/* The same read from a file (mapped, never loaded): 0, -ENOEXEC if it is
 * not ELF, -EFBIG above ELF_SIZE_MAX, -errno. */
int elf_deps_read(const char *path, struct elf_deps *ret);
int elf_deps_read_fd(int fd, struct elf_deps *ret);
#endif
