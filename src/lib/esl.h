/* esl: EFI signature lists, the values of the firmware's Secure Boot
 * variables (PK, KEK, db, dbx)
 *
 * A value is a chain of lists; each list is a 16-byte type GUID, then
 * three little-endian 32-bit sizes (the list's, its header's, and each
 * signature's), the header, and signatures of that size: a 16-byte owner
 * GUID and the data (for the X.509 type, one DER certificate).  The bytes
 * come from the firmware or a file: every size is checked against them.
 */
#ifndef EARLYFS_ESL_H
#define EARLYFS_ESL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESL_GUID_LEN 16
/* EFI_CERT_X509_GUID a5c059a1-94e4-4aa7-87b5-ab155c2bf072, as stored */
extern const uint8_t esl_x509[ESL_GUID_LEN];

/* Called for each signature: its list's type, its owner and its data;
 * a non-zero return stops the walk and is returned. */
typedef int esl_visit_fn(void *ctx, const uint8_t *type, const uint8_t *owner,
			 const uint8_t *data, size_t len);

/* The signatures of p[0..n) in order (n == 0: none): their number, the
 * visitor's non-zero return, or -EINVAL when the bytes are not a chain
 * of whole lists. */
int esl_walk(const void *p, size_t n, esl_visit_fn *fn, void *ctx);
/* How many X.509 signatures of p[0..n) are the certificate der[0..dlen)
 * (DER): 0 or more, or -EINVAL. */
int esl_holds(const void *p, size_t n, const void *der, size_t dlen);
#endif
