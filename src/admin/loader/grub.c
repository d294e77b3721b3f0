/* grub: GRUB 2, on UEFI (Debian's signed shim and GRUB as the firmware's
 * removable-media loader, grub.cfg beside them on the ESP) and on BIOS
 * (a core image in the gap before the first partition, grub.cfg in /grub
 * on the boot partition); or, on a running machine that boots GRUB
 * already (esp=grub.d), that GRUB: a script in /etc/grub.d that
 * update-grub copies into its grub.cfg after the distribution's entries.
 * Either way GRUB reads the kernels and stubs from the ext4 boot
 * partition itself (found by its file system UUID): nothing but the menu
 * changes when the menu does.  The next boot's entry (once) is grubenv's
 * next_entry, a file: it works on images. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "base/host.h"
#include "base/run.h"
#include "kv.h"
#include "loader/espfiles.h"
#include "loader/loader.h"
#include "target/boot.h"
#include "target/fdisk.h"

#define SHIM "/usr/lib/shim/shimx64.efi.signed"
#define MOKMANAGER "/usr/lib/shim/mmx64.efi.signed"
#define GRUB_EFI "/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"
#define GRUB_PC_DIR "/usr/lib/grub/i386-pc"
#define EFI_DIR "/EFI/BOOT"
#define PC_DIR "/grub"
#define ENVBLK_SIZE 1024
#define OURS "# earlyfs"

#define HOST_SCRIPT "/42_earlyfs"	/* in LOADER_GRUBD_DIR */
#define HOST_CFG "/boot/grub/grub.cfg"
#define HOST_BEGIN "### BEGIN " LOADER_GRUBD_DIR HOST_SCRIPT " ###"
#define SCRIPT_MAX (64 * 1024)

/* etc/earlyfs.conf's boot_uuid=, the file system GRUB finds the kernels
 * on: it goes into grub.cfg, a script update-grub runs and /etc/fstab, so
 * a value that is not a file system UUID (hex digits and '-') is taken
 * as none.  0 or -ENOENT. */
static int boot_uuid(int dir, char *uuid, size_t cap)
{
	size_t i;

	if (boot_conf_get(dir, "boot_uuid", uuid, cap) < 0 || !uuid[0])
		return -ENOENT;
	for (i = 0; uuid[i]; i++)
		if (!((uuid[i] >= '0' && uuid[i] <= '9') ||
		      (uuid[i] >= 'a' && uuid[i] <= 'f') ||
		      (uuid[i] >= 'A' && uuid[i] <= 'F') || uuid[i] == '-'))
			return -ENOENT;
	return 0;
}

/* The machine's own GRUB (esp=grub.d). */
static bool on_host(const struct loader_site *s)
{
	return !strcmp(s->esp_spec, LOADER_ESP_GRUBD);
}

bool loader_grub_here(void)
{
	struct stat st;
	char path[PATH_MAX];

	return stat(LOADER_GRUBD_DIR, &st) == 0 && S_ISDIR(st.st_mode) &&
	       stat(HOST_CFG, &st) == 0 &&
	       (host_which("update-grub", path, sizeof(path)) == 0 ||
		host_which("grub-mkconfig", path, sizeof(path)) == 0);
}

/* BIOS: the files are on the boot partition (esp=boot). */
static bool on_pc(const struct loader_site *s)
{
	return !strcmp(s->esp_spec, LOADER_ESP_BOOT);
}

static const char *dir_of(const struct loader_site *s)
{
	return on_pc(s) ? PC_DIR : EFI_DIR;
}

/* A grubenv block: the variables, '#' up to 1024 bytes (what GRUB's
 * save_env overwrites in place). */
static void envblk(char out[ENVBLK_SIZE], const char *next_entry)
{
	int n = snprintf(out, ENVBLK_SIZE, "# GRUB Environment Block\n%s%s%s",
			 next_entry ? "next_entry=" : "",
			 next_entry ? next_entry : "",
			 next_entry ? "\n" : "");

	memset(out + n, '#', ENVBLK_SIZE - (size_t)n);
}

/* The menu's entries; uuid: each finds the boot partition itself (in
 * a menu whose root is another file system's). */
