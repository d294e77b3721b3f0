/* root= and fstab device specs: UUID=, LABEL=, PARTUUID=, paths */
#include "devspec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct devspec d;
	const char *what;
	char *s = fuzz_cstr(data, size);

	if (!s)
		return 0;
	if (devspec_parse(s, &d, &what) == 0) {
		devspec_matches(&d, "0123-ABCD");
		devspec_kind_name(d.kind);
	}
	free(s);
	return 0;
}
