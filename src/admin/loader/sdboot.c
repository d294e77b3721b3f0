/* sdboot: systemd-boot: one Boot Loader Specification (type 1) entry per
 * menu entry on the ESP, the kernels and stubs beside them (systemd-boot
 * and the firmware read FAT only) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include "base/beneath.h"
#include "base/host.h"
#include "loader/efivar.h"
#include "loader/espfiles.h"
#include "loader/loader.h"
#include "target/boot.h"
#include "layout.h"
#include "text.h"

#define SDBOOT_EFI "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
#define ENTRIES "/loader/entries"
#define LOADER_CONF "/loader/loader.conf"
#define OURS "# earlyfs"
/* earlyfs's entries, the first in sort order that has tries left */
#define DEFAULT_PATTERN "earlyfs*"

/* earlyfs.conf, earlyfs.rescue.conf, earlyfs.previous.conf and
 * earlyfs-VERSION.conf: a version never starts with '.', so no kernel's
 * entry is named like another one. */
static void entry_file(const struct bootmenu_entry *x, char *ret, size_t cap)
{
	switch (x->kind) {
	case BOOTMENU_DEFAULT: snprintf(ret, cap, "earlyfs.conf"); break;
	case BOOTMENU_RESCUE: snprintf(ret, cap, "earlyfs.rescue.conf"); break;
	case BOOTMENU_PREVIOUS:
		snprintf(ret, cap, "earlyfs.previous.conf");
		break;
	default: snprintf(ret, cap, "%s.conf", x->id); break;
	}
}

/* The order of earlyfs's entries in the menu: systemd-boot sorts by
 * sort-key, and a default pattern (earlyfs*) takes the first that
 * matches, so that a default entry out of tries (sorted last) falls
 * back to 'previous'. */
static const char *sort_key(const struct bootmenu_entry *x)
{
	switch (x->kind) {
	case BOOTMENU_DEFAULT: return "earlyfs-0";
	case BOOTMENU_PREVIOUS: return "earlyfs-1";
	case BOOTMENU_KERNEL: return "earlyfs-2";
	default: return "earlyfs-3";
	}
}

bool loader_sealed(struct loader_site *s)
{
	return s->esp_open && !strcmp(s->ops->name, "systemd-boot") &&
	       esp_exists(&s->esp, LOADER_UKI_DEFAULT);
}

static int files(struct loader_site *s, const struct bootmenu *m,
		 struct espfiles *f, struct err *e)
{
	char name[128], path[192], gen[64] = "";
	unsigned tries = loader_boot_tries(s->b->fd);
	size_t i;
	int r;

	memset(f, 0, sizeof(*f));
	f->owned_dir[0] = ENTRIES;
	f->owned_prefix[0] = "earlyfs";
	f->owned_dir[1] = ESPFILES_DIR;
	f->owned_prefix[1] = "";
	if (loader_sealed(s))	/* signed images only: earlyfs seal */
		return 0;
	r = espfiles_kernels(f, s, m, e);
	for (i = 0; i < m->n && r == 0; i++) {
		const struct bootmenu_entry *x = &m->v[i];
		bool counted = x->kind == BOOTMENU_DEFAULT && tries;

		/* the generation it boots: a new one is a new text, whose
		 * file gets the tries again */
		if (counted)
			snprintf(gen, sizeof(gen), OURS ": generation %u, "
				 "%u tries\n", m->generation, tries);
		entry_file(x, name, sizeof(name));
		snprintf(path, sizeof(path), ENTRIES "/%s", name);
		r = espfiles_text(f, path, OURS ": written from the boot "
				  "partition; 'earlyfs' commands change it\n"
				  "%stitle %s\nversion %s\nsort-key %s\n"
				  "linux " ESPFILES_DIR "%s\n%s%s%s"
				  "options %s\n", counted ? gen : "",
				  x->title, x->version, sort_key(x),
				  x->kernel, x->initrd[0] ? "initrd "
				  ESPFILES_DIR : "", x->initrd,
				  x->initrd[0] ? "\n" : "", x->options);
		if (r < 0)
			r = err_setr(e, r, EXIT_FAILED, "out of memory");
		else if (counted)
			espfiles_count(f, tries);
	}
	return r;
}

