/* Unit tests: a kernel module's .modinfo */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "modinfo.h"

static void put(unsigned char *p, uint64_t v, size_t n, int be)
{
	for (size_t i = 0; i < n; i++)
		p[be ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

/* An ELF64 relocatable: header, .modinfo, .shstrtab, three headers. */
static size_t module(unsigned char *b, const char *info, size_t ilen, int be)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab";
	size_t io = 64, so = io + ilen, sh = (so + sizeof(shstr) + 7) & ~7u;

	memset(b, 0, sh + 3 * 64);
	memcpy(b, "\177ELF", 4);
	b[4] = 2;
	b[5] = be ? 2 : 1;
	put(b + 16, 1, 2, be);
	put(b + 40, sh, 8, be);
	put(b + 58, 64, 2, be);
	put(b + 60, 3, 2, be);
	put(b + 62, 2, 2, be);
	memcpy(b + io, info, ilen);
	memcpy(b + so, shstr, sizeof(shstr));
	put(b + sh + 64, 1, 4, be);		/* .modinfo */
	put(b + sh + 64 + 24, io, 8, be);
	put(b + sh + 64 + 32, ilen, 8, be);
	put(b + sh + 128, 10, 4, be);		/* .shstrtab */
	put(b + sh + 128 + 24, so, 8, be);
	put(b + sh + 128 + 32, sizeof(shstr), 8, be);
	return sh + 3 * 64;
}

static void test_parse(void)
{
	static const char info[] = "alias=virtio:d00000002v*\0depends=virtio,"
		"virtio_ring\0intree=Y\0name=virtio_blk\0alias=pci:x\0"
		"vermagic=6.1.0-57-amd64 SMP mod_unload\0";
	unsigned char b[2048];
	struct modinfo m;
	const char *v;
	size_t len, pos = 0, n = 0, l;

	for (int be = 0; be < 2; be++) {
		len = module(b, info, sizeof(info), be);
		CHECK_INT(modinfo_parse(b, len, &m), 0);
		CHECK_STR(m.name, "virtio_blk");
		CHECK_INT(m.n_depends, 2);
		CHECK_STR(m.depends[1], "virtio_ring");
	}
	while (modinfo_next(&m, "alias", &pos, &v, &l) == 1)
		n++;
	CHECK_INT(n, 2);
	/* no depends at all, an empty one */
	len = module(b, "name=crc16\0depends=\0", 20, 0);
	CHECK_INT(modinfo_parse(b, len, &m), 0);
	CHECK_INT(m.n_depends, 0);
	/* not a module, truncated, a section past the end */
	CHECK_INT(modinfo_parse("hello", 5, &m), -ENOEXEC);
	len = module(b, info, sizeof(info), 0);
	CHECK_INT(modinfo_parse(b, len - 100, &m), -EINVAL);
	put(b + len - 64 * 2 + 24, 1 << 20, 8, 0);
	CHECK_INT(modinfo_parse(b, len, &m), -EINVAL);
	len = module(b, info, sizeof(info), 0);
	b[len - 64 * 2] = 20;	/* no section is .modinfo any more */
	CHECK_INT(modinfo_parse(b, len, &m), -ENOENT);
	/* an unterminated last string is read to the section's end */
	len = module(b, "name=abc", 8, 0);
	CHECK_INT(modinfo_parse(b, len, &m), 0);
	CHECK_STR(m.name, "abc");
}

static void test_names(void)
{
	CHECK(modinfo_same_name("virtio-blk", "virtio_blk"));
	CHECK(!modinfo_same_name("virtio_blk", "virtio_bl"));
}

static int span_is(struct modinfo_span sp, const char *want)
{
	return sp.len == strlen(want) && !memcmp(sp.s, want, sp.len);
}

static void test_alias_line(void)
{
	struct modinfo_span pat, name;
	static const char ok[] = "alias virtio:d00000002v* virtio_blk";
	char big[700];

	CHECK_INT(modinfo_alias_line(ok, strlen(ok), &pat, &name), 1);
	CHECK(span_is(pat, "virtio:d00000002v*"));
	CHECK(span_is(name, "virtio_blk"));
	CHECK_INT(modinfo_alias_line("# Aliases extracted", 19, &pat, &name), 0);
	CHECK_INT(modinfo_alias_line("alias onlyone", 13, &pat, &name), 0);
	CHECK_INT(modinfo_alias_line("alias  x", 8, &pat, &name), 0);
	CHECK_INT(modinfo_alias_line("alias x ", 8, &pat, &name), 0);
	CHECK_INT(modinfo_alias_line("alias x a/b", 11, &pat, &name), 0);
	CHECK_INT(modinfo_alias_line("alias x a b", 11, &pat, &name), 0);
	CHECK_INT(modinfo_alias_line("alias x a\0b", 11, &pat, &name), 0);
	CHECK_INT(modinfo_alias_line("softdep x pre: y", 16, &pat, &name), 0);
	memset(big, 'p', sizeof(big));
	memcpy(big, "alias ", 6);
	memcpy(big + sizeof(big) - 4, " mod", 4);
	CHECK_INT(modinfo_alias_line(big, sizeof(big), &pat, &name), 0);
	memset(big + 6, 'n', 64);
	big[5 + 65] = ' ';
	CHECK_INT(modinfo_alias_line(big, 5 + 65 + 65, &pat, &name), 0);
}

static void test_builtin(void)
{
	struct modinfo_span name, value;
	static const char s1[] = "sd_mod.alias=scsi:t-0x00*";
	static const char s2[] = "ext4.description=Fourth Extended Filesystem";

	CHECK_INT(modinfo_builtin_string(s1, strlen(s1), "alias", &name,
					 &value), 1);
	CHECK(span_is(name, "sd_mod"));
	CHECK(span_is(value, "scsi:t-0x00*"));
	CHECK_INT(modinfo_builtin_string(s2, strlen(s2), "alias", &name,
					 &value), 0);
	CHECK_INT(modinfo_builtin_string("noseparator", 11, "alias", &name,
					 &value), 0);
	CHECK_INT(modinfo_builtin_string("x.alias", 7, "alias", &name,
					 &value), 0);
	CHECK_INT(modinfo_builtin_string("x.aliasX=y", 10, "alias", &name,
					 &value), 0);
	CHECK_INT(modinfo_builtin_string(".alias=y", 8, "alias", &name,
					 &value), 0);
	CHECK_INT(modinfo_builtin_string("x.alias=", 8, "alias", &name,
					 &value), 0);
	CHECK_INT(modinfo_builtin_line("kernel/fs/ext4/ext4.ko", 22, &name), 1);
	CHECK(span_is(name, "ext4"));
	CHECK_INT(modinfo_builtin_line("crc32c_generic.ko", 17, &name), 1);
	CHECK(span_is(name, "crc32c_generic"));
	CHECK_INT(modinfo_builtin_line("kernel/fs/ext4/", 15, &name), 0);
	CHECK_INT(modinfo_builtin_line("kernel/x/.ko", 12, &name), 0);
	CHECK_INT(modinfo_builtin_line("kernel/x/y.ko.xz", 16, &name), 0);
	CHECK_INT(modinfo_builtin_line(".ko", 3, &name), 0);
}

int main(void)
{
	test_parse();
	test_names();
	test_alias_line();
	test_builtin();
	return check_done("modinfo");
}
