/* Unit tests: SHA-256 (FIPS 180-4's examples) and the seal's manifest:
 * a tree scanned, its lines parsed, two manifests compared */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "seal.h"
#include "sha256.h"

static void test_sha256_vectors(void)
{
	char hex[SHA256_HEX], *a = malloc(1000000);
	struct sha256 s;
	unsigned char d[SHA256_LEN];

	sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb924"
		  "27ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223"
		  "b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		   56, hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039"
		  "a33ce45964ff2167f6ecedd419db06c1");
	memset(a, 'a', 1000000);
	/* in uneven pieces: the buffering is what is tested */
	sha256_init(&s);
	for (size_t at = 0, step = 1; at < 1000000; at += step, step = step * 7 % 997 + 1)
		sha256_update(&s, a + at, at + step > 1000000 ? 1000000 - at : step);
	sha256_final(&s, d);
	sha256_to_hex(d, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
		  "f1809a48a497200e046d39ccc7112cd0");
	/* 55, 56 and 64 bytes: where the padding takes one block or two */
	sha256_hex(a, 55, hex);
	CHECK_STR(hex, "9f4390f8d30c2dd92ec9f095b65e2b9a"
		  "e9b0a925a5258e241c9f1e910f734318");
	sha256_hex(a, 64, hex);
	CHECK_STR(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209"
		  "f439851db43d0ba5997337df154668eb");
	free(a);
}

/* Both ways of computing it: the CPU's SHA instructions where it has
 * them (this host, a real machine), the portable code (earlyfs-init under
 * QEMU's TCG); FIPS's examples in each and the same digests of a long
 * irregular buffer cut in uneven pieces. */
static void test_sha256(void)
{
	size_t n = 3 << 20;
	unsigned char *b = malloc(n), d[2][SHA256_LEN];
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		b[i] = (unsigned char)x;
	}
	for (int ext = 1; ext >= 0; ext--) {
		struct sha256 s;
		int on = sha256_extensions(ext);

		if (ext)
			printf("sha256: the CPU's SHA instructions: %s\n",
			       on ? "used" : "not here (portable code only)");
		CHECK(ext || !on);
		test_sha256_vectors();
		sha256_init(&s);
		for (size_t at = 0, step = 1; at < n;
		     at += step, step = step * 13 % 70001 + 1)
			sha256_update(&s, b + at, at + step > n ? n - at : step);
		sha256_final(&s, d[ext]);
	}
	CHECK(!memcmp(d[0], d[1], SHA256_LEN));
	sha256_extensions(1);
	free(b);
}

static void test_parse(void)
{
	struct seal_line l;
	static const char ok[] = "f 0755 0 0 3:abc bin/x";

	CHECK_INT(seal_parse_line(ok, strlen(ok), &l), 0);
	CHECK(l.path_len == 5 && !memcmp(l.path, "bin/x", 5));
	CHECK(l.data_len == 5 && !memcmp(l.data, "3:abc", 5));
	CHECK_INT(seal_parse_line("f 0755 0 0 3:abc", 16, &l), -EINVAL);
	CHECK_INT(seal_parse_line("f 0755 0 0 3:abc a b", 20, &l), -EINVAL);
	CHECK_INT(seal_parse_line("f  0755 0 0 - a", 15, &l), -EINVAL);
	CHECK_INT(seal_parse_line("", 0, &l), -EINVAL);
	CHECK_INT(seal_parse_line("f 0755 0 0 - ", 13, &l), -EINVAL);
}

static char diffs[4096];

static void note(void *ctx, const char *p, size_t pl, const char *s,
		 size_t sl, const char *f, size_t fl)
{
	size_t n = strlen(diffs);

	(void)ctx;
	(void)sl;
	(void)fl;
	snprintf(diffs + n, sizeof(diffs) - n, "%c%.*s;", s && f ? '~' :
		 s ? '-' : '+', (int)pl, p);
}

