/* Unit tests: what an ELF file needs, on real and on damaged binaries */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "elfdeps.h"

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size);
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static bool has_needed(const struct elf_deps *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_needed; i++)
		if (strcmp(d->needed[i], name) == 0)
			return true;
	return false;
}

/* This very test binary: dynamic, linked against libc. */
static void test_self(const char *self)
{
	struct elf_deps d;
	size_t len, cut;
	char *buf = slurp(self, &len);

	CHECK(buf != NULL);
	if (!buf)
		return;
	CHECK_INT(elf_deps_parse(buf, len, &d), 0);
	CHECK(d.dynamic);
	/* built for this host: its class and machine */
	CHECK_INT(d.elf_class, sizeof(void *) == 8 ? 2 : 1);
#ifdef __x86_64__
	CHECK_INT(d.machine, 62);
#endif
	CHECK(strstr(d.interp, "ld-linux") != NULL);
	CHECK(has_needed(&d, "libc.so.6"));
	/* truncated anywhere: an error or a subset, never a crash */
	for (cut = 0; cut < len; cut += len / 97 + 1) {
		int r = elf_deps_parse(buf, cut, &d);

		CHECK(r == 0 || r == -EINVAL || r == -ENOEXEC);
	}
	/* the program header table pointed past the end */
	buf[32] = (char)0xff;
	buf[33] = (char)0xff;
	buf[34] = (char)0xff;
	CHECK_INT(elf_deps_parse(buf, len, &d), -EINVAL);
	free(buf);
}

static void test_static(void)
{
	struct elf_deps d;
	size_t len;
	char *buf = slurp("/bin/busybox", &len);

	if (!buf) {
		CHECK(!"/bin/busybox (busybox-static) is readable");
		return;
	}
	CHECK_INT(elf_deps_parse(buf, len, &d), 0);
	CHECK_STR(d.interp, "");
	CHECK_INT(d.n_needed, 0);
	free(buf);
}

static void test_not_elf(void)
{
	struct elf_deps d;
	char sh[] = "#!/bin/sh\necho hi\n";
	char hdr[64] = "\177ELF";

	CHECK_INT(elf_deps_parse(sh, sizeof(sh), &d), -ENOEXEC);
	CHECK_INT(elf_deps_parse("", 0, &d), -ENOEXEC);
	CHECK(!elf_is_elf(sh, sizeof(sh)));
	/* magic with a bad class */
	hdr[4] = 3;
	hdr[5] = 1;
	CHECK_INT(elf_deps_parse(hdr, sizeof(hdr), &d), -EINVAL);
	/* a header and no program headers: a static file */
	hdr[4] = 2;
	CHECK_INT(elf_deps_parse(hdr, sizeof(hdr), &d), 0);
	CHECK(!d.dynamic);
}

int main(int argc, char **argv)
{
	test_self(argv[0]);
	test_static();
	test_not_elf();
	return check_done("elfdeps");
}
