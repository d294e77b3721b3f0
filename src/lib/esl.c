/* esl: see esl.h */
#include <errno.h>
#include <string.h>
#include "esl.h"

const uint8_t esl_x509[ESL_GUID_LEN] = {
	0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
	0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72
};

#define LIST_HEAD (ESL_GUID_LEN + 12)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int esl_walk(const void *p, size_t n, esl_visit_fn *fn, void *ctx)
{
	const uint8_t *b = p;
	size_t at = 0;
	int count = 0;

	while (at < n) {
		const uint8_t *l = b + at;
		size_t size, head, sig, o;

		if (n - at < LIST_HEAD)
			return -EINVAL;
		size = le32(l + 16);
		head = le32(l + 20);
		sig = le32(l + 24);
		/* each size within the bytes left, a signature more than
		 * its owner, and the list whole signatures */
		if (size < LIST_HEAD || size > n - at ||
		    head > size - LIST_HEAD || sig <= ESL_GUID_LEN ||
		    (size - LIST_HEAD - head) % sig)
			return -EINVAL;
		for (o = LIST_HEAD + head; o < size; o += sig) {
			int r = fn ? fn(ctx, l, l + o, l + o + ESL_GUID_LEN,
					sig - ESL_GUID_LEN) : 0;

			if (r)
				return r;
			if (count == 0x7fffffff)
				return -EINVAL;
			count++;
		}
		at += size;
	}
	return count;
}

struct holds {
	const void *der;
	size_t len;
	int n;
};

static int held(void *ctx, const uint8_t *type, const uint8_t *owner,
		const uint8_t *data, size_t len)
{
	struct holds *h = ctx;

	(void)owner;
	if (!memcmp(type, esl_x509, ESL_GUID_LEN) && len == h->len &&
	    !memcmp(data, h->der, len))
		h->n++;
	return 0;
}

int esl_holds(const void *p, size_t n, const void *der, size_t dlen)
{
	struct holds h = { der, dlen, 0 };
	int r = esl_walk(p, n, held, &h);

	return r < 0 ? r : h.n;
}