static long compare(const char *a, const char *b)
{
	diffs[0] = '\0';
	return seal_compare(a, strlen(a), b, strlen(b), note, NULL);
}

static void test_compare(void)
{
	static const char a[] = SEAL_HEADER "\nd 0755 0 0 - .\n"
		"d 0755 0 0 - a\nf 0644 0 0 1:x a/b\nf 0644 0 0 1:x a-b\n";
	static const char b[] = SEAL_HEADER "\nd 0755 0 0 - .\n"
		"d 0755 0 0 - a\nf 0600 0 0 1:x a/b\nf 0644 0 0 1:x a/c\n";

	CHECK_INT(compare(a, a), 0);
	CHECK_STR(diffs, "");
	CHECK_INT(compare(a, b), 3);
	CHECK_STR(diffs, "~a/b;+a/c;-a-b;");
	CHECK_INT(compare(b, a), 3);
	CHECK_STR(diffs, "~a/b;-a/c;+a-b;");
	CHECK_INT(compare("", a), -EINVAL);
	CHECK_INT(compare(a, "earlyfs-seal 2\n"), -EINVAL);
	CHECK_INT(compare(a, SEAL_HEADER "\nbad line\n"), -EINVAL);
	CHECK_INT(compare(SEAL_HEADER "\n", SEAL_HEADER "\n"), 0);
	/* a generation's manifest is compared with one of the same */
	CHECK_INT(compare(SEAL_HEADER " generation=3\n",
			  SEAL_HEADER " generation=3\n"), 0);
	CHECK_INT(compare(SEAL_HEADER " generation=3\n", SEAL_HEADER "\n"),
		  -EINVAL);
	CHECK_INT(compare(SEAL_HEADER " generation=0\n",
			  SEAL_HEADER " generation=0\n"), -EINVAL);
	CHECK_INT(compare(SEAL_HEADER " generation=x\n",
			  SEAL_HEADER " generation=x\n"), -EINVAL);
	CHECK_INT(compare(SEAL_HEADER "x\n", SEAL_HEADER "x\n"), -EINVAL);
}

static int put(const char *dir, const char *name, const char *text,
	       mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) < 0)
		fd = -1 - fd;
	fchmod(fd, mode);
	close(fd);
	return 0;
}

static void test_scan(void)
{
	char tmpl[] = "/tmp/seal-test-XXXXXX", p[512], *a, *b;
	size_t al, bl;
	int fd;

	if (!mkdtemp(tmpl)) {
		CHECK(!"mkdtemp");
		return;
	}
	chmod(tmpl, 0755);
	snprintf(p, sizeof(p), "%s/init.d", tmpl);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/lost+found", tmpl);
	mkdir(p, 0700);
	put(tmpl, "init.d/10-a", "echo a\n", 0755);
	put(tmpl, "earlyfs-vmlinuz-6.1", "kernel", 0644);
	snprintf(p, sizeof(p), "%s/vmlinuz", tmpl);
	symlink("earlyfs-vmlinuz-6.1", p);
	put(tmpl, "odd name\n", "abc", 0600);
	snprintf(p, sizeof(p), "%s/sh", tmpl);
	symlink("/bin/busy box", p);
	fd = open(tmpl, O_RDONLY | O_DIRECTORY);
	CHECK_INT(seal_scan(fd, NULL, &a, &al), 0);
	CHECK(a && strstr(a, "f 0755 0 0 7:") && strstr(a, " init.d/10-a\n"));
	CHECK(a && strstr(a, "\nf 0600 0 0 3:ba7816bf8f01cfea414140de5dae2223"
			     "b00361a396177a9cb410ff61f20015ad odd\\x20name\\x0a\n"));
	CHECK(a && strstr(a, "\nl 0777 0 0 /bin/busy\\x20box sh\n"));
	CHECK(a && strstr(a, "\nd 0755 0 0 - init.d\n"));
	/* what a sealed boot never reads is left out */
	CHECK(a && !strstr(a, "vmlinuz") && !strstr(a, "lost+found"));
	CHECK_INT(seal_compare(a, al, a, al, note, NULL), 0);
	/* a changed byte, a new fragment, a changed mode */
	put(tmpl, "init.d/10-a", "echo b\n", 0755);
	put(tmpl, "init.d/20-b", "evil\n", 0755);
	snprintf(p, sizeof(p), "%s/odd name\n", tmpl);
	chmod(p, 0644);
	put(tmpl, "earlyfs-vmlinuz-6.2", "kernel", 0644);
	CHECK_INT(seal_scan(fd, NULL, &b, &bl), 0);
	diffs[0] = '\0';
	CHECK_INT(seal_compare(a, al, b, bl, note, NULL), 3);
	CHECK_STR(diffs, "~init.d/10-a;+init.d/20-b;~odd\\x20name\\x0a;");
	free(a);
	free(b);
	close(fd);
	snprintf(p, sizeof(p), "rm -rf '%s'", tmpl);
	CHECK_INT(system(p), 0);
}

