/* kernels: see kernels.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "beneath.h"
#include "change.h"
#include "extlinux.h"
#include "feature.h"
#include "kernelcheck.h"
#include "kernels.h"
#include "kernlist.h"
#include "stub.h"
#include "kv.h"
#include "layout.h"
#include "text.h"
#include "util.h"

#define KEEP_DEFAULT 2

/* The kept kernels: etc/earlyfs.kernels, or (a partition provisioned
 * before it existed) the one etc/earlyfs.conf names. */
static int load(const struct boot *b, struct kernlist *kl, struct err *e)
{
	char name[256], *buf;
	const char *what;
	size_t len, line;
	int r;

	memset(kl, 0, sizeof(*kl));
	r = beneath_read(b->fd, LAYOUT_KERNELS, LAYOUT_KERNELS_MAX, &buf, &len);
	if (r == 0) {
		r = kernlist_parse(buf, len, kl, &line, &what);
		free(buf);
		if (r < 0)
			return err_setr(e, r, EXIT_FAILED, LAYOUT_KERNELS ":%zu: "
					"%s; restore it ('earlyfs rollback')",
					line, what);
		return 0;
	}
	if (r != -ENOENT)
		return err_setr(e, r, EXIT_FAILED, LAYOUT_KERNELS ": %s",
				strerror(-r));
	if (boot_conf_get(b->fd, "kernel", name, sizeof(name)) == 0 &&
	    !strncmp(name, "vmlinuz-", 8) &&
	    kernlist_version_ok(name + 8, strlen(name + 8)) &&
	    beneath_exists(b->fd, name)) {
		snprintf(kl->v[0].version, sizeof(kl->v[0].version), "%s",
			 name + 8);
		kl->v[0].ok = true;
		kl->n = 1;
	}
	return 0;
}

struct job {
	const char *src;		/* the kernel to copy, or NULL */
	char *stub;			/* its module stub, or NULL */
	size_t stub_len;
	char version[KERNLIST_VERSION_MAX + 1];
	char def[KERNLIST_VERSION_MAX + 1];
	struct kernlist before;		/* what earlyfs kept: all it removes */
};

/* dst at the partition's top, from the file src or from data: written
 * beside its place, synced, renamed; every block written (syslinux reads
 * no holes). */
