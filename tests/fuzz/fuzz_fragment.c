/* fragment names (the naming rule) and '# earlyfs:' directives */
#include "fragment.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fragment_directives d;
	char *s = fuzz_cstr(data, size), *buf = fuzz_exact(data, size);
	size_t line;

	if (s && buf) {
		fragment_name_classify(s);
		fragment_name_check(s);
		fragment_directives_parse(buf, size, &d, &line);
	}
	free(s);
	free(buf);
	return 0;
}
