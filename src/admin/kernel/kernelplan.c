/* kernelplan: see kernelplan.h */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "features/feature.h"
#include "kernel/kernelplan.h"
#include "target/devices.h"
#include "kernel/stub.h"

#define HOST_MAX 32

/* What is known of the disk under the partition. */
struct disks {
	struct disk_driver host[HOST_MAX];	/* its devices, then the NICs' */
	size_t n_host, n_stub_host;
	bool generic;				/* not known: the generic set */
};

/* What k must have, built in or (with a stub) as modules: the boot
 * partition's (ext4, either table), the real root's, the features' needs
 * and the disk drivers: given, else those of this machine's devices
 * under the partition, else (an image) those of the generic set that k
 * has.  0, or -ENOEXEC with why when k has none of those. */
static int needs(const struct kernel_info *k, const struct kernels_opts *o,
		 const struct kernel_site *s, struct disks *d,
		 struct kernel_needs *kn, FILE *out, struct err *why)
{
	struct feature_need need[KERNEL_EXTRA_MAX];
	char list[256] = "";
	size_t i, n, used = 0;

	memset(kn, 0, sizeof(*kn));
	kn->boot_fstype = "ext4";
	kn->root_fstype = s->root_fstype;
	kn->table = s->table;
	n = feature_needs(s->features, need, KERNEL_EXTRA_MAX);
	for (i = 0; i < n; i++) {
		kn->extra_sym[i] = need[i].sym;
		kn->extra_why[i] = need[i].why;
		kn->extra_mod[i] = need[i].mod;
	}
	kn->n_extra = n;
	for (i = 0; i < o->n_drivers; i++)
		kn->drivers[kn->n_drivers++] = o->drivers[i];
	for (i = 0; !o->n_drivers && i < d->n_host && i < 16; i++)
		kn->drivers[kn->n_drivers++] = d->host[i].driver;
	if (kn->n_drivers)
		return 0;
	d->generic = true;
	for (i = 0; i < n_kernel_generic_disks; i++) {
		const char *drv = kernel_generic_disks[i].driver;
		const char *v = kernel_driver_config(k, drv);

		if (!v || !*v)
			continue;	/* not in this kernel */
		kn->drivers[kn->n_drivers++] = drv;
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", used ? "," : "", drv);
	}
	if (!kn->n_drivers)
		return err_set(why, EXIT_KERNEL, "the disk of %s is not known "
			       "here (an image), and %s has none of the disk "
			       "drivers a VM or a PC boots from (virtio, NVMe, "
			       "AHCI, IDE, SCSI), built in or as modules: give "
			       "--driver NAME[,NAME]", s->name, k->version);
	fprintf(out, "%snote: the disk of %s is not known here (an image): "
		"%s is checked for the drivers a VM or a PC boots from that "
		"it has (%s); --driver NAME[,NAME] narrows that\n",
		s->list ? "  " : "earlyfs: ", s->name, k->version, list);
	return 0;
}

/* The stub of names and of the modules the host's modaliases match (each
 * skipped where built in, with their dependencies), from the kernel's
 * module tree.  The check is then made again with them counted as
 * present.  optional: no stub where nothing is a module there.  0 with
 * p->stub (or none), or -errno with e saying why. */
static int make_stub(struct kernel_plan *p, const struct kernels_opts *o,
		     const char *const *names, size_t n,
		     const struct disk_driver *host, size_t n_host,
		     bool optional, const struct kernel_info *k,
		     struct kernel_needs *kn, FILE *out, struct err *e)
{
	char moddir[PATH_MAX];
	int r;

	if (o->modules)
		snprintf(moddir, sizeof(moddir), "%s", o->modules);
	else
		snprintf(moddir, sizeof(moddir), "/lib/modules/%s", k->version);
	r = stub_build(moddir, k->version, names, n, host, n_host, &p->stub,
		       &p->stub_len, p->mods, sizeof(p->mods), out, e);
	if (r == 0 && optional && !p->mods[0])
		r = 1;			/* all built in: no stub */
	else if (r == 0) {
		kn->stub = true;
		r = kernel_check(k, kn, NULL, e);
	}
	if (r != 0) {
		kernelplan_free(p);
		return r < 0 ? r : 0;
	}
	fprintf(out, "earlyfs: %s boots through its module stub (%zu KiB): "
		"%s%s\n", k->version, (p->stub_len + 1023) / 1024,
		p->mods[0] ? p->mods : "no modules", optional ? " (its disk "
		"drivers are built in, the network interfaces' are not)" : "");
	return 0;
}

