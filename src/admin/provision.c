/* provision: checks first, then staged writes, each step timed and named */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "atomic.h"
#include "target/blkid.h"
#include "target/boot.h"
#include "loader/bootloader.h"
#include "loader/efivar.h"
#include "loader/loader.h"
#include "target/esp.h"
#include "change/change.h"
#include "change/kernelfiles.h"
#include "devspec.h"
#include "features/feature.h"
#include "kernel/kernelcheck.h"
#include "kernel/kernelplan.h"
#include "kernlist.h"
#include "text.h"
#include "layout.h"
#include "populate.h"
#include "provision.h"
#include "target/target.h"
#include "template.h"
#include "base/run.h"
#include "base/mounts.h"
#include "base/host.h"

/* syslinux reads no 64bit ext4 and replays no journal; a boot partition is
 * not grown online (resize_inode) and holds few files (an inode per 32 KiB:
 * 2048 on 64 MiB, busybox's links included, instead of 4 MiB of tables). */
#define BOOT_FEATURES "^has_journal,^64bit,^resize_inode"
#define BOOT_INODE_RATIO "32768"

/* The root spec inside an image: its partitions, not this machine's. */
static int image_root(const struct target *t, const char *spec,
		      char *ret_type, size_t cap)
{
	struct devspec ds;
	struct signature sig;
	const char *what;
	struct err ignore;
	unsigned i;

	if (devspec_parse(spec, &ds, &what) < 0 || ds.kind == DEVSPEC_PATH)
		return -ENOENT;
	for (i = 1; i <= 16; i++) {
		struct target p = *t;
		bool match;

		p.partno = i;
		if (target_read_partition(&p, &ignore) < 0)
			continue;
		if (blkid_signature(p.disk, p.offset, p.size, &sig) <= 0)
			memset(&sig, 0, sizeof(sig));
		match = ds.kind == DEVSPEC_PARTUUID ? devspec_matches(&ds, p.partuuid)
		      : ds.kind == DEVSPEC_UUID ? devspec_matches(&ds, sig.uuid)
		      : ds.kind == DEVSPEC_LABEL ? devspec_matches(&ds, sig.label)
		      : false;
		if (match) {
			snprintf(ret_type, cap, "%s", sig.type);
			return i == t->partno ? -ELOOP : 0;
		}
	}
	return -ENOENT;
}

/* What steps share: found by the checks, used by the writes. */
struct prov {
	const struct provision_opts *o;
	struct target t;
	char root[512], roottype[64], kpath[PATH_MAX];
	struct kernel_info k;
	struct kernel_plan plan;	/* its module stub, if it needs one */
	char stage[PATH_MAX], mnt[PATH_MAX];
	bool mounted;
	unsigned features;	/* feature.h bits */
	const struct loader_ops *loader;
	bool secure;		/* Secure Boot with the distribution's chain */
	char esp_spec[128], esp_shown[4200];
	/* the default entry's command line, and rescue's */
	char options[BOOTMENU_OPTIONS_MAX], rescue[BOOTMENU_OPTIONS_MAX];
};

static int write_record(const char *mnt, const struct prov *p, struct err *e)
{
	const struct provision_opts *o = p->o;
	char path[PATH_MAX], text[8192], when[64];
	time_t now = time(NULL);
	struct tm tm;
	int r, n;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(text, sizeof(text),
		     "# What 'earlyfs provision' made; earlyfs tools read it.\n"
		     "version=%s\nprovisioned=%s\nroot=%s\nboot_partuuid=%s\n"
		     "kernel=" LAYOUT_KERNEL "\nkernel_source=%s\nlabel=%s\n",
		     EARLYFS_VERSION, when, p->root, p->t.partuuid,
		     p->k.version, p->k.path, o->label);
	/* a loader outside the generations: the entries' command lines
	 * are here, and the file system's UUID a loader finds it by */
	if (p->loader->esp) {
		struct signature sig = { "", "", "" };

		blkid_signature(p->t.dev, 0, 0, &sig);
		snprintf(text + n, sizeof(text) - (size_t)n,
			 "bootloader=%s\nesp=%s\nmenu_timeout=%u\n"
			 "boot_uuid=%s\noptions=%s\nrescue_options=%s\n%s",
			 p->loader->name, p->esp_spec, (o->timeout + 9) / 10,
			 sig.uuid, p->options, p->rescue,
			 p->secure ? "secure_boot=yes\n" : "");
	}
	snprintf(path, sizeof(path), "%s/" LAYOUT_CONF, mnt);
	r = host_write_text(path, text, 0644);
	return r < 0 ? err_set(e, EXIT_FAILED, "cannot write %s: %s", path,
			       strerror(-r)) : 0;
}

/* The new partition, opened as a partition of its disk (its ESP is
 * found there). */
