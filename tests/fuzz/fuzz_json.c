/* json: any bytes (what a partition's names and texts may hold) come out
 * as one JSON string of valid UTF-8 with no control character, and the
 * document's quotes balance */
#include <stdio.h>
#include "fuzz.h"
#include "json.h"

/* Whether s (len bytes) is valid UTF-8 with no byte below 0x20 or 0x7f,
 * the way a strict JSON parser reads a document. */
static int clean(const unsigned char *s, size_t len)
{
	size_t i = 0, k, n;
	unsigned cp;

	while (i < len) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		n = s[i] >= 0xf0 ? 3 : s[i] >= 0xe0 ? 2 : 1;
		if (s[i] < 0xc2 || s[i] > 0xf4)
			return 0;
		cp = s[i] & (0x3f >> n);
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0, i, quotes = 0;
	struct json j;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return 0;
	json_begin(&j, f, "fuzz");
	json_array(&j, "a");
	json_strn(&j, NULL, (const char *)data, size);
	json_end(&j);
	fclose(f);
	if (!clean((const unsigned char *)out, len))
		abort();
	for (i = 0; i < len; i++) {
		size_t back = 0;

		while (back < i && out[i - 1 - back] == '\\')
			back++;
		if (out[i] == '"' && back % 2 == 0)
			quotes++;	/* a quote no backslash escapes */
	}
	if (quotes % 2)
		abort();
	free(out);
	return 0;
}