static void entries(FILE *c, const struct bootmenu *m, const char *uuid)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct bootmenu_entry *x = &m->v[i];

		/* GRUB's quoting: single quotes hold anything but a quote */
		fprintf(c, "menuentry '%s' --id %s {\n", x->title, x->id);
		if (uuid)
			fprintf(c, "\tsearch --no-floppy --fs-uuid --set=root "
				"%s\n", uuid);
		fprintf(c, "\tlinux %s %s\n", x->kernel, x->options);
		if (x->initrd[0])
			fprintf(c, "\tinitrd %s\n", x->initrd);
		fprintf(c, "}\n");
	}
}

/* The script for /etc/grub.d (malloc'ed), or NULL with e. */
static char *host_script(struct loader_site *s, const struct bootmenu *m,
			 struct err *e)
{
	char uuid[64], *text = NULL;
	size_t len = 0;
	FILE *c;

	if (boot_uuid(s->b->fd, uuid, sizeof(uuid)) < 0) {
		err_set(e, EXIT_FAILED, "%s/etc/earlyfs.conf has no boot_uuid= (a "
			"UUID: the file system GRUB finds the kernels on); "
			"provision again", s->b->dir);
		return NULL;
	}
	c = open_memstream(&text, &len);
	if (!c) {
		err_set(e, EXIT_FAILED, "out of memory");
		return NULL;
	}
	fprintf(c, "#!/bin/sh\n" OURS ": written from the boot partition "
		"(file system UUID %s); 'earlyfs' commands change it, and\n"
		OURS " 'earlyfs loader remove' takes it away.  update-grub "
		"puts this menu in " HOST_CFG ".\ncat <<'EARLYFS'\n", uuid);
	entries(c, m, uuid);
	fprintf(c, "EARLYFS\n");
	if (fclose(c) != 0 || !text) {
		free(text);
		err_set(e, EXIT_FAILED, "out of memory");
		return NULL;
	}
	return text;
}

/* The script m makes, in *ret (malloc'ed): 1 if the one in
 * LOADER_GRUBD_DIR is missing or another, 0 if it is the same, -errno
 * with e. */
static int host_differs(struct loader_site *s, const struct bootmenu *m,
			char **ret, struct err *e)
{
	char *old = NULL;
	size_t len;
	int r;

	*ret = host_script(s, m, e);
	if (!*ret)
		return -EINVAL;
	r = esp_read(&s->esp, HOST_SCRIPT, SCRIPT_MAX, &old, &len) < 0 ||
	    strcmp(old, *ret);
	free(old);
	return r;
}

/* Whether the machine's grub.cfg holds each entry of m from the script
 * (update-grub ran since it was written). */
