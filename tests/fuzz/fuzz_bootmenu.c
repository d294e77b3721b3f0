/* Boot Loader Specification entry names read back from an ESP (what
 * systemd-boot renamed: NAME+LEFT-DONE.conf) */
#include <string.h>
#include "bootmenu.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_cstr(data, size), base[160];
	unsigned left, done;
	size_t cap;
	int r;

	if (!name)
		return 0;
	/* every capacity up to the name's own length and past it */
	for (cap = 1; cap <= sizeof(base); cap += cap < 8 ? 1 : 37) {
		r = bootmenu_bls_counter(name, base, cap, &left, &done);
		if (r >= 0 && strlen(base) >= cap)
			__builtin_trap();	/* base must fit */
		if (r == 1 && (left > 9999 || done > 9999))
			__builtin_trap();
	}
	free(name);
	return 0;
}
