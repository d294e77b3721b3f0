/* Unit tests: PEM blocks decoded (the certificate earlyfs looks up in the
 * firmware's key databases) */
#include <errno.h>
#include <string.h>
#include "check.h"
#include "pem.h"

#define CERT(body) "junk before\n-----BEGIN CERTIFICATE-----\n" body \
		   "\n-----END CERTIFICATE-----\ntrailing\n"

static long dec(const char *t, unsigned char *b, size_t cap)
{
	return pem_decode(t, strlen(t), "CERTIFICATE", b, cap);
}

int main(void)
{
	unsigned char b[64];

	/* RFC 4648's examples, lines broken anywhere */
	CHECK_INT(dec(CERT("Zm9v\nYmFy"), b, sizeof(b)), 6);
	CHECK(!memcmp(b, "foobar", 6));
	CHECK_INT(dec(CERT("Zm9vYg=="), b, sizeof(b)), 4);
	CHECK(!memcmp(b, "foob", 4));
	CHECK_INT(dec(CERT("Zm9v\r\nYmE="), b, sizeof(b)), 5);
	CHECK(!memcmp(b, "fooba", 5));
	CHECK_INT(dec(CERT(""), b, sizeof(b)), 0);
	/* every byte value through + and / */
	CHECK_INT(dec(CERT("+/8A"), b, sizeof(b)), 3);
	CHECK(b[0] == 0xfb && b[1] == 0xff && b[2] == 0x00);
	/* the first block of the label; another label's is not it */
	CHECK_INT(pem_decode(CERT("Zm9v") CERT("YmFy"), strlen(CERT("Zm9v")
		  CERT("YmFy")), "CERTIFICATE", b, sizeof(b)), 3);
	CHECK(!memcmp(b, "foo", 3));
	CHECK_INT(pem_decode(CERT("Zm9v"), strlen(CERT("Zm9v")), "PRIVATE KEY",
			     b, sizeof(b)), -EINVAL);
	/* bad: no end, not base64, data after padding, too much padding,
	 * bits left over, padding where none belongs, too small a buffer */
	CHECK_INT(dec("-----BEGIN CERTIFICATE-----\nZm9v\n", b, sizeof(b)),
		  -EINVAL);
	CHECK_INT(dec(CERT("Zm9v!"), b, sizeof(b)), -EINVAL);
	CHECK_INT(dec(CERT("Zg==Zm9v"), b, sizeof(b)), -EINVAL);
	CHECK_INT(dec(CERT("Zg==="), b, sizeof(b)), -EINVAL);
	CHECK_INT(dec(CERT("Zm9vY"), b, sizeof(b)), -EINVAL);
	CHECK_INT(dec(CERT("Zm9v="), b, sizeof(b)), -EINVAL);
	CHECK_INT(dec(CERT("Zh=="), b, sizeof(b)), -EINVAL);	/* bits not 0 */
	CHECK_INT(dec(CERT("Zm9vYmFy"), b, 5), -E2BIG);
	CHECK_INT(dec("", b, sizeof(b)), -EINVAL);
	return check_done("pem");
}
