/* Unit tests: EFI signature lists (esl), the firmware's key databases
 * as earlyfs enroll reads them */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "esl.h"

static uint8_t buf[1024];

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A list at buf + at of type, a header of head bytes, n signatures of
 * data[0..len) (the owner GUID's bytes all owner): its end. */
static size_t list(size_t at, const uint8_t *type, uint32_t head, int n,
		   const char *data, size_t len, uint8_t owner)
{
	uint8_t *l = buf + at;
	uint32_t sig = 16 + (uint32_t)len;
	size_t o = 28 + head;

	memcpy(l, type, 16);
	put32(l + 16, (uint32_t)(o + (size_t)n * sig));
	put32(l + 20, head);
	put32(l + 24, sig);
	memset(l + 28, 0xee, head);
	for (int i = 0; i < n; i++, o += sig) {
		memset(l + o, owner, 16);
		memcpy(l + o + 16, data, len);
	}
	return at + o;
}

static const uint8_t sha256_type[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c };

struct seen {
	int x509, other;
	size_t bytes;
	uint8_t owner;
};

static int visit(void *ctx, const uint8_t *type, const uint8_t *owner,
		 const uint8_t *data, size_t len)
{
	struct seen *s = ctx;

	if (!memcmp(type, esl_x509, 16))
		s->x509++;
	else
		s->other++;
	s->bytes += len;
	s->owner = owner[0];
	(void)data;
	return 0;
}

static int stop_at_second(void *ctx, const uint8_t *type,
			  const uint8_t *owner, const uint8_t *data,
			  size_t len)
{
	int *n = ctx;

	(void)type; (void)owner; (void)data; (void)len;
	return ++*n == 2 ? 7 : 0;
}

static void test_good(void)
{
	struct seen s = { 0 };
	size_t n;
	int stop = 0;

	CHECK_INT(esl_walk(buf, 0, visit, &s), 0);
	CHECK_INT(esl_holds(buf, 0, "A", 1), 0);
	/* db as firmware keeps it: certificates, then hashes with a
	 * header (none is defined, the format allows one) */
	n = list(0, esl_x509, 0, 1, "CERT-ONE", 8, 0x11);
	n = list(n, esl_x509, 0, 1, "CERT-TWO!", 9, 0x22);
	n = list(n, sha256_type, 4, 3, "0123456789abcdef0123456789abcdef",
		 32, 0x33);
	CHECK_INT(esl_walk(buf, n, visit, &s), 5);
	CHECK_INT(s.x509, 2);
	CHECK_INT(s.other, 3);
	CHECK_INT(s.bytes, 8 + 9 + 3 * 32);
	CHECK_INT(s.owner, 0x33);
	CHECK_INT(esl_holds(buf, n, "CERT-TWO!", 9), 1);
	CHECK_INT(esl_holds(buf, n, "CERT-TWO", 8), 0);	/* a prefix */
	CHECK_INT(esl_holds(buf, n, "CERT-ONE", 8), 1);
	/* a hash list's bytes are not a certificate */
	CHECK_INT(esl_holds(buf, n, "0123456789abcdef0123456789abcdef", 32),
		  0);
	CHECK_INT(esl_walk(buf, n, stop_at_second, &stop), 7);
	/* the same certificate twice (appended twice) */
	n = list(0, esl_x509, 0, 2, "CERT", 4, 0);
	CHECK_INT(esl_holds(buf, n, "CERT", 4), 2);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), 2);
}

static void test_bad(void)
{
	size_t n = list(0, esl_x509, 0, 1, "CERT-ONE", 8, 0x11);

	/* cut anywhere: never a chain */
	for (size_t cut = 1; cut < n; cut++)
		CHECK_INT(esl_walk(buf, cut, NULL, NULL), -EINVAL);
	/* trailing bytes shorter than a list head */
	CHECK_INT(esl_walk(buf, n + 3, NULL, NULL), -EINVAL);
	/* a list size past the bytes, smaller than its head, huge */
	put32(buf + 16, (uint32_t)n + 1);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), -EINVAL);
	put32(buf + 16, 27);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), -EINVAL);
	put32(buf + 16, 0xffffffffu);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), -EINVAL);
	put32(buf + 16, (uint32_t)n);
	/* a signature no bigger than its owner: would never advance */
	put32(buf + 24, 16);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), -EINVAL);
	put32(buf + 24, 0);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), -EINVAL);
	/* not whole signatures; a header past the list */
	put32(buf + 24, 16 + 7);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), -EINVAL);
	put32(buf + 24, 16 + 8);
	put32(buf + 20, 0xfffffff0u);
	CHECK_INT(esl_walk(buf, n, NULL, NULL), -EINVAL);
	put32(buf + 20, 0);
	CHECK_INT(esl_holds(buf, n, "CERT-ONE", 8), 1);
	CHECK_INT(esl_holds(buf, n - 1, "CERT-ONE", 8), -EINVAL);
}

int main(void)
{
	test_good();
	test_bad();
	return check_done("esl");
}
