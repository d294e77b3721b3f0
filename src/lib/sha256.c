/* sha256: SHA-256 as FIPS 180-4 gives it */
#include <string.h>
#include "sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define S0(a) (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22))
#define S1(e) (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25))
#define G0(w) (ROR(w, 7) ^ ROR(w, 18) ^ ((w) >> 3))
#define G1(w) (ROR(w, 17) ^ ROR(w, 19) ^ ((w) >> 10))
/* Ch and Maj in 3 and 4 operations (the same functions as FIPS 180-4's) */
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
/* round i; the eight variables rename instead of moving */
#define R(a, b, c, d, e, f, g, h, i) do { \
	uint32_t t_ = h + S1(e) + CH(e, f, g) + K[i] + w[i]; \
	d += t_; \
	h = t_ + S0(a) + MAJ(a, b, c); \
} while (0)

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Portable C: what earlyfs-init runs where the CPU has no SHA
 * instructions (and under QEMU's TCG, which emulates none). */
static void blocks_c(uint32_t h[8], const unsigned char *p, size_t n)
{
	uint32_t w[64], a, b, c, d, e, f, g, k;
	int i;

	for (; n--; p += 64) {
		for (i = 0; i < 16; i++)
			w[i] = be32(p + 4 * i);
		for (; i < 64; i++)
			w[i] = w[i - 16] + G0(w[i - 15]) + w[i - 7] +
			       G1(w[i - 2]);
		a = h[0]; b = h[1]; c = h[2]; d = h[3];
		e = h[4]; f = h[5]; g = h[6]; k = h[7];
		for (i = 0; i < 64; i += 8) {
			R(a, b, c, d, e, f, g, k, i);
			R(k, a, b, c, d, e, f, g, i + 1);
			R(g, k, a, b, c, d, e, f, i + 2);
			R(f, g, k, a, b, c, d, e, i + 3);
			R(e, f, g, k, a, b, c, d, i + 4);
			R(d, e, f, g, k, a, b, c, i + 5);
			R(c, d, e, f, g, k, a, b, i + 6);
			R(b, c, d, e, f, g, k, a, i + 7);
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d;
		h[4] += e; h[5] += f; h[6] += g; h[7] += k;
	}
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_EXT 1

/* The x86 SHA extensions: each sha256rnds2 does two rounds on the state
 * held as ABEF and CDGH; sha256msg1/msg2 extend the message schedule four
 * words at a time. */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_x86(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
					    0x0405060700010203ULL);
	__m128i abef, cdgh, t, w[4], m, save0, save1;
	int i;

	/* h[0..7] = a..h into ABEF (a in the top lane) and CDGH */
	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xb1);
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)),
				 0x1b);
	abef = _mm_alignr_epi8(t, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, t, 0xf0);
	for (; n--; p += 64) {
		save0 = abef;
		save1 = cdgh;
		for (i = 0; i < 4; i++)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128(
					(const __m128i *)(p + 16 * i)), swap);
		for (i = 0; i < 16; i++) {
			if (i >= 4) {	/* W[4i..4i+3] over W[4i-16..4i-13] */
				t = _mm_sha256msg1_epu32(w[i & 3],
							 w[(i + 1) & 3]);
				t = _mm_add_epi32(t, _mm_alignr_epi8(
						w[(i + 3) & 3], w[(i + 2) & 3], 4));
				w[i & 3] = _mm_sha256msg2_epu32(t,
								w[(i + 3) & 3]);
			}
			m = _mm_add_epi32(w[i & 3], _mm_loadu_si128(
					(const __m128i *)(K + 4 * i)));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
			abef = _mm_sha256rnds2_epu32(abef, cdgh,
						     _mm_shuffle_epi32(m, 0x0e));
		}
		abef = _mm_add_epi32(abef, save0);
		cdgh = _mm_add_epi32(cdgh, save1);
	}
	t = _mm_shuffle_epi32(abef, 0x1b);
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)h, _mm_blend_epi16(t, cdgh, 0xf0));
	_mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(cdgh, t, 8));
}

static int x86_has_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) ||
	    !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

/* -1 until asked, then whether the CPU's SHA instructions are used */
static int use_ext = -1;

int sha256_extensions(int want)
{
#ifdef HAVE_SHA_EXT
	use_ext = want && x86_has_sha();
#else
	(void)want;
	use_ext = 0;
#endif
	return use_ext;
}

static void blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
	if (use_ext < 0)
		sha256_extensions(1);
#ifdef HAVE_SHA_EXT
	if (use_ext) {
		blocks_x86(h, p, n);
		return;
	}
#endif
	blocks_c(h, p, n);
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->bytes = 0;
	s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	s->bytes += n;
	if (s->fill) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;

		memcpy(s->buf + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill < 64)
			return;
		blocks(s->h, s->buf, 1);
		s->fill = 0;
	}
	if (n >= 64) {
		blocks(s->h, p, n / 64);
		p += n - n % 64;
		n %= 64;
	}
	memcpy(s->buf, p, n);
	s->fill = n;
}

void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN])
{
	uint64_t bits = s->bytes * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

void sha256_to_hex(const unsigned char d[SHA256_LEN], char hex[SHA256_HEX])
{
	static const char x[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[SHA256_LEN * 2] = '\0';
}

void sha256_hex(const void *p, size_t n, char hex[SHA256_HEX])
{
	struct sha256 s;
	unsigned char d[SHA256_LEN];

	sha256_init(&s);
	sha256_update(&s, p, n);
	sha256_final(&s, d);
	sha256_to_hex(d, hex);
}
