/* superblocks and partition tables the runner reads to find the root */
#include "fuzz.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_id id;
	struct gpt_header h;
	char uuid[64], label[128];
	uint8_t *buf = (uint8_t *)fuzz_exact(data, size);

	if (!buf)
		return 0;
	probe_fs(buf, size, &id);
	if (size >= 512) {
		probe_ptable(buf);
		probe_dos_partuuid(buf, 1 + buf[0] % 5, uuid, sizeof(uuid));
		probe_gpt_header(buf, size, &h);
	}
	probe_gpt_entry(buf, size, uuid, label, sizeof(label));
	free(buf);
	return 0;
}
