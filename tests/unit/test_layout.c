/* Unit tests: paths of a boot partition (layout) */
#include <errno.h>
#include "check.h"
#include "layout.h"

int main(void)
{
	char p[64];

	CHECK_INT(layout_generation_path("/", 7, "init.d", p, sizeof(p)), 0);
	CHECK_STR(p, "/generations/7/init.d");	/* the runner's view */
	CHECK_INT(layout_generation_path("/mnt/b", 12, NULL, p, sizeof(p)), 0);
	CHECK_STR(p, "/mnt/b/generations/12");
	CHECK_INT(layout_generation_path("/mnt/b/", 1, LAYOUT_FSTAB, p,
					 sizeof(p)), 0);
	CHECK_STR(p, "/mnt/b/generations/1/etc/fstab");
	CHECK_INT(layout_generation_path("", 3, LAYOUT_INITD, p, sizeof(p)), 0);
	CHECK_STR(p, "generations/3/init.d");	/* beneath the partition's fd */
	CHECK_INT(layout_generation_path("/m", 1073741824u, LAYOUT_EXTLINUX_CONF,
					 p, 20), -ENAMETOOLONG);
	{
		unsigned g = 99;

		CHECK_INT(layout_parse_generation("86401", 5, &g), 0);
		CHECK_INT(g, 86401);	/* past a day's worth of seconds */
		CHECK_INT(layout_parse_generation("1073741824", 10, &g), 0);
		CHECK_INT(layout_parse_generation("1073741825", 10, &g), -ERANGE);
		CHECK_INT(layout_parse_generation("0", 1, &g), -EINVAL);
		CHECK_INT(layout_parse_generation("", 0, &g), -EINVAL);
		CHECK_INT(layout_parse_generation("+3", 2, &g), -EINVAL);
		CHECK_INT(layout_parse_generation("3 ", 2, &g), -EINVAL);
	}
	{
		/* the newest valid, applied one before the newest of all */
		const struct layout_gen v[] = {
			{ 3, true, true }, { 7, true, true }, { 5, true, true },
			{ 6, false, true }, { 8, true, false }, { 9, true, true },
		};

		CHECK_INT(layout_previous_generation(v, 6), 7);
		CHECK_INT(layout_previous_generation(v, 3), 5);	/* 3,7,5 */
		CHECK_INT(layout_previous_generation(v, 1), 0);
		CHECK_INT(layout_previous_generation(v + 3, 2), 0);	/* 6,8 */
		CHECK_INT(layout_previous_generation(NULL, 0), 0);
	}
	return check_done("layout");
}