static bool host_cfg_has(const struct bootmenu *m)
{
	char *cfg = NULL, id[96];
	size_t len, i;
	bool ok;
	int fd = open(HOST_CFG, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	ok = read_fd(fd, 4 << 20, &cfg, &len) == 0 && strstr(cfg, HOST_BEGIN);
	close(fd);
	for (i = 0; ok && i < m->n; i++) {
		snprintf(id, sizeof(id), "--id %s {", m->v[i].id);
		ok = strstr(cfg, id) != NULL;
	}
	free(cfg);
	return ok;
}

/* update-grub (or grub-mkconfig -o grub.cfg): 0 or -errno with e. */
static int update_grub(FILE *out, struct err *e)
{
	char path[PATH_MAX], errbuf[512];
	char *upd[] = { "update-grub", NULL };
	char *mk[] = { "grub-mkconfig", "-o", HOST_CFG, NULL };
	bool has_update = host_which("update-grub", path, sizeof(path)) == 0;
	int r = run_cmd(has_update ? upd : mk, errbuf, sizeof(errbuf));

	if (r != 0)
		return err_setr(e, r < 0 ? r : -EIO, EXIT_FAILED, "%s failed: "
				"%s; " LOADER_GRUBD_DIR HOST_SCRIPT " is "
				"written: run it again once it works",
				has_update ? "update-grub" : "grub-mkconfig",
				r < 0 ? strerror(-r) : errbuf);
	fprintf(out, "earlyfs: %s wrote " HOST_CFG " with earlyfs's "
		"entries\n", has_update ? "update-grub" : "grub-mkconfig");
	return 0;
}

/* The machine keeps its /boot: the partition at BOOT_BESIDE, mounted by
 * its fstab when it boots its own way (so that the commands and the
 * kernel hook find it), and by earlyfs-init when it boots through earlyfs
 * (the fstab line, nofail, is then a no-op).  Two lines, the first this
 * mark; want: there (with the file system's uuid), else taken away. */
#define HOST_FSTAB "/etc/fstab"
#define FSTAB_MARK "# earlyfs: its boot partition at " BOOT_BESIDE \
	" ('earlyfs loader remove' or 'apt purge earlyfs' takes these two " \
	"lines away)"

static int host_fstab(bool want, const char *uuid, FILE *out, struct err *e)
{
	char *text = NULL, *line, *next, *copy;
	size_t len = 0, n;
	FILE *f;
	bool skip = false, changed = false;
	int r = read_file(HOST_FSTAB, 1 << 20, &text, &len);

	if (r < 0 && r != -ENOENT)
		return err_setr(e, r, EXIT_FAILED, "cannot read " HOST_FSTAB
				": %s", strerror(-r));
	f = open_memstream(&copy, &n);
	if (!f) {
		free(text);
		return err_set(e, EXIT_FAILED, "out of memory");
	}
	for (line = text; line && line < text + len; line = next) {
		char *nl = memchr(line, '\n', (size_t)(text + len - line));
		size_t l = nl ? (size_t)(nl - line) : (size_t)(text + len - line);

		next = line + l + 1;
		if (skip) {		/* the entry under the mark */
			skip = false;
			changed = true;
			continue;
		}
		if (l == strlen(FSTAB_MARK) && !memcmp(line, FSTAB_MARK, l)) {
			skip = true;
			changed = true;
			continue;
		}
		fwrite(line, 1, l, f);
		fputc('\n', f);
	}
	if (want) {
		fprintf(f, FSTAB_MARK "\nUUID=%s " BOOT_BESIDE " ext4 "
			"ro,nofail,noatime 0 0\n", uuid);
		changed = !text || !strstr(text, FSTAB_MARK) ||
			  !strstr(text, uuid);
	}
	fclose(f);
	free(text);
	if (!copy)
		return err_set(e, EXIT_FAILED, "out of memory");
	r = changed ? host_write_text(HOST_FSTAB, copy, 0644) : 0;
	free(copy);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write " HOST_FSTAB
				": %s", strerror(-r));
	if (changed)
		fprintf(out, want ? "earlyfs: " HOST_FSTAB " mounts it at "
			BOOT_BESIDE " (read-only) when this machine boots its "
			"own way; 'mount " BOOT_BESIDE "' now\n" :
			"earlyfs: took " BOOT_BESIDE " out of " HOST_FSTAB "\n");
	return 0;
}

/* The script written if it changed, and update-grub run if it was or
 * grub.cfg lacks the menu. */
static int host_export(struct loader_site *s, const struct bootmenu *m,
		       FILE *out, struct err *e)
{
	char *text;
	int differs = host_differs(s, m, &text, e), r = 0;

	if (differs < 0)
		return differs;
	if (differs) {
		r = host_write_text(LOADER_GRUBD_DIR HOST_SCRIPT, text, 0755);
		if (r < 0)
			r = err_setr(e, r, EXIT_FAILED, "cannot write "
				     LOADER_GRUBD_DIR HOST_SCRIPT ": %s",
				     strerror(-r));
		else
			fprintf(out, "earlyfs: wrote " LOADER_GRUBD_DIR
				HOST_SCRIPT "\n");
	}
	free(text);
	/* earlyfs.boot=: where the partition stays on this root */
	if (r == 0 && m->n && strstr(m->v[0].options, "earlyfs.boot="
				       BOOT_BESIDE)) {
		char uuid[64];

		if (mkdir(BOOT_BESIDE, 0755) == 0)
			fprintf(out, "earlyfs: made " BOOT_BESIDE " (where the "
				"boot partition stays after the pivot; /boot "
				"stays this machine's)\n");
		if (boot_uuid(s->b->fd, uuid, sizeof(uuid)) == 0)
			r = host_fstab(true, uuid, out, e);
	}
	if (r == 0 && (differs || !host_cfg_has(m)))
		r = update_grub(out, e);
	return r;
}

static int files(struct loader_site *s, const struct bootmenu *m,
		 struct espfiles *f, struct err *e)
{
	char uuid[64], timeout[16], path[64], *cfg = NULL;
	size_t len = 0;
	FILE *c;
	int r;

