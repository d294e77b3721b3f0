/* devices: the devices a disk or a network interface sits on, from sysfs:
 * their drivers, modules and modaliases (what a module stub must load) */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "base/host.h"
#include "target/devices.h"

/* The last component of a link's target, "" if not a link. */
static void link_base(const char *dir, const char *name, char *ret,
		      size_t cap)
{
	char path[PATH_MAX + 32], link[PATH_MAX], *slash;
	ssize_t l;

	ret[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	l = readlink(path, link, sizeof(link) - 1);
	if (l <= 0)
		return;
	link[l] = '\0';
	slash = strrchr(link, '/');
	snprintf(ret, cap, "%s", slash ? slash + 1 : link);
}

/* The devices from sys (a device's directory) up to /sys/devices that a
 * driver is bound to. */
static size_t walk_devices(char *sys, struct disk_driver *ret, size_t max)
{
	char path[PATH_MAX + 16], *slash;
	size_t n = 0;

	while (n < max && strlen(sys) > strlen("/sys/devices")) {
		struct disk_driver *d = &ret[n];

		link_base(sys, "driver", d->driver, sizeof(d->driver));
		if (d->driver[0] && strcmp(d->driver, "loop")) {
			link_base(sys, "driver/module", d->module,
				  sizeof(d->module));
			snprintf(path, sizeof(path), "%s/modalias", sys);
			if (host_sysfs_read(path, d->modalias,
				       sizeof(d->modalias)) < 0)
				d->modalias[0] = '\0';
			n++;
		}
		slash = strrchr(sys, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return n;
}

size_t devices_of_disk(dev_t dev, struct disk_driver *ret, size_t max)
{
	char sys[PATH_MAX], path[PATH_MAX + 32];

	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(dev),
		 minor(dev));
	snprintf(path, sizeof(path), "%s/partition", sys);
	snprintf(path, sizeof(path), access(path, F_OK) == 0 ?
		 "%s/../device" : "%s/device", sys);
	if (!realpath(path, sys))
		return 0;
	return walk_devices(sys, ret, max);
}

size_t devices_nics(struct disk_driver *ret, size_t max)
{
	char sys[PATH_MAX], path[PATH_MAX + 32];
	struct dirent *de;
	DIR *d = opendir("/sys/class/net");
	size_t n = 0;

	while (d && n < max && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/device",
			 de->d_name);
		if (realpath(path, sys))	/* virtual ones have none */
			n += walk_devices(sys, ret + n, max - n);
	}
	if (d)
		closedir(d);
	return n;
}
