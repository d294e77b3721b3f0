/* mountinfo: lines of /proc/self/mountinfo */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "fstab.h"
#include "mountinfo.h"
#include "text.h"

int mountinfo_parse_line(const char *line, size_t len,
			 struct mountinfo_entry *ret)
{
	const char *f, *colon;
	size_t fl, pos = 0, i;
	unsigned long maj, min;
	int r;

	memset(ret, 0, sizeof(*ret));
	/* id, parent id, major:minor, root, mount point */
	for (i = 0; i < 5; i++) {
		if (text_next_field(line, len, &pos, &f, &fl) != 1)
			return -EINVAL;
		if (i == 2) {
			colon = memchr(f, ':', fl);
			if (!colon ||
			    text_parse_uint(f, (size_t)(colon - f), UINT_MAX,
					    &maj) < 0 ||
			    text_parse_uint(colon + 1, fl - (size_t)(colon - f) - 1,
					    UINT_MAX, &min) < 0)
				return -EINVAL;
			ret->major = (unsigned)maj;
			ret->minor = (unsigned)min;
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
