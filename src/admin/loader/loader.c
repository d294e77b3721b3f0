/* loader: the backends, the ESP a partition names, its menu, and the
 * export of that menu around a change's commit point */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/beneath.h"
#include "extlinux.h"
#include "kv.h"
#include "layout.h"

#define KP LAYOUT_KERNEL_PREFIX_LEN
#include "loader/loader.h"
#include "target/blkid.h"
#include "target/fdisk.h"
#include "text.h"

extern const struct loader_ops loader_extlinux, loader_sdboot, loader_grub,
	loader_efistub;

const struct loader_ops *const loader_backends[] = {
	&loader_extlinux, &loader_sdboot, &loader_grub, &loader_efistub, NULL,
};

const struct loader_ops *loader_by_name(const char *name)
{
	size_t i;

	for (i = 0; loader_backends[i]; i++)
		if (!strcmp(loader_backends[i]->name, name))
			return loader_backends[i];
	return NULL;
}

static void names(char *buf, size_t cap)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; loader_backends[i] && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "",
				      loader_backends[i]->name);
}

int loader_site_conf(struct boot *b, const char *conf, size_t len,
		     struct loader_site *s, struct err *e)
{
	char name[64], all[128];
	int r;

	memset(s, 0, sizeof(*s));
	s->b = b;
	s->esp.dir = -1;
	r = conf ? kv_get(conf, len, "bootloader", name, sizeof(name))
		 : -ENOENT;
	if (r == -ENOENT || (r == 0 && !name[0])) {
		s->ops = loader_backends[0];
		return 0;
	}
	s->ops = r == 0 ? loader_by_name(name) : NULL;
	if (!s->ops) {
		names(all, sizeof(all));
		return err_setr(e, -EINVAL, EXIT_FAILED, "%s: bootloader=%s is "
				"none earlyfs knows (%s)", LAYOUT_CONF,
				r == 0 ? text_printable(name) : "?", all);
	}
	if (s->ops->esp &&
	    kv_get(conf, len, "esp", s->esp_spec, sizeof(s->esp_spec)) == 0)
		text_printable(s->esp_spec);
	return 0;
}

int loader_site_open(struct boot *b, struct loader_site *s, struct err *e)
{
	char *conf = NULL;
	size_t len = 0;
	int r;

	r = beneath_read(b->fd, LAYOUT_CONF, LAYOUT_CONF_MAX, &conf, &len);
	if (r < 0 && r != -ENOENT)
		return err_setr(e, r, EXIT_FAILED, "%s/" LAYOUT_CONF ": %s",
				b->dir, strerror(-r));
	r = loader_site_conf(b, conf, len, s, e);
	free(conf);
	return r;
}

void loader_site_close(struct loader_site *s)
{
	if (s->esp_open)
		esp_close(&s->esp);
	s->esp_open = false;
}

