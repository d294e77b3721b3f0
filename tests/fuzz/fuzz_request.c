/* earlyfsd's request parser: what any client of the socket sends */
#include "fuzz.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct request r;
	char *buf = fuzz_exact(data, size);
	const char *what;

	if (!buf)
		return 0;
	request_parse(buf, size, &r, &what);
	request_hash(buf, size);
	free(buf);
	return 0;
}