	memset(f, 0, sizeof(*f));
	if (boot_uuid(s->b->fd, uuid, sizeof(uuid)) < 0)
		return err_setr(e, -ENOENT, EXIT_FAILED, "%s/etc/earlyfs.conf "
				"has no boot_uuid= (a UUID: the file system GRUB "
				"finds the kernels on); provision again",
				s->b->dir);
	if (boot_conf_get(s->b->fd, "menu_timeout", timeout,
			  sizeof(timeout)) < 0)
		snprintf(timeout, sizeof(timeout), "3");
	c = open_memstream(&cfg, &len);
	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	fprintf(c, OURS ": written from the boot partition; 'earlyfs' "
		"commands change it\n"
		"serial --unit=0 --speed=115200\n"
		"terminal_input serial console\n"
		"terminal_output serial console\n"
		"set timeout=%s\nset default=earlyfs\n"
		"set envfile=${config_directory}/grubenv\n"
		"load_env -f ${envfile}\n"
		"if [ \"${next_entry}\" ]; then\n"
		"\tset default=\"${next_entry}\"\n"
		"\tset next_entry=\n"
		"\tsave_env -f ${envfile} next_entry\n"
		"fi\n"
		"search --no-floppy --fs-uuid --set=root %s\n", timeout, uuid);
	entries(c, m, NULL);
	if (fclose(c) != 0 || !cfg) {
		free(cfg);
		return err_set(e, EXIT_FAILED, "out of memory");
	}
	snprintf(path, sizeof(path), "%s/grub.cfg", dir_of(s));
	r = espfiles_text(f, path, "%s", cfg);
	free(cfg);
	return r < 0 ? err_setr(e, r, EXIT_FAILED, "out of memory") : 0;
}

static int need(struct loader_site *s, const struct bootmenu *m,
		uint64_t *ret, struct err *e)
{
	int r;

	if (on_host(s)) {
		char *text;

		r = host_differs(s, m, &text, e);
		if (r >= 0) {
			r = r || !host_cfg_has(m);
			*ret = r ? strlen(text) + 4096 : 0;
		}
		free(text);
		return r;
	}
	return espfiles_need_menu(files, s, m, ret, e);
}

static int export(struct loader_site *s, const struct bootmenu *m, FILE *out,
		  struct err *e)
{
	if (on_host(s))
		return host_export(s, m, out, e);
	return espfiles_write_menu(files, s, m, out, e);
}

static int put_host(struct loader_site *s, const char *path, const char *src,
		    struct err *e)
{
	int fd = open(src, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s (install "
				"shim-signed and grub-efi-amd64-signed)", src,
				strerror(errno));
	r = esp_put(&s->esp, path, fd, NULL, 0);
	close(fd);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write %s to %s: %s",
				path, s->esp.shown, strerror(-r));
	return 0;
}

/* The first 512-byte sector free for GRUB's core image (after the MBR,
 * or after GPT's header and entries) and how many there are. */
static int pc_gap(const struct target *t, uint64_t *ret_lba,
		  uint64_t *ret_n, struct err *e)
{
	uint64_t first, start = t->table == TABLE_GPT ? 34 : 1;
	int r = fdisk_first_lba(t->disk, &first, e);

	if (r < 0)
		return r;
	*ret_lba = start;
	*ret_n = first > start && first != UINT64_MAX ? first - start : 0;
	return 0;
}

/* GRUB's core image for this partition: its modules built in (nothing
 * read from a /grub/i386-pc), a config that finds the partition by its
 * UUID and reads /grub/grub.cfg there.  malloc'ed, padded to sectors. */
static int pc_core(struct loader_site *s, char **ret, size_t *ret_len,
		   struct err *e)
{
	char uuid[64], cfg[PATH_MAX], img[PATH_MAX], errbuf[512], text[256];
	char *argv[] = { "grub-mkimage", "-O", "i386-pc", "-o", img, "-c",
			 cfg, "-p", PC_DIR, "biosdisk", "part_msdos",
			 "part_gpt", "ext2", "search", "search_fs_uuid", "normal",
			 "linux", "configfile", "loadenv", "test", "echo",
			 "serial", "terminal", "sleep", NULL };
	size_t len;
	int r;