/* A generation's scope: its own fragments and fstab, not the live ones
 * or the other generations'. */
static void test_scope(void)
{
	char tmpl[] = "/tmp/seal-scope-XXXXXX", p[512], *a = NULL, *b = NULL;
	struct seal_scope g2 = { 2 }, got;
	size_t al, bl;
	int fd;

	if (!mkdtemp(tmpl)) {
		CHECK(!"mkdtemp");
		return;
	}
	chmod(tmpl, 0755);
	static const char *const dirs[] = { "init.d", "etc", "generations",
		"generations/1", "generations/2", "generations/2/init.d",
		"generations/20", "bin" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpl, dirs[i]);
		mkdir(p, 0755);
	}
	put(tmpl, "init.d/10-a", "new\n", 0755);
	put(tmpl, "etc/fstab", "new\n", 0644);
	put(tmpl, "etc/crypttab", "x\n", 0600);
	put(tmpl, "generations/2/init.d/10-a", "old\n", 0755);
	put(tmpl, "bin/sh", "sh", 0755);
	fd = open(tmpl, O_RDONLY | O_DIRECTORY);
	CHECK_INT(seal_scan(fd, &g2, &a, &al), 0);
	CHECK(a && !strncmp(a, SEAL_HEADER " generation=2\n", 24));
	CHECK(a && strstr(a, " generations/2/init.d/10-a\n") &&
	      strstr(a, " etc/crypttab\n") && strstr(a, " bin/sh\n"));
	CHECK(a && !strstr(a, " init.d") && !strstr(a, "etc/fstab") &&
	      !strstr(a, "generations/1") && !strstr(a, "generations/20"));
	CHECK_INT(seal_scope_of(a, al, &got), 0);
	CHECK_INT(got.generation, 2);
	/* a later change of the live fragments leaves it as it was */
	put(tmpl, "init.d/20-b", "newer\n", 0755);
	snprintf(p, sizeof(p), "%s/generations/3", tmpl);
	mkdir(p, 0755);
	CHECK_INT(seal_scan(fd, &g2, &b, &bl), 0);
	CHECK_INT(seal_compare(a, al, b, bl, note, NULL), 0);
	free(b);
	/* not a change of what it runs */
	put(tmpl, "generations/2/init.d/10-a", "evil\n", 0755);
	CHECK_INT(seal_scan(fd, &g2, &b, &bl), 0);
	CHECK_INT(seal_compare(a, al, b, bl, note, NULL), 1);
	free(a);
	free(b);
	close(fd);
	snprintf(p, sizeof(p), "rm -rf '%s'", tmpl);
	CHECK_INT(system(p), 0);
}

int main(void)
{
	test_sha256();
	test_parse();
	test_compare();
	test_scan();
	test_scope();
	return check_done("seal");
}
