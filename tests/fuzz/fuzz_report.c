/* the boot report (/run/earlyfs/report) and /proc/self/mountinfo lines */
#include "fuzz.h"
#include "mountinfo.h"
#include "report.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_report r;
	static char out[65536];
	struct mountinfo_entry m;
	char *buf = fuzz_exact(data, size);
	const char *l;
	size_t line, pos = 0, len;

	if (!buf)
		return 0;
	if (report_parse(buf, size, &r, &line) == 0)
		report_format(&r, out, sizeof(out));
	while (text_next_line(buf, size, &pos, &l, &len) > 0)
		mountinfo_parse_line(l, len, &m);
	free(buf);
	return 0;
}
