/* efistub: no loader: the firmware starts the kernel's own EFI stub from
 * a Boot#### entry of its NVRAM (made with efibootmgr on the running
 * machine), the kernels and stubs on the ESP.  One entry per menu entry;
 * which Boot#### earlyfs made for which is kept in /earlyfs/bootentries
 * on the ESP with a hash of what it says, so an export remakes only the
 * entries whose kernel or command line changed (NVRAM wears).  An image
 * has no NVRAM: refused there, with the reason. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "base/host.h"
#include "base/run.h"
#include "loader/efivar.h"
#include "loader/espfiles.h"
#include "loader/loader.h"
#include "target/blkid.h"
#include "target/boot.h"
#include "layout.h"
#include "text.h"

#define RECORD ESPFILES_DIR "/bootentries"
#define RECORD_MAX 8192

static int no_nvram(const struct loader_site *s, struct err *e)
{
	if (s->b->t.is_image)
		return err_set(e, EXIT_REFUSED, "efistub boots from a Boot#### "
			       "entry in the NVRAM of the machine it runs on, "
			       "and an image has none: provision on that "
			       "machine, or use systemd-boot or grub on an "
			       "image");
	if (!efivar_available())
		return err_set(e, EXIT_REFUSED, "this machine has no EFI "
			       "variables (" EFIVAR_DIR " is not efivarfs): "
			       "efistub needs a UEFI boot");
	return 0;
}

static int files(struct loader_site *s, const struct bootmenu *m,
		 struct espfiles *f, struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->owned_dir[0] = ESPFILES_DIR;
	f->owned_prefix[0] = LAYOUT_KERNEL_PREFIX;
	f->owned_dir[1] = ESPFILES_DIR;
	f->owned_prefix[1] = "stub-";
	return espfiles_kernels(f, s, m, e);
}

/* What the firmware passes the kernel: its initrd (a path on the ESP,
 * backslashes) and the command line. */
static void args_of(const struct bootmenu_entry *x, char *ret, size_t cap)
{
	snprintf(ret, cap, "%s%s%s%s", x->initrd[0] ? "initrd=\\earlyfs\\" : "",
		 x->initrd[0] ? x->initrd + 1 : "", x->initrd[0] ? " " : "",
		 x->options);
}

static unsigned long long hash_of(const struct bootmenu_entry *x)
{
	char args[BOOTMENU_OPTIONS_MAX + 128];
	unsigned long long h = 0xcbf29ce484222325ULL;
	const char *parts[3];
	size_t i;

	args_of(x, args, sizeof(args));
	parts[0] = x->title;
	parts[1] = x->kernel;
	parts[2] = args;
	for (i = 0; i < 3; i++) {
		const unsigned char *c = (const unsigned char *)parts[i];

		while (*c)
			h = (h ^ *c++) * 0x100000001b3ULL;
		h = (h ^ '|') * 0x100000001b3ULL;
	}
	return h;
}

/* efibootmgr's listing (malloc'ed): 0 or -errno with e. */
static int listing(char **ret, struct err *e)
{
	char *argv[] = { "efibootmgr", NULL };
	char errbuf[256];
	size_t len;
	int r = run_capture(argv, -1, 0, 1 << 16, ret, &len, errbuf,
			    sizeof(errbuf));

	if (r != 0) {
		free(*ret);
		*ret = NULL;
		return err_set(e, EXIT_FAILED, "efibootmgr failed: %s (install "
			       "efibootmgr)", r < 0 ? strerror(-r) : errbuf);
	}
	return 0;
}

/* The label of Boot<num> in a listing ("" if there is none). */
static void label_in(const char *list, const char *num, char *ret, size_t cap)
{
	char key[16];
	const char *p;

	ret[0] = '\0';
	snprintf(key, sizeof(key), "Boot%s", num);
	for (p = list; (p = strstr(p, key)); p++)
		if ((p == list || p[-1] == '\n') && (p[8] == '*' || p[8] == ' ')) {
			p += 10;
			snprintf(ret, cap, "%.*s", (int)strcspn(p, "\t\n"), p);
			return;
		}
}