static int open_made(const struct prov *p, struct boot *b, struct err *e)
{
	int r = boot_open(p->mnt, NULL, 0, true, b, e);

	if (r == 0) {
		b->t = p->t;
		b->t.loop_attached = false;	/* provision's to detach */
		b->t.loop_fd = -1;
		b->disk_known = true;
	}
	return r;
}

/* Generation 1 is what was provisioned; extlinux.conf gains 'previous',
 * the ESP its entries. */
static int record_first_generation(const struct prov *p, struct err *e)
{
	const struct change c = { .op = CHANGE_RECORD };
	FILE *quiet = fopen("/dev/null", "we");
	struct boot b;
	int r;

	if (!quiet)
		return err_set(e, EXIT_FAILED, "cannot open /dev/null");
	r = open_made(p, &b, e);
	if (r == 0) {
		r = change_commit(&b, &c, quiet, e);
		boot_close(&b);
	}
	fclose(quiet);
	return r;
}

/*
 * A step: its name, what it does (for the log line, and what --dry-run
 * says it would do), and the work; the checks write nothing and run in a
 * dry run too.  A step prints its result after the description.  The
 * list below is the whole of provisioning, in order.
 */
struct step {
	const char *name;
	bool writes;
	bool (*when)(const struct prov *p);	/* NULL: always */
	void (*describe)(const struct prov *p, char *buf, size_t cap);
	int (*run)(struct prov *p, FILE *out, struct err *e);
};

static const char *mbr_file(const struct prov *p)
{
	return p->t.table == TABLE_GPT ? "gptmbr.bin" : "mbr.bin";
}

static const char *flag_name(const struct prov *p)
{
	return p->t.table == TABLE_GPT ? "legacy BIOS bootable" : "active";
}

static void say_nothing(const struct prov *p, char *buf, size_t cap)
{
	buf[0] = '\0';
}

static void say_target(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", p->o->target);
}

static int check_target(struct prov *p, FILE *out, struct err *e)
{
	int r = target_resolve(p->o->target, p->o->partno, &p->t, e);

	if (r == 0)
		r = target_check_unused(&p->t, e);
	if (r < 0)
		return r;
	fprintf(out, ": partition %u of %s, %llu MiB, %s table, PARTUUID=%s",
		p->t.partno, p->t.disk, (unsigned long long)(p->t.size >> 20),
		p->t.table == TABLE_GPT ? "GPT" : "DOS", p->t.partuuid);
	return 0;
}

static int check_contents(struct prov *p, FILE *out, struct err *e)
{
	struct signature sig;
	char ids[512];
	int r = blkid_signature(p->t.disk, p->t.offset, p->t.size, &sig);

	if (r > 0 && !p->o->force) {
		snprintf(ids, sizeof(ids), "%s%s%s%s%s",
			 sig.label[0] ? "LABEL=" : "", sig.label,
			 sig.label[0] && sig.uuid[0] ? ", " : "",
			 sig.uuid[0] ? "UUID=" : "", sig.uuid);
		return err_set(e, EXIT_REFUSED, "it holds a file system or "
			       "signature of type %s (%s); use --force to "
			       "overwrite", sig.type,
			       ids[0] ? ids : "no label or UUID");
	}
	fprintf(out, "%s%s", r > 0 ? "overwriting " : "empty",
		r > 0 ? sig.type : "");
	return 0;
}

/* mdraid without --mdadm-conf: made from the host's arrays when the
 * features are written; tried now, so that a failure writes nothing. */
static int mdadm_conf_from_host(struct prov *p, struct err *e)
{
	char *text = NULL;
	size_t len;
	int r;

	if (!(p->features & FEATURE_MDRAID) || p->o->fo.mdadm_conf)
		return 0;
	r = feature_mdadm_conf(-1, p->root, &p->o->fo, &text, &len, e);
	free(text);
	return r;
}