int loader_esp(struct loader_site *s, struct err *e)
{
	const char *spec = s->esp_spec, *uuid;
	char dev[PATH_MAX], mp[PATH_MAX], shown[PATH_MAX + 64];
	struct fdisk_part p;
	unsigned partno;
	struct stat st;
	int r;

	if (s->esp_open)
		return 0;
	if (!spec[0])
		return err_setr(e, -ENOENT, EXIT_FAILED, "%s/" LAYOUT_CONF
				" names no ESP (esp=); provision again with "
				"--esp", s->b->dir);
	if (!strcmp(spec, LOADER_ESP_BOOT)) {
		/* the boot partition's own directory, beneath its fd */
		r = esp_open_dir(s->b->dir, &s->esp, e);
	} else if (!strcmp(spec, LOADER_ESP_GRUBD)) {
		/* the running machine's GRUB: its script directory */
		if (s->b->t.is_image)
			return err_setr(e, -EINVAL, EXIT_REFUSED, "%s boots "
					"through the GRUB of the machine it was "
					"provisioned on (esp=" LOADER_ESP_GRUBD
					"): change it there", s->b->dir);
		r = esp_open_dir(LOADER_GRUBD_DIR, &s->esp, e);
	} else if (strncmp(spec, "PARTUUID=", 9)) {
		/* a directory: an admin's own machine only; a --target's
		 * file never names a path earlyfs would follow */
		if (spec[0] != '/' || s->b->disk_known)
			return err_setr(e, -EINVAL, EXIT_FAILED, "%s/" LAYOUT_CONF
					": esp=%s: a PARTUUID= of the same "
					"disk%s", s->b->dir, s->esp_spec,
					s->b->disk_known ? "" :
					", or the directory the ESP is "
					"mounted on");
		r = esp_open_dir(spec, &s->esp, e);
	} else if (uuid = spec + 9, s->b->disk_known && s->b->t.is_image) {
		/* an image: the ESP is a partition of the same file */
		r = fdisk_find_esp(s->b->t.disk, uuid, &partno, &p, e);
		if (r == 0 && strcmp(p.type, FDISK_ESP_TYPE))
			r = err_setr(e, -EINVAL, EXIT_REFUSED, "partition %u of "
				     "%s (esp=%s) is not an EFI System "
				     "Partition", partno, s->b->t.disk, spec);
		snprintf(shown, sizeof(shown), "partition %u of %s", partno,
			 s->b->t.disk);
		if (r == 0)
			r = esp_open_at(s->b->t.disk, p.offset, p.size, shown,
					&s->esp, e);
	} else {
		if (blkid_device_of("PARTUUID", uuid, dev, sizeof(dev)) < 0 ||
		    stat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
			return err_setr(e, -ENOENT, EXIT_FAILED, "the ESP "
					"(esp=%s) is not on this machine",
					spec);
		/* mounted: through its mount, never beneath it */
		target_mounted_at(st.st_rdev, mp, sizeof(mp));
		r = mp[0] ? esp_open_dir(mp, &s->esp, e)
			  : esp_open_at(dev, 0, 0, dev, &s->esp, e);
	}
	if (r == 0)
		s->esp_open = true;
	return r;
}

/* tree's path of rel, in ret */
static void at(const char *tree, const char *rel, char *ret, size_t cap)
{
	snprintf(ret, cap, "%s%s%s", tree, tree[0] ? "/" : "", rel);
}

int loader_kernels(int dir, const char *tree, struct kernlist *kl,
		   struct err *e)
{
	char path[PATH_MAX], name[256], *buf;
	const char *what;
	size_t len, line;
	int r;

	memset(kl, 0, sizeof(*kl));
	at(tree, LAYOUT_KERNELS, path, sizeof(path));
	r = beneath_read(dir, path, LAYOUT_KERNELS_MAX, &buf, &len);
	if (r == 0) {
		r = kernlist_parse(buf, len, kl, &line, &what);
		free(buf);
		if (r < 0)
			return err_setr(e, r, EXIT_FAILED, "%s:%zu: %s; restore "
					"it ('earlyfs rollback')", path, line,
					what);
		return 0;
	}
	if (r != -ENOENT)
		return err_setr(e, r, EXIT_FAILED, "%s: %s", path,
				strerror(-r));
	if (boot_conf_get_in(dir, tree, "kernel", name, sizeof(name)) == 0 &&
	    !strncmp(name, LAYOUT_KERNEL_PREFIX, KP) &&
	    kernlist_version_ok(name + KP, strlen(name + KP)) &&
	    beneath_exists(dir, name)) {
		snprintf(kl->v[0].version, sizeof(kl->v[0].version), "%s",
			 name + KP);
		kl->v[0].ok = true;
		kl->n = 1;
	}
	return 0;
}

/* The command lines of tree: etc/earlyfs.conf's options= and
 * rescue_options=, or (a partition of extlinux) its extlinux.conf's
 * default and 'rescue' labels.  0, or -ENOENT. */
static int options_of(int dir, const char *tree, char *opt, char *rescue,
		      size_t cap)
{
	struct extlinux_conf *c;
	const struct extlinux_label *d, *l;
	char path[PATH_MAX], *buf;
	const char *what;
	size_t len, line;
	int r;

	if (boot_conf_get_in(dir, tree, "options", opt, cap) == 0) {
		if (boot_conf_get_in(dir, tree, "rescue_options", rescue, cap) < 0)
			rescue[0] = '\0';
		return 0;
	}
	at(tree, LAYOUT_EXTLINUX_CONF, path, sizeof(path));
	r = beneath_read(dir, path, LAYOUT_EXTLINUX_MAX, &buf, &len);
	if (r < 0)
		return r;
	c = malloc(sizeof(*c));
	r = c ? extlinux_parse(buf, len, c, &line, &what) : -ENOMEM;
	free(buf);
	if (r < 0) {
		free(c);
		return r;
	}
	d = extlinux_find(c, c->default_label[0] ? c->default_label
						 : "earlyfs");
	l = extlinux_find(c, "rescue");
	snprintf(opt, cap, "%s", d ? d->append : "");
	snprintf(rescue, cap, "%s", l ? l->append : "");
	free(c);
	return d ? 0 : -ENOENT;
}

/* The generation of the state under tree: the newest recorded for the
 * live one (""), the one after it for the staged one, N for
 * generations/N; 0 when there is none. */
static unsigned generation_of(int dir, const char *tree)
{
	unsigned n, newest = 0;
	struct dirent *d;
	DIR *g;

	if (!strncmp(tree, LAYOUT_GENERATIONS "/", 12) &&
	    layout_parse_generation(tree + 12, strlen(tree + 12), &n) == 0)
		return n;
	if (beneath_opendir(dir, LAYOUT_GENERATIONS, &g) < 0)
		return 0;
	while ((d = readdir(g)))
		if (layout_parse_generation(d->d_name, strlen(d->d_name),
					    &n) == 0 && n > newest)
			newest = n;
	closedir(g);
	return newest + !strcmp(tree, LAYOUT_STAGING);
}

int loader_menu(int dir, const char *tree, unsigned prev, struct bootmenu *m,
		struct err *e)
{
	static char opt[BOOTMENU_OPTIONS_MAX], rescue[BOOTMENU_OPTIONS_MAX],
		pre[BOOTMENU_OPTIONS_MAX], pre_rescue[BOOTMENU_OPTIONS_MAX];
	struct kernlist kl, pk;
	struct bootmenu_input in = { .kernels = &kl, .options = opt,
				     .rescue_options = rescue };
	const struct kernlist_entry *pd;
	char ptree[PATH_MAX], kname[128];
	int r;

	r = loader_kernels(dir, tree, &kl, e);
	if (r < 0)
		return r;
	if (options_of(dir, tree, opt, rescue, sizeof(opt)) < 0)
		return err_setr(e, -ENOENT, EXIT_FAILED, "%s%s" LAYOUT_CONF
				" has no options= (the kernel's command line)",
				tree, tree[0] ? "/" : "");
	/* 'previous': the generation's default kernel, if it is still on
	 * the partition, and its command line */
	layout_generation_path("", prev, NULL, ptree, sizeof(ptree));
	if (prev && loader_kernels(dir, ptree, &pk, e) == 0 &&
	    (pd = kernlist_default(&pk))) {
		snprintf(kname, sizeof(kname), LAYOUT_KERNEL, pd->version);
		if (beneath_exists(dir, kname))
			in.previous = pd;
		if (options_of(dir, ptree, pre, pre_rescue, sizeof(pre)) == 0)
			in.previous_options = pre;
	}
	r = bootmenu_build(&in, m);
	m->generation = generation_of(dir, tree);
	if (r == -ENOENT)
		return err_setr(e, r, EXIT_FAILED, "no kernel of %s passed the "
				"check: nothing would boot", tree[0] ? tree
				: "the partition");
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "a boot entry's command line "
				"is longer than %u bytes", BOOTMENU_OPTIONS_MAX);
	return 0;
}

