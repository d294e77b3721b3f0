/* an early fstab (read by the runner at every boot) and mount options */
#include "fstab.h"
#include "fuzz.h"
#include "mntopts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fstab t;
	struct mount_opts o;
	char *buf = fuzz_exact(data, size), out[256];
	size_t i;

	if (!buf)
		return 0;
	if (fstab_parse(buf, size, &t) >= 0)
		for (i = 0; i < t.n; i++)
			mntopts_parse(t.entries[i].mntops, &o);
	fstab_unescape(buf, size, out, sizeof(out));
	free(buf);
	return 0;
}