/* The ESP's disk and partition number, as efibootmgr wants them. */
static int esp_disk(struct loader_site *s, char *disk, size_t cap,
		    unsigned *part, struct err *e)
{
	char dev[PATH_MAX], sys[PATH_MAX], v[32], link[PATH_MAX];
	struct stat st;

	if (strncmp(s->esp_spec, "PARTUUID=", 9) ||
	    blkid_device_of("PARTUUID", s->esp_spec + 9, dev, sizeof(dev)) <
		    0 || stat(dev, &st) < 0)
		return err_set(e, EXIT_FAILED, "the ESP (esp=%s) is not a "
			       "partition of this machine", s->esp_spec);
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/partition",
		 major(st.st_rdev), minor(st.st_rdev));
	if (host_sysfs_read(sys, v, sizeof(v)) < 0)
		return err_set(e, EXIT_FAILED, "%s is not a partition", dev);
	*part = (unsigned)strtoul(v, NULL, 10);
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/..",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(sys, link))
		return err_set(e, EXIT_FAILED, "no disk above %s", dev);
	snprintf(disk, cap, "/dev/%s", strrchr(link, '/') + 1);
	return 0;
}

/* The record: "NUM ID HASH" per entry earlyfs made. */
static int record_find(const char *rec, const char *id, char num[5],
		       unsigned long long *hash)
{
	char line[256], rid[96];
	const char *p = rec;

	while (p && *p) {
		size_t l = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		p += l + (p[l] == '\n');
		if (sscanf(line, "%4s %95s %llx", num, rid, hash) == 3 &&
		    !strcmp(rid, id))
			return 1;
	}
	return 0;
}

/* Whether the record (text) has a line for Boot<num>. */
static bool in_record(const char *text, const char *num)
{
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, num, 4) && p[4] == ' ')
			return true;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return false;
}

/* Whether the record says each entry of m is made as m has it, and no
 * other one. */
static bool record_matches(const char *rec, const struct bootmenu *m)
{
	unsigned long long h;
	size_t i, lines = 0;
	const char *p;
	char num[5];

	for (i = 0; i < m->n; i++)
		if (!rec || !record_find(rec, m->v[i].id, num, &h) ||
		    h != hash_of(&m->v[i]))
			return false;
	for (p = rec ? rec : ""; *p; p++)
		lines += *p == '\n';
	return lines == m->n;
}

/* The number the record (text) gives entry id ("" if none). */
static void num_of(const char *text, const char *id, char num[5])
{
	unsigned long long h;

	if (!text || !record_find(text, id, num, &h))
		num[0] = '\0';
}

/* Whether BootOrder (order, comma-separated) has num. */
static bool in_order(const char *order, const char *num)
{
	const char *p = order;

	while (*p) {
		size_t l = strcspn(p, ",");

		if (l == 4 && !strncasecmp(p, num, 4))
			return true;
		p += l + (p[l] == ',');
	}
	return false;
}

/* A listing's BootOrder ("" if it has none). */
static void order_of(const char *list, char *ret, size_t cap)
{
	const char *p = list ? strstr(list, "BootOrder: ") : NULL;

	snprintf(ret, cap, "%.*s", p ? (int)strcspn(p + 11, "\n") : 0,
		 p ? p + 11 : "");
}

/* efibootmgr OPT ARG [MORE]: 0, or -EIO with e saying what failed. */
static int efibootmgr(const char *opt, const char *arg, const char *more,
		      struct err *e)
{
	char *argv[] = { "efibootmgr", (char *)opt, (char *)arg, (char *)more,
			 NULL };
	char errbuf[256];
	int r = run_cmd(argv, errbuf, sizeof(errbuf));

	if (r == 0)
		return 0;
	return err_setr(e, -EIO, EXIT_FAILED, "efibootmgr %s %s%s%s failed: %s",
			opt, arg, more ? " " : "", more ? more : "",
			r < 0 ? strerror(-r) : errbuf);
}

/* BootOrder with each of earlyfs's entries that was remade at the place
 * of the one it replaces (the admin's order, or --default, stays), and
 * every other one of earlyfs's entries after the machine's own: firmware
 * built on EDK2 takes a Boot#### that BootOrder does not name as free
 * and reuses its number for an entry of its own. */
