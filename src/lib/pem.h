/* pem: the first PEM block of a label (RFC 7468) decoded to its DER bytes,
 * e.g. an X.509 certificate's for looking it up in the firmware's db */
#ifndef EARLYFS_PEM_H
#define EARLYFS_PEM_H
#include <stddef.h>

/* The bytes between "-----BEGIN label-----" and "-----END label-----" in
 * text[0..len), base64 with any whitespace between its characters:
 * written to ret (at most cap bytes); their number, or -EINVAL (no such
 * block, a character that is not base64, padding out of place), -E2BIG
 * (more than cap). */
long pem_decode(const char *text, size_t len, const char *label,
		unsigned char *ret, size_t cap);
#endif
