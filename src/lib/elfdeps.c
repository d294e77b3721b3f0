/* elfdeps: what an ELF file needs at run time (loader, libraries), read purely */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "elfdeps.h"
#include "text.h"

enum { PT_LOAD_ = 1, PT_DYNAMIC_ = 2, PT_INTERP_ = 3 };
enum { DT_NULL_ = 0, DT_NEEDED_ = 1, DT_STRTAB_ = 5, DT_STRSZ_ = 10,
       DT_RPATH_ = 15, DT_RUNPATH_ = 29 };

struct reader {
	const unsigned char *p;
	size_t len;
	bool is64, big;
};

/* Reads an n-byte integer at off; false when it is outside the file. */
static bool rd(const struct reader *r, uint64_t off, unsigned n, uint64_t *v)
{
	unsigned i;

	if (off > r->len || n > r->len - off)
		return false;
	*v = 0;
	for (i = 0; i < n; i++) {
		unsigned b = r->big ? i : n - 1 - i;

		*v = (*v << 8) | r->p[off + b];
	}
	return true;
}

/* A word: 8 bytes in ELF64, 4 in ELF32. */
static bool rdw(const struct reader *r, uint64_t off, uint64_t *v)
{
	return rd(r, off, r->is64 ? 8 : 4, v);
}

bool elf_is_elf(const void *buf, size_t len)
{
	return len >= 4 && memcmp(buf, "\177ELF", 4) == 0;
}

struct segment {
	uint64_t type, offset, vaddr, filesz;
};

static bool phdr(const struct reader *r, uint64_t off, struct segment *s)
{
	uint64_t t;

	if (!rd(r, off, 4, &t))
		return false;
	s->type = t;
	if (r->is64)
		return rd(r, off + 8, 8, &s->offset) &&
		       rd(r, off + 16, 8, &s->vaddr) &&
		       rd(r, off + 32, 8, &s->filesz);
	return rd(r, off + 4, 4, &s->offset) && rd(r, off + 8, 4, &s->vaddr) &&
	       rd(r, off + 16, 4, &s->filesz);
}

/* Copies the NUL-terminated string at off, which must end inside [off, end). */
static int copy_str(const struct reader *r, uint64_t off, uint64_t end,
		    char *dst, size_t cap)
{
	const unsigned char *nul;

	if (end > r->len)
		end = r->len;
	if (off >= end)
		return -EINVAL;
	nul = memchr(r->p + off, '\0', end - off);
	if (!nul)
		return -EINVAL;
	return text_copy(dst, cap, (const char *)r->p + off,
			 (size_t)(nul - (r->p + off)));
}

int elf_deps_parse(const void *buf, size_t len, struct elf_deps *ret)
{
	struct reader r = { buf, len, false, false };
	struct segment s, dyn = { 0 }, loads[16];
	uint64_t phoff, phentsize, phnum, i, strtab = 0, strsz = 0, strvaddr = 0;
	uint64_t machine;
	uint64_t needed[ELF_NEEDED_MAX], runpath = UINT64_MAX;
	size_t n_loads = 0, n_needed = 0;
	bool have_strtab = false;
	unsigned w;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (!elf_is_elf(buf, len) || len < 52)
		return -ENOEXEC;
	if (r.p[4] != 1 && r.p[4] != 2)
		return -EINVAL;
	if (r.p[5] != 1 && r.p[5] != 2)
		return -EINVAL;
	r.is64 = r.p[4] == 2;
	r.big = r.p[5] == 2;
	w = r.is64 ? 8 : 4;
	ret->elf_class = r.p[4];
	if (!rd(&r, 18, 2, &machine))		/* e_machine */
		return -EINVAL;
	ret->machine = (unsigned)machine;
	if (!rdw(&r, r.is64 ? 32 : 28, &phoff) ||
	    !rd(&r, r.is64 ? 54 : 42, 2, &phentsize) ||
	    !rd(&r, r.is64 ? 56 : 44, 2, &phnum))
		return -EINVAL;
	if (phnum && phentsize < (r.is64 ? 56u : 32u))
		return -EINVAL;
	for (i = 0; i < phnum; i++) {
		if (!phdr(&r, phoff + i * phentsize, &s))
			return -EINVAL;
		if (s.type == PT_INTERP_) {
			if (s.filesz == 0 || s.offset > len ||
			    s.filesz > len - s.offset)
				return -EINVAL;
			rc = copy_str(&r, s.offset, s.offset + s.filesz,
				      ret->interp, sizeof(ret->interp));
			if (rc < 0)
				return rc;
		} else if (s.type == PT_DYNAMIC_) {
			dyn = s;
			ret->dynamic = true;
		} else if (s.type == PT_LOAD_ && n_loads < 16) {
			loads[n_loads++] = s;
		}
	}
	if (!ret->dynamic)
		return 0;
	for (i = 0; i + 2 * w <= dyn.filesz; i += 2 * w) {
		uint64_t tag, val;

		if (!rdw(&r, dyn.offset + i, &tag) ||
		    !rdw(&r, dyn.offset + i + w, &val))
			return -EINVAL;
		if (tag == DT_NULL_)
			break;
		if (tag == DT_NEEDED_) {
			if (n_needed == ELF_NEEDED_MAX)
				return -E2BIG;
			needed[n_needed++] = val;
		} else if (tag == DT_STRTAB_) {
			strvaddr = val;
			have_strtab = true;
		} else if (tag == DT_STRSZ_) {
			strsz = val;
		} else if (tag == DT_RUNPATH_ ||
			   (tag == DT_RPATH_ && runpath == UINT64_MAX)) {
			runpath = val;
		}
	}
	if (!n_needed && runpath == UINT64_MAX)
		return 0;
	if (!have_strtab)
		return -EINVAL;
	/* DT_STRTAB is an address: find the file offset of its segment */
	for (i = 0; i < n_loads; i++)
		if (strvaddr >= loads[i].vaddr &&
		    strvaddr - loads[i].vaddr < loads[i].filesz)
			break;
	if (i == n_loads)
		return -EINVAL;
	strtab = loads[i].offset + (strvaddr - loads[i].vaddr);
	if (strtab > len)
		return -EINVAL;
	if (!strsz || strsz > len - strtab)
		strsz = len - strtab;
	for (i = 0; i < n_needed; i++) {
		if (needed[i] >= strsz)
			return -EINVAL;
		rc = copy_str(&r, strtab + needed[i], strtab + strsz,
			      ret->needed[i], sizeof(ret->needed[i]));
		if (rc < 0)
			return rc;
	}
	ret->n_needed = n_needed;
	if (runpath != UINT64_MAX) {
		if (runpath >= strsz)
			return -EINVAL;
		rc = copy_str(&r, strtab + runpath, strtab + strsz,
			      ret->runpath, sizeof(ret->runpath));
		if (rc < 0)
			return rc;
	}
	return 0;
}

int elf_deps_read_fd(int fd, struct elf_deps *ret)
{
	struct stat st;
	char magic[4];
	void *p;
	int r;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, magic, 4, 0) != 4 || !elf_is_elf(magic, 4))
		return -ENOEXEC;
	if (st.st_size > ELF_SIZE_MAX)
		return -EFBIG;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r = elf_deps_parse(p, (size_t)st.st_size, ret);
	munmap(p, (size_t)st.st_size);
	return r;
}

int elf_deps_read(const char *path, struct elf_deps *ret)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = elf_deps_read_fd(fd, ret);
	close(fd);
	return r;
}
