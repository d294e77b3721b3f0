/* a kernel module's .modinfo (the module stub reads the kernel's modules) */
#include "modinfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modinfo m;
	const char *v;
	size_t pos = 0, l;

	if (modinfo_parse(data, size, &m) == 0) {
		while (modinfo_next(&m, "alias", &pos, &v, &l) == 1)
			;
		modinfo_same_name(m.name, "virtio_blk");
	}
	return 0;
}
