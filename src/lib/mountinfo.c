/* mountinfo: lines of /proc/self/mountinfo */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "fstab.h"
#include "mountinfo.h"
#include "text.h"

static int number(const char *s, size_t len, unsigned *ret)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 9)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*ret = (unsigned)v;
	return 0;
}

int mountinfo_parse_line(const char *line, size_t len,
			 struct mountinfo_entry *ret)
{
	const char *f, *colon;
	size_t fl, pos = 0, i;
	int r;

	memset(ret, 0, sizeof(*ret));
	/* id, parent id, major:minor, root, mount point */
	for (i = 0; i < 5; i++) {
		if (text_next_field(line, len, &pos, &f, &fl) != 1)
			return -EINVAL;
		if (i == 2) {
			colon = memchr(f, ':', fl);
			if (!colon || number(f, (size_t)(colon - f), &ret->major) ||
			    number(colon + 1, fl - (size_t)(colon - f) - 1,
				   &ret->minor))
				return -EINVAL;
		}
	}
	r = fstab_unescape(f, fl, ret->mount_point, sizeof(ret->mount_point));
	if (r < 0)
		return r;
	/* optional fields up to the lone "-" */
	do {
		if (text_next_field(line, len, &pos, &f, &fl) != 1)
			return -EINVAL;
	} while (!(fl == 1 && f[0] == '-'));
	if (text_next_field(line, len, &pos, &f, &fl) != 1)
		return -EINVAL;
	r = text_copy(ret->fstype, sizeof(ret->fstype), f, fl);
	if (r < 0)
		return r;
	if (text_next_field(line, len, &pos, &f, &fl) != 1)
		return -EINVAL;
	r = fstab_unescape(f, fl, ret->source, sizeof(ret->source));
	return r < 0 ? r : 1;
}