static int need(struct loader_site *s, const struct bootmenu *m,
		uint64_t *ret, struct err *e)
{
	return espfiles_need_menu(files, s, m, ret, e);
}

static int export(struct loader_site *s, const struct bootmenu *m, FILE *out,
		  struct err *e)
{
	return espfiles_write_menu(files, s, m, out, e);
}

/* systemd-boot as the firmware's removable-media loader (what boots a
 * disk without an NVRAM entry) and at its own place; loader.conf made
 * unless someone else's is there. */
static int install(struct loader_site *s, FILE *out, struct err *e)
{
	static const char *const at[] = { "/EFI/systemd/systemd-bootx64.efi",
					  "/EFI/BOOT/BOOTX64.EFI" };
	size_t i;
	int fd, r = 0;

	r = loader_esp(s, e);
	if (r < 0)
		return r;
	/* a running machine: earlyfs adds entries to the loader there */
	if (!s->b->t.is_image) {
		char *was = NULL;
		size_t wl;

		r = esp_read(&s->esp, at[0], 16, &was, &wl);
		free(was);
		if (r < 0 && r != -EFBIG)
			return err_set(e, EXIT_REFUSED, "systemd-boot is not on "
				       "the ESP (%s has no %s): install it "
				       "('bootctl install'), then provision; "
				       "earlyfs adds its entries to the "
				       "loader a machine has", s->esp.shown,
				       at[0]);
		fprintf(out, " (the one on %s)", s->esp.shown);
		return 0;
	}
	fd = open(SDBOOT_EFI, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s (install "
				"systemd-boot-efi)", SDBOOT_EFI,
				strerror(errno));
	for (i = 0; i < 2 && r == 0; i++) {
		r = esp_mkdirs(&s->esp, i ? "/EFI/BOOT" : "/EFI/systemd");
		if (r == 0)
			r = esp_put(&s->esp, at[i], fd, NULL, 0);
	}
	close(fd);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write systemd-boot "
				"to the ESP (%s): %s", s->esp.shown,
				strerror(-r));
	r = loader_sdboot_conf(s, false, e);
	if (r == 1)
		fprintf(out, " (its " LOADER_CONF " is not earlyfs's: its "
			"default stays)");
	else if (r == 0)
		fprintf(out, " as EFI/BOOT/BOOTX64.EFI on %s", s->esp.shown);
	return r < 0 ? r : 0;
}

int loader_sdboot_conf(struct loader_site *s, bool sealed, struct err *e)
{
	char conf[320], timeout[16], *old = NULL;
	size_t len;
	int r;

	if (esp_read(&s->esp, LOADER_CONF, 4096, &old, &len) == 0 &&
	    strncmp(old, OURS, strlen(OURS))) {
		free(old);
		return 1;
	}
	free(old);
	if (boot_conf_get(s->b->fd, "menu_timeout", timeout,
			  sizeof(timeout)) < 0)
		snprintf(timeout, sizeof(timeout), "3");
	len = (size_t)snprintf(conf, sizeof(conf), OURS ": systemd-boot's "
			       "menu%s; earlyfs writes it\ntimeout %s\n"
			       "default %s\nconsole-mode keep\neditor %s\n",
			       sealed ? " of sealed images" : "", timeout,
			       sealed ? "earlyfs.efi" : DEFAULT_PATTERN,
			       sealed ? "no" : "yes");
	r = esp_mkdirs(&s->esp, "/loader");
	if (r == 0)
		r = esp_put(&s->esp, LOADER_CONF, -1, conf, len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write " LOADER_CONF
				" to the ESP (%s): %s", s->esp.shown,
				strerror(-r));
	return 0;
}