	if (boot_uuid(s->b->fd, uuid, sizeof(uuid)) < 0)
		return err_set(e, EXIT_FAILED, "no boot_uuid= in etc/earlyfs."
			       "conf");
	r = host_mkstemp("earlyfs-grub-cfg", cfg, sizeof(cfg));
	if (r >= 0) {
		close(r);
		snprintf(text, sizeof(text), "search --no-floppy --fs-uuid "
			 "--set=root %s\nset prefix=($root)" PC_DIR "\n", uuid);
		r = host_write_text(cfg, text, 0600);
	}
	if (r >= 0 && (r = host_mkstemp("earlyfs-grub-core", img,
					sizeof(img))) >= 0)
		close(r);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot make a temporary "
				"file: %s", strerror(-r));
	r = run_cmd(argv, errbuf, sizeof(errbuf));
	if (r != 0)
		r = err_set(e, EXIT_FAILED, "grub-mkimage failed (%d): %s "
			    "(install grub-pc-bin)", r, errbuf);
	else if ((r = read_file(img, 1 << 20, ret, &len)) < 0)
		err_setr(e, r, EXIT_FAILED, "%s: %s", img, strerror(-r));
	unlink(cfg);
	unlink(img);
	if (r < 0)
		return r;
	*ret_len = (len + 511) / 512 * 512;
	if (*ret_len != len) {
		char *p = realloc(*ret, *ret_len);

		if (!p) {
			free(*ret);
			return err_set(e, EXIT_FAILED, "out of memory");
		}
		memset(p + len, 0, *ret_len - len);
		*ret = p;
	}
	return 0;
}

/* GRUB's boot sector (440 bytes: the table and disk signature stay) and
 * its core image in the gap, as grub-bios-setup places them: the boot
 * sector names the core's first sector, the core's first sector (GRUB's
 * diskboot) the rest, loaded at 0x820:0. */
static int install_pc(struct loader_site *s, FILE *out, struct err *e)
{
	const struct target *t = &s->b->t;
	uint64_t lba, n, v64;
	uint16_t v16;
	static const char zero[512];
	char boot[512], *core = NULL, gap[512];
	size_t len = 0, i;
	int fd, r;

	r = pc_gap(t, &lba, &n, e);
	if (r == 0)
		r = pc_core(s, &core, &len, e);
	if (r < 0)
		return r;
	if (len / 512 > n) {
		free(core);
		return err_set(e, EXIT_REFUSED, "GRUB's core image (%zu sectors) "
			       "does not fit before the first partition of %s "
			       "(%llu sectors free)", len / 512, t->disk,
			       (unsigned long long)n);
	}
	fd = open(GRUB_PC_DIR "/boot.img", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, boot, sizeof(boot)) != (ssize_t)sizeof(boot)) {
		if (fd >= 0)
			close(fd);
		free(core);
		return err_set(e, EXIT_FAILED, GRUB_PC_DIR "/boot.img: cannot "
			       "read it (install grub-pc-bin)");
	}
	close(fd);
	v64 = lba;				/* boot.img's kernel sector */
	for (i = 0; i < 8; i++)
		boot[0x5c + i] = (char)(v64 >> (8 * i));
	boot[0x66] = boot[0x67] = (char)0x90;	/* the drive check, off */
	v64 = lba + 1;				/* diskboot's block list */
	v16 = (uint16_t)(len / 512 - 1);
	for (i = 0; i < 8; i++)
		core[0x1f4 + i] = (char)(v64 >> (8 * i));
	core[0x1fc] = (char)(v16 & 0xff);
	core[0x1fd] = (char)(v16 >> 8);
	core[0x1fe] = 0x20;			/* segment 0x820 */
	core[0x1ff] = 0x08;
	fd = open(t->disk, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		free(core);
		return err_setr(e, -errno, EXIT_FAILED, "cannot open %s: %s",
				t->disk, strerror(errno));
	}
	/* the gap holds nothing, or GRUB's core from before */
	for (i = 0; i < len / 512 && r == 0; i++) {
		if (pread(fd, gap, 512, (off_t)((lba + i) * 512)) != 512)
			r = -EIO;
		else if (i == 0 && !memcmp(gap, core, 0x100))
			break;
		else if (memcmp(gap, zero, 512))
			r = -EEXIST;
	}
	if (r == 0 && (pwrite(fd, core, len, (off_t)(lba * 512)) !=
		       (ssize_t)len ||
		       pwrite(fd, boot, 440, 0) != 440 || fsync(fd) < 0))
		r = errno ? -errno : -EIO;
	close(fd);
	free(core);
	if (r == -EEXIST)
		return err_set(e, EXIT_REFUSED, "sector %llu of %s, in the gap "
			       "before the first partition where GRUB's core "
			       "image goes, holds data that is not GRUB's; "
			       "nothing written", (unsigned long long)(lba + i),
			       t->disk);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write GRUB to %s: %s",
				t->disk, strerror(-r));
	fprintf(out, " (BIOS: boot.img and a %zu-sector core image in "
		"sectors %llu-%llu of %s)", len / 512,
		(unsigned long long)lba,
		(unsigned long long)(lba + len / 512 - 1), t->disk);
	return 0;
}