static int put_file(struct boot *b, const char *dst, const char *src,
		    const char *data, size_t len, struct err *e)
{
	char tmp[160], buf[1 << 16];
	int in = -1, out, r = 0;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), LAYOUT_KERNEL_TMP, dst);
	beneath_unlink(b->fd, tmp, false);
	if (src && (in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s", src,
				strerror(errno));
	out = beneath_open(b->fd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (out < 0) {
		if (in >= 0)
			close(in);
		return err_setr(e, out, EXIT_FAILED, "cannot create %s/%s: %s",
				b->dir, tmp, strerror(-out));
	}
	while (in >= 0 && r == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else if (write(out, buf, (size_t)n) != n)
			r = errno ? -errno : -EIO;
	}
	if (in < 0 && write(out, data, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (r == 0 && fsync(out) < 0)
		r = -errno;
	if (in >= 0)
		close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = beneath_rename(b->fd, tmp, dst);
	if (r < 0) {
		beneath_unlink(b->fd, tmp, false);
		return err_setr(e, r, EXIT_FAILED, "cannot write %s/%s: %s",
				b->dir, dst, strerror(-r));
	}
	return 0;
}

/* prepare: the new kernel (and its stub) in place before the change. */
static int copy_kernel(struct boot *b, void *ctx, struct err *e)
{
	const struct job *j = ctx;
	char dst[128];
	int r = 0;

	if (!j->src)
		return 0;
	snprintf(dst, sizeof(dst), "vmlinuz-%s", j->version);
	r = put_file(b, dst, j->src, NULL, 0, e);
	if (r == 0 && j->stub) {
		snprintf(dst, sizeof(dst), LAYOUT_STUB, j->version);
		r = put_file(b, dst, NULL, j->stub, j->stub_len, e);
	}
	if (r == 0 && (r = boot_sync(b)) < 0)
		err_setr(e, r, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			 strerror(-r));
	return r;
}

/* finish: /vmlinuz names the default; the files of kernels earlyfs kept
 * before that no label of the live extlinux.conf boots (the 'previous'
 * label counts) are removed.  Other vmlinuz-* files are not earlyfs's (a
 * package's, in /boot): they stay. */
static void prune(struct boot *b, void *ctx, FILE *out)
{
	const struct job *j = ctx;
	struct extlinux_conf *c = malloc(sizeof(*c));
	char link[128], tmp[32], *buf = NULL;
	const char *what;
	size_t len, line, i;
	struct dirent *de;
	DIR *d;
	int fd;

	snprintf(link, sizeof(link), "vmlinuz-%s", j->def);
	snprintf(tmp, sizeof(tmp), LAYOUT_KERNEL_TMP, "vmlinuz");
	beneath_unlink(b->fd, tmp, false);
	if (beneath_symlink(link, b->fd, tmp) == 0 &&
	    beneath_rename(b->fd, tmp, "vmlinuz") < 0)
		fprintf(out, "earlyfs: warning: cannot point %s/vmlinuz at "
			"%s\n", b->dir, link);
	if (!c || beneath_read(b->fd, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX,
			       &buf, &len) < 0 ||
	    extlinux_parse(buf, len, c, &line, &what) < 0)
		goto out;	/* keep everything */
	fd = beneath_open(b->fd, ".", O_RDONLY | O_DIRECTORY, 0);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while ((de = readdir(d))) {
		struct stat st;
		bool used = false;

		const struct kernlist_entry *was;

		if (strncmp(de->d_name, "vmlinuz-", 8) ||
		    beneath_lstat(b->fd, de->d_name, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		was = kernlist_find((struct kernlist *)&j->before,
				    de->d_name + 8);
		if (!was || !was->ok)
			continue;
		for (i = 0; i < c->n && !used; i++)
			used = c->labels[i].kernel[0] == '/' &&
			       !strcmp(c->labels[i].kernel + 1, de->d_name);
		used |= !strcmp(de->d_name, link);
		/* labels that still name /vmlinuz boot the default */
		if (!used && beneath_unlink(b->fd, de->d_name, false) == 0) {
			char stub[128];

			fprintf(out, "earlyfs: removed %s (no label boots it)\n",
				de->d_name);
			snprintf(stub, sizeof(stub), LAYOUT_STUB,
				 de->d_name + 8);
			beneath_unlink(b->fd, stub, false);
		}
	}
	closedir(d);
	boot_sync(b);
out:
	free(buf);
	free(c);
}

static int by_version_desc(const void *a, const void *b)
{
	const struct kernlist_entry *x = *(const struct kernlist_entry *const *)a;
	const struct kernlist_entry *y = *(const struct kernlist_entry *const *)b;

	return strverscmp(y->version, x->version);
}

static const char *stubname(const char *version, char *buf, size_t cap)
{
	snprintf(buf, cap, "/" LAYOUT_STUB, version);
	return buf;
}

/* The list, extlinux.conf and earlyfs.conf's kernel= as one change. */
static int commit(struct boot *b, struct kernlist *kl, struct job *j,
		  const char *desc, FILE *out, struct err *e)
{
	const struct kernlist_entry *def = kernlist_default(kl);
	const struct kernlist_entry *sorted[KERNLIST_MAX];
	const char *versions[KERNLIST_MAX], *initrds[KERNLIST_MAX];
	char rd[KERNLIST_MAX][KERNLIST_VERSION_MAX + 16], defrd[96];
	struct change_file files[3];
	char list[4096], kname[128], *conf = NULL, *ext = NULL, *newext = NULL;
	size_t n = 0, i, len, conf_len = 0;
	int r, nl, ne;

	if (!def)
		return err_set(e, EXIT_REFUSED, "no kernel here passed the "
			       "check: nothing would boot; nothing written");
	snprintf(j->def, sizeof(j->def), "%s", def->version);
	for (i = 0; i < kl->n; i++)
		if (kl->v[i].ok)
			sorted[n++] = &kl->v[i];
	qsort(sorted, n, sizeof(sorted[0]), by_version_desc);
	for (i = 0; i < n; i++) {
		versions[i] = sorted[i]->version;
		initrds[i] = sorted[i]->stub ? stubname(versions[i], rd[i],
							sizeof(rd[i])) : NULL;
	}
	nl = kernlist_format(kl, list, sizeof(list));
	r = beneath_read(b->fd, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX, &ext,
			 &len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read %s/%s: %s",
				b->dir, LAYOUT_EXTLINUX_CONF, strerror(-r));
	newext = malloc(len + 8192);
	ne = newext ? extlinux_set_kernels(ext, len, def->version,
					   def->stub ? stubname(def->version,
					   defrd, sizeof(defrd)) : NULL,
					   versions, initrds, n, newext,
					   len + 8192) : -ENOMEM;
	snprintf(kname, sizeof(kname), "vmlinuz-%s", def->version);
	conf = boot_conf_with(b->fd, "kernel", kname, &conf_len);
	if (nl < 0 || ne < 0 || !conf) {
		r = err_set(e, EXIT_FAILED, ne == -EINVAL ? "%s/%s has no "
			    "'earlyfs' label to take the kernel's command line "
			    "from" : "%s/%s: out of memory or too long", b->dir,
			    LAYOUT_EXTLINUX_CONF);
		goto out;
	}
	files[0] = (struct change_file){ LAYOUT_EXTLINUX_CONF, newext,
					 (size_t)ne, 0644 };
	files[1] = (struct change_file){ LAYOUT_KERNELS, list, (size_t)nl,
					 0644 };
	files[2] = (struct change_file){ LAYOUT_CONF, conf, conf_len, 0644 };
	{
		struct change c = { .op = CHANGE_INSTALL, .name = desc,
				    .prepare = copy_kernel, .finish = prune,
				    .ctx = j, .files = files, .n_files = 3 };

		r = change_commit(b, &c, out, e);
	}
	if (r == 0)
		fprintf(out, "earlyfs: the default label boots %s; kept: ",
			def->version);
	for (i = 0; r == 0 && i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", versions[i]);
	if (r == 0)
		fprintf(out, "\n");
out:
	free(ext);
	free(newext);
	free(conf);
	return r;
}

/* What a kernel for this partition must have built in: the boot
 * partition's (ext4, either table), the features' needs, and the drivers
 * of the disk under it (given, else this machine's). */
static unsigned needs(struct boot *b, const struct kernels_opts *o,
		      const struct disk_driver *host, size_t n_host,
		      struct kernel_needs *kn, FILE *out)
{
	unsigned have = 0;
	struct err ignore;
	size_t i;

	memset(kn, 0, sizeof(*kn));
	kn->boot_fstype = "ext4";
	kn->table = TABLE_NONE;
	if (feature_installed(b->fd, &have, &ignore) == 0)
		feature_needs(have, kn);
	for (i = 0; i < o->n_drivers; i++)
		kn->drivers[kn->n_drivers++] = o->drivers[i];
	for (i = 0; !o->n_drivers && i < n_host && i < 16; i++)
		kn->drivers[kn->n_drivers++] = host[i].driver;
	if (!kn->n_drivers)
		fprintf(out, "earlyfs: note: the disk drivers under %s are not "
			"known here (an image?) and were not checked; give "
			"--driver NAME[,NAME] to check them\n", b->name);
	return have;
}

static unsigned keep_count(struct boot *b)
{
	char v[16];
	unsigned long n;

	if (boot_conf_get(b->fd, "keep_kernels", v, sizeof(v)) < 0 ||
	    text_parse_uint(v, strlen(v), KERNLIST_MAX, &n) < 0 || n < 1)
		return KEEP_DEFAULT;
	return (unsigned)n;
}

/* The stub of names and of the modules host's modaliases match (each
 * skipped where built in, with their dependencies), from the kernel's
 * module tree.  The check is then made again with them counted as
 * present.  optional: no stub where nothing is a module there.  0 with
 * j->stub (or none), or -errno with e saying why. */
static int make_stub(struct job *j, const struct kernels_opts *o,
		     const char *const *names, size_t n,
		     const struct disk_driver *host, size_t n_host,
		     bool optional, const struct kernel_info *k,
		     struct kernel_needs *kn, FILE *out, struct err *e)
{
	char moddir[PATH_MAX], mods[1024];
	int r;

	if (o->modules)
		snprintf(moddir, sizeof(moddir), "%s", o->modules);
	else
		snprintf(moddir, sizeof(moddir), "/lib/modules/%s", k->version);
	r = stub_build(moddir, names, n, host, n_host, &j->stub, &j->stub_len,
		       mods, sizeof(mods), out, e);
	if (r == 0 && optional && !mods[0])
		r = 1;			/* all built in: no stub */
	else if (r == 0) {
		kn->stub = true;
		r = kernel_check(k, kn, NULL, e);
	}
	if (r != 0) {
		free(j->stub);
		j->stub = NULL;
		return r < 0 ? r : 0;
	}
	fprintf(out, "earlyfs: %s boots through its module stub (%zu KiB): "
		"%s%s\n", k->version, (j->stub_len + 1023) / 1024,
		mods[0] ? mods : "no modules", optional ? " (its disk drivers "
		"are built in, the network interfaces' are not)" : "");
	return 0;
}

/* A kernel that fails the check because its drivers are modules: the
 * stub that loads them: ext4 and crc32c (for its checksums), the disk
 * drivers given, else those the modaliases of this machine's devices
 * under the partition name (and of its network interfaces), and the
 * modules of the features' needs that are modules there. */
static int boot_stub(struct job *j, const struct kernels_opts *o,
		     const struct disk_driver *host, size_t n_host,
		     const char *dir, const struct kernel_info *k,
		     struct kernel_needs *kn, FILE *out, struct err *e)
{
	const char *names[48];
	size_t n = 0, i;

	names[n++] = "ext4";
	names[n++] = "crc32c_generic";
	for (i = 0; i < o->n_drivers && n < 20; i++)
		names[n++] = o->drivers[i];
	if (!o->n_drivers && !n_host)
		return err_set(e, EXIT_USAGE, "the disk drivers of %s are not "
			       "known here (an image?): give --driver "
			       "NAME[,NAME] (virtio_blk,virtio_pci; ahci; "
			       "nvme ...)", dir);
	for (i = 0; i < kn->n_extra && n < 48; i++) {
		const char *sym = kn->extra_sym[i];
		char first[64];

		snprintf(first, sizeof(first), "%.*s", (int)strcspn(sym, "|"),
			 sym);
		if (kn->extra_mod[i] && !strcmp(kernel_config(k, first), "m"))
			names[n++] = kn->extra_mod[i];	/* else built in */
	}
	/* --driver names the disks' drivers: the devices are not looked at */
	return make_stub(j, o, names, n, o->n_drivers ? NULL : host,
			 o->n_drivers ? 0 : n_host, false, k, kn, out, e);
}

/* A kernel that passes the check, with the network feature installed:
 * a stub of its interfaces' modules (the machine's nics, or those
 * --driver names) where they are modules there, else none. */
static int interfaces_stub(struct job *j, const struct kernels_opts *o,
			   const struct disk_driver *nics, size_t n_nics,
			   const struct kernel_info *k,
			   struct kernel_needs *kn, FILE *out, struct err *e)
{
	const char *names[20];
	size_t n = 0;

	if (k->config && strcmp(kernel_config(k, "MODULES"), "y"))
		return 0;	/* no modules at all: all built in */
	while (n < o->n_drivers && n < 20) {
		names[n] = o->drivers[n];
		n++;
	}
	return make_stub(j, o, names, n, nics, n_nics, true, k, kn, out, e);
}

int kernels_add(struct boot *b, const char *file, bool make_default,
		bool force, const struct kernels_opts *o, FILE *out,
		struct err *e)
{
	struct kernel_info k = { .config = NULL };
	struct kernel_needs kn;
	struct kernlist kl;
	struct kernlist_entry *ent;
	struct job j;
	struct err why = { "", 0 };
	char desc[160], msg[sizeof(why.msg)];
	struct disk_driver host[32];
	struct statvfs sv;
	struct stat st;
	bool refused;
	unsigned have;
	size_t i, ok, n_host = 0, n_stub_host;
	int r;

	memset(&j, 0, sizeof(j));
	r = kernel_inspect(file, NULL, &k, e);
	if (r < 0)
		goto out;
	if (!kernlist_version_ok(k.version, strlen(k.version))) {
		r = err_set(e, EXIT_USAGE, "%s: its version '%s' is not one "
			    "earlyfs can name a file after", file,
			    text_printable(k.version));
		goto out;
	}
	r = load(b, &kl, e);
	if (r < 0)
		goto out;
	j.before = kl;
	if (!b->t.is_image && stat(b->dir, &st) == 0)
		n_host = disk_drivers_of(st.st_dev, host, 16);
	have = needs(b, o, host, n_host, &kn, out);
	/* a stub also carries the network feature's interface drivers
	 * (not a reason to make one: the check knows disks only) */
	n_stub_host = n_host;
	if ((have & FEATURE_NETWORK) && n_host)
		n_stub_host += net_drivers(host + n_host,
					   sizeof(host) / sizeof(host[0]) -
					   n_host);
	refused = kernel_check(&k, &kn, NULL, &why) < 0;
	ent = kernlist_find(&kl, k.version);
	if (refused && !force) {
		struct err serr = { "", 0 };

		if (boot_stub(&j, o, host, n_stub_host, b->dir, &k, &kn, out,
			      &serr) == 0)
			refused = false;
		else
			snprintf(why.msg + strlen(why.msg),
				 sizeof(why.msg) - strlen(why.msg),
				 "; and no module stub: %s", serr.msg);
	} else if (!refused && (have & FEATURE_NETWORK) &&
		   (n_stub_host > n_host || o->n_drivers)) {
		/* it boots, but the network feature needs its interfaces */
		struct err serr = { "", 0 };

		if (interfaces_stub(&j, o, host + n_host, n_stub_host - n_host,
				    &k, &kn, out, &serr) < 0)
			fprintf(out, "earlyfs: warning: %s: the network feature "
				"will find no interface (no module stub: %s)\n",
				k.version, serr.msg);
	}
	if (refused && !force) {
		/* kept out of the labels, with the reason; not copied */
		for (i = 0; why.msg[i]; i++)
			if ((unsigned char)why.msg[i] < 0x20)
				why.msg[i] = ' ';
		if (ent && ent->ok) {
			r = err_set(e, EXIT_KERNEL, "%s %s fails the kernel "
				    "check; the kept %s is not replaced: %s",
				    file, k.version, k.version, why.msg);
			goto out;
		}
		ent = kernlist_add(&kl, k.version);
		if (!ent) {
			r = err_set(e, EXIT_FAILED, "no room in " LAYOUT_KERNELS);
			goto out;
		}
		ent->ok = false;
		snprintf(ent->why, sizeof(ent->why), "%s", why.msg);
		snprintf(desc, sizeof(desc), "kernel refused %s", k.version);
		r = commit(b, &kl, &j, desc, out, e);
		if (r == 0)
			r = err_set(e, EXIT_KERNEL, "%s %s is kept out of the "
				    "labels (the default still boots %s): %s",
				    file, k.version, j.def, why.msg);
		goto out;
	}
	if (refused)
		fprintf(out, "earlyfs: warning: --force: %s\n", why.msg);
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = err_set(e, EXIT_USAGE, "%s: not a regular file", file);
		goto out;
	}
	/* room for it beside whatever it replaces, and for the change */
	if (statvfs(b->dir, &sv) == 0 &&
	    (unsigned long long)sv.f_bavail * sv.f_frsize <
	    (unsigned long long)st.st_size + j.stub_len + (1ull << 20)) {
		r = err_set(e, EXIT_REFUSED, "not enough space on %s for %s "
			    "(%lld KiB, %llu KiB free with 1 MiB for the "
			    "change): remove a kernel ('earlyfs kernel rm "
			    "VERSION'); nothing written", b->name, k.version,
			    (long long)st.st_size / 1024,
			    (unsigned long long)sv.f_bavail * sv.f_frsize /
			    1024);
		goto out;
	}
	ent = kernlist_add(&kl, k.version);
	if (!ent) {
		r = err_set(e, EXIT_FAILED, "no room in " LAYOUT_KERNELS);
		goto out;
	}
	ent->ok = true;
	ent->stub = j.stub != NULL;
	ent->why[0] = '\0';
	if (make_default)
		snprintf(kl.pinned, sizeof(kl.pinned), "%s", k.version);
	/* the newest N stay: the oldest others go (never the default) */
	for (;;) {
		const struct kernlist_entry *def = kernlist_default(&kl);
		struct kernlist_entry *old = NULL;

		for (i = 0, ok = 0; i < kl.n; i++) {
			struct kernlist_entry *v = &kl.v[i];

			if (!v->ok)
				continue;
			ok++;
			if (v != def && strcmp(v->version, k.version) &&
			    (!old || strverscmp(v->version, old->version) < 0))
				old = v;
		}
		if (ok <= keep_count(b) || !old)
			break;
		fprintf(out, "earlyfs: %s no longer kept (keep_kernels=%u)\n",
			old->version, keep_count(b));
		memmove(old, old + 1, sizeof(*old) *
			(size_t)(&kl.v[kl.n] - old - 1));
		kl.n--;
	}
	snprintf(j.version, sizeof(j.version), "%s", k.version);
	j.src = file;
	snprintf(desc, sizeof(desc), "kernel add %s", k.version);
	snprintf(msg, sizeof(msg), "%s", desc);
	r = commit(b, &kl, &j, msg, out, e);
out:
	free(j.stub);
	j.stub = NULL;
	kernel_info_free(&k);
	return r;
}

int kernels_rm(struct boot *b, const char *version, FILE *out,
	       struct err *e)
{
	struct job j;
	struct kernlist_entry *ent;
	struct kernlist kl;
	char desc[160];
	size_t i, ok = 0;
	int r = load(b, &kl, e);

	if (r < 0)
		return r;
	memset(&j, 0, sizeof(j));
	j.before = kl;
	ent = kernlist_find(&kl, version);
	if (!ent) {
		char shown[KERNLIST_VERSION_MAX + 1];

		snprintf(shown, sizeof(shown), "%s", version);
		return err_set(e, EXIT_USAGE, "no kernel %s here; see 'earlyfs "
			       "kernel list'", text_printable(shown));
	}
	for (i = 0; i < kl.n; i++)
		ok += kl.v[i].ok;
	if (ent->ok && ok == 1)
		return err_set(e, EXIT_REFUSED, "%s is the only kernel that "
			       "boots: add another first ('earlyfs kernel add "
			       "FILE'); nothing written", version);
	if (!strcmp(kl.pinned, version))
		kl.pinned[0] = '\0';
	memmove(ent, ent + 1, sizeof(*ent) * (size_t)(&kl.v[kl.n] - ent - 1));
	kl.n--;
	snprintf(desc, sizeof(desc), "kernel rm %s", version);
	return commit(b, &kl, &j, desc, out, e);
}

int kernels_list(struct boot *b, FILE *out, struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	const struct kernlist_entry *def;
	char target[256] = "", *buf = NULL;
	const char *what;
	size_t len, line, i, k;
	struct kernlist kl;
	int r = load(b, &kl, e);

	if (r < 0 || !c) {
		free(c);
		return r < 0 ? r : err_set(e, EXIT_FAILED, "out of memory");
	}
	c->n = 0;
	if (beneath_read(b->fd, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX, &buf,
			 &len) == 0)
		extlinux_parse(buf, len, c, &line, &what);
	beneath_readlink(b->fd, "vmlinuz", target, sizeof(target));
	def = kernlist_default(&kl);
	fprintf(out, "%-24s %8s  %-8s %s\n", "VERSION", "KIB", "CHECK",
		"LABELS");
	for (i = 0; i < kl.n; i++) {
		struct kernlist_entry *v = &kl.v[i];
		char file[128], labels[512] = "";
		size_t used = 0;
		struct stat st;

		snprintf(file, sizeof(file), "vmlinuz-%s", v->version);
		for (k = 0; k < c->n && used < sizeof(labels) - 70; k++) {
			const char *kern = c->labels[k].kernel;

			if (kern[0] == '/' && (!strcmp(kern + 1, file) ||
			    (!strcmp(kern, "/vmlinuz") &&
			     !strcmp(target, file))))
				used += (size_t)snprintf(labels + used,
					sizeof(labels) - used, "%s%s",
					used ? ", " : "", c->labels[k].name);
		}
		if (beneath_lstat(b->fd, file, &st) < 0)
			st.st_size = 0;
		fprintf(out, "%-24s %8lld  %-8s %s%s\n", v->version,
			(long long)st.st_size / 1024,
			v->ok ? "ok" : "refused",
			v == def ? "(default) " : "",
			v->ok ? labels : text_printable(v->why));
	}
	free(buf);
	free(c);
	return 0;
}

/* Whether name is one of LAYOUT_KERNEL_TMP's: ".vmlinuz.tmp", or
 * ".vmlinuz-V.tmp", ".stub-V.img.tmp" for a version V. */
static bool kernel_temp(const char *name)
{
	size_t n = strlen(name);

	if (n < 6 || name[0] != '.' || strcmp(name + n - 4, ".tmp"))
		return false;
	if (n == 12 && !memcmp(name + 1, "vmlinuz", 7))
		return true;
	if (!memcmp(name + 1, "vmlinuz-", 8))
		return kernlist_version_ok(name + 9, n - 13);
	return n > 14 && !memcmp(name + 1, "stub-", 5) &&
	       !memcmp(name + n - 8, ".img", 4) &&
	       kernlist_version_ok(name + 6, n - 14);
}

size_t kernels_leftovers(int dir, bool remove, FILE *out, struct problems *p)
{
	char kernel[128];
	struct dirent *de;
	struct stat st;
	size_t n = 0, l;
	int fd = beneath_open(dir, ".", O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		bool orphan = false;

		l = strlen(name);
		if (!kernel_temp(name)) {
			/* stub-V.img, a regular file, without vmlinuz-V */
			if (l < 10 || memcmp(name, "stub-", 5) ||
			    strcmp(name + l - 4, ".img") ||
			    !kernlist_version_ok(name + 5, l - 9) ||
			    beneath_lstat(dir, name, &st) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			snprintf(kernel, sizeof(kernel), "vmlinuz-%.*s",
				 (int)(l - 9), name + 5);
			if (beneath_lstat(dir, kernel, &st) == 0)
				continue;
			orphan = true;
		}
		n++;
		if (p && orphan)
			problem(p, "%s: a module stub whose kernel %s is gone "
				"(removed by a package?); the next earlyfs "
				"change removes it", name, kernel);
		else if (p)
			problem(p, "%s: left by an interrupted kernel add; the "
				"next earlyfs change removes it", name);
		if (remove && beneath_unlink(dir, name, false) == 0 && out &&
		    orphan)
			fprintf(out, "earlyfs: removed %s: its kernel %s is "
				"gone\n", name, kernel);
	}
	closedir(d);
	return n;
}

void kernels_check(const struct boot *b, struct problems *p)
{
	struct err e = { "", 0 };
	struct kernlist kl;
	struct stat k, s;
	char name[128];
	size_t i;

	if (load(b, &kl, &e) < 0) {
		problem(p, "%s", e.msg);
		return;
	}
	for (i = 0; i < kl.n; i++) {
		if (!kl.v[i].ok)
			continue;
		snprintf(name, sizeof(name), "vmlinuz-%s", kl.v[i].version);
		if (beneath_lstat(b->fd, name, &k) < 0 || !S_ISREG(k.st_mode)) {
			problem(p, "kernel %s: %s is missing; 'earlyfs kernel "
				"rm %s' or add it again", kl.v[i].version, name,
				kl.v[i].version);
			continue;
		}
		if (!kl.v[i].stub)
			continue;
		snprintf(name, sizeof(name), LAYOUT_STUB, kl.v[i].version);
		if (beneath_lstat(b->fd, name, &s) < 0 || !S_ISREG(s.st_mode))
			problem(p, "kernel %s: its module stub %s is missing; "
				"'earlyfs kernel add' it again", kl.v[i].version,
				name);
		else if (s.st_mtime < k.st_mtime)
			problem(p, "kernel %s: its module stub %s is older than "
				"the kernel and may not match it; 'earlyfs kernel "
				"add' it again", kl.v[i].version, name);
	}
}
