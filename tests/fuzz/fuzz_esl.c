/* An EFI signature list: the firmware's db, KEK or PK as earlyfs enroll
 * reads it before appending (the firmware's bytes, any of them). */
#include "esl.h"
#include "fuzz.h"

static int touch(void *ctx, const uint8_t *type, const uint8_t *owner,
		 const uint8_t *data, size_t len)
{
	size_t *n = ctx;

	/* every byte handed out is read */
	*n += type[15] + owner[15];
	for (size_t i = 0; i < len; i++)
		*n += data[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	size_t n = 0;

	if (!buf)
		return 0;
	esl_walk(buf, size, touch, &n);
	esl_holds(buf, size, data, size > 40 ? 40 : size);
	free(buf);
	return (int)(n & 0);
}