static int install(struct loader_site *s, FILE *out, struct err *e)
{
	static const char *const from[] = { SHIM, GRUB_EFI, MOKMANAGER };
	static const char *const to[] = { EFI_DIR "/BOOTX64.EFI",
					  EFI_DIR "/grubx64.efi",
					  EFI_DIR "/mmx64.efi" };
	char env[ENVBLK_SIZE], path[64];
	size_t i;
	int r;

	r = loader_esp(s, e);
	if (r < 0)
		return r;
	if (on_host(s)) {
		if (!loader_grub_here())
			return err_set(e, EXIT_REFUSED, "this machine's GRUB is "
				       "not here (" LOADER_GRUBD_DIR ", "
				       HOST_CFG " and update-grub or "
				       "grub-mkconfig): install it, or give "
				       "--esp for earlyfs's own GRUB");
		fprintf(out, " (this machine's: its entries after the "
			"distribution's, from " LOADER_GRUBD_DIR HOST_SCRIPT
			")");
		return 0;
	}
	if (on_pc(s)) {
		if (!s->b->disk_known)
			return err_set(e, EXIT_REFUSED, "GRUB on BIOS is "
				       "installed by provision, which knows "
				       "the disk");
		r = install_pc(s, out, e);
	} else {
		r = esp_mkdirs(&s->esp, EFI_DIR);
		for (i = 0; i < 3 && r == 0; i++)
			r = put_host(s, to[i], from[i], e);
		if (r == 0)
			fprintf(out, " (UEFI: Debian's signed shim and GRUB as "
				EFI_DIR "/BOOTX64.EFI on %s)", s->esp.shown);
	}
	if (r < 0)
		return r;
	envblk(env, NULL);
	snprintf(path, sizeof(path), "%s/grubenv", dir_of(s));
	r = esp_mkdirs(&s->esp, dir_of(s));
	if (r == 0)
		r = esp_put(&s->esp, path, -1, env, sizeof(env));
	return r < 0 ? err_setr(e, r, EXIT_FAILED, "cannot write %s: %s", path,
				strerror(-r)) : 0;
}

/* grubenv's next_entry: grub.cfg takes it as the default once and
 * clears it (save_env). */
static int once(struct loader_site *s, const struct bootmenu *m,
		const struct bootmenu_entry *x, FILE *out, struct err *e)
{
	char env[ENVBLK_SIZE], path[64];
	int r = loader_esp(s, e);

	if (r < 0)
		return r;
	if (on_host(s)) {
		/* the machine's grubenv, through its own tool */
		char *argv[] = { "grub-reboot", (char *)x->id, NULL };
		char errbuf[256];

		if (!host_cfg_has(m))
			return err_set(e, EXIT_FAILED, HOST_CFG " does not hold "
				       "earlyfs's entries: 'earlyfs loader sync' "
				       "runs update-grub");
		r = run_cmd(argv, errbuf, sizeof(errbuf));
		if (r != 0)
			return err_setr(e, r < 0 ? r : -EIO, EXIT_FAILED,
					"grub-reboot %s failed: %s", x->id,
					r < 0 ? strerror(-r) : errbuf);
		fprintf(out, "earlyfs: the next boot, and only that one, takes "
			"entry %s (grub-reboot: grubenv's next_entry)\n",
			x->id);
		return 0;
	}
	r = boot_writable(s->b, e);
	if (r < 0)
		return r;
	envblk(env, x->id);
	snprintf(path, sizeof(path), "%s/grubenv", dir_of(s));
	r = esp_put(&s->esp, path, -1, env, sizeof(env));
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write %s on %s: %s",
				path, s->esp.shown, strerror(-r));
	if (on_pc(s))
		boot_sync(s->b);
	fprintf(out, "earlyfs: the next boot, and only that one, takes entry "
		"%s (grubenv's next_entry)\n", x->id);
	return 0;
}

