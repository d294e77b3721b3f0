/* request: the earlyfsd wire format (docs/earlyfsd-protocol.md), parsed purely */
#ifndef EARLYFS_REQUEST_H
#define EARLYFS_REQUEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "layout.h"

#define REQUEST_MAGIC "earlyfs/1"
#define REQUEST_HEADER_MAX 1024
#define REQUEST_BODY_MAX LAYOUT_FRAGMENT_MAX	/* a fragment */
#define REQUEST_ARGS_MAX 3
#define REQUEST_ARG_MAX 128

struct request {
	char verb[16];
	char args[REQUEST_ARGS_MAX][REQUEST_ARG_MAX];
	size_t n_args;
	bool has_base;		/* base=HEX: content hash the client edited */
	uint64_t base;
	bool has_boot;		/* boot=DEV:INO of the client's boot directory */
	unsigned long long boot_dev, boot_ino;
	const char *body;	/* points into the parsed buffer */
	size_t body_len;
};

/*
 * Parses "earlyfs/1 VERB [ARG...] [base=HEX] [boot=DEV:INO]\n" followed by
 * a body of any bytes.  Returns 0, or -EINVAL / -E2BIG with *ret_what
 * saying what is wrong (no newline, unknown magic, bad option, too many
 * or too long arguments, header or body too large).
 */
int request_parse(const char *buf, size_t len, struct request *ret,
		  const char **ret_what);

/* FNV-1a, 64 bits: the base= hash of a fragment's content. */
uint64_t request_hash(const void *buf, size_t len);
#endif
