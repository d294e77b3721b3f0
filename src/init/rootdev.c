/* rootdev: find a device by spec through sysfs and raw sectors, mount the root */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "atomic.h"
#include "devspec.h"
#include "init.h"
#include "profile.h"
#include "mntopts.h"
#include "probe.h"

/* The first bytes of a device, where file systems keep their superblocks:
 * one buffer for every probe (PID 1 is single-threaded), not a fresh
 * 68 KiB mapping each time. */
static uint8_t probe_buf[PROBE_FS_BYTES];

static int read_at(const char *dev, uint64_t off, void *buf, size_t len)
{
	ssize_t n;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	if (n < 0)
		return -errno;
	return (int)n;
}

/* What file system dev holds: its first 4 KiB decide when they can (a
 * read that small fetches 16 KiB ahead, not 128, and the mount that
 * follows drops the device's cache anyway), else the 68 KiB that btrfs
 * needs.  1 with *id, 0 for none, or -errno. */
static int probe_device(const char *dev, struct fs_id *id)
{
	int n = read_at(dev, 0, probe_buf, PROBE_FS_FIRST);

	if (n > 0 && probe_fs(probe_buf, (size_t)n, id))
		return 1;
	if (n == PROBE_FS_FIRST)
		n = read_at(dev, 0, probe_buf, sizeof(probe_buf));
	return n < 0 ? n : probe_fs(probe_buf, (size_t)n, id);
}

static long sysfs_number(const char *name, const char *attr)
{
	char path[512], *buf;
	size_t len;
	long v;

	snprintf(path, sizeof(path), "/sys/class/block/%s/%s", name, attr);
	if (read_file(path, 64, &buf, &len) < 0)
		return -1;
	v = atol(buf);
	free(buf);
	return v;
}

/* The whole disk a partition belongs to: the parent directory in sysfs. */
static int parent_disk(const char *name, char *ret, size_t cap)
{
	char link[512], target[1024], *slash;
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/class/block/%s", name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	slash = strrchr(target, '/');
	snprintf(ret, cap, "%.200s", slash ? slash + 1 : target);
	return 0;
}

static int part_ids(const char *name, char *ret_uuid, char *ret_label,
		    size_t label_cap)
{
	char disk[256], dev[300];
	uint8_t s0[512], *big = NULL;
	struct gpt_header h;
	long partno = sysfs_number(name, "partition"), ss;
	int r;

	ret_uuid[0] = ret_label[0] = '\0';
	if (partno <= 0 || parent_disk(name, disk, sizeof(disk)) < 0)
		return -ENOENT;
	snprintf(dev, sizeof(dev), "/dev/%s", disk);
	if (read_at(dev, 0, s0, sizeof(s0)) != (int)sizeof(s0))
		return -EIO;
	switch (probe_ptable(s0)) {
	case PTABLE_DOS:
		return probe_dos_partuuid(s0, (unsigned)partno, ret_uuid, 37);
	case PTABLE_GPT:
		ss = sysfs_number(disk, "queue/logical_block_size");
		if (ss < 512)
			ss = 512;
		big = malloc((size_t)ss);
		if (!big)
			return -ENOMEM;
		r = read_at(dev, (uint64_t)ss, big, (size_t)ss);
		if (r == ss)
			r = probe_gpt_header(big, (size_t)ss, &h);
		else
			r = -EIO;
		if (r == 0 && (uint32_t)partno > h.n_entries)
			r = -ENOENT;
		free(big);
		if (r < 0)
			return r;
		big = malloc(h.entry_size);
		if (!big)
			return -ENOMEM;
		r = read_at(dev, h.entries_lba * (uint64_t)ss +
				 (uint64_t)(partno - 1) * h.entry_size,
			    big, h.entry_size);
		r = r == (int)h.entry_size
			    ? probe_gpt_entry(big, h.entry_size, ret_uuid,
					      ret_label, label_cap)
			    : -EIO;
		free(big);
		return r;
	default:
		return -ENOENT;
	}
}

static bool device_matches(const struct devspec *ds, const char *name)
{
	char dev[300], uuid[37], label[257];
	struct fs_id id;

	if (ds->kind == DEVSPEC_PARTUUID || ds->kind == DEVSPEC_PARTLABEL) {
		if (part_ids(name, uuid, label, sizeof(label)) < 0)
			return false;
		return devspec_matches(ds, ds->kind == DEVSPEC_PARTUUID ? uuid
									: label);
	}
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	if (probe_device(dev, &id) <= 0)
		return false;
	return devspec_matches(ds, ds->kind == DEVSPEC_UUID ? id.uuid
							    : id.label);
}

