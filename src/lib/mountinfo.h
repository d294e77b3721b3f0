/* mountinfo: lines of /proc/self/mountinfo */
#ifndef EARLYFS_MOUNTINFO_H
#define EARLYFS_MOUNTINFO_H
#include <stddef.h>

struct mountinfo_entry {
	unsigned major, minor;
	char mount_point[1024];	/* \040-style escapes decoded */
	char fstype[64];
	char source[1024];
};

/*
 * Parses one line ("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3
 * /dev/root rw"): returns 1 with the entry, -EINVAL for a malformed line,
 * -E2BIG for a field over its size.
 */
int mountinfo_parse_line(const char *line, size_t len,
			 struct mountinfo_entry *ret);
#endif