static void keep_order(const char *list, const char *before,
		       const char *after, FILE *out)
{
	char order[512], *tok, *save = NULL, num[5], old[5], rid[96];
	char line[256], neworder[512] = "";
	const char *q;
	struct err ignore;
	bool changed = false;

	order_of(list, order, sizeof(order));
	for (tok = strtok_r(order, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		q = before;
		snprintf(num, sizeof(num), "%s", tok);
		/* an old number of ours: its id's new number */
		while (q && *q) {
			size_t l = strcspn(q, "\n");

			snprintf(line, sizeof(line), "%.*s", (int)l, q);
			q += l + (q[l] == '\n');
			if (sscanf(line, "%4s %95s", old, rid) == 2 &&
			    !strcasecmp(old, tok) && !in_record(after, old)) {
				num_of(after, rid, num);
				changed = true;
				break;
			}
		}
		if (num[0] && !in_order(neworder, num))
			snprintf(neworder + strlen(neworder),
				 sizeof(neworder) - strlen(neworder), "%s%s",
				 neworder[0] ? "," : "", num);
	}
	for (q = after; q && *q;) {
		size_t l = strcspn(q, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)l, q);
		q += l + (q[l] == '\n');
		if (sscanf(line, "%4s", num) == 1 && !in_order(neworder, num) &&
		    strlen(neworder) + 6 < sizeof(neworder)) {
			snprintf(neworder + strlen(neworder),
				 sizeof(neworder) - strlen(neworder), "%s%s",
				 neworder[0] ? "," : "", num);
			changed = true;
		}
	}
	if (changed && neworder[0] &&
	    efibootmgr("-o", neworder, NULL, &ignore) == 0)
		fprintf(out, "earlyfs: BootOrder %s\n", neworder);
}

/* Each entry of the menu as a Boot#### (kept where the record and the
 * NVRAM say it is as wanted, made anew otherwise), then the ones it no
 * longer has deleted; BootOrder keeps earlyfs's place if it had one. */
static int nvram_sync(struct loader_site *s, const struct bootmenu *m,
		      FILE *out, struct err *e)
{
	char *rec = NULL, *list = NULL, *after = NULL, disk[PATH_MAX];
	char num[5], label[200], args[BOOTMENU_OPTIONS_MAX + 128], part[16];
	char loader[128], *text = NULL, *p;
	unsigned long long h;
	unsigned partno = 0;
	size_t len, tl = 0, i;
	FILE *nr;
	int r;

	r = esp_disk(s, disk, sizeof(disk), &partno, e);
	if (r == 0)
		r = listing(&list, e);
	if (r < 0)
		return r;
	if (esp_read(&s->esp, RECORD, RECORD_MAX, &rec, &len) < 0)
		rec = NULL;
	nr = open_memstream(&text, &tl);
	if (!nr) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	snprintf(part, sizeof(part), "%u", partno);
	for (i = 0; i < m->n && r == 0; i++) {
		const struct bootmenu_entry *x = &m->v[i];

		if (rec && record_find(rec, x->id, num, &h) &&
		    h == hash_of(x) && (label_in(list, num, label,
						 sizeof(label)), 1) &&
		    !strcmp(label, x->title)) {
			fprintf(nr, "%s %s %016llx\n", num, x->id, h);
			continue;
		}
		snprintf(loader, sizeof(loader), "\\earlyfs\\%s", x->kernel + 1);
		args_of(x, args, sizeof(args));
		{
			char *argv[] = { "efibootmgr", "-C", "-d", disk, "-p",
					 part, "-L", (char *)x->title, "-l",
					 loader, "-u", args, NULL };
			char errbuf[256];

			free(after);
			after = NULL;
			r = run_capture(argv, -1, 0, 1 << 16, &after, &len,
					errbuf, sizeof(errbuf));
			if (r != 0) {
				r = err_set(e, EXIT_FAILED, "efibootmgr could "
					    "not make the entry %s: %s", x->id,
					    r < 0 ? strerror(-r) : errbuf);
				break;
			}
		}
		/* the new number: in the listing after, not before */
		num[0] = '\0';
		for (p = after; p && (p = strstr(p, "Boot")); p += 4) {
			char n4[5], was[200];

			if (p > after && p[-1] != '\n')
				continue;
			snprintf(n4, sizeof(n4), "%.4s", p + 4);
			label_in(after, n4, label, sizeof(label));
			label_in(list, n4, was, sizeof(was));
			if (!strcmp(label, x->title) && !was[0] &&
			    strspn(n4, "0123456789ABCDEFabcdef") == 4)
				snprintf(num, sizeof(num), "%s", n4);
		}
		if (!num[0]) {
			r = err_set(e, EXIT_FAILED, "efibootmgr made no entry "
				    "labelled '%s'", x->title);
			break;
		}
		fprintf(out, "earlyfs: Boot%s: %s\n", num, x->title);
		fprintf(nr, "%s %s %016llx\n", num, x->id, hash_of(x));
		free(list);
		list = after;
		after = NULL;
	}
	fclose(nr);
	if (r < 0)
		goto out;
	keep_order(list, rec, text, out);
	/* the entries of before that the record no longer names */
	for (p = rec; p && *p;) {
		char rid[96], old[5], line[256];
		size_t l = strcspn(p, "\n");
		struct err ignore;

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		p += l + (p[l] == '\n');
		if (sscanf(line, "%4s %95s", old, rid) != 2 ||
		    in_record(text, old))
			continue;
		/* a number the firmware took for an entry of its own is
		 * the firmware's now: only earlyfs's titles are deleted */
		label_in(list, old, label, sizeof(label));
		if (strncmp(label, "earlyfs", 7)) {
			if (label[0])
				fprintf(out, "earlyfs: Boot%s is '%s' now, not "
					"earlyfs's: left alone\n", old,
					text_printable(label));
			continue;
		}
		if (efibootmgr("-b", old, "-B", &ignore) == 0)
			fprintf(out, "earlyfs: Boot%s removed\n", old);
	}
	r = text ? esp_put(&s->esp, RECORD, -1, text, tl) : -ENOMEM;
	if (r < 0)
		err_setr(e, r, EXIT_FAILED, "cannot write %s on the ESP: %s",
			 RECORD, strerror(-r));
out:
	free(text);
	free(rec);
	free(list);
	free(after);
	return r;
}