int rootdev_find(const char *spec, char *ret_path, size_t cap,
		 const char **ret_what)
{
	struct devspec ds;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r;

	r = devspec_parse(spec, &ds, ret_what);
	if (r < 0)
		return -EINVAL;
	if (ds.kind == DEVSPEC_PATH) {
		if (stat(ds.value, &st) < 0 || !S_ISBLK(st.st_mode))
			return -ENOENT;
		snprintf(ret_path, cap, "%s", ds.value);
		return 0;
	}
	d = opendir("/sys/class/block");
	if (!d)
		return -ENOENT;
	r = -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (device_matches(&ds, de->d_name)) {
			snprintf(ret_path, cap, "/dev/%s", de->d_name);
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

void rootdev_list_devices(char *buf, size_t cap)
{
	struct dirent *de;
	size_t used = 0;
	DIR *d = opendir("/sys/class/block");

	buf[0] = '\0';
	while (d && (de = readdir(d))) {
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(buf + used, cap - used, "%s%s", used ? " " : "",
			     de->d_name);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	if (d)
		closedir(d);
	if (!used)
		snprintf(buf, cap, "(none)");
}

/* Tries the probed type first, then every block file system the kernel has. */
static int mount_any(const char *dev, unsigned long flags, const char *data,
		     const char *fstype, char *ret_type, size_t cap)
{
	char *fs, *line, *save = NULL;
	const char *probed = NULL;
	struct fs_id id;
	size_t len;
	int r, err = ENODEV;

	if (fstype) {
		if (mount(dev, NEWROOT, fstype, flags, data) < 0)
			return -errno;
		snprintf(ret_type, cap, "%s", fstype);
		return 0;
	}
	if (probe_device(dev, &id) > 0)
		probed = id.type;
	profile_mark("root-probe");
	if (probed && !strcmp(probed, "crypto_LUKS"))
		return -EMEDIUMTYPE;
	if (probed && mount(dev, NEWROOT, probed, flags, data) == 0) {
		snprintf(ret_type, cap, "%s", probed);
		return 0;
	}
	r = read_file("/proc/filesystems", 64 * 1024, &fs, &len);
	if (r < 0)
		return r;
	for (line = strtok_r(fs, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "nodev", 5) == 0)
			continue;
		while (*line == '\t' || *line == ' ')
			line++;
		if (mount(dev, NEWROOT, line, flags, data) == 0) {
			snprintf(ret_type, cap, "%s", line);
			free(fs);
			return 0;
		}
		if (errno != EINVAL && errno != ENODEV && errno != ENOTBLK)
			err = errno;
	}
	free(fs);
	return -err;
}

int rootdev_wait(const char *spec, unsigned wait_s, const char *what_spec,
		 const char *key, char *dev, size_t cap)
{
	char devices[512];
	const char *what = NULL;
	long deadline = now_ms() + (long)wait_s * 1000;
	bool told = false;
	int r;

	for (;;) {
		r = rootdev_find(spec, dev, cap, &what);
		if (r == -EINVAL) {
			log_error("%s=%s: %s", key, spec, what);
			return r;
		}
		if (r == 0)
			return 0;
		if (now_ms() >= deadline) {
			rootdev_list_devices(devices, sizeof(devices));
			log_error("%s %s did not appear within %u s "
				  "(earlyfs.rootwait); block devices: %s. "
				  "Check %s", what_spec, spec, wait_s, devices,
				  key);
			return -ENODEV;
		}
		if (!told) {
			log_notice("waiting up to %u s for %s %s", wait_s,
				   what_spec, spec);
			told = true;
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		child_reap();
	}
}

int rootdev_probe(const char *dev, char *ret_type, size_t cap)
{
	struct fs_id id;
	int r = probe_device(dev, &id);

	ret_type[0] = '\0';
	if (r > 0)
		snprintf(ret_type, cap, "%s", id.type);
	return r < 0 ? r : 0;
}

int rootdev_mount(const struct boot_config *cfg, struct boot_report *rep)
{
	char dev[256];
	struct mount_opts o;
	long start = now_ms();
	int r;

	if (!cfg->root) {
		log_error("nothing is mounted at %s and earlyfs.root= is not "
			  "set: add earlyfs.root=DEVICE to the kernel command "
			  "line, or mount the root at %s in a fragment",
			  NEWROOT, NEWROOT);
		return -EINVAL;
	}
	r = rootdev_wait(cfg->root, cfg->rootwait, "root device",
			 "earlyfs.root", dev, sizeof(dev));
	if (r < 0)
		return r;
	profile_mark("root-find");
	r = mntopts_parse(cfg->rootflags, &o);
	if (r < 0) {
		log_error("earlyfs.rootflags=%s: too long", cfg->rootflags);
		return r;
	}
	if (!cfg->root_rw)
		o.flags |= MS_RDONLY;
	else
		o.flags &= ~(unsigned long)MS_RDONLY;
	r = mount_any(dev, o.flags, o.data[0] ? o.data : NULL, cfg->rootfstype,
		      rep->root_fstype, sizeof(rep->root_fstype));
	if (r < 0) {
		log_error("cannot mount root %s (%s) on %s: %s%s", dev,
			  cfg->root, NEWROOT, r == -EMEDIUMTYPE ?
			  "it is a LUKS volume" : strerror(-r),
			  r == -EMEDIUMTYPE ? "; open it first (earlyfs feature "
			  "add luks) and set earlyfs.root=/dev/mapper/NAME" :
			  cfg->rootfstype ? "" :
			  "; no built-in file system driver accepted it");
		return r;
	}
	snprintf(rep->root_device, sizeof(rep->root_device), "%s", dev);
	snprintf(rep->root_how, sizeof(rep->root_how), "runner");
	rep->root_ms = now_ms() - start;
	log_debug("mounted root %s (%s, %s) on %s", dev, rep->root_fstype,
		 cfg->root_rw ? "rw" : "ro", NEWROOT);
	return 0;
}