static int check_root(struct prov *p, FILE *out, struct err *e)
{
	char rootdev[512];
	struct devspec ds;
	const char *what;
	bool mapped;
	int r;

	if (p->o->root)
		snprintf(p->root, sizeof(p->root), "%s", p->o->root);
	else if ((r = blkid_root_current(p->root, sizeof(p->root), e)) < 0)
		return r;
	if (devspec_parse(p->root, &ds, &what) < 0)
		return err_set(e, EXIT_USAGE, "--root %s: %s", p->root, what);
	mapped = !strncmp(p->root, "/dev/mapper/", 12);
	if (ds.kind == DEVSPEC_PATH &&
	    ((mapped && (p->features & FEATURE_LUKS)) ||
	     (!strncmp(p->root, "/dev/md", 7) &&
	      (p->features & FEATURE_MDRAID)))) {
		/* opened or assembled at boot by a feature being added */
		fprintf(out, "%s (made at boot by the %s feature)", p->root,
			mapped ? "luks" : "mdraid");
		return mdadm_conf_from_host(p, e);
	}
	if (p->t.is_image) {
		r = image_root(&p->t, p->root, p->roottype,
			       sizeof(p->roottype));
		if (r == -ELOOP)
			return err_set(e, EXIT_USAGE, "--root %s is the boot "
				       "partition itself", p->root);
		if (r < 0 && !p->o->force)
			return err_set(e, EXIT_REFUSED, "--root %s matches no "
				       "partition of %s; check it, or use "
				       "--force if it will exist where this "
				       "image boots", p->root, p->t.disk);
	} else {
		r = blkid_root_resolve(p->root, rootdev, sizeof(rootdev), p->roottype,
				 sizeof(p->roottype), e);
		if (r < 0 && (!p->o->force || e->code == EXIT_USAGE))
			return r;
	}
	fprintf(out, "%s%s%s%s", p->root,
		p->roottype[0] ? " (" : " (unresolved", p->roottype,
		p->roottype[0] ? ")" : ", --force)");
	return 0;
}

static int check_kernel(struct prov *p, FILE *out, struct err *e)
{
	struct kernels_opts ko = { .modules = p->o->modules };
	struct kernel_site s = { .features = p->features,
				 .image = p->t.is_image,
				 .root_fstype = p->roottype,
				 .table = p->t.table, .name = p->o->target,
				 .list = true };
	struct stat st;
	size_t i;
	int r;

	if (p->o->kernel)
		snprintf(p->kpath, sizeof(p->kpath), "%s", p->o->kernel);
	else
		kernel_default_path(p->kpath, sizeof(p->kpath));
	r = kernel_inspect(p->kpath, p->o->config, &p->k, e);
	if (r < 0) {
		if (!p->o->kernel && access(p->kpath, F_OK) < 0)
			r = err_set(e, EXIT_USAGE, "the running kernel's image "
				    "%s does not exist; give --kernel FILE",
				    p->kpath);
		return r;
	}
	fprintf(out, "%s (%s), config from %s\n", p->k.version, p->kpath,
		p->k.config_from);
	if (!kernlist_version_ok(p->k.version, strlen(p->k.version)))
		return err_set(e, EXIT_USAGE, "%s: its version '%s' is not one "
			       "earlyfs can name a file after", p->kpath,
			       text_printable(p->k.version));
	for (i = 0; i < p->o->n_drivers; i++)
		ko.drivers[ko.n_drivers++] = p->o->drivers[i];
	if (!s.image && stat(p->t.dev, &st) == 0)
		s.dev = st.st_rdev;
	else
		s.image = true;
	/* what kernel add would decide: built in, a module stub, or no */
	r = kernelplan_make(&p->k, &ko, &s, p->o->force, &p->plan, out, e);
	if (r < 0)
		return r;
	if (p->plan.refused)
		return err_set(e, EXIT_KERNEL, "%s", p->plan.why.msg);
	fprintf(out, "  %-10s", "");
	return 0;
}

static int check_features(struct prov *p, FILE *out, struct err *e)
{
	struct feature_opts fo = p->o->fo;
	char *with = (char *)p->o->with;
	size_t i;
	int r;

	fo.force = p->o->force;
	fo.fresh = true;
	if (!with) {
		if (feature_opts_given(&p->o->fo))
			return err_set(e, EXIT_USAGE, "--%s goes with --with "
				       "FEATURE", feature_opts_given(&p->o->fo));
		fprintf(out, "none");
		return 0;
	}
	r = feature_parse(&with, 1, &p->features, e);
	p->features = feature_with_needs(p->features);
	if (r == 0)
		r = feature_check_opts(p->features, &fo, e);
	if (r < 0)
		return r;
	for (i = 0; i < n_features; i++)
		if (p->features & 1u << i)
			fprintf(out, "%s ", features[i].name);
	return 0;
}

static int check_stage(struct prov *p, FILE *out, struct err *e)
{
	struct stat st;
	uint64_t need;
	int r;

	r = mounts_mkdtemp("earlyfs-stage", p->stage, sizeof(p->stage));
	if (r < 0) {
		p->stage[0] = '\0';
		return err_setr(e, r, EXIT_FAILED, "cannot make a temporary "
				"directory: %s", strerror(-r));
	}
	r = populate_stage(p->stage, e);
	if (r < 0)
		return r;
	if (stat(p->kpath, &st) < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s", p->kpath,
				strerror(errno));
	need = host_tree_bytes(p->stage) + (uint64_t)st.st_size + (4u << 20);
	fprintf(out, "tree of %llu KiB + kernel %llu KiB",
		(unsigned long long)(host_tree_bytes(p->stage) >> 10),
		(unsigned long long)(st.st_size >> 10));
	if (p->t.size < need)
		return err_set(e, EXIT_REFUSED, "partition %u is %llu MiB; "
			       "earlyfs needs at least %llu MiB for this "
			       "kernel and tree", p->t.partno,
			       (unsigned long long)(p->t.size >> 20),
			       (unsigned long long)((need + (1 << 20) - 1) >>
						    20));
	return 0;
}

