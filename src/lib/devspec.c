/* devspec: device specifications (/dev/X, UUID=, LABEL=, PARTUUID=, PARTLABEL=) */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "devspec.h"
#include "text.h"

static const struct {
	const char *prefix;
	enum devspec_kind kind;
} prefixes[] = {
	{ "UUID=", DEVSPEC_UUID },
	{ "LABEL=", DEVSPEC_LABEL },
	{ "PARTUUID=", DEVSPEC_PARTUUID },
	{ "PARTLABEL=", DEVSPEC_PARTLABEL },
};

const char *devspec_kind_name(enum devspec_kind k)
{
	switch (k) {
	case DEVSPEC_UUID: return "UUID";
	case DEVSPEC_LABEL: return "LABEL";
	case DEVSPEC_PARTUUID: return "PARTUUID";
	case DEVSPEC_PARTLABEL: return "PARTLABEL";
	default: return "path";
	}
}

static bool is_uuidish(const char *s)
{
	size_t hex = 0;

	for (; *s; s++) {
		if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F'))
			hex++;
		else if (*s != '-')
			return false;
	}
	return hex >= 8;
}

int devspec_parse(const char *s, struct devspec *ret, const char **ret_what)
{
	size_t i, len;

	*ret_what = NULL;
	memset(ret, 0, sizeof(*ret));
	if (!s || !*s) {
		*ret_what = "empty device spec";
		return -EINVAL;
	}
	if (s[0] == '/') {
		if (strncmp(s, "/dev/", 5) != 0 || s[5] == '\0') {
			*ret_what = "a path must name a node under /dev/";
			return -EINVAL;
		}
		ret->kind = DEVSPEC_PATH;
		if (text_copy(ret->value, sizeof(ret->value), s, strlen(s)) < 0) {
			*ret_what = "device path too long";
			return -E2BIG;
		}
		return 0;
	}
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i].prefix);

		if (strncmp(s, prefixes[i].prefix, pl) != 0)
			continue;
		s += pl;
		len = strlen(s);
		if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
			s++;
			len -= 2;
		}
		if (len == 0) {
			*ret_what = "empty value after '='";
			return -EINVAL;
		}
		if (text_copy(ret->value, sizeof(ret->value), s, len) < 0) {
			*ret_what = "value too long";
			return -E2BIG;
		}
		ret->kind = prefixes[i].kind;
		if ((ret->kind == DEVSPEC_UUID ||
		     ret->kind == DEVSPEC_PARTUUID) && !is_uuidish(ret->value)) {
			*ret_what = "a UUID is hex digits and dashes";
			return -EINVAL;
		}
		return 0;
	}
	*ret_what = "expected /dev/NAME, UUID=, LABEL=, PARTUUID= or PARTLABEL=";
	return -EINVAL;
}

bool devspec_matches(const struct devspec *d, const char *found)
{
	if (!found || !*found)
		return false;
	if (d->kind == DEVSPEC_UUID || d->kind == DEVSPEC_PARTUUID)
		return strcasecmp(d->value, found) == 0;
	return strcmp(d->value, found) == 0;
}
