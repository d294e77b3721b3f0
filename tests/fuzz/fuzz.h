/* fuzz.h: what every libFuzzer harness of src/lib shares */
#ifndef EARLYFS_FUZZ_H
#define EARLYFS_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (what string APIs are given);
 * an embedded NUL ends it early, as it would in C. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* The input in a buffer of exactly its size, so that ASan sees a read one
 * byte past it. */
static inline char *fuzz_exact(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);

	if (s && size)
		memcpy(s, data, size);
	return s;
}
#endif