/* A kernel that fails the check because what it needs are modules: the
 * stub that loads them: ext4 and crc32c (for its checksums), the disk
 * drivers given, else those the modaliases of this machine's devices
 * under the partition name (and of its network interfaces), else (an
 * image) the generic set's modules, and the modules of the features'
 * needs that are modules there. */
static int boot_stub(struct kernel_plan *p, const struct kernels_opts *o,
		     const struct disks *d, const struct kernel_info *k,
		     struct kernel_needs *kn, FILE *out, struct err *e)
{
	const char *names[48];
	size_t n = 0, i;

	names[n++] = "ext4";
	names[n++] = "crc32c_generic";
	for (i = 0; i < o->n_drivers && n < 20; i++)
		names[n++] = o->drivers[i];
	for (i = 0; d->generic && i < n_kernel_generic_disks; i++) {
		const char *v = kernel_driver_config(k,
					kernel_generic_disks[i].driver);

		if (v && !strcmp(v, "m"))
			names[n++] = kernel_generic_disks[i].module;
	}
	for (i = 0; i < kn->n_extra && n < 48; i++) {
		const char *sym = kn->extra_sym[i];
		char first[64];

		snprintf(first, sizeof(first), "%.*s", (int)strcspn(sym, "|"),
			 sym);
		if (kn->extra_mod[i] && !strcmp(kernel_config(k, first), "m"))
			names[n++] = kn->extra_mod[i];	/* else built in */
	}
	/* --driver names the disks' drivers: the devices are not looked at */
	return make_stub(p, o, names, n, o->n_drivers ? NULL : d->host,
			 o->n_drivers ? 0 : d->n_stub_host, false, k, kn, out,
			 e);
}

/* A kernel that passes the check, with the network feature installed:
 * a stub of its interfaces' modules (the machine's NICs, or those
 * --driver names) where they are modules there, else none. */
static int interfaces_stub(struct kernel_plan *p, const struct kernels_opts *o,
			   const struct disks *d, const struct kernel_info *k,
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
	return make_stub(p, o, names, n, d->host + d->n_host,
			 d->n_stub_host - d->n_host, true, k, kn, out, e);
}

int kernelplan_make(const struct kernel_info *k, const struct kernels_opts *o,
		     const struct kernel_site *s, bool force,
		     struct kernel_plan *ret, FILE *out, struct err *e)
{
	struct disks *d = calloc(1, sizeof(*d));
	struct kernel_needs kn;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (!d)
		return err_set(e, EXIT_FAILED, "out of memory");
	if (!s->image)
		d->n_host = devices_of_disk(s->dev, d->host, 16);
	/* a stub also carries the network feature's interface drivers (not
	 * a reason to make one: the check knows disks only) */
	d->n_stub_host = d->n_host;
	if ((s->features & FEATURE_NETWORK) && d->n_host)
		d->n_stub_host += devices_nics(d->host + d->n_host,
					      HOST_MAX - d->n_host);
	if (needs(k, o, s, d, &kn, out, &ret->why) < 0) {
		ret->refused = true;	/* not even the generic set */
		goto forced;
	}
	ret->refused = kernel_check(k, &kn, s->list ? out : NULL,
				    &ret->why) < 0;
	/* a stub first, --force or not: --force takes a kernel that still
	 * cannot boot, never one that a stub would have made boot */
	if (ret->refused) {
		struct err serr = { "", 0 };

		if (boot_stub(ret, o, d, k, &kn, out, &serr) == 0) {
			ret->refused = false;
		} else {
			size_t l = strlen(ret->why.msg);

			snprintf(ret->why.msg + l, sizeof(ret->why.msg) - l,
				 "; and no module stub: %s", serr.msg);
		}
	} else if (!ret->refused && (s->features & FEATURE_NETWORK) &&
		   (d->n_stub_host > d->n_host || o->n_drivers)) {
		/* it boots, but the network feature needs its interfaces */
		struct err serr = { "", 0 };

		if (interfaces_stub(ret, o, d, k, &kn, out, &serr) < 0)
			fprintf(out, "earlyfs: warning: %s: the network feature "
				"will find no interface (no module stub: %s)\n",
				k->version, serr.msg);
	}
forced:
	if (ret->refused && force) {
		fprintf(out, "earlyfs: warning: --force: %s\n", ret->why.msg);
		ret->refused = false;
	}
	/* the reason goes on one line of etc/earlyfs.kernels */
	for (i = 0; ret->why.msg[i]; i++)
		if ((unsigned char)ret->why.msg[i] < 0x20)
			ret->why.msg[i] = ' ';
	free(d);
	return 0;
}

void kernelplan_free(struct kernel_plan *p)
{
	free(p->stub);
	p->stub = NULL;
	p->stub_len = 0;
}
