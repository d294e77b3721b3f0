/* kernelcheck: can this kernel mount the boot partition with no initramfs? */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "atomic.h"
#include "kernel/kernelcheck.h"
#include "base/run.h"
#include "base/host.h"

void kernel_info_free(struct kernel_info *k)
{
	free(k->config);
	k->config = NULL;
}

/* The version string the bzImage header points at (boot protocol 2.0+). */
#define CONFIG_MAX (4 << 20)	/* a kernel .config */

static int bzimage_version(const char *path, char *ret, size_t cap)
{
	unsigned char hdr[1024];
	char ver[256];
	unsigned off;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0x210 || memcmp(hdr + 0x202, "HdrS", 4) != 0) {
		close(fd);
		return -EINVAL;
	}
	off = (unsigned)(hdr[0x20e] | hdr[0x20f] << 8) + 0x200;
	n = pread(fd, ver, sizeof(ver) - 1, off);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	ver[n] = '\0';
	ver[strcspn(ver, " \n")] = '\0';
	snprintf(ret, cap, "%s", ver);
	return ver[0] ? 0 : -EINVAL;
}

/* The gzip'ed config between "IKCFG_ST" and "IKCFG_ED", uncompressed. */
static char *ikconfig_blob(const char *vmlinux, size_t len)
{
	char *const gunzip[] = { "gzip", "-dc", NULL };
	const char *st = memmem(vmlinux, len, "IKCFG_ST", 8), *ed;
	char *config = NULL;
	size_t clen;
	int fd, r;

	ed = st ? memmem(st, len - (size_t)(st - vmlinux), "IKCFG_ED", 8) : NULL;
	if (!ed)
		return NULL;
	fd = run_memfd("ikconfig", st + 8, (size_t)(ed - st - 8));
	if (fd < 0)
		return NULL;
	r = run_capture(gunzip, fd, 0, CONFIG_MAX, &config, &clen, NULL, 0);
	close(fd);
	if (r < 0) {
		free(config);
		return NULL;
	}
	return config;
}

/*
 * IKCONFIG: the config is inside the compressed kernel a bzImage carries.
 * Decompress from each place a known stream starts until one holds it.
 * The decompressors are the host's, fed the file itself: no shell, and the
 * kernel's path is never part of a command line.
 */