static int remove_all(struct loader_site *s, FILE *out, struct err *e)
{
	static struct espfiles f;
	size_t i;
	int r;

	memset(&f, 0, sizeof(f));
	f.owned_dir[0] = ENTRIES;
	f.owned_prefix[0] = "earlyfs";
	f.owned_dir[1] = ESPFILES_DIR;
	f.owned_prefix[1] = "";
	r = espfiles_remove(&f, s, out, e);
	/* the sealed images, the default last: unsealed from then on */
	for (i = 0; i < 3 && r == 0; i++) {
		static const char *const img[] = {
			LOADER_UKI_DIR "/earlyfs.previous.efi",
			LOADER_UKI_DIR "/earlyfs.rescue.efi",
			LOADER_UKI_DEFAULT,
		};

		if (esp_remove(&s->esp, img[i]) == 0)
			fprintf(out, "earlyfs: removed %s from the ESP\n",
				img[i]);
	}
	return r;
}

/* A running machine's systemd-boot: LoaderEntryDefault, which comes
 * before loader.conf's default; an image's loader.conf is earlyfs's. */
static int set_default(struct loader_site *s, FILE *out, struct err *e)
{
	int r;

	if (s->b->t.is_image) {
		fprintf(out, " loader.conf's default is " DEFAULT_PATTERN);
		return 0;
	}
	if (!efivar_available())
		return err_set(e, EXIT_REFUSED, "this machine has no EFI "
			       "variables: systemd-boot's default cannot be set");
	r = efivar_set("LoaderEntryDefault", EFIVAR_LOADER_GUID,
		       DEFAULT_PATTERN);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot set the EFI variable "
				"LoaderEntryDefault: %s", strerror(-r));
	fprintf(out, " LoaderEntryDefault=" DEFAULT_PATTERN);
	return 0;
}

/* name's file in ENTRIES as it is on the ESP now: with the counter the
 * loader gave it, if it has one (name unchanged when none is found). */
static void current_name(struct loader_site *s, char *name, size_t cap)
{
	char path[192], found[160];

	snprintf(path, sizeof(path), ENTRIES "/%s", name);
	if (espfiles_counted_path(s, path, found, sizeof(found)) == 0)
		snprintf(name, cap, "%s", strrchr(found, '/') + 1);
}

static int once(struct loader_site *s, const struct bootmenu *m,
		const struct bootmenu_entry *x, FILE *out, struct err *e)
{
	char name[128];
	int r;

	if (s->b->disk_known)
		return err_set(e, EXIT_REFUSED, "systemd-boot takes a one-time "
			       "entry from an EFI variable (LoaderEntryOneShot) "
			       "of the machine it runs on; an image has none.  "
			       "Run 'earlyfs once' on the machine it boots");
	if (!efivar_available())
		return err_set(e, EXIT_REFUSED, "this machine has no EFI "
			       "variables (" EFIVAR_DIR " is not efivarfs): it "
			       "did not boot through UEFI, so systemd-boot "
			       "cannot be told the next entry");
	entry_file(x, name, sizeof(name));
	current_name(s, name, sizeof(name));	/* the id is the file's name */
	r = efivar_set("LoaderEntryOneShot", EFIVAR_LOADER_GUID, name);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot set the EFI variable "
				"LoaderEntryOneShot: %s", strerror(-r));
	fprintf(out, "earlyfs: the next boot, and only that one, takes entry "
		"%s (%s)\n", x->id, name);
	return 0;
}

/* systemd-boot renamed the entry it booted (NAME+LEFT-DONE.conf) and
 * named it in LoaderBootCountPath: one of earlyfs's is renamed NAME.conf,
 * as systemd-bless-boot does where the real root runs systemd. */
