/* a kernel module's .modinfo (the module stub reads the kernel's modules) */
#include "modinfo.h"
#include "fuzz.h"

static volatile unsigned sink;

/* every byte of a span, so that ASan sees one outside the input */
static void touch(struct modinfo_span sp)
{
	for (size_t i = 0; i < sp.len; i++)
		sink += (unsigned char)sp.s[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modinfo m;
	const char *v;
	size_t pos = 0, l;

	struct modinfo_span a, b;

	if (modinfo_parse(data, size, &m) == 0) {
		while (modinfo_next(&m, "alias", &pos, &v, &l) == 1)
			;
		modinfo_same_name(m.name, "virtio_blk");
	}
	/* the same bytes as a line of each of the module tree's text files */
	char *t = fuzz_exact(data, size);

	if (!t)
		return 0;
	if (modinfo_alias_line(t, size, &a, &b) == 1)
		touch(a), touch(b);
	if (modinfo_builtin_string(t, size, "alias", &a, &b) == 1)
		touch(a), touch(b);
	if (modinfo_builtin_line(t, size, &a) == 1)
		touch(a);
	free(t);
	return 0;
}
