/* provisioning templates (@NAME@ substitution) */
#include "fuzz.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct template_var vars[] = {
		{ "ROOT", "PARTUUID=1234-01" }, { "KERNEL", "/vmlinuz" },
		{ "APPEND", "quiet" },
	};
	char *s = fuzz_cstr(data, size), *out = NULL, unknown[64];

	if (s && template_render(s, vars, 3, &out, unknown) == 0)
		free(out);
	free(s);
	return 0;
}