/* The marker that an export is owed: written before the commit point,
 * removed once the ESP says what the partition does. */
static int owe(struct boot *b, bool owed)
{
	int fd;

	if (!owed)
		return beneath_unlink(b->fd, LOADER_OWED, false);
	fd = beneath_open(b->fd, LOADER_OWED, O_WRONLY | O_CREAT | O_TRUNC,
			  0644);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

unsigned loader_boot_tries(int dir)
{
	unsigned long n;
	char v[16];

	if (boot_conf_get(dir, "boot_tries", v, sizeof(v)) < 0 ||
	    text_parse_uint(v, strlen(v), BOOTMENU_TRIES_MAX, &n) < 0)
		return LOADER_TRIES_DEFAULT;
	return (unsigned)n;
}

int loader_stage(struct boot *b, unsigned prev, struct err *e)
{
	static struct bootmenu m;
	struct loader_site s;
	uint64_t need = 0, free_bytes = 0;
	bool owed;
	int r;

	r = loader_site_open(b, &s, e);
	if (r == 0 && s.ops->stage)
		r = s.ops->stage(&s, prev, e);
	if (r < 0 || !s.ops->esp)
		return r;
	r = loader_menu(b->fd, LAYOUT_STAGING, prev, &m, e);
	if (r == 0)
		r = loader_esp(&s, e);
	if (r == 0)
		r = s.ops->need(&s, &m, &need, e);
	owed = r > 0;
	if (r > 0)
		r = 0;
	if (r == 0 && need && esp_free_bytes(&s.esp, &free_bytes) == 0 &&
	    free_bytes < need)
		r = err_setr(e, -ENOSPC, EXIT_REFUSED, "the ESP (%s) has %llu "
			     "KiB free and the boot entries need %llu KiB "
			     "more; nothing was changed.  Remove kernels "
			     "('earlyfs kernel rm', keep_kernels= in "
			     LAYOUT_CONF ") or files of others from the ESP",
			     s.esp.shown,
			     (unsigned long long)(free_bytes >> 10),
			     (unsigned long long)((need + 1023) >> 10));
	/* from here until the export, the ESP is owed the new state */
	if (r == 0 && owed && (r = owe(b, true)) < 0)
		err_setr(e, r, EXIT_FAILED, "cannot write %s/%s: %s", b->dir,
			 LOADER_OWED, strerror(-r));
	loader_site_close(&s);
	return r;
}

int loader_kernels_file(struct boot *b, const struct kernlist *kl,
			const char **ret_rel, char **ret_text, size_t *ret_len,
			struct err *e)
{
	struct loader_site s;
	int r = loader_site_open(b, &s, e);

	*ret_text = NULL;
	if (r == 0 && s.ops->kernels_file)
		r = s.ops->kernels_file(&s, kl, ret_rel, ret_text, ret_len, e);
	return r;
}

int loader_export(struct boot *b, unsigned prev, FILE *out, struct err *e)
{
	static struct bootmenu m;
	struct loader_site s;
	int r;

	r = loader_site_open(b, &s, e);
	if (r < 0 || !s.ops->esp)
		return r;
	r = loader_menu(b->fd, "", prev, &m, e);
	if (r == 0)
		r = loader_esp(&s, e);
	/* sealed: the images signed again, for the partition as it is */
	if (r == 0)
		r = loader_sealed(&s) ? loader_reseal(&s, prev, out, e)
				      : s.ops->export(&s, &m, out, e);
	if (r == 0 && beneath_exists(b->fd, LOADER_OWED)) {
		owe(b, false);
		boot_sync(b);
	}
	loader_site_close(&s);
	if (r < 0)
		fprintf(out, "earlyfs: the boot partition changed, but the "
			"ESP does not say so yet: the next earlyfs command "
			"('earlyfs loader sync') writes it again\n");
	return r;
}

int loader_verb(struct boot *b, const char *what, unsigned prev, FILE *out,
		struct err *e)
{
	struct loader_site s;
	int r = loader_site_open(b, &s, e);

	if (r < 0)
		return r;
	if (!strcmp(what, "status")) {
		fprintf(out, "loader:   %s", s.ops->name);
		if (s.ops->status)
			s.ops->status(&s, out);
		fprintf(out, "\n");
	} else if (!strcmp(what, "bless")) {
		if (!s.ops->bless)
			fprintf(out, "earlyfs: %s counts no boots: nothing to "
				"bless\n", s.ops->name);
		else
			r = s.ops->bless(&s, out, e);	/* the ESP only */
	} else if (strcmp(what, "sync") && strcmp(what, "remove")) {
		r = err_set(e, EXIT_USAGE, "loader %s: give status, sync, "
			    "remove or bless", what);
	} else if (!s.ops->esp) {
		fprintf(out, "earlyfs: %s reads its file from the boot "
			"partition: nothing to %s\n", s.ops->name, what);
	} else if ((r = boot_writable(b, e)) == 0 && !strcmp(what, "sync")) {
		r = loader_export(b, prev, out, e);
		if (r == 0)
			fprintf(out, "earlyfs: the ESP holds the boot entries "
				"of the boot partition\n");
	} else if (r == 0) {
		r = loader_esp(&s, e);
		if (r == 0)
			r = s.ops->remove(&s, out, e);
		if (r == 0)
			fprintf(out, "earlyfs: earlyfs's entries are gone from "
				"%s%s; 'earlyfs loader sync' writes them "
				"again\n", strcmp(s.esp_spec, LOADER_ESP_GRUBD)
				? "the ESP, " : "this machine's GRUB, from ",
				s.esp.shown);
	}
	loader_site_close(&s);
	return r;
}

int loader_recover(struct boot *b, unsigned prev, FILE *out, struct err *e)
{
	int r;

	if (!beneath_exists(b->fd, LOADER_OWED))
		return 0;
	r = boot_writable(b, e);
	if (r < 0)
		return r;
	fprintf(out, "earlyfs: writing the boot entries an interrupted change "
		"owed the ESP\n");
	return loader_export(b, prev, out, e);
}

int loader_options_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -EINVAL;
	return i < BOOTMENU_OPTIONS_MAX ? 0 : -E2BIG;
}

