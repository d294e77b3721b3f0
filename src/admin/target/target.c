/* target: the partition to provision, and whether anything uses it */
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "atomic.h"
#include "target/fdisk.h"
#include "mountinfo.h"
#include "target/target.h"
#include "text.h"
#include "base/mounts.h"
#include "base/host.h"

int target_resolve(const char *arg, unsigned partno, struct target *t,
		   struct err *e)
{
	char sys[PATH_MAX], real[PATH_MAX], buf[64], *slash;
	struct stat st;

	memset(t, 0, sizeof(*t));
	snprintf(t->arg, sizeof(t->arg), "%s", arg);
	if (stat(arg, &st) < 0)
		return err_set(e, EXIT_USAGE, "%s: %s", arg, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		if (!partno)
			return err_set(e, EXIT_USAGE, "%s is an image file: give "
				       "--partition N", arg);
		t->is_image = true;
		if (!realpath(arg, t->disk))
			return err_set(e, EXIT_FAILED, "%s: %s", arg,
				       strerror(errno));
		t->partno = partno;
		return target_read_partition(t, e);
	}
	if (!S_ISBLK(st.st_mode))
		return err_set(e, EXIT_USAGE, "%s is neither a block device "
			       "nor an image file", arg);
	if (partno)
		return err_set(e, EXIT_USAGE, "--partition is for image files; "
			       "give the partition device itself");
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/partition",
		 major(st.st_rdev), minor(st.st_rdev));
	if (host_sysfs_read(sys, buf, sizeof(buf)) < 0)
		return err_set(e, EXIT_REFUSED, "%s is a whole disk; give a "
			       "partition (such as %s1), or an image file with "
			       "--partition N", arg, arg);
	t->partno = (unsigned)atoi(buf);
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(sys, real) || !(slash = strrchr(real, '/')))
		return err_set(e, EXIT_FAILED, "cannot find the disk of %s", arg);
	*slash = '\0';
	slash = strrchr(real, '/');
	snprintf(t->disk, sizeof(t->disk), "/dev/%s", slash ? slash + 1 : real);
	snprintf(t->dev, sizeof(t->dev), "%s", arg);
	return target_read_partition(t, e);
}

int target_read_partition(struct target *t, struct err *e)
{
	struct fdisk_part p;
	int r = fdisk_read_partition(t->disk, t->partno, &p, e);

	if (r < 0)
		return r;
	t->table = p.table;
	t->sector_size = p.sector_size;
	t->offset = p.offset;
	t->size = p.size;
	t->bootable = p.bootable;
	snprintf(t->partuuid, sizeof(t->partuuid), "%s", p.partuuid);
	return 0;
}

int target_set_boot_flag(const struct target *t, struct err *e)
{
	return fdisk_set_boot_flag(t->disk, t->partno, t->table, e);
}

/* Where a device (by number) is mounted, from mountinfo; "" if nowhere. */
void target_mounted_at(dev_t dev, char *ret, size_t cap)
{
	struct mountinfo_entry m;
	size_t pos = 0, l, len = 0;
	const char *line;
	char *mi = NULL;

	ret[0] = '\0';
	if (read_file("/proc/self/mountinfo", 1 << 20, &mi, &len) < 0)
		mi = NULL;	/* then nothing is known to be mounted */
	while (mi && text_next_line(mi, len, &pos, &line, &l) > 0)
		if (mountinfo_parse_line(line, l, &m) > 0 &&
		    makedev(m.major, m.minor) == dev) {
			snprintf(ret, cap, "%s", m.mount_point);
			break;
		}
	free(mi);
}

static bool is_swap(const char *dev)
{
	char *sw = NULL, real[PATH_MAX];
	bool r = false;
	size_t len;

	if (read_file("/proc/swaps", 1 << 20, &sw, &len) < 0)
		sw = NULL;

	if (sw && realpath(dev, real)) {
		size_t n = strlen(real);
		char *p = sw;

		while ((p = strstr(p, real))) {
			if ((p == sw || p[-1] == '\n') &&
			    (p[n] == ' ' || p[n] == '\t'))
				r = true;
			p += n;
		}
	}
	free(sw);
	return r;
}