static void status(struct loader_site *s, FILE *out)
{
	char path[64], *env = NULL, v[128];
	struct err e;
	size_t len = 0;

	if (loader_esp(s, &e) < 0) {
		fprintf(out, ", %s", e.msg);
		return;
	}
	if (on_host(s)) {
		int fd = open("/boot/grub/grubenv", O_RDONLY | O_CLOEXEC);

		fprintf(out, " (this machine's), " LOADER_GRUBD_DIR HOST_SCRIPT
			" into " HOST_CFG);
		if (fd >= 0 && read_fd(fd, ENVBLK_SIZE, &env, &len) == 0 &&
		    kv_get(env, len, "next_entry", v, sizeof(v)) == 0 && v[0])
			fprintf(out, ", the next boot takes %s (once)", v);
		if (fd >= 0)
			close(fd);
		free(env);
		return;
	}
	fprintf(out, " (%s), %s/grub.cfg on %s", on_pc(s) ? "BIOS" : "UEFI",
		dir_of(s), s->esp.shown);
	snprintf(path, sizeof(path), "%s/grubenv", dir_of(s));
	if (esp_read(&s->esp, path, ENVBLK_SIZE, &env, &len) == 0 &&
	    kv_get(env, len, "next_entry", v, sizeof(v)) == 0 && v[0])
		fprintf(out, ", the next boot takes %s (once)", v);
	free(env);
}

static void check(struct loader_site *s, const struct bootmenu *m, FILE *out,
		  unsigned *ret)
{
	struct err e;

	if (loader_esp(s, &e) == 0 && on_host(s)) {
		char *text;
		int differs = host_differs(s, m, &text, &e);

		if (differs < 0) {
			fprintf(out, "%s\n", e.msg);
			(*ret)++;
		} else if (differs) {
			fprintf(out, LOADER_GRUBD_DIR HOST_SCRIPT " is missing "
				"or not what the boot partition says; 'earlyfs "
				"loader sync' writes it\n");
			(*ret)++;
		} else if (!host_cfg_has(m)) {
			fprintf(out, HOST_CFG " does not hold earlyfs's "
				"entries: update-grub has not run since "
				LOADER_GRUBD_DIR HOST_SCRIPT " was written "
				"('earlyfs loader sync' runs it)\n");
			(*ret)++;
		}
		free(text);
		return;
	}
	*ret += espfiles_check_menu(files, s, m, out);
}

static int remove_all(struct loader_site *s, FILE *out, struct err *e)
{
	char path[64];

	if (on_host(s)) {
		int r = unlink(LOADER_GRUBD_DIR HOST_SCRIPT) < 0 ? -errno : 0;

		if (r < 0 && r != -ENOENT)
			return err_setr(e, r, EXIT_FAILED, "cannot remove "
					LOADER_GRUBD_DIR HOST_SCRIPT ": %s",
					strerror(-r));
		if (r == 0)
			fprintf(out, "earlyfs: removed " LOADER_GRUBD_DIR
				HOST_SCRIPT "\n");
		r = host_fstab(false, NULL, out, e);
		return r < 0 ? r : update_grub(out, e);
	}

	snprintf(path, sizeof(path), "%s/grub.cfg", dir_of(s));
	if (esp_remove(&s->esp, path) == 0)
		fprintf(out, "earlyfs: removed %s from %s\n", path,
			s->esp.shown);
	return 0;
}

/* Before anything is written: BIOS needs room for the core image. */
static int precheck(const struct target *t, const char *esp_spec,
		    struct err *e)
{
	uint64_t lba, n;
	int r;

	if (strcmp(esp_spec, LOADER_ESP_BOOT))
		return 0;
	r = pc_gap(t, &lba, &n, e);
	if (r == 0 && n < 256)
		r = err_set(e, EXIT_REFUSED, "GRUB on BIOS needs about 300 "
			    "sectors before the first partition of %s for its "
			    "core image, and there are %llu", t->disk,
			    (unsigned long long)n);
	return r;
}

const struct loader_ops loader_grub = {
	.name = "grub", .esp = true, .uefi = true, .bios = true,
	.precheck = precheck, .need = need, .export = export,
	.install = install, .remove = remove_all, .once = once,
	.status = status, .check = check,
};