/* The partition is on a disk of this machine (not an image, nor an image
 * a loop device maps) and the machine boots a GRUB of its own. */
static bool grub_of_this_machine(const struct prov *p)
{
	return !p->t.is_image && strncmp(p->t.disk, "/dev/loop", 9) &&
	       loader_grub_here();
}

/* auto: on an image (or a disk of another machine), systemd-boot for a
 * GPT disk with an ESP, else extlinux; on this machine, what it boots
 * with now: systemd-boot where its LoaderInfo says so, its own GRUB where
 * it has one, else extlinux where the firmware is BIOS. */
static int choose_loader(struct prov *p, bool *has_esp, struct fdisk_part *esp,
			 unsigned *esp_partno, struct err *e)
{
	const char *want = p->o->bootloader;
	char info[256], all[128] = "";
	struct err ignore;
	size_t i, o = 0;

	*has_esp = p->t.table == TABLE_GPT &&
		   fdisk_find_esp(p->t.disk, NULL, esp_partno, esp,
				  &ignore) == 0;
	/* Secure Boot: what the distribution signs is shim and GRUB */
	p->secure = p->o->secure_boot ||
		    (!p->t.is_image && !p->o->esp && secureboot_on_here());
	if (p->secure && (!want || !strcmp(want, "auto")))
		want = "grub";
	if (p->secure && strcmp(want, "grub"))
		return err_set(e, EXIT_USAGE, "Secure Boot%s boots through the "
			       "distribution's signed shim and GRUB; %s is not "
			       "signed by it: give --bootloader grub",
			       p->o->secure_boot ? "" : " (on here)", want);
	if (want && strcmp(want, "auto")) {
		p->loader = loader_by_name(want);
		for (i = 0; !p->loader && loader_backends[i]; i++)
			o += (size_t)snprintf(all + o, sizeof(all) - o, "%s%s",
					      i ? ", " : "",
					      loader_backends[i]->name);
		if (!p->loader)
			return err_set(e, EXIT_USAGE, "--bootloader %s: one of "
				       "auto, %s", want, all);
		return 0;
	}
	if (p->t.is_image || p->o->esp) {
		p->loader = loader_by_name(*has_esp || p->o->esp ?
					   "systemd-boot" : "extlinux");
		return 0;
	}
	if (access("/sys/firmware/efi", F_OK) == 0 &&
	    efivar_get("LoaderInfo", EFIVAR_LOADER_GUID, info,
		       sizeof(info)) == 0 && !strncmp(info, "systemd-boot", 12)) {
		p->loader = loader_by_name("systemd-boot");
		return 0;
	}
	/* a GRUB of the machine's own: earlyfs adds its entries to it */
	if (grub_of_this_machine(p)) {
		p->loader = loader_by_name("grub");
		return 0;
	}
	if (access("/sys/firmware/efi", F_OK) < 0) {
		p->loader = loader_by_name("extlinux");
		return 0;
	}
	return err_set(e, EXIT_USAGE, "this machine boots through UEFI with a "
		       "loader earlyfs cannot tell (neither systemd-boot nor a "
		       "GRUB of its own); give --bootloader and --esp");
}

/* A disk's ESP on this machine: through its mount if it is mounted
 * (never beneath a mounted FAT), else with mtools on the device. */
