/* provision: checks first, then staged writes, each step timed and named */
#include <blkid/blkid.h>
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
#include "admin.h"
#include "devspec.h"
#include "template.h"

/* syslinux reads no 64bit ext4 and replays no journal; a boot partition is
 * not grown online (resize_inode) and holds few files (an inode per 32 KiB:
 * 2048 on 64 MiB, busybox's links included, instead of 4 MiB of tables). */
#define BOOT_FEATURES "^has_journal,^64bit,^resize_inode"
#define BOOT_INODE_RATIO "32768"

struct steps {
	FILE *out;
	struct timespec t;
	const char *name;
};

static void step(struct steps *s, const char *name, const char *fmt, ...)
{
	va_list ap;

	s->name = name;
	clock_gettime(CLOCK_MONOTONIC, &s->t);
	fprintf(s->out, "  %-10s ", name);
	va_start(ap, fmt);
	vfprintf(s->out, fmt, ap);
	va_end(ap);
	fflush(s->out);
}

static void step_ok(struct steps *s)
{
	fprintf(s->out, " (%.2f s)\n", elapsed_s(&s->t));
}

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
		if (disk_read_partition(&p, &ignore) < 0)
			continue;
		if (probe_signature(p.disk, p.offset, p.size, &sig) <= 0)
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

