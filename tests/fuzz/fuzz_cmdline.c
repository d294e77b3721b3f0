/* the kernel command line: parsed, then read as the runner reads it */
#include "bootcfg.h"
#include "cmdline.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cmdline c;
	static struct boot_config cfg;
	char *buf = fuzz_exact(data, size), name[128];
	unsigned secs;
	size_t i;

	if (!buf)
		return 0;
	if (cmdline_parse(buf, size, &c) >= 0) {
		bootcfg_from_cmdline(&c, &cfg);
		bootcfg_breaks_at(&cfg, "10-x");
		bootcfg_skips(&cfg, "10-x");
		bootcfg_timeout_for(&cfg, "10-x");
		for (i = 0; i < c.n; i++)
			cmdline_env_name(c.params[i].key, name, sizeof(name));
	}
	bootcfg_parse_seconds(buf, size, &secs);
	free(buf);
	return 0;
}
