/* sha256: SHA-256 (FIPS 180-4), for the seal's file digests */
#ifndef EARLYFS_SHA256_H
#define EARLYFS_SHA256_H
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX (SHA256_LEN * 2 + 1)

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char buf[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);
/* The digest of n bytes, as lower-case hex in hex. */
void sha256_hex(const void *p, size_t n, char hex[SHA256_HEX]);
void sha256_to_hex(const unsigned char d[SHA256_LEN], char hex[SHA256_HEX]);
/* Whether the CPU's SHA instructions (x86's SHA extensions) are used:
 * from the first digest on, when the CPU has them; want 0 keeps to the
 * portable code (the tests compare both).  Returns what is used now. */
int sha256_extensions(int want);
#endif