static int wipe_signatures(const char *dev, struct err *e)
{
	blkid_probe pr;
	int fd = open(dev, O_RDWR | O_CLOEXEC), r = 0;

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

static int write_record(const char *mnt, const struct provision_opts *o,
			const struct target *t, const char *root,
			const struct kernel_info *k, struct err *e)
{
	char path[PATH_MAX], text[8192], when[64];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(text, sizeof(text),
		 "# What 'earlyfs provision' made; earlyfs tools read it.\n"
		 "version=%s\nprovisioned=%s\nroot=%s\nboot_partuuid=%s\n"
		 "kernel=vmlinuz-%s\nkernel_source=%s\nlabel=%s\n",
		 EARLYFS_VERSION, when, root, t->partuuid, k->version,
		 k->path, o->label);
	snprintf(path, sizeof(path), "%s/etc/earlyfs.conf", mnt);
	r = write_text(path, text, 0644);
	return r < 0 ? err_set(e, EXIT_FAILED, "cannot write %s: %s", path,
			       strerror(-r)) : 0;
}

/* Generation 1 is what was provisioned; extlinux.conf gains 'previous'. */
static int record_first_generation(const char *mnt, struct err *e)
{
	const struct change c = { .op = CHANGE_RECORD };
	FILE *quiet = fopen("/dev/null", "we");
	struct boot b;
	int r;

	if (!quiet)
		return err_set(e, EXIT_FAILED, "cannot open /dev/null");
	r = boot_open(mnt, NULL, 0, true, &b, e);
	if (r == 0) {
		r = change_commit(&b, &c, quiet, e);
		boot_close(&b);
	}
	fclose(quiet);
	return r;
}

int provision(const struct provision_opts *o, FILE *out, struct err *e)
{
	char stage[PATH_MAX] = "", mnt[PATH_MAX] = "", root[512], rootdev[512];
	char roottype[64] = "", kpath[PATH_MAX], features[64], timeout[16];
	char errbuf[1024], partuuid[80], console[] =
		"console=tty0 console=ttyS0,115200";
	struct kernel_info k = { .config = NULL };
	struct kernel_needs kn = { .boot_fstype = "ext4" };
	struct signature sig;
	struct target t;
	struct steps s = { .out = out };
	struct stat st;
	uint64_t need;
	bool mounted = false;
	size_t i;
	int r = -1, rr;

	fprintf(out, "earlyfs: provisioning %s%s\n", o->target,
		o->dry_run ? " (dry run: nothing is written)" : "");
	/* ---- checks: nothing below writes until they all pass ---- */
	step(&s, "target", "%s", o->target);
	if (target_resolve(o->target, o->partno, &t, e) < 0 ||
	    target_check_unused(&t, e) < 0)
		goto fail;
	fprintf(out, ": partition %u of %s, %llu MiB, %s table, PARTUUID=%s",
		t.partno, t.disk, (unsigned long long)(t.size >> 20),
		t.table == TABLE_GPT ? "GPT" : "DOS", t.partuuid);
	step_ok(&s);
	step(&s, "contents", "");
	rr = probe_signature(t.disk, t.offset, t.size, &sig);
	if (rr > 0 && !o->force) {
		char ids[512];

		snprintf(ids, sizeof(ids), "%s%s%s%s%s",
			 sig.label[0] ? "LABEL=" : "", sig.label,
			 sig.label[0] && sig.uuid[0] ? ", " : "",
			 sig.uuid[0] ? "UUID=" : "", sig.uuid);
		err_set(e, EXIT_REFUSED, "it holds a file system or signature of "
			"type %s (%s); use --force to overwrite", sig.type,
			ids[0] ? ids : "no label or UUID");
		goto fail;
	}
	fprintf(out, "%s%s", rr > 0 ? "overwriting " : "empty",
		rr > 0 ? sig.type : "");
	step_ok(&s);

	step(&s, "root", "");
	if (o->root)
		snprintf(root, sizeof(root), "%s", o->root);
	else if (root_current(root, sizeof(root), e) < 0)
		goto fail;
	{
		struct devspec ds;
		const char *what;

		if (devspec_parse(root, &ds, &what) < 0) {
			err_set(e, EXIT_USAGE, "--root %s: %s", root, what);
			goto fail;
		}
	}
	if (t.is_image) {
		rr = image_root(&t, root, roottype, sizeof(roottype));
		if (rr == -ELOOP) {
			err_set(e, EXIT_USAGE, "--root %s is the boot partition "
				"itself", root);
			goto fail;
		}
		if (rr < 0 && !o->force) {
			err_set(e, EXIT_REFUSED, "--root %s matches no partition "
				"of %s; check it, or use --force if it will "
				"exist where this image boots", root, t.disk);
			goto fail;
		}
	} else if (root_resolve(root, rootdev, sizeof(rootdev), roottype,
				sizeof(roottype), e) < 0) {
		if (!o->force || e->code == EXIT_USAGE)
			goto fail;
	}
	fprintf(out, "%s%s%s%s", root, roottype[0] ? " (" : " (unresolved",
		roottype, roottype[0] ? ")" : ", --force)");
	step_ok(&s);

	step(&s, "kernel", "");
	if (o->kernel)
		snprintf(kpath, sizeof(kpath), "%s", o->kernel);
	else
		kernel_default_path(kpath, sizeof(kpath));
	if (kernel_inspect(kpath, o->config, &k, e) < 0) {
		if (!o->kernel && access(kpath, F_OK) < 0)
			err_set(e, EXIT_USAGE, "the running kernel's image %s "
				"does not exist; give --kernel FILE", kpath);
		goto fail;
	}
	fprintf(out, "%s (%s), config from %s\n", k.version, kpath,
		k.config_from);
	kn.root_fstype = roottype;
	kn.table = t.table;
	for (i = 0; i < o->n_drivers; i++)
		kn.drivers[kn.n_drivers++] = o->drivers[i];
	if (!o->n_drivers && !t.is_image)
		kn.n_drivers = disk_drivers(t.dev, kn.drivers, 16);
	if (!kn.n_drivers)
		fprintf(out, "  note: disk driver not checked for an image; "
			"give --driver NAME to check one\n");
	if (kernel_check(&k, &kn, out, e) < 0) {
		if (!o->force)
			goto fail;
		fprintf(out, "  warning: --force: %s\n", e->msg);
	}
	fprintf(out, "  %-10s", "");
	step_ok(&s);

	step(&s, "stage", "");
	if (mkdtemp_in("earlyfs-stage", stage, sizeof(stage)) < 0) {
		err_set(e, EXIT_FAILED, "cannot make a temporary directory");
		stage[0] = '\0';
		goto fail;
	}
	if (stage_tree(stage, e) < 0)
		goto fail;
	stat(kpath, &st);
	need = tree_bytes(stage) + (uint64_t)st.st_size + (4u << 20);
	fprintf(out, "tree of %llu KiB + kernel %llu KiB",
		(unsigned long long)(tree_bytes(stage) >> 10),
		(unsigned long long)(st.st_size >> 10));
	if (t.size < need) {
		err_set(e, EXIT_REFUSED, "partition %u is %llu MiB; earlyfs needs "
			"at least %llu MiB for this kernel and tree", t.partno,
			(unsigned long long)(t.size >> 20),
			(unsigned long long)((need + (1 << 20) - 1) >> 20));
		goto fail;
	}
	step_ok(&s);

	if (o->dry_run) {
		fprintf(out, "would: wipe signatures, mke2fs -t ext4 -O %s -i %s "
			"-L %s -d STAGE, copy the kernel as vmlinuz-%s, write "
			"extlinux.conf (root=PARTUUID=%s, earlyfs.root=%s), "
			"extlinux --install, write etc/earlyfs.conf, record generation 1, %s, set the "
			"%s flag of partition %u\n", BOOT_FEATURES,
			BOOT_INODE_RATIO, o->label,
			k.version, t.partuuid, root,
			o->no_mbr ? "leave the MBR alone" : t.table == TABLE_GPT ?
			"write gptmbr.bin to the MBR" : "write mbr.bin to the MBR",
			t.table == TABLE_GPT ? "legacy BIOS bootable" : "active",
			t.partno);
		r = 0;
		goto out;
	}

	/* ---- writes: each step named; any failure cleans up ---- */
	step(&s, "attach", "");
	if (target_attach(&t, e) < 0)
		goto fail;
	fprintf(out, "%s", t.dev);
	step_ok(&s);

	step(&s, "wipe", "old signatures on %s", t.dev);
	if (wipe_signatures(t.dev, e) < 0)
		goto fail;
	step_ok(&s);

	step(&s, "mkfs", "ext4 -O %s -i %s -L %s", BOOT_FEATURES,
	     BOOT_INODE_RATIO, o->label);
	snprintf(features, sizeof(features), "%s", BOOT_FEATURES);
	{
		char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-O",
				 features, "-i", BOOT_INODE_RATIO, "-L",
				 (char *)o->label, "-d", stage, t.dev, NULL };

		rr = run_cmd(argv, errbuf, sizeof(errbuf));
	}
	if (rr != 0) {
		err_set(e, EXIT_FAILED, "mke2fs failed (%d): %s", rr, errbuf);
		goto fail;
	}
	step_ok(&s);

	step(&s, "mount", "");
	if (mkdtemp_in("earlyfs-mnt", mnt, sizeof(mnt)) < 0 ||
	    mount(t.dev, mnt, "ext4", MS_NOATIME, NULL) < 0) {
		err_set(e, EXIT_FAILED, "cannot mount %s: %s", t.dev,
			strerror(errno));
		goto fail;
	}
	mounted = true;
	fprintf(out, "%s", mnt);
	step_ok(&s);

	step(&s, "kernel", "vmlinuz-%s", k.version);
	if (install_kernel(mnt, &k, e) < 0)
		goto fail;
	step_ok(&s);

	step(&s, "config", "extlinux/extlinux.conf");
	snprintf(timeout, sizeof(timeout), "%u", o->timeout);
	snprintf(partuuid, sizeof(partuuid), "%s", t.partuuid);
	{
		const struct template_var vars[] = {
			{ "TIMEOUT", timeout },
			{ "BOOT_PARTUUID", partuuid },
			{ "ROOT", root },
			{ "CONSOLE", console },
			{ "APPEND", o->append ? o->append : "" },
		};

		if (extlinux_write_conf(mnt, vars, 5, e) < 0)
			goto fail;
	}
	step_ok(&s);

	step(&s, "extlinux", "--install");
	if (extlinux_install(mnt, e) < 0)
		goto fail;
	step_ok(&s);

	step(&s, "record", "etc/earlyfs.conf");
	if (write_record(mnt, o, &t, root, &k, e) < 0)
		goto fail;
	step_ok(&s);

	step(&s, "generation", "1, with the 'previous' label");
	if (record_first_generation(mnt, e) < 0)
		goto fail;
	step_ok(&s);

	step(&s, "unmount", "");
	sync();
	if (umount(mnt) < 0) {
		err_set(e, EXIT_FAILED, "cannot unmount %s: %s", mnt,
			strerror(errno));
		goto fail;
	}
	mounted = false;
	rmdir(mnt);
	mnt[0] = '\0';
	step_ok(&s);

	if (!o->no_mbr) {
		step(&s, "mbr", "%s to %s", t.table == TABLE_GPT ? "gptmbr.bin"
								: "mbr.bin",
		     t.disk);
		if (mbr_write(t.disk, t.table, e) < 0)
			goto fail;
		step_ok(&s);
	}
	step(&s, "bootflag", "partition %u %s", t.partno,
	     t.table == TABLE_GPT ? "legacy BIOS bootable" : "active");
	if (disk_set_boot_flag(&t, e) < 0)
		goto fail;
	step_ok(&s);

	step(&s, "flush", "");
	target_detach(&t);
	{
		int fd = open(t.disk, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) < 0) {
			err_set(e, EXIT_FAILED, "cannot flush %s: %s", t.disk,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		close(fd);
	}
	step_ok(&s);
	fprintf(out, "earlyfs: %s is an earlyfs boot partition "
		"(root=PARTUUID=%s, earlyfs.root=%s)\n", o->target, t.partuuid,
		root);
	r = 0;
	goto out;
fail:
	fprintf(out, " FAILED\n");
	if (s.name) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "%s", e->msg);
		snprintf(e->msg, sizeof(e->msg), "step '%s': %s", s.name, msg);
	}
out:
	if (mounted && umount(mnt) < 0)
		umount2(mnt, MNT_DETACH);
	if (mnt[0])
		rmdir(mnt);
	target_detach(&t);
	if (stage[0])
		rm_rf(stage);
	kernel_info_free(&k);
	return r;
}