static int esp_of_device(const char *partuuid, struct esp *fs, struct err *e)
{
	char dev[PATH_MAX], mp[PATH_MAX];
	struct stat st;

	if (blkid_device_of("PARTUUID", partuuid, dev, sizeof(dev)) < 0 ||
	    stat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
		return err_set(e, EXIT_FAILED, "the ESP, PARTUUID=%s, has no "
			       "device here", partuuid);
	target_mounted_at(st.st_rdev, mp, sizeof(mp));
	return mp[0] ? esp_open_dir(mp, fs, e) : esp_open_at(dev, 0, 0, dev, fs,
							      e);
}

/* The ESP of an EFI loader: --esp N (a partition of the same disk) or
 * DIR (where this machine has it mounted), else the disk's first; its
 * room for the kernel, its stub and the loader checked. */
static int check_esp(struct prov *p, bool has_esp, struct fdisk_part *esp,
		     unsigned partno, FILE *out, struct err *e)
{
	struct esp fs;
	struct stat st;
	uint64_t need, free_bytes = 0;
	unsigned long n;
	char shown[4200];
	int r;

	if (p->o->esp && p->o->esp[0] == '/') {
		if (p->t.is_image)
			return err_set(e, EXIT_USAGE, "--esp %s: on an image, "
				       "give the ESP's partition number",
				       p->o->esp);
		r = esp_open_dir(p->o->esp, &fs, e);
		snprintf(p->esp_spec, sizeof(p->esp_spec), "%s", p->o->esp);
	} else {
		if (p->o->esp) {
			if (text_parse_uint(p->o->esp, strlen(p->o->esp), 128,
					    &n) < 0 || !n)
				return err_set(e, EXIT_USAGE, "--esp %s: the "
					       "ESP's partition number, or the "
					       "directory it is mounted on",
					       p->o->esp);
			partno = (unsigned)n;
			r = fdisk_read_partition(p->t.disk, partno, esp, e);
			if (r < 0)
				return r;
			has_esp = !strcmp(esp->type, FDISK_ESP_TYPE);
			if (!has_esp)
				return err_set(e, EXIT_REFUSED, "--esp %u: "
					       "partition %u of %s is not an EFI "
					       "System Partition (GPT type "
					       FDISK_ESP_TYPE ")", partno,
					       partno, p->t.disk);
		}
		if (!has_esp)
			return err_set(e, EXIT_REFUSED, "%s boots from an EFI "
				       "System Partition and %s has none; make "
				       "one (earlyfs image create --esp-size), "
				       "or give --bootloader extlinux",
				       p->loader->name, p->t.disk);
		if (partno == p->t.partno)
			return err_set(e, EXIT_USAGE, "the ESP cannot be the "
				       "boot partition itself (partition %u)",
				       partno);
		snprintf(shown, sizeof(shown), "partition %u of %s", partno,
			 p->t.disk);
		snprintf(p->esp_spec, sizeof(p->esp_spec), "PARTUUID=%s",
			 esp->partuuid);
		if (p->t.is_image)
			r = esp_open_at(p->t.disk, esp->offset, esp->size,
					shown, &fs, e);
		else
			r = esp_of_device(esp->partuuid, &fs, e);
	}
	if (r < 0)
		return r;
	snprintf(p->esp_shown, sizeof(p->esp_shown), "%s", fs.shown);
	need = (stat(p->kpath, &st) == 0 ? (uint64_t)st.st_size : 0) +
	       p->plan.stub_len + (1u << 20);
	r = esp_free_bytes(&fs, &free_bytes);
	esp_close(&fs);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read the free space "
				"of the ESP (%s)", p->esp_shown);
	fprintf(out, ", ESP %s (%llu KiB free)", p->esp_shown,
		(unsigned long long)(free_bytes >> 10));
	if (free_bytes < need)
		return err_set(e, EXIT_REFUSED, "the ESP (%s) has %llu KiB free; "
			       "the kernel, its stub and %s need %llu KiB; "
			       "free space on it or give a larger one",
			       p->esp_shown,
			       (unsigned long long)(free_bytes >> 10),
			       p->loader->name,
			       (unsigned long long)(need >> 10));
	return 0;
}