static int bless(struct loader_site *s, FILE *out, struct err *e)
{
	char v[256], *name, base[160], to[200];
	unsigned left, done;
	size_t i;
	int r;

	if (s->b->disk_known)
		return err_set(e, EXIT_REFUSED, "an image did not boot: "
			       "'earlyfs loader bless' runs on the machine, "
			       "once its real root is up");
	if (!efivar_available() ||
	    efivar_get("LoaderBootCountPath", EFIVAR_LOADER_GUID, v,
		       sizeof(v)) < 0) {
		fprintf(out, "earlyfs: this boot was not counted (no "
			"LoaderBootCountPath): nothing to bless\n");
		return 0;
	}
	for (i = 0; v[i]; i++)
		if (v[i] == '\\')
			v[i] = '/';
	name = v + strlen(ENTRIES) + 1;
	/* the variable is the firmware's: a name of earlyfs's entries, in
	 * ENTRIES, with a counter, or nothing is renamed */
	if (strncasecmp(v, ENTRIES "/", strlen(ENTRIES) + 1) ||
	    strchr(name, '/') || strncasecmp(name, "earlyfs", 7) ||
	    bootmenu_bls_counter(name, base, sizeof(base), &left, &done) != 1) {
		fprintf(out, "earlyfs: this boot was counted on %s, which is "
			"not earlyfs's: systemd-bless-boot (or the "
			"distribution's tool) blesses it\n", text_printable(v));
		return 0;
	}
	r = loader_esp(s, e);
	if (r < 0)
		return r;
	snprintf(to, sizeof(to), ENTRIES "/%s", base);
	r = esp_rename(&s->esp, v, to);
	if (r == -ENOENT) {
		fprintf(out, "earlyfs: %s is not on the ESP (%s) any more: "
			"nothing to bless\n", v, s->esp.shown);
		return 0;
	}
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot rename %s to %s on "
				"the ESP (%s): %s", v, base, s->esp.shown,
				strerror(-r));
	fprintf(out, "earlyfs: blessed %s: this boot reached the real root; "
		"it is %s now, and boots without counting\n", v, base);
	return 0;
}

static void status(struct loader_site *s, FILE *out)
{
	char *conf = NULL, *d, v[256];
	struct err e;
	size_t len;

	if (loader_esp(s, &e) < 0) {
		fprintf(out, ", ESP: %s", e.msg);
		return;
	}
	fprintf(out, ", ESP %s", s->esp.shown);
	if (esp_read(&s->esp, LOADER_CONF, 4096, &conf, &len) == 0 &&
	    (d = strstr(conf, "\ndefault "))) {
		d += 9;
		fprintf(out, ", loader.conf's default %.*s",
			(int)strcspn(d, "\n"), d);
	}
	free(conf);
	if (!s->b->disk_known && efivar_available() &&
	    efivar_get("LoaderEntryOneShot", EFIVAR_LOADER_GUID, v,
		       sizeof(v)) == 0)
		fprintf(out, ", the next boot takes %s (once)", v);
	if (loader_sealed(s)) {
		fprintf(out, "\nsealed:   the signed images " LOADER_UKI_DIR
			"/earlyfs.efi, earlyfs.rescue.efi%s; every change "
			"seals again", esp_exists(&s->esp, LOADER_UKI_DIR
						  "/earlyfs.previous.efi") ?
			", earlyfs.previous.efi" : "");
		return;
	}
	/* earlyfs's entries there (the others are the distribution's) */
	fprintf(out, "\nentries:  ");
	if (esp_list(&s->esp, ENTRIES, &conf) == 0) {
		char *name, *save = NULL;
		bool first = true;

		for (name = strtok_r(conf, "\n", &save); name;
		     name = strtok_r(NULL, "\n", &save))
			if (!strncmp(name, "earlyfs", 7)) {
				char base[160];
				unsigned left, done;

				fprintf(out, "%s%s", first ? "" : ", ", name);
				if (bootmenu_bls_counter(name, base, sizeof(base),
							 &left, &done) == 1)
					fprintf(out, left ? " (%u tries left)"
						: " (out of tries: the menu's "
						"default falls back to the next "
						"entry)", left);
				first = false;
			}
		if (first)
			fprintf(out, "none of earlyfs's");
	} else {
		fprintf(out, "no " ENTRIES " on the ESP");
	}
	free(conf);
}

