/* fragment names (the naming rule), '# earlyfs:' directives, '#!' lines */
#include "fragment.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fragment_directives d;
	char interp[256];
	char *s = fuzz_cstr(data, size), *buf = fuzz_exact(data, size);
	size_t line;

	if (s && buf) {
		fragment_name_classify(s);
		fragment_name_check(s);
		fragment_directives_parse(buf, size, &d, &line);
		fragment_interpreter(buf, size, interp, sizeof(interp));
		fragment_interpreter(buf, size, interp, 8);
	}
	free(s);
	free(buf);
	return 0;
}