static int check_loader(struct prov *p, FILE *out, struct err *e)
{
	const char *console = "console=tty0 console=ttyS0,115200";
	struct fdisk_part esp;
	unsigned partno = 0;
	bool has_esp = false, beside;
	int r, n;

	r = choose_loader(p, &has_esp, &esp, &partno, e);
	if (r < 0)
		return r;
	fprintf(out, "%s", p->loader->name);
	if (!strcmp(p->loader->name, "grub") && !p->o->esp &&
	    grub_of_this_machine(p)) {
		/* this machine's GRUB (BIOS or UEFI, signed or not) */
		snprintf(p->esp_spec, sizeof(p->esp_spec), LOADER_ESP_GRUBD);
		fprintf(out, " (this machine's)");
		if (p->o->make_default)
			return err_set(e, EXIT_USAGE, "this machine's GRUB takes "
				       "its default from GRUB_DEFAULT in "
				       "/etc/default/grub, which earlyfs does not "
				       "edit: set GRUB_DEFAULT=earlyfs there and "
				       "run update-grub after provisioning (or "
				       "'earlyfs once earlyfs' for one boot); "
				       "nothing was written");
	} else if (p->secure && !has_esp && !p->o->esp) {
		return err_set(e, EXIT_REFUSED, "Secure Boot is UEFI's: %s has "
			       "no EFI System Partition", p->t.disk);
	} else if (p->loader->esp && p->loader->bios &&
	    (!p->loader->uefi || (!has_esp && !p->o->esp))) {
		/* BIOS: its files on the boot partition */
		snprintf(p->esp_spec, sizeof(p->esp_spec), LOADER_ESP_BOOT);
		fprintf(out, " (BIOS)");
	} else if (p->loader->esp) {
		r = check_esp(p, has_esp, &esp, partno, out, e);
		if (r < 0)
			return r;
	} else if (p->o->esp) {
		return err_set(e, EXIT_USAGE, "--esp goes with a loader on the "
			       "ESP; extlinux boots from the partition itself");
	}
	if (p->loader->precheck &&
	    (r = p->loader->precheck(&p->t, p->esp_spec, e)) < 0)
		return r;
	if (p->secure) {
		char issuer[256];

		r = secureboot_signer(p->kpath, issuer, sizeof(issuer), e);
		if (r < 0)
			return r;
		fprintf(out, ", Secure Boot: the kernel is signed by %s",
			issuer);
	}
	/* this machine's GRUB reads its grub.cfg, kernels and initramfs
	 * images from its own /boot: the partition goes beside it */
	beside = !strcmp(p->esp_spec, LOADER_ESP_GRUBD) &&
		 !(p->o->append && strstr(p->o->append, "earlyfs.boot="));
	n = snprintf(p->options, sizeof(p->options), "root=PARTUUID=%s "
		     "rootwait init=/sbin/earlyfs-init earlyfs.root=%s %s%s%s%s",
		     p->t.partuuid, p->root, console,
		     beside ? " earlyfs.boot=" BOOT_BESIDE : "",
		     p->o->append && p->o->append[0] ? " " : "",
		     p->o->append ? p->o->append : "");
	if (n < 0 || (size_t)n >= sizeof(p->options) ||
	    loader_options_ok(p->options) < 0)
		return err_set(e, EXIT_USAGE, "--append: the command line is "
			       "longer than %d bytes, or holds a control "
			       "character", BOOTMENU_OPTIONS_MAX - 1);
	snprintf(p->rescue, sizeof(p->rescue), "root=PARTUUID=%s rootwait %s",
		 p->t.partuuid, console);
	return 0;
}

static void say_attach(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "partition %u of %s", p->t.partno, p->t.disk);
}

static int do_attach(struct prov *p, FILE *out, struct err *e)
{
	int r = target_attach(&p->t, e);

	if (r == 0)
		fprintf(out, " as %s", p->t.dev);
	return r;
}

static void say_wipe(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "old signatures on partition %u", p->t.partno);
}

static int do_wipe(struct prov *p, FILE *out, struct err *e)
{
	return blkid_wipe(p->t.dev, e);
}

static void say_mkfs(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "mke2fs -t ext4 -O %s -i %s -L %s -d STAGE",
		 BOOT_FEATURES, BOOT_INODE_RATIO, p->o->label);
}

static int do_mkfs(struct prov *p, FILE *out, struct err *e)
{
	char fsfeat[] = BOOT_FEATURES, ratio[] = BOOT_INODE_RATIO;
	char errbuf[1024];
	char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-O", fsfeat,
			 "-i", ratio, "-L", (char *)p->o->label, "-d",
			 p->stage, p->t.dev, NULL };
	int r = run_cmd(argv, errbuf, sizeof(errbuf));

	return r ? err_set(e, EXIT_FAILED, "mke2fs failed (%d): %s", r, errbuf)
		 : 0;
}

static void say_fs(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "the new file system");
}

static int do_mount(struct prov *p, FILE *out, struct err *e)
{
	int r = mounts_private();

	/* our mount goes with us, even if we are killed */
	if (r == 0)
		r = mounts_mkdtemp("earlyfs-mnt", p->mnt, sizeof(p->mnt));
	if (r == 0 && mount(p->t.dev, p->mnt, "ext4",
				 MS_NOATIME | MS_NOSUID | MS_NODEV, NULL) < 0)
		r = -errno;
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot mount %s: %s",
				p->t.dev, strerror(-r));
	p->mounted = true;
	fprintf(out, " at %s", p->mnt);
	return 0;
}

static void say_kernel(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, LAYOUT_KERNEL, p->k.version);
}

/* The kernel, its stub and configuration as kernel add places them, and
 * the list that says it boots through its stub. */