/* An entry of earlyfs's that used its tries: the machine boots another. */
static void out_of_tries(struct loader_site *s, FILE *out, unsigned *ret)
{
	char *list = NULL, *l, *save = NULL, base[160];
	unsigned left, done;

	if (esp_list(&s->esp, ENTRIES, &list) < 0)
		return;
	for (l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strncasecmp(l, "earlyfs", 7) &&
		    bootmenu_bls_counter(l, base, sizeof(base), &left,
					 &done) == 1 && !left) {
			fprintf(out, "the ESP (%s): " ENTRIES "/%s failed its %u "
				"tries: systemd-boot boots the next entry "
				"(previous) instead; repair the partition (or "
				"'earlyfs rollback'), and the change gives it "
				"tries again\n", s->esp.shown, text_printable(l),
				done);
			(*ret)++;
		}
	free(list);
}

/* A sealed partition: its images there, the generations they run kept,
 * and the newest one sealed (else it does not boot yet). */
static void sealed_check(struct loader_site *s, const struct bootmenu *m,
			 FILE *out, unsigned *ret)
{
	unsigned g[2];
	char path[64], key[4096], cert[4096], where[96];

	if (!esp_exists(&s->esp, LOADER_UKI_DIR "/earlyfs.rescue.efi")) {
		fprintf(out, "%s: " LOADER_UKI_DIR "/earlyfs.rescue.efi is "
			"missing: 'earlyfs seal' makes it again\n",
			s->esp.shown);
		++*ret;
	}
	if (loader_sealed_generations(s, g) < 0) {
		fprintf(out, "%s: " LOADER_UKI_GENERATIONS " is missing or "
			"unreadable: 'earlyfs seal' writes it again\n",
			s->esp.shown);
		++*ret;
		return;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), LAYOUT_GENERATIONS "/%u", g[i]);
		if (g[i] && !beneath_exists(s->b->fd, path)) {
			fprintf(out, "%s: the sealed %s image runs generation "
				"%u, which is gone: it refuses to boot; "
				"'earlyfs seal'\n", s->esp.shown,
				i ? "previous" : "default", g[i]);
			++*ret;
		}
	}
	if (m->generation && g[0] != m->generation) {
		fprintf(out, "generation %u is not sealed: the sealed images "
			"run generation %u (a change made without the key); "
			"'earlyfs seal' to boot it\n", m->generation, g[0]);
		++*ret;
	}
	/* on the machine itself, with the recorded key's certificate */
	if (!s->b->mounted && loader_seal_recorded(key, sizeof(key), cert,
						   sizeof(cert)) == 0 &&
	    loader_firmware_trusts(cert, where, sizeof(where)) == 0) {
		fprintf(out, "Secure Boot is on and this machine's firmware "
			"does not trust %s, which the partition is sealed "
			"with: the next boot refuses the images; earlyfs "
			"enroll, or mokutil --import\n", cert);
		++*ret;
	}
}

static void check(struct loader_site *s, const struct bootmenu *m, FILE *out,
		  unsigned *ret)
{
	*ret += espfiles_check_menu(files, s, m, out);
	if (s->esp_open && loader_sealed(s))
		sealed_check(s, m, out, ret);
	else if (s->esp_open)
		out_of_tries(s, out, ret);
}

const struct loader_ops loader_sdboot = {
	.name = "systemd-boot", .esp = true, .uefi = true, .bios = false,
	.need = need, .export = export, .install = install,
	.remove = remove_all, .once = once, .set_default = set_default,
	.bless = bless,
	.status = status, .check = check,
};