static char *ikconfig(const char *path)
{
	static const struct {
		const char *magic;
		size_t len;
		char *const argv[5];
	} streams[] = {
		{ "\x1f\x8b\x08", 3, { "gzip", "-dc", NULL } },
		{ "\xfd" "7zXZ", 6, { "xz", "-dcq", "--single-stream", NULL } },
		{ "\x28\xb5\x2f\xfd", 4, { "zstd", "-dcq", NULL } },
		{ "\x02\x21\x4c\x18", 4, { "lz4", "-dcq", NULL } },
	};
	char *img = NULL, *vmlinux, *result = NULL;
	size_t len, vlen, i;
	const char *p;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || read_fd(fd, 256 << 20, &img, &len) < 0)
		goto out;
	for (i = 0; i < sizeof(streams) / sizeof(streams[0]) && !result; i++) {
		for (p = img; !result && (p = memmem(p, len - (size_t)(p - img),
						     streams[i].magic,
						     streams[i].len)); p++) {
			if (run_capture(streams[i].argv, fd, p - img,
					512 << 20, &vmlinux, &vlen, NULL,
					0) < 0)
				continue;
			result = ikconfig_blob(vmlinux, vlen);
			free(vmlinux);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(img);
	return result;
}

void kernel_default_path(char *ret, size_t cap)
{
	struct utsname u;

	uname(&u);
	snprintf(ret, cap, "/boot/vmlinuz-%s", u.release);
}

int kernel_inspect(const char *path, const char *config_path,
		   struct kernel_info *k, struct err *e)
{
	char tries[3][PATH_MAX + 64], dir[PATH_MAX];
	size_t i, n = 0, len;
	int r;

	memset(k, 0, sizeof(*k));
	snprintf(k->path, sizeof(k->path), "%s", path);
	if (access(path, R_OK) < 0)
		return err_set(e, EXIT_USAGE, "kernel %s: %s", path,
			       strerror(errno));
	if (bzimage_version(path, k->version, sizeof(k->version)) < 0)
		return err_set(e, EXIT_USAGE, "%s is not a bzImage kernel "
			       "(no boot protocol header)", path);
	if (config_path) {
		r = read_file(config_path, CONFIG_MAX, &k->config, &len);
		if (r < 0)
			return err_setr(e, r, EXIT_USAGE, "cannot read --config "
					"%s: %s", config_path, strerror(-r));
		snprintf(k->config_from, sizeof(k->config_from), "%s",
			 config_path);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(tries[n++], sizeof(tries[0]), "/boot/config-%s", k->version);
	snprintf(tries[n++], sizeof(tries[0]), "%s/config-%s", dirname(dir),
		 k->version);
	for (i = 0; i < n && !k->config; i++)
		if (read_file(tries[i], CONFIG_MAX, &k->config, &len) == 0)
			snprintf(k->config_from, sizeof(k->config_from), "%s",
				 tries[i]);
	if (!k->config) {
		k->config = ikconfig(path);
		if (k->config)
			snprintf(k->config_from, sizeof(k->config_from),
				 "the image itself (IKCONFIG)");
	}
	if (!k->config)
		return err_set(e, EXIT_KERNEL, "no configuration for kernel %s "
			       "(%s): not in /boot/config-%s, beside the image, "
			       "nor built in (IKCONFIG); give --config FILE",
			       path, k->version, k->version);
	return 0;
}

/* "y", "m" or "" for CONFIG_<sym>. */
static const char *config_value(const char *config, const char *sym)
{
	char key[128];
	const char *p = config;
	size_t n;

	n = (size_t)snprintf(key, sizeof(key), "CONFIG_%s=", sym);
	while ((p = strstr(p, key))) {
		if (p == config || p[-1] == '\n')
			return p[n] == 'y' ? "y" : p[n] == 'm' ? "m" : "";
		p += n;
	}
	return "";
}

/* Driver names (as sysfs shows them) and the options that build them. */
static const struct {
	const char *driver;
	const char *sym;
} drivers[] = {
	{ "sd", "BLK_DEV_SD" },
	{ "ahci", "SATA_AHCI" },
	{ "ata_piix", "ATA_PIIX" },
	{ "virtio_blk", "VIRTIO_BLK" },
	{ "virtio-pci", "VIRTIO_PCI" },
	{ "virtio_pci", "VIRTIO_PCI" },
	{ "virtio_scsi", "SCSI_VIRTIO" },
	{ "nvme", "BLK_DEV_NVME" },
	{ "mmcblk", "MMC_BLOCK" },
	{ "sdhci-pci", "MMC_SDHCI_PCI" },
	{ "usb-storage", "USB_STORAGE" },
	{ "uas", "USB_UAS" },
	{ "xhci_hcd", "USB_XHCI_PCI" },
	{ "ehci-pci", "USB_EHCI_PCI" },
	{ "megaraid_sas", "MEGARAID_SAS" },
	{ "mpt3sas", "SCSI_MPT3SAS" },
	{ "hpsa", "SCSI_HPSA" },
	{ "vmw_pvscsi", "VMWARE_PVSCSI" },
	{ "hv_storvsc", "HYPERV_STORAGE" },
	{ "xen_blkfront", "XEN_BLKDEV_FRONTEND" },
};

const struct generic_disk kernel_generic_disks[] = {
	{ "virtio_pci", "virtio_pci" },
	{ "virtio_blk", "virtio_blk" },
	{ "virtio_scsi", "virtio_scsi" },
	{ "nvme", "nvme" },
	{ "ahci", "ahci" },
	{ "ata_piix", "ata_piix" },
	{ "sd", "sd_mod" },
};
const size_t n_kernel_generic_disks = sizeof(kernel_generic_disks) /
				      sizeof(kernel_generic_disks[0]);

const char *kernel_driver_config(const struct kernel_info *k,
				 const char *driver)
{
	size_t j;

	for (j = 0; j < sizeof(drivers) / sizeof(drivers[0]); j++)
		if (!strcmp(drivers[j].driver, driver))
			return k->config ? config_value(k->config,
							drivers[j].sym) : NULL;
	return NULL;
}

static const struct {
	const char *fstype;
	const char *sym;
} filesystems[] = {
	{ "ext4", "EXT4_FS" },
	{ "ext3", "EXT4_FS" },
	{ "ext2", "EXT4_FS" },
	{ "xfs", "XFS_FS" },
	{ "btrfs", "BTRFS_FS" },
	{ "f2fs", "F2FS_FS" },
	{ "vfat", "VFAT_FS" },
	{ "crypto_LUKS", "DM_CRYPT" },
};

const char *kernel_config(const struct kernel_info *k, const char *sym)
{
	return config_value(k->config, sym);
}

struct need {
	const char *sym;
	char why[128];
	bool module_ok;		/* a stub can load it */
};

static size_t add(struct need *n, size_t i, const char *sym, const char *fmt,
		  const char *arg)
{
	n[i].sym = sym;
	n[i].module_ok = false;
	snprintf(n[i].why, sizeof(n[i].why), fmt, arg);
	return i + 1;
}

/* add() of a need a module stub can carry. */
static size_t add_mod(struct need *n, size_t i, bool stub, const char *sym,
		      const char *fmt, const char *arg)
{
	i = add(n, i, sym, fmt, arg);
	n[i - 1].module_ok = stub;
	return i;
}

int kernel_check(const struct kernel_info *k, const struct kernel_needs *kn,
		 FILE *out, struct err *e)
{
	struct need need[48 + KERNEL_EXTRA_MAX];
	char missing[900] = "";
	size_t n = 0, i, j, bad = 0, used = 0;

	if (kn->only_extra)
		goto extra;
	n = add(need, n, "DEVTMPFS", "%s", "devtmpfs: /dev without udev");
	n = add(need, n, "BINFMT_ELF", "%s", "ELF programs: earlyfs-init, busybox");
	n = add(need, n, "BINFMT_SCRIPT", "%s", "#! scripts: fragments");
	for (j = 0; j < sizeof(filesystems) / sizeof(filesystems[0]); j++)
		if (!strcmp(filesystems[j].fstype, kn->boot_fstype))
			n = add_mod(need, n, kn->stub, filesystems[j].sym,
				    "boot partition file system (%s)",
				    kn->boot_fstype);
	if (kn->root_fstype && kn->root_fstype[0]) {
		for (j = 0; j < sizeof(filesystems) / sizeof(filesystems[0]); j++)
			if (!strcmp(filesystems[j].fstype, kn->root_fstype))
				break;
		if (j < sizeof(filesystems) / sizeof(filesystems[0]))
			n = add(need, n, filesystems[j].sym,
				"real root file system (%s)", kn->root_fstype);
		else if (out)
			fprintf(out, "  note: real root type %s: not checked\n",
				kn->root_fstype);
	}
	if (kn->table != TABLE_GPT)
		n = add(need, n, "MSDOS_PARTITION", "%s", "DOS partition table");
	if (kn->table != TABLE_DOS)
		n = add(need, n, "EFI_PARTITION", "%s", "GPT partition table");
	for (i = 0; i < kn->n_drivers && n < 40; i++) {
		for (j = 0; j < sizeof(drivers) / sizeof(drivers[0]); j++)
			if (!strcmp(drivers[j].driver, kn->drivers[i]))
				break;
		if (j < sizeof(drivers) / sizeof(drivers[0]))
			n = add_mod(need, n, kn->stub, drivers[j].sym,
				    "disk driver %s", kn->drivers[i]);
		else if (out)
			fprintf(out, "  note: driver %s is unknown to earlyfs: "
				"make sure it is built in\n", kn->drivers[i]);
	}
extra:
	for (i = 0; i < kn->n_extra; i++) {
		/* "A|B": the first one built in, else the first */
		const char *alt = kn->extra_sym[i], *bar;
		static char syms[KERNEL_EXTRA_MAX][64];

		snprintf(syms[i], sizeof(syms[i]), "%.*s",
			 (int)strcspn(alt, "|"), alt);
		for (; alt; alt = bar ? bar + 1 : NULL) {
			char one[64];

			bar = strchr(alt, '|');
			snprintf(one, sizeof(one), "%.*s", bar ? (int)(bar - alt)
				 : (int)strlen(alt), alt);
			if (!strcmp(config_value(k->config, one), "y")) {
				snprintf(syms[i], sizeof(syms[i]), "%s", one);
				break;
			}
		}
		n = add_mod(need, n, kn->stub && kn->extra_mod[i], syms[i],
			    "%s", kn->extra_why[i]);
	}
	for (i = 0; i < n; i++) {
		const char *v = config_value(k->config, need[i].sym);
		bool dup = false;

		for (j = 0; j < i; j++)
			dup |= !strcmp(need[j].sym, need[i].sym);
		if (dup)
			continue;
		if (need[i].module_ok && !strcmp(v, "m"))
			v = "y";	/* in the stub */
		if (out)
			fprintf(out, "  %-7s CONFIG_%s (%s)%s\n",
				!strcmp(v, "y") ? "ok" : "MISSING", need[i].sym,
				need[i].why,
				!strcmp(v, "m") ? ": a module" :
				!strcmp(v, "y") ? "" : ": not set");
		if (strcmp(v, "y") != 0) {
			bad++;
			used += (size_t)snprintf(missing + used,
				used < sizeof(missing) ? sizeof(missing) - used : 0,
				"%sCONFIG_%s=%s (%s)", bad > 1 ? ", " : "",
				need[i].sym, v[0] ? v : "n", need[i].why);
			if (used >= sizeof(missing))
				used = sizeof(missing) - 1;
		}
	}
	if (bad)
		return err_set(e, EXIT_KERNEL, "kernel %s cannot %s without an "
			       "initramfs: %s. Build these in (=y), or choose "
			       "another kernel with --kernel", k->version,
			       kn->n_extra ? "boot this partition and its "
			       "features" : "mount the boot partition",
			       missing);
	return 0;
}
