/* A PEM certificate: the file an admin gives as --cert, decoded to look it
 * up in the firmware's key databases. */
#include "pem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	unsigned char der[2048];
	long n;

	if (!buf)
		return 0;
	n = pem_decode(buf, size, "CERTIFICATE", der, sizeof(der));
	for (long i = 0; i < n; i++)	/* every byte written is read */
		der[0] ^= der[i];
	free(buf);
	return 0;
}