static int do_kernel(struct prov *p, FILE *out, struct err *e)
{
	struct kernel_job j = { .src = p->k.path, .config = p->k.config,
				.stub = p->plan.stub,
				.stub_len = p->plan.stub_len };
	char path[PATH_MAX], list[256];
	int dir = open(p->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (dir < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s", p->mnt,
				strerror(errno));
	snprintf(j.version, sizeof(j.version), "%s", p->k.version);
	j.config_len = p->k.config ? strlen(p->k.config) : 0;
	r = kernelfiles_place(dir, p->mnt, &j, e);
	if (r == 0 && (r = kernelfiles_link_default(dir, p->k.version)) < 0)
		err_setr(e, r, EXIT_FAILED, "cannot link %s/vmlinuz: %s",
			 p->mnt, strerror(-r));
	close(dir);
	if (r < 0 || !p->plan.stub)
		return r;
	snprintf(list, sizeof(list), "# kernels kept here (earlyfs kernel "
		 "add|rm changes this)\nok %s stub\n", p->k.version);
	snprintf(path, sizeof(path), "%s/" LAYOUT_KERNELS, p->mnt);
	r = host_write_text(path, list, 0644);
	return r < 0 ? err_set(e, EXIT_FAILED, "cannot write %s: %s", path,
			       strerror(-r)) : 0;
}

static void say_config(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, LAYOUT_EXTLINUX_CONF " (root=PARTUUID=%s, "
		 "earlyfs.root=%s)", p->t.partuuid, p->root);
}

/* Steps of one loader only. */
static bool on_extlinux(const struct prov *p)
{
	return !p->loader || !p->loader->esp;
}

static int do_config(struct prov *p, FILE *out, struct err *e)
{
	char timeout[16];
	const struct template_var vars[] = {
		{ "TIMEOUT", timeout },
		{ "OPTIONS", p->options },
		{ "RESCUE_OPTIONS", p->rescue },
		{ "KERNEL", p->k.version },
	};
	char initrd[128];

	snprintf(initrd, sizeof(initrd), "/" LAYOUT_STUB, p->k.version);
	snprintf(timeout, sizeof(timeout), "%u", p->o->timeout);
	return bootloader_write_conf(p->mnt, vars, 4, p->k.version,
				   p->plan.stub ? initrd : NULL, e);
}

static void say_loader(const struct prov *p, char *buf, size_t cap)
{
	if (p->loader && p->loader->esp)
		snprintf(buf, cap, "%s", p->loader ? p->loader->name : "");
	else
		snprintf(buf, cap, "extlinux --install");
}

static int do_loader(struct prov *p, FILE *out, struct err *e)
{
	struct loader_site s;
	struct boot b;
	int r;

	if (!p->loader->esp)
		return bootloader_install(p->mnt, e);
	r = open_made(p, &b, e);
	if (r < 0)
		return r;
	r = loader_site_open(&b, &s, e);
	if (r == 0)
		r = s.ops->install(&s, out, e);
	loader_site_close(&s);
	boot_close(&b);
	return r;
}

static void say_record(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, LAYOUT_CONF);
}

static int do_record(struct prov *p, FILE *out, struct err *e)
{
	return write_record(p->mnt, p, e);
}

static void say_generation(const struct prov *p, char *buf, size_t cap)
{
	if (on_extlinux(p))
		snprintf(buf, cap, "1, with the 'previous' label");
	else
		snprintf(buf, cap, "1, its entries on the ESP");
}

static int do_generation(struct prov *p, FILE *out, struct err *e)
{
	return record_first_generation(p, e);
}

static bool asked_default(const struct prov *p)
{
	return p->o->make_default;
}

static void say_default(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "earlyfs's entry is what %s boots",
		 p->loader ? p->loader->name : "the loader");
}

static int do_default(struct prov *p, FILE *out, struct err *e)
{
	struct loader_site s;
	struct boot b;
	int r = open_made(p, &b, e);

	if (r < 0)
		return r;
	r = loader_site_open(&b, &s, e);
	if (r == 0 && s.ops->set_default)
		r = s.ops->set_default(&s, out, e);
	else if (r == 0)
		fprintf(out, ": %s is earlyfs's own", s.ops->name);
	loader_site_close(&s);
	boot_close(&b);
	return r;
}

static void say_features(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", p->o->with ? p->o->with : "none");
}

