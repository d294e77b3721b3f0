/* Unit tests: /proc/self/mountinfo lines */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "mountinfo.h"

static int parse(const char *s, struct mountinfo_entry *m)
{
	return mountinfo_parse_line(s, strlen(s), m);
}

int main(void)
{
	struct mountinfo_entry m;
	char big[3000];

	CHECK_INT(parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 "
			"/dev/root rw,errors=continue", &m), 1);
	CHECK_INT(m.major, 98);
	CHECK_INT(m.minor, 0);
	CHECK_STR(m.mount_point, "/mnt2");
	CHECK_STR(m.fstype, "ext3");
	CHECK_STR(m.source, "/dev/root");
	/* no optional fields; escaped blanks in the mount point */
	CHECK_INT(parse("25 1 254:2 / /mnt/my\\040root rw - ext4 /dev/vda2 ro",
			&m), 1);
	CHECK_STR(m.mount_point, "/mnt/my root");
	CHECK_INT(m.minor, 2);
	/* several optional fields */
	CHECK_INT(parse("1 0 0:5 / /dev rw shared:2 master:3 propagate_from:4 "
			"- devtmpfs devtmpfs rw", &m), 1);
	CHECK_STR(m.fstype, "devtmpfs");
	/* malformed */
	CHECK_INT(parse("", &m), -EINVAL);
	CHECK_INT(parse("36 35 98-0 / /x rw - ext4 /dev/a rw", &m), -EINVAL);
	CHECK_INT(parse("36 35 98:x / /x rw - ext4 /dev/a rw", &m), -EINVAL);
	CHECK_INT(parse("36 35 98:0 / /x rw ext4 /dev/a rw", &m), -EINVAL);
	CHECK_INT(parse("36 35 98:0 / /x rw -", &m), -EINVAL);
	CHECK_INT(parse("36 35 98:0 / /x", &m), -EINVAL);
	/* oversized mount point */
	strcpy(big, "1 0 8:1 / /");
	memset(big + strlen(big), 'a', 2000);
	big[11 + 2000] = '\0';
	strcat(big, " rw - ext4 /dev/sda1 rw");
	CHECK_INT(parse(big, &m), -E2BIG);
	return check_done("mountinfo");
}