int loader_once(struct boot *b, const char *id, unsigned prev, FILE *out,
		struct err *e)
{
	static struct bootmenu m;
	struct bootmenu_entry any;
	const struct bootmenu_entry *x = NULL;
	struct loader_site s;
	char ids[512];
	size_t i, o = 0;
	int r;

	r = loader_site_open(b, &s, e);
	if (r < 0)
		return r;
	if (loader_menu(b->fd, "", prev, &m, e) == 0)
		x = bootmenu_find(&m, id);
	else
		m.n = 0;
	if (!x && !s.ops->esp) {
		/* extlinux: a label the admin wrote is one too */
		memset(&any, 0, sizeof(any));
		snprintf(any.id, sizeof(any.id), "%s", id);
		x = &any;
	}
	if (!x) {
		for (i = 0; i < m.n && o < sizeof(ids); i++)
			o += (size_t)snprintf(ids + o, sizeof(ids) - o, "%s%s",
					      i ? ", " : "", m.v[i].id);
		r = err_set(e, EXIT_USAGE, "no boot entry is named '%s' (%s)",
			    id, m.n ? ids : "the menu does not build");
	} else if (!s.ops->once) {
		r = err_set(e, EXIT_REFUSED, "%s has no way to take an entry "
			    "once", s.ops->name);
	} else {
		r = s.ops->once(&s, &m, x, out, e);
	}
	loader_site_close(&s);
	return r;
}
