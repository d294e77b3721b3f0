/* $EARLYFS_ENV (written by fragments, applied by the runner) and the
 * KEY=value files of a partition (earlyfs.conf, generation info) */
#include "envfile.h"
#include "fuzz.h"
#include "kv.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envlist e;
	char *buf = fuzz_exact(data, size), v[64];
	const char *key, *val;
	size_t pos = 0, line = 0, kl, vl, bad;
	unsigned g;

	if (!buf)
		return 0;
	envlist_init(&e);
	envfile_apply(buf, size, &e, &bad);
	envlist_get(&e, "PATH");
	envlist_free(&e);
	while (kv_next(buf, size, &pos, &line, &key, &kl, &val, &vl) > 0)
		;
	kv_get(buf, size, "root", v, sizeof(v));
	layout_parse_generation(buf, size, &g);
	free(buf);
	return 0;
}
