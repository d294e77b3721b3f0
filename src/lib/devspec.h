/* devspec: device specifications (/dev/X, UUID=, LABEL=, PARTUUID=, PARTLABEL=) */
#ifndef EARLYFS_DEVSPEC_H
#define EARLYFS_DEVSPEC_H
#include <stdbool.h>

enum devspec_kind {
	DEVSPEC_PATH,
	DEVSPEC_UUID,
	DEVSPEC_LABEL,
	DEVSPEC_PARTUUID,
	DEVSPEC_PARTLABEL,
};

struct devspec {
	enum devspec_kind kind;
	char value[256];
};

/*
 * Parses a spec; surrounding double quotes of the value are removed.
 * -EINVAL when it is none of the forms (with *ret_what saying why),
 * -E2BIG when the value is too long.
 */
int devspec_parse(const char *s, struct devspec *ret, const char **ret_what);

/* Compares an identifier found on a device with the spec's value
 * (UUIDs case-insensitively, labels exactly). */
bool devspec_matches(const struct devspec *d, const char *found);

const char *devspec_kind_name(enum devspec_kind k);
#endif