static int check_block(const char *devpath, struct err *e, const char *what)
{
	char sys[PATH_MAX], mp[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if (stat(devpath, &st) < 0)
		return 0;
	target_mounted_at(st.st_rdev, mp, sizeof(mp));
	if (mp[0])
		return err_set(e, EXIT_REFUSED, "%s is mounted at %s; unmount "
			       "it first", what, mp);
	if (is_swap(devpath))
		return err_set(e, EXIT_REFUSED, "%s is in use as swap; swapoff "
			       "it first", what);
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/holders",
		 major(st.st_rdev), minor(st.st_rdev));
	d = opendir(sys);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		closedir(d);
		return err_set(e, EXIT_REFUSED, "%s is in use by %s (a device "
			       "built on it, e.g. dm or md); stop that first",
			       what, de->d_name);
	}
	if (d)
		closedir(d);
	/* The kernel's own answer: an exclusive open fails if anything
	 * (a mount, md, dm, a swap) holds the device. */
	fd = open(devpath, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0 && errno == EBUSY)
		return err_set(e, EXIT_REFUSED, "%s is in use (busy); stop "
			       "what uses it first", what);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Loop devices mapping a range of an image that overlaps the partition. */
static int check_loops(const struct target *t, struct err *e)
{
	char path[PATH_MAX], back[PATH_MAX], buf[64], dev[300], what[400];
	struct dirent *de;
	DIR *d = opendir("/sys/block");
	int r = 0;

	while (d && (de = readdir(d)) && r == 0) {
		uint64_t off, lim;

		if (strncmp(de->d_name, "loop", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 de->d_name);
		if (host_sysfs_read(path, back, sizeof(back)) < 0)
			continue;
		if (strcmp(back, t->disk) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/offset",
			 de->d_name);
		off = host_sysfs_read(path, buf, sizeof(buf)) == 0 ?
			      strtoull(buf, NULL, 10) : 0;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/sizelimit",
			 de->d_name);
		lim = host_sysfs_read(path, buf, sizeof(buf)) == 0 ?
			      strtoull(buf, NULL, 10) : 0;
		if (lim == 0)
			lim = UINT64_MAX - off;
		if (off >= t->offset + t->size || off + lim <= t->offset)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
		snprintf(what, sizeof(what), "partition %u of %s (through %s)",
			 t->partno, t->disk, dev);
		r = check_block(dev, e, what);
		if (r == 0)
			r = err_set(e, EXIT_REFUSED, "partition %u of %s is in "
				    "use: %s maps it; detach it first "
				    "(losetup -d %s)", t->partno, t->disk, dev,
				    dev);
	}
	if (d)
		closedir(d);
	return r;
}

int target_image_unused(const char *path, struct err *e)
{
	char real[PATH_MAX], p[PATH_MAX], back[PATH_MAX], mp[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	if (!realpath(path, real))
		return 0;	/* not there: nothing uses it */
	d = opendir("/sys/block");
	while (d && (de = readdir(d)) && r == 0) {
		if (strncmp(de->d_name, "loop", 4) != 0)
			continue;
		snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file",
			 de->d_name);
		if (host_sysfs_read(p, back, sizeof(back)) < 0 || strcmp(back, real))
			continue;
		snprintf(p, sizeof(p), "/dev/%s", de->d_name);
		mp[0] = '\0';
		if (stat(p, &st) == 0)
			target_mounted_at(st.st_rdev, mp, sizeof(mp));
		r = err_set(e, EXIT_REFUSED, "%s is in use: %s maps it%s%s; "
			    "unmount and detach it first (losetup -d %s); "
			    "nothing written", path, p,
			    mp[0] ? " and is mounted at " : "", mp, p);
	}
	if (d)
		closedir(d);
	return r;
}

int target_check_unused(const struct target *t, struct err *e)
{
	if (t->is_image)
		return check_loops(t, e);
	return check_block(t->dev, e, t->dev);
}

int target_attach(struct target *t, struct err *e)
{
	int r;

	if (!t->is_image)
		return 0;
	r = mounts_loop_attach(t->disk, t->offset, t->size, false, t->dev,
			sizeof(t->dev));
	if (r < 0)
		return err_set(e, EXIT_FAILED, "cannot attach a loop device to "
			       "partition %u of %s: %s", t->partno, t->disk,
			       strerror(-r));
	t->loop_fd = r;
	t->loop_attached = true;
	return 0;
}

void target_detach(struct target *t)
{
	if (!t->loop_attached)
		return;
	mounts_loop_detach(t->dev);	/* at once if unused, else when it is */
	close(t->loop_fd);
	t->loop_attached = false;
}
