/* etc/earlyfs.kernels, read from the partition by earlyfs kernel */
#include "kernlist.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kernlist k;
	static char out[8192];
	char *buf = fuzz_exact(data, size);
	const char *what;
	size_t line;

	if (!buf)
		return 0;
	if (kernlist_parse(buf, size, &k, &line, &what) == 0) {
		kernlist_default(&k);
		kernlist_format(&k, out, sizeof(out));
	}
	free(buf);
	return 0;
}
