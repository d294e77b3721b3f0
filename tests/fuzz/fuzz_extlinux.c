/* extlinux.conf: parsed, its 'previous' label and kernel labels rewritten */
#include "extlinux.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct extlinux_conf c;
	char *buf = fuzz_exact(data, size), *out;
	const char *what;
	size_t line;

	if (!buf)
		return 0;
	if (extlinux_parse(buf, size, &c, &line, &what) == 0 && c.n &&
	    (out = malloc(size + 4096))) {
		extlinux_find(&c, "previous");
		static const char *const v[] = { "6.1.2", "6.1.10" };

		extlinux_set_previous(buf, size, &c.labels[0], out,
				      size + 4096);
		static const char *const rd[] = { "/stub-6.1.2.img", NULL };

		extlinux_set_kernels(buf, size, "6.1.10", "/stub.img", v, rd, 2,
				     out, size + 4096);
		free(out);
	}
	free(buf);
	return 0;
}