static int do_features(struct prov *p, FILE *out, struct err *e)
{
	struct feature_opts fo = p->o->fo;
	char *said = NULL, *line, *save = NULL;
	size_t len = 0, shown = 0;
	struct boot b;
	FILE *f;
	int r;

	fo.force = p->o->force;
	if (!p->features)
		return 0;
	f = open_memstream(&said, &len);
	if (!f)
		return err_set(e, EXIT_FAILED, "out of memory");
	r = open_made(p, &b, e);
	if (r == 0) {
		r = feature_change(&b, true, p->features, &fo, NULL, f, e);
		boot_close(&b);
	}
	fclose(f);
	/* what it said (host key fingerprints, warnings) but its
	 * generation line, under the step's */
	for (line = said ? strtok_r(said, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strstr(line, " (generation ")) {
			fprintf(out, "\n  %-10s %s", "", line);
			shown++;
		}
	free(said);
	if (r == 0)
		fprintf(out, "%s: generation 2", shown ? "\n             " : "");
	return r;
}

static int do_unmount(struct prov *p, FILE *out, struct err *e)
{
	sync();
	if (umount(p->mnt) < 0)
		return err_setr(e, -errno, EXIT_FAILED, "cannot unmount %s: %s",
				p->mnt, strerror(errno));
	p->mounted = false;
	rmdir(p->mnt);
	p->mnt[0] = '\0';
	return 0;
}

static void say_mbr(const struct prov *p, char *buf, size_t cap)
{
	if (p->o->no_mbr)
		snprintf(buf, cap, "left alone (--no-mbr)");
	else
		snprintf(buf, cap, "%s to %s", mbr_file(p), p->t.disk);
}

static int check_mbr(struct prov *p, FILE *out, struct err *e)
{
	if (p->o->no_mbr) {
		fprintf(out, "left alone (--no-mbr)");
		return 0;
	}
	return bootloader_check_mbr(p->t.disk, p->o->force, out, e);
}

static int do_mbr(struct prov *p, FILE *out, struct err *e)
{
	return p->o->no_mbr ? 0 : bootloader_write_mbr(p->t.disk, p->t.table, e);
}

static void say_bootflag(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "partition %u %s", p->t.partno, flag_name(p));
}

static int do_bootflag(struct prov *p, FILE *out, struct err *e)
{
	return target_set_boot_flag(&p->t, e);
}

static void say_flush(const struct prov *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "detach, fsync %s", p->t.disk);
}

static int do_flush(struct prov *p, FILE *out, struct err *e)
{
	int fd, r = 0;

	target_detach(&p->t);
	fd = open(p->t.disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	return r ? err_setr(e, r, EXIT_FAILED, "cannot flush %s: %s",
			    p->t.disk, strerror(-r)) : 0;
}

static const struct step steps[] = {
	{ "target", false, NULL, say_target, check_target },
	{ "contents", false, NULL, say_nothing, check_contents },
	{ "features", false, NULL, say_nothing, check_features },
	{ "root", false, NULL, say_nothing, check_root },
	{ "kernel", false, NULL, say_nothing, check_kernel },
	{ "stage", false, NULL, say_nothing, check_stage },
	{ "loader", false, NULL, say_nothing, check_loader },
	{ "mbr", false, on_extlinux, say_nothing, check_mbr },
	{ "attach", true, NULL, say_attach, do_attach },
	{ "wipe", true, NULL, say_wipe, do_wipe },
	{ "mkfs", true, NULL, say_mkfs, do_mkfs },
	{ "mount", true, NULL, say_fs, do_mount },
	{ "kernel", true, NULL, say_kernel, do_kernel },
	{ "config", true, on_extlinux, say_config, do_config },
	{ "record", true, NULL, say_record, do_record },
	{ "loader", true, NULL, say_loader, do_loader },
	{ "generation", true, NULL, say_generation, do_generation },
	{ "default", true, asked_default, say_default, do_default },
	{ "features", true, NULL, say_features, do_features },
	{ "unmount", true, NULL, say_fs, do_unmount },
	{ "mbr", true, on_extlinux, say_mbr, do_mbr },
	{ "bootflag", true, on_extlinux, say_bootflag, do_bootflag },
	{ "flush", true, NULL, say_flush, do_flush },
};

int provision(const struct provision_opts *o, FILE *out, struct err *e)
{
	struct prov p = { .o = o };
	struct timespec t0;
	char say[1024];
	size_t i;
	int r = 0;

	fprintf(out, "earlyfs: provisioning %s%s\n", o->target,
		o->dry_run ? " (dry run: nothing is written)" : "");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && r == 0; i++) {
		const struct step *s = &steps[i];

		if (s->when && !s->when(&p))
			continue;
		s->describe(&p, say, sizeof(say));
		if (s->writes && o->dry_run) {
			fprintf(out, "  would: %-10s %s\n", s->name, say);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fprintf(out, "  %-10s %s", s->name, say);
		fflush(out);
		r = s->run(&p, out, e);
		if (r < 0) {
			fprintf(out, " FAILED\n");
			snprintf(say, sizeof(say), "step '%s'", s->name);
			err_prefix(e, say);
			break;
		}
		fprintf(out, " (%.2f s)\n", host_elapsed_s(&t0));
	}
	if (r == 0 && !o->dry_run)
		fprintf(out, "earlyfs: %s is an earlyfs boot partition "
			"(root=PARTUUID=%s, earlyfs.root=%s)\n", o->target,
			p.t.partuuid, p.root);
	if (p.mounted && umount(p.mnt) < 0)
		umount2(p.mnt, MNT_DETACH);
	if (p.mnt[0])
		rmdir(p.mnt);
	target_detach(&p.t);
	if (p.stage[0])
		host_rm_rf(p.stage);
	kernel_info_free(&p.k);
	kernelplan_free(&p.plan);
	return r;
}
