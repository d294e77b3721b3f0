/* pem: see pem.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pem.h"

static int value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static const char *find(const char *p, size_t n, const char *s, size_t sl)
{
	return sl <= n ? memmem(p, n, s, sl) : NULL;
}

long pem_decode(const char *text, size_t len, const char *label,
		unsigned char *ret, size_t cap)
{
	char begin[96], end[96];
	int bl = snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	int el = snprintf(end, sizeof(end), "-----END %s-----", label);
	const char *p, *q;
	unsigned long acc = 0;
	size_t out = 0, pad = 0, bits = 0;

	if (bl <= 0 || el <= 0 || (size_t)bl >= sizeof(begin) ||
	    (size_t)el >= sizeof(end))
		return -EINVAL;
	p = find(text, len, begin, (size_t)bl);
	if (!p)
		return -EINVAL;
	p += bl;
	q = find(p, len - (size_t)(p - text), end, (size_t)el);
	if (!q)
		return -EINVAL;
	for (; p < q; p++) {
		unsigned char c = (unsigned char)*p;
		int v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = value(c);
		if (v < 0 || pad)	/* data after padding */
			return -EINVAL;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (out == cap)
				return -E2BIG;
			ret[out++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	/* what is left is padding's zero bits: 2 or 4 of them for one or
	 * two '=' (RFC 4648), none without */
	if (pad > 2 || (pad && bits != 2 * pad) || (!pad && bits) || acc)
		return -EINVAL;
	return (long)out;
}