/* earlyfs's default entry first in BootOrder, the rest as they were. */
static int set_default(struct loader_site *s, FILE *out, struct err *e)
{
	char *rec = NULL, *list = NULL, num[5], order[512], *tok, *save = NULL;
	char neworder[512];
	size_t len;
	int r = no_nvram(s, e);

	if (r == 0)
		r = loader_esp(s, e);
	if (r == 0)
		r = listing(&list, e);
	if (r < 0)
		return r;
	if (esp_read(&s->esp, RECORD, RECORD_MAX, &rec, &len) < 0)
		rec = NULL;
	num_of(rec, "earlyfs", num);
	free(rec);
	if (!num[0]) {
		free(list);
		return err_set(e, EXIT_FAILED, "no Boot#### of earlyfs's "
			       "default entry; 'earlyfs loader sync' makes it");
	}
	order_of(list, order, sizeof(order));
	free(list);
	snprintf(neworder, sizeof(neworder), "%s", num);
	for (tok = strtok_r(order, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (strcasecmp(tok, num))
			snprintf(neworder + strlen(neworder),
				 sizeof(neworder) - strlen(neworder), ",%s",
				 tok);
	r = efibootmgr("-o", neworder, NULL, e);
	if (r < 0)
		return r;
	fprintf(out, " BootOrder %s (Boot%s, earlyfs, first)", neworder, num);
	return 0;
}

static int need(struct loader_site *s, const struct bootmenu *m,
		uint64_t *ret, struct err *e)
{
	char *rec = NULL;
	size_t len;
	int r = no_nvram(s, e);

	if (r == 0)
		r = espfiles_need_menu(files, s, m, ret, e);
	/* the NVRAM's side, as the record says it was made */
	if (r == 0) {
		if (esp_read(&s->esp, RECORD, RECORD_MAX, &rec, &len) < 0)
			rec = NULL;
		r = !record_matches(rec, m);
		free(rec);
	}
	return r;
}

static int export(struct loader_site *s, const struct bootmenu *m, FILE *out,
		  struct err *e)
{
	int r = no_nvram(s, e);

	if (r == 0)
		r = espfiles_write_menu(files, s, m, out, e);
	if (r == 0)
		r = nvram_sync(s, m, out, e);
	return r;
}

static int install(struct loader_site *s, FILE *out, struct err *e)
{
	int r = no_nvram(s, e);

	if (r == 0)
		r = loader_esp(s, e);
	if (r == 0)
		fprintf(out, " (the kernels on %s, Boot#### entries in this "
			"machine's NVRAM)", s->esp.shown);
	return r;
}

static int once(struct loader_site *s, const struct bootmenu *m,
		const struct bootmenu_entry *x, FILE *out, struct err *e)
{
	char *rec = NULL, num[5];
	unsigned long long h;
	size_t len;
	int r = no_nvram(s, e);

	if (r == 0)
		r = loader_esp(s, e);
	/* an entry whose number the firmware took is made again first */
	if (r == 0)
		r = nvram_sync(s, m, out, e);
	if (r < 0)
		return r;
	if (esp_read(&s->esp, RECORD, RECORD_MAX, &rec, &len) < 0 ||
	    !record_find(rec, x->id, num, &h)) {
		free(rec);
		return err_set(e, EXIT_FAILED, "no Boot#### entry of earlyfs "
			       "boots %s; 'earlyfs loader sync' makes them",
			       x->id);
	}
	free(rec);
	r = efibootmgr("-n", num, NULL, e);
	if (r < 0)
		return r;
	fprintf(out, "earlyfs: the next boot, and only that one, takes entry "
		"%s (BootNext=%s)\n", x->id, num);
	return 0;
}

static void status(struct loader_site *s, FILE *out)
{
	unsigned char next[2];
	struct err e;

	if (loader_esp(s, &e) < 0) {
		fprintf(out, ", %s", e.msg);
		return;
	}
	fprintf(out, ", the kernels on %s", s->esp.shown);
	if (!s->b->t.is_image && efivar_available() &&
	    efivar_get_raw("BootNext", EFIVAR_GLOBAL_GUID,
			   next, sizeof(next)) == 2)
		fprintf(out, ", the next boot takes Boot%04X (once)",
			next[0] | next[1] << 8);
}

/* Each entry of the menu: a Boot#### that the record names, that says
 * what the menu does, and that BootOrder keeps. */
static void nvram_check(struct loader_site *s, const struct bootmenu *m,
			FILE *out, unsigned *ret)
{
	char *rec = NULL, *list = NULL, num[5], label[200], order[512];
	unsigned long long h;
	struct err e;
	size_t len, i;

	if (s->b->disk_known || !efivar_available() || listing(&list, &e) < 0)
		return;		/* this machine's NVRAM only */
	if (esp_read(&s->esp, RECORD, RECORD_MAX, &rec, &len) < 0)
		rec = NULL;
	order_of(list, order, sizeof(order));
	for (i = 0; i < m->n; i++) {
		const struct bootmenu_entry *x = &m->v[i];

		if (!rec || !record_find(rec, x->id, num, &h) ||
		    h != hash_of(x)) {
			fprintf(out, "NVRAM: no Boot#### of earlyfs boots %s as "
				"the partition says; 'earlyfs loader sync' "
				"makes it\n", x->id);
			(*ret)++;
			continue;
		}
		label_in(list, num, label, sizeof(label));
		if (strcmp(label, x->title)) {
			fprintf(out, "NVRAM: Boot%s is not earlyfs's entry %s "
				"any more (it says '%s': the firmware took its "
				"number); 'earlyfs loader sync' makes it "
				"again\n", num, x->id, text_printable(label));
			(*ret)++;
		} else if (!in_order(order, num)) {
			fprintf(out, "NVRAM: Boot%s (%s) is not in BootOrder: "
				"the firmware may take its number; 'earlyfs "
				"loader sync' puts it there\n", num, x->id);
			(*ret)++;
		}
	}
	free(rec);
	free(list);
}

static void check(struct loader_site *s, const struct bootmenu *m, FILE *out,
		  unsigned *ret)
{
	*ret += espfiles_check_menu(files, s, m, out);
	if (s->esp_open)
		nvram_check(s, m, out, ret);
}

static int remove_all(struct loader_site *s, FILE *out, struct err *e)
{
	static struct bootmenu none;
	static struct espfiles f;
	int r;

	memset(&none, 0, sizeof(none));
	r = no_nvram(s, e);
	if (r == 0)
		r = nvram_sync(s, &none, out, e);
	memset(&f, 0, sizeof(f));
	f.owned_dir[0] = ESPFILES_DIR;
	f.owned_prefix[0] = "";
	if (r == 0)
		r = espfiles_remove(&f, s, out, e);
	return r;
}

static int precheck(const struct target *t, const char *esp_spec,
		    struct err *e)
{
	struct loader_site s = { 0 };
	struct boot b = { .fd = -1 };

	b.t = *t;
	s.b = &b;
	return no_nvram(&s, e);
}

const struct loader_ops loader_efistub = {
	.name = "efistub", .esp = true, .uefi = true, .bios = false,
	.precheck = precheck, .need = need, .export = export,
	.install = install, .remove = remove_all, .once = once,
	.set_default = set_default, .status = status, .check = check,
};
