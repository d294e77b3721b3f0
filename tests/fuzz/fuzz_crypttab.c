/* etc/crypttab, read by the runner at every boot (luks feature) */
#include "crypttab.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct crypttab_entry v[CRYPTTAB_MAX];
	const char *what;
	size_t line;
	char *buf = fuzz_exact(data, size);

	if (!buf)
		return 0;
	crypttab_parse(buf, size, v, &line, &what);
	free(buf);
	return 0;
}
