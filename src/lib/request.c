/* request: the earlyfsd wire format (docs/earlyfsd-protocol.md), parsed purely */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "request.h"
#include "text.h"

static int fail(const char **ret_what, const char *what, int r)
{
	*ret_what = what;
	return r;
}

static int parse_hex(const char *s, size_t len, uint64_t *ret)
{
	size_t i;

	if (len == 0 || len > 16)
		return -EINVAL;
	*ret = 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		*ret = (*ret << 4) | d;
	}
	return 0;
}

static int parse_boot(const char *s, size_t len, struct request *r)
{
	const char *colon = memchr(s, ':', len);
	unsigned long dev, ino;

	if (!colon ||
	    text_parse_uint(s, (size_t)(colon - s), ~0UL, &dev) < 0 ||
	    text_parse_uint(colon + 1, len - (size_t)(colon + 1 - s), ~0UL,
			    &ino) < 0)
		return -EINVAL;
	r->boot_dev = dev;
	r->boot_ino = ino;
	r->has_boot = true;
	return 0;
}

int request_parse(const char *buf, size_t len, struct request *ret,
		  const char **ret_what)
{
	const char *nl = memchr(buf, '\n', len < REQUEST_HEADER_MAX + 1 ?
					   len : REQUEST_HEADER_MAX + 1);
	size_t hl, pos = 0, fl;
	const char *f;
	int n = 0;

	memset(ret, 0, sizeof(*ret));
	if (!nl)
		return len > REQUEST_HEADER_MAX ?
			fail(ret_what, "header longer than 1024 bytes", -E2BIG) :
			fail(ret_what, "no newline after the header", -EINVAL);
	hl = (size_t)(nl - buf);
	if (memchr(buf, '\0', hl))
		return fail(ret_what, "NUL byte in the header", -EINVAL);
	ret->body = nl + 1;
	ret->body_len = len - hl - 1;
	if (ret->body_len > REQUEST_BODY_MAX)
		return fail(ret_what, "body larger than 1 MiB", -E2BIG);
	while (text_next_field(buf, hl, &pos, &f, &fl) == 1) {
		const char *eq = memchr(f, '=', fl);

		if (n == 0) {
			if (fl != strlen(REQUEST_MAGIC) ||
			    memcmp(f, REQUEST_MAGIC, fl))
				return fail(ret_what, "not an earlyfs/1 request",
					    -EINVAL);
		} else if (n == 1) {
			if (text_copy(ret->verb, sizeof(ret->verb), f, fl) < 0)
				return fail(ret_what, "verb too long", -E2BIG);
		} else if (eq && eq - f == 4 && !memcmp(f, "base", 4)) {
			if (parse_hex(eq + 1, fl - 5, &ret->base) < 0)
				return fail(ret_what, "base= is not 1-16 "
					    "lowercase hex digits", -EINVAL);
			ret->has_base = true;
		} else if (eq && eq - f == 4 && !memcmp(f, "boot", 4)) {
			if (parse_boot(eq + 1, fl - 5, ret) < 0)
				return fail(ret_what, "boot= is not DEV:INO",
					    -EINVAL);
		} else if (eq) {
			return fail(ret_what, "unknown option", -EINVAL);
		} else {
			if (ret->n_args == REQUEST_ARGS_MAX)
				return fail(ret_what, "too many arguments",
					    -E2BIG);
			if (text_copy(ret->args[ret->n_args], REQUEST_ARG_MAX,
				      f, fl) < 0)
				return fail(ret_what, "argument too long",
					    -E2BIG);
			ret->n_args++;
		}
		n++;
	}
	if (n < 2)
		return fail(ret_what, n ? "no verb" : "empty header", -EINVAL);
	return 0;
}

uint64_t request_hash(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
