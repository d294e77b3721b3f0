/* probe: signatures and root specs through libblkid */
#include <stdio.h>
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "atomic.h"
#include "target/blkid.h"
#include "devspec.h"
#include "mountinfo.h"
#include "text.h"

static void value(blkid_probe pr, const char *name, char *ret, size_t cap)
{
	const char *v = NULL;

	ret[0] = '\0';
	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
		text_copy(ret, cap, v, strlen(v));
}

int blkid_signature(const char *path, uint64_t offset, uint64_t size,
		    struct signature *ret)
{
	blkid_probe pr;
	int fd, r;

	memset(ret, 0, sizeof(*ret));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	pr = blkid_new_probe();
	if (!pr) {
		close(fd);
		return -ENOMEM;
	}
	r = blkid_probe_set_device(pr, fd, (blkid_loff_t)offset,
				   (blkid_loff_t)size);
	if (r == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
						  BLKID_SUBLKS_LABEL |
						  BLKID_SUBLKS_UUID);
		blkid_probe_enable_partitions(pr, 1);
		r = blkid_do_safeprobe(pr);
	}
	if (r == 0) {
		value(pr, "TYPE", ret->type, sizeof(ret->type));
		if (!ret->type[0])
			value(pr, "PTTYPE", ret->type, sizeof(ret->type));
		value(pr, "LABEL", ret->label, sizeof(ret->label));
		value(pr, "UUID", ret->uuid, sizeof(ret->uuid));
		r = 1;
	} else if (r == -2) {
		/* more than one signature: something is certainly there */
		snprintf(ret->type, sizeof(ret->type), "several signatures");
		r = 1;
	} else if (r == 1) {
		r = 0;
	} else {
		r = -EIO;
	}
	blkid_free_probe(pr);
	close(fd);
	return r;
}

/* Resolves a spec with the blkid cache (sees what /dev shows). */
int blkid_root_resolve(const char *spec, char *ret_dev, size_t cap,
		 char *ret_type, size_t tcap, struct err *e)
{
	struct devspec ds;
	struct signature sig;
	const char *what;
	char *dev = NULL;
	struct stat st;

	if (devspec_parse(spec, &ds, &what) < 0)
		return err_set(e, EXIT_USAGE, "--root %s: %s", spec, what);
	if (ds.kind == DEVSPEC_PATH) {
		if (stat(ds.value, &st) < 0 || !S_ISBLK(st.st_mode))
			return err_set(e, EXIT_REFUSED, "--root %s: no such "
				       "block device", spec);
		dev = strdup(ds.value);
	} else {
		dev = blkid_evaluate_tag(devspec_kind_name(ds.kind), ds.value,
					 NULL);
	}
	if (!dev)
		return err_set(e, EXIT_REFUSED, "--root %s matches no device on "
			       "this machine; check it, or use --force if it "
			       "exists only where this partition boots", spec);
	snprintf(ret_dev, cap, "%s", dev);
	free(dev);
	ret_type[0] = '\0';
	if (blkid_signature(ret_dev, 0, 0, &sig) > 0)
		snprintf(ret_type, tcap, "%s", sig.type);
	return 0;
}

int blkid_device_of(const char *tag, const char *value, char *ret,
		    size_t cap)
{
	char *dev = blkid_evaluate_tag(tag, value, NULL);

	if (!dev)
		return -ENOENT;
	snprintf(ret, cap, "%s", dev);
	free(dev);
	return 0;
}

int blkid_root_current(char *ret_spec, size_t cap, struct err *e)
{
	char *mi = NULL;
	struct mountinfo_entry m;
	unsigned maj = 0, min = 0;
	size_t pos = 0, l;
	const char *line;
	bool found = false;
	char *dev = NULL;
	blkid_probe pr;

	size_t len;
	int r;

	ret_spec[0] = '\0';
	r = read_file("/proc/self/mountinfo", 1 << 20, &mi, &len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read "
				"/proc/self/mountinfo: %s", strerror(-r));
	while (text_next_line(mi, len, &pos, &line, &l) > 0)
		if (mountinfo_parse_line(line, l, &m) > 0 &&
		    strcmp(m.mount_point, "/") == 0) {
			maj = m.major;
			min = m.minor;
			found = true;
		}
	free(mi);
	if (found)
		dev = blkid_devno_to_devname(makedev(maj, min));
	if (!dev)
		return err_set(e, EXIT_USAGE, "cannot tell which device holds / "
			       "now; give --root SPEC");
	pr = blkid_new_probe_from_filename(dev);
	if (pr) {
		const char *v = NULL;

		blkid_probe_enable_partitions(pr, 1);
		blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID);
		if (blkid_do_safeprobe(pr) == 0) {
			if (blkid_probe_lookup_value(pr, "PART_ENTRY_UUID", &v,
						     NULL) == 0)
				snprintf(ret_spec, cap, "PARTUUID=%s", v);
			else if (blkid_probe_lookup_value(pr, "UUID", &v,
							  NULL) == 0)
				snprintf(ret_spec, cap, "UUID=%s", v);
		}
		blkid_free_probe(pr);
	}
	if (!ret_spec[0])
		snprintf(ret_spec, cap, "%s", dev);
	free(dev);
	return 0;
}

int blkid_wipe(const char *dev, struct err *e)
{
	blkid_probe pr;
	/* exclusive: a mount, md or dm taking it since the check fails here
	 * (EBUSY) instead of being written under */
	int fd = open(dev, O_RDWR | O_EXCL | O_CLOEXEC), r = 0;

	if (fd < 0 && errno == EBUSY)
		return err_set(e, EXIT_REFUSED, "%s is in use (busy); stop what "
			       "uses it first; nothing written", dev);
	if (fd < 0)
		return err_set(e, EXIT_FAILED, "cannot open %s: %s", dev,
			       strerror(errno));
	pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		r = err_set(e, EXIT_FAILED, "cannot probe %s", dev);
		goto out;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	while (blkid_do_probe(pr) == 0)
		if (blkid_do_wipe(pr, 0) < 0) {
			r = err_set(e, EXIT_FAILED, "cannot wipe a signature "
				    "on %s", dev);
			break;
		}
	if (r == 0 && fsync(fd) < 0)
		r = err_set(e, EXIT_FAILED, "fsync %s: %s", dev, strerror(errno));
out:
	if (pr)
		blkid_free_probe(pr);
	close(fd);
	return r;
}
