/* A seal manifest: the sealed one comes from a signed image, the found
 * one is made at boot from whatever the partition holds; both are parsed
 * and compared.  The input is split at its first NUL into the two. */
#include <string.h>
#include "seal.h"
#include "fuzz.h"

static void count(void *ctx, const char *p, size_t pl, const char *s,
		  size_t sl, const char *f, size_t fl)
{
	size_t *n = ctx;

	/* every byte handed out is read, as the console message reads it */
	for (size_t i = 0; i < pl; i++)
		*n += (unsigned char)p[i];
	for (size_t i = 0; s && i < sl; i++)
		*n += (unsigned char)s[i];
	for (size_t i = 0; f && i < fl; i++)
		*n += (unsigned char)f[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size), *nul;
	size_t n = 0, a;
	struct seal_line l;

	if (!buf)
		return 0;
	nul = memchr(buf, '\0', size);
	a = nul ? (size_t)(nul - buf) : size;
	seal_compare(buf, a, nul ? nul + 1 : buf, nul ? size - a - 1 : size,
		     count, &n);
	seal_parse_line(buf, a, &l);
	free(buf);
	return (int)(n & 0);
}
