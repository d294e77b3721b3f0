/* uki: earlyfs seal (uki.h) */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "base/host.h"
#include "base/mounts.h"
#include "base/run.h"
#include "cpio.h"
#include "kv.h"
#include "loader/loader.h"
#include "seal.h"

#define SDBOOT_EFI "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
#define LOADER_CONF "/loader/loader.conf"
#define KERNEL_MAX (256u << 20)
#define INITRD_MAX (256u << 20)

static const char *conf_path(void)
{
	const char *p = getenv("EARLYFS_SEAL_CONF");

	return p && *p ? p : LOADER_SEAL_CONF;
}

int loader_seal_recorded(char *key, size_t kcap, char *cert, size_t ccap)
{
	char *t = NULL;
	size_t l;
	int r = read_regular(conf_path(), 4096, &t, &l);

	if (r == 0 && (kv_get(t, l, "key", key, kcap) < 0 ||
		       kv_get(t, l, "cert", cert, ccap) < 0 || !key[0] ||
		       !cert[0]))
		r = -ENOENT;
	free(t);
	return r < 0 ? -ENOENT : 0;
}

static int record(const char *key, const char *cert, struct err *e)
{
	char text[8400], k[4096], c[4096];
	const char *p = conf_path(), *slash = strrchr(p, '/');
	int n;

	if (!realpath(key, k) || !realpath(cert, c))
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s",
				realpath(key, k) ? cert : key, strerror(errno));
	if (strpbrk(k, "\n") || strpbrk(c, "\n"))
		return err_set(e, EXIT_USAGE, "a key or certificate path with a "
			       "newline cannot be recorded");
	if (slash && slash != p) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - p), p);
		mkdir(dir, 0755);
	}
	n = snprintf(text, sizeof(text), "# earlyfs seal: the key changes on a "
		     "sealed partition reseal with\nkey=%s\ncert=%s\n", k, c);
	n = atomic_write_file(p, text, (size_t)n, 0600);
	if (n < 0)
		return err_setr(e, n, EXIT_FAILED, "cannot write %s: %s", p,
				strerror(-n));
	return 0;
}

/* A PEM key that asks for a passphrase (PKCS#8's ENCRYPTED PRIVATE KEY,
 * or the traditional Proc-Type: 4,ENCRYPTED header). */
static bool key_encrypted(const char *key)
{
	char *t = NULL;
	size_t l;
	bool enc = read_regular(key, 64 << 10, &t, &l) == 0 &&
		   (memmem(t, l, "ENCRYPTED PRIVATE KEY", 21) ||
		    memmem(t, l, "Proc-Type: 4,ENCRYPTED", 22));

	free(t);
	return enc;
}

int loader_key_ok(struct loader_site *s, const char *key, const char *cert,
		  struct err *e)
{
	struct stat st, at;

	if (stat(key, &st) < 0)
		return err_setr(e, -errno, EXIT_USAGE, "--key %s: %s", key,
				strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, EXIT_USAGE, "--key %s is not a file", key);
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return err_set(e, EXIT_REFUSED, "the signing key %s is mode "
			       "%04o, owner uid %u: anyone who can read it can "
			       "sign a boot partition this machine runs; make "
			       "it root's alone (chown root %s; chmod 600 %s)",
			       key, (unsigned)(st.st_mode & 07777),
			       (unsigned)st.st_uid, key, key);
	if ((fstat(s->b->fd, &at) == 0 && at.st_dev == st.st_dev) ||
	    (s->esp.dir >= 0 && fstat(s->esp.dir, &at) == 0 &&
	     at.st_dev == st.st_dev))
		return err_set(e, EXIT_REFUSED, "the signing key %s is on the "
			       "boot partition or the ESP, which anyone with "
			       "the disk reads: keep it on the root file "
			       "system (root's, 0600) or off the machine", key);
	if (key_encrypted(key))
		return err_set(e, EXIT_REFUSED, "the signing key %s is "
			       "encrypted: every change on a sealed partition "
			       "(the kernel hooks, earlyfsd) signs again with "
			       "no one at a terminal to give the passphrase; "
			       "give the key without it (openssl pkey -in %s "
			       "-out KEY.plain; root's, 0600), kept off the "
			       "machine if it must not stay there", key, key);
	if (stat(cert, &st) < 0)
		return err_setr(e, -errno, EXIT_USAGE, "--cert %s: %s", cert,
				strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, EXIT_USAGE, "--cert %s is not a file", cert);
	return 0;
}

/* The first free address after the stub's image, for the sections
 * objcopy adds (PE32+: ImageBase and SizeOfImage). */
static int stub_end(uint64_t *ret, struct err *e)
{
	char *b = NULL;
	size_t l;
	uint32_t pe;
	uint64_t base = 0;
	int r = read_file(LOADER_UKI_STUB, 4 << 20, &b, &l);

	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "%s: %s (install "
				"systemd-boot-efi)", LOADER_UKI_STUB, strerror(-r));
	memcpy(&pe, b + (l > 0x40 ? 0x3c : 0), 4);
	if (l < 0x40 || pe > l - 24 - 60 || memcmp(b + pe, "PE\0\0", 4) ||
	    (unsigned char)b[pe + 24] != 0x0b || b[pe + 25] != 2) {
		free(b);
		return err_set(e, EXIT_FAILED, "%s is not a PE32+ image",
			       LOADER_UKI_STUB);
	}
	memcpy(&base, b + pe + 24 + 24, 8);
	memcpy(&pe, b + pe + 24 + 56, 4);	/* SizeOfImage */
	free(b);
	*ret = base + pe;
	return 0;
}

static int put_file(const char *dir, const char *name, const void *data,
		    size_t len, char *ret, size_t cap)
{
	snprintf(ret, cap, "%s/%s", dir, name);
	return atomic_write_file(ret, data, len, 0600);
}

/* rel's bytes on the partition (no link followed), at most max. */
static int partition_file(struct loader_site *s, const char *rel, size_t max,
			  char **ret, size_t *ret_len, struct err *e)
{
	int r = beneath_read(s->b->fd, rel, max, ret, ret_len);

	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "%s on the boot partition: "
				"%s", rel, strerror(-r));
	return 0;
}

/* x's module stub, if it has one, padded to 4 bytes: the front of an
 * initramfs whose next archive is plain (the kernel reads a plain cpio
 * from a 4-byte boundary on). */
static int stub_front(struct loader_site *s, const struct bootmenu_entry *x,
		      FILE *f, struct err *e)
{
	char *stub = NULL;
	size_t sl = 0, pad;
	int r;

	if (!x->initrd[0])
		return 0;
	r = partition_file(s, x->initrd + 1, INITRD_MAX, &stub, &sl, e);
	if (r < 0)
		return r;
	fwrite(stub, 1, sl, f);
	for (pad = (4 - sl % 4) % 4; pad; pad--)
		fputc(0, f);
	free(stub);
	return 1;
}

/* The image's initramfs: the module stub, padded to 4 bytes, then a
 * plain cpio with this host's earlyfs-init as /init and the manifest
 * (the later archive's /init replaces the stub's). */
static int initrd(struct loader_site *s, const struct bootmenu_entry *x,
		  const char *manifest, size_t mlen, char **ret,
		  size_t *ret_len, struct err *e)
{
	char *init = NULL;
	size_t il;
	unsigned ino = 1;
	FILE *f;
	int r;

	r = read_file(host_init_binary(), 4 << 20, &init, &il);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "%s: %s",
				host_init_binary(), strerror(-r));
	f = open_memstream(ret, ret_len);
	if (!f) {
		free(init);
		return err_set(e, EXIT_FAILED, "out of memory");
	}
	r = stub_front(s, x, f, e);
	if (r >= 0) {
		cpio_entry(f, &ino, "init", S_IFREG | 0755, init, il);
		cpio_entry(f, &ino, SEAL_MANIFEST + 1, S_IFREG | 0400,
			   manifest, mlen);
		cpio_entry(f, &ino, "TRAILER!!!", 0, NULL, 0);
	}
	free(init);
	if (fclose(f) != 0 && r >= 0)
		r = err_set(e, EXIT_FAILED, "out of memory");
	if (r < 0) {
		free(*ret);
		*ret = NULL;
	}
	return r < 0 ? r : 0;
}

int loader_tool(char *const argv[], struct err *e)
{
	static const char *const pkg[][2] = {
		{ "objcopy", "binutils" },
		{ "cert-to-efi-sig-list", "efitools" },
		{ "sign-efi-sig-list", "efitools" },
	};
	const char *from = "sbsigntool";	/* sbsign, sbverify */
	char why[512] = "";
	size_t i;
	int r = run_cmd(argv, why, sizeof(why));

	for (i = 0; i < sizeof(pkg) / sizeof(pkg[0]); i++)
		if (!strcmp(argv[0], pkg[i][0]))
			from = pkg[i][1];
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot run %s: %s (install "
				"%s)", argv[0], strerror(-r), from);
	if (r > 0)
		return err_set(e, EXIT_FAILED, "%s failed: %s", argv[0],
			       why[0] ? why : "no message");
	return 0;
}

static int sign(const char *key, const char *cert, const char *in,
		const char *outp, struct err *e)
{
	char *argv[] = { "sbsign", "--key", (char *)key, "--cert",
			 (char *)cert, "--output", (char *)outp, (char *)in,
			 NULL };

	return loader_tool(argv, e);
}

/* x's image in dir/name.efi, signed: its initramfs the module stub and
 * the manifest (initrd()), or given (ird_given, il_given). */
static int build(struct loader_site *s, const struct bootmenu_entry *x,
		 const char *manifest, size_t mlen, const char *ird_given,
		 size_t il_given, const char *key, const char *cert,
		 const char *dir, const char *name, struct err *e)
{
	char osrel[512], p_os[4200], p_cmd[4200], p_lin[4200], p_ini[4200],
	     p_un[4200], p_out[4200], vma[4][64], sec[4][4300];
	char *kernel = NULL, *ird = NULL;
	size_t kl, il, sizes[4];
	uint64_t at = 0;
	int r, n;

	r = stub_end(&at, e);
	if (r == 0)
		r = partition_file(s, x->kernel + 1, KERNEL_MAX, &kernel, &kl, e);
	if (r == 0 && ird_given) {
		ird = malloc(il_given ? il_given : 1);
		if (!ird)
			r = err_set(e, EXIT_FAILED, "out of memory");
		else
			memcpy(ird, ird_given, il = il_given);
	} else if (r == 0) {
		r = initrd(s, x, manifest, mlen, &ird, &il, e);
	}
	n = snprintf(osrel, sizeof(osrel), "NAME=earlyfs\nID=earlyfs\n"
		     "PRETTY_NAME=\"%s (%s)\"\nVERSION_ID=%s\n", x->title,
		     ird_given ? "exported" : "sealed", x->version);
	if (r == 0 && (put_file(dir, "osrel", osrel, (size_t)n, p_os,
				sizeof(p_os)) < 0 ||
		       put_file(dir, "cmdline", x->options, strlen(x->options),
				p_cmd, sizeof(p_cmd)) < 0 ||
		       put_file(dir, "linux", kernel, kl, p_lin,
				sizeof(p_lin)) < 0 ||
		       put_file(dir, "initrd", ird, il, p_ini,
				sizeof(p_ini)) < 0))
		r = err_set(e, EXIT_FAILED, "cannot write in %s", dir);
	if (r == 0) {
		static const char *const names[] = { ".osrel", ".cmdline",
						     ".initrd", ".linux" };
		const char *paths[] = { p_os, p_cmd, p_ini, p_lin };
		char *argv[20];
		int a = 0;

		sizes[0] = (size_t)n;
		sizes[1] = strlen(x->options);
		sizes[2] = il;
		sizes[3] = kl;
		argv[a++] = "objcopy";
		for (int i = 0; i < 4; i++) {
			at = (at + 0xfff) & ~(uint64_t)0xfff;
			snprintf(sec[i], sizeof(sec[i]), "%s=%s", names[i],
				 paths[i]);
			snprintf(vma[i], sizeof(vma[i]), "%s=0x%llx", names[i],
				 (unsigned long long)at);
			argv[a++] = "--add-section";
			argv[a++] = sec[i];
			argv[a++] = "--change-section-vma";
			argv[a++] = vma[i];
			at += sizes[i];
		}
		snprintf(p_un, sizeof(p_un), "%s/%s.unsigned", dir, name);
		argv[a++] = LOADER_UKI_STUB;
		argv[a++] = p_un;
		argv[a] = NULL;
		r = loader_tool(argv, e);
	}
	free(kernel);
	free(ird);
	snprintf(p_out, sizeof(p_out), "%s/%s.efi", dir, name);
	if (r == 0)
		r = sign(key, cert, p_un, p_out, e);
	return r;
}

static int put_esp(struct loader_site *s, const char *dir, const char *name,
		   const char *at, struct err *e)
{
	char p[4200];
	int fd, r;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s", p,
				strerror(errno));
	r = esp_mkdirs(&s->esp, at[1] == 'l' ? "/loader" :
		       !strncmp(at, "/EFI/BOOT", 9) ? "/EFI/BOOT" :
		       !strncmp(at, "/EFI/systemd", 12) ? "/EFI/systemd" :
		       LOADER_UKI_DIR);
	if (r == 0)
		r = esp_put(&s->esp, at, fd, NULL, 0);
	close(fd);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write %s to the ESP "
				"(%s): %s", at, s->esp.shown, strerror(-r));
	return 0;
}

/* loader.conf: the sealed default, no editor (a signed image ignores a
 * command line given at the menu; the editor would only mislead). */
static int loader_conf(struct loader_site *s, FILE *out, struct err *e)
{
	int r = loader_sdboot_conf(s, true, e);

	if (r == 1)
		fprintf(out, "earlyfs: " LOADER_CONF " is not earlyfs's: set "
			"'editor no' and 'default earlyfs.efi' there\n");
	return r < 0 ? r : 0;
}

/* The images, the default last: its presence is what says sealed. */
enum { IMG_PREVIOUS, IMG_RESCUE, IMG_DEFAULT, IMGS };
static const char *const img_name[IMGS] = { "earlyfs.previous",
					    "earlyfs.rescue", "earlyfs" };

/* The boot partition's own file system, what the sealed boot reads: a
 * copy of its mount without the mounts inside it (the ESP on efi/ of a
 * running machine is its empty directory there, as at boot).  An fd, or
 * -errno with e. */
static int partition_alone(struct loader_site *s, struct err *e)
{
	int fd = mounts_alone(s->b->fd);

	if (fd < 0)
		return err_setr(e, fd, EXIT_FAILED, "cannot read the boot "
				"partition without the mounts inside it "
				"(open_tree, Linux 5.2): %s", strerror(-fd));
	return fd;
}

/* x's image, with the manifest of scope, in dir/name.efi. */
static int image(struct loader_site *s, const struct bootmenu_entry *x,
		 unsigned generation, const char *key, const char *cert,
		 const char *dir, const char *name, size_t *ret_entries,
		 struct err *e)
{
	struct seal_scope scope = { generation };
	char *manifest = NULL;
	size_t mlen;
	int alone = partition_alone(s, e), r;

	if (alone < 0)
		return alone;
	r = seal_scan(alone, &scope, &manifest, &mlen);
	close(alone);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read the boot "
				"partition: %s", strerror(-r));
	*ret_entries = 0;
	for (const char *c = manifest; (c = strchr(c, '\n')); c++)
		(*ret_entries)++;
	(*ret_entries)--;	/* the header */
	r = build(s, x, manifest, mlen, NULL, 0, key, cert, dir, name, e);
	free(manifest);
	return r;
}

/* x's entry running generation g: any earlyfs.generation= word of its
 * command line (the previous entry's "previous", which the next change
 * moves) replaced by g's number; the image's manifest is of that one
 * generation. */
static int scoped_entry(const struct bootmenu_entry *x, unsigned g,
			struct bootmenu_entry *ret)
{
	char word[40];

	*ret = *x;
	snprintf(word, sizeof(word), "earlyfs.generation=%u", g);
	return bootmenu_options_with(x->options, word, ret->options,
				     sizeof(ret->options));
}

/* A file's bytes on FAT, with its last cluster (64 KiB at most). */
#define ON_FAT(n) ((long long)(n) + 65536)

/* Whether the images and the signed loader fit on the ESP as they are
 * written one by one (each beside the file it replaces, until the
 * rename): the images there now as the last seal recorded their sizes
 * (LOADER_UKI_GENERATIONS; measured when it does not say), the loader
 * replaced by one of its size.
 * Type 1 entries that go afterwards are not counted.  0, or -ENOSPC with
 * the numbers, before anything is written. */
static int room(struct loader_site *s, const char *dir,
		const struct bootmenu_entry *const x[IMGS], struct err *e)
{
	unsigned long long old[IMGS] = { 0, 0, 0 };
	unsigned g0, g1;
	long long f, low;
	uint64_t free_b;
	struct stat st;
	char p[4200], *t = NULL;
	size_t l, i;

	if (esp_free_bytes(&s->esp, &free_b) < 0)
		return 0;	/* unknown: the writes say */
	if (esp_read(&s->esp, LOADER_UKI_GENERATIONS, 256, &t, &l) == 0 &&
	    sscanf(t, "%u %u %llu %llu %llu", &g0, &g1, &old[0], &old[1],
		   &old[2]) != 5)
		memset(old, 0, sizeof(old));
	free(t);
	t = NULL;
	/* written before their sizes were kept: measured */
	for (i = 0; i < IMGS; i++) {
		snprintf(p, sizeof(p), LOADER_UKI_DIR "/%s.efi", img_name[i]);
		if (!old[i] && esp_exists(&s->esp, p) &&
		    esp_read(&s->esp, p, 1u << 30, &t, &l) == 0)
			old[i] = l;
		free(t);
		t = NULL;
	}
	f = low = (long long)free_b;
	for (i = 0; i < IMGS + 1; i++) {
		snprintf(p, sizeof(p), "%s/%s.efi", dir,
			 i < IMGS ? img_name[i] : "sd-boot");
		if (i < IMGS && !x[i]) {
			f += ON_FAT(old[i]);
			continue;
		}
		if (stat(p, &st) < 0)
			return err_setr(e, -errno, EXIT_FAILED, "%s: %s", p,
					strerror(errno));
		if (f - ON_FAT(st.st_size) < low)
			low = f - ON_FAT(st.st_size);
		if (i < IMGS)
			f += -ON_FAT(st.st_size) + (old[i] ? ON_FAT(old[i]) : 0);
	}
	if (low >= 0)
		return 0;
	return err_setr(e, -ENOSPC, EXIT_REFUSED, "the ESP (%s) has %llu KiB "
			"free and the sealed images need %llu KiB more; nothing "
			"was written.  Remove kernels ('earlyfs kernel rm') or "
			"files of others from the ESP, or make it larger",
			s->esp.shown, (unsigned long long)(free_b >> 10),
			(unsigned long long)((-low + 1023) >> 10));
}

static int seal(struct loader_site *s, const char *key, const char *cert,
		unsigned prev, FILE *out, struct err *e)
{
	static struct bootmenu m;
	static struct bootmenu_entry scoped[2];
	const struct bootmenu_entry *x[IMGS] = { NULL, NULL, NULL };
	unsigned gen[IMGS] = { 0, 0, 0 };
	unsigned long long size[IMGS];
	char dir[4200], p[4300], at[128], file[64];
	size_t i, entries = 0, ignore;
	int r, n;

	if (strcmp(s->ops->name, "systemd-boot"))
		return err_set(e, EXIT_REFUSED, "this partition boots through "
			       "%s: a sealed boot is signed images that "
			       "systemd-boot (signed too) starts on UEFI; "
			       "provision with --bootloader systemd-boot",
			       s->ops->name);
	r = loader_esp(s, e);
	if (r == 0)
		r = loader_key_ok(s, key, cert, e);
	if (r == 0)
		r = loader_menu(s->b->fd, "", prev, &m, e);
	gen[IMG_DEFAULT] = m.generation;
	gen[IMG_PREVIOUS] = prev != m.generation ? prev : 0;
	for (i = 0; r == 0 && i < m.n; i++)
		if (m.v[i].kind == BOOTMENU_DEFAULT && !x[IMG_DEFAULT] &&
		    scoped_entry(&m.v[i], gen[IMG_DEFAULT], &scoped[0]) == 0)
			x[IMG_DEFAULT] = &scoped[0];
		else if (m.v[i].kind == BOOTMENU_RESCUE && !x[IMG_RESCUE])
			x[IMG_RESCUE] = &m.v[i];
		else if (m.v[i].kind == BOOTMENU_PREVIOUS && gen[IMG_PREVIOUS] &&
			 beneath_exists(s->b->fd, m.v[i].kernel + 1) &&
			 scoped_entry(&m.v[i], gen[IMG_PREVIOUS], &scoped[1]) == 0)
			x[IMG_PREVIOUS] = &scoped[1];
	if (r == 0 && (!gen[IMG_DEFAULT] || !x[IMG_DEFAULT] || !x[IMG_RESCUE]))
		r = err_set(e, EXIT_FAILED, "the boot menu has no default or "
			    "no rescue entry, or the partition no generation");
	if (r < 0)
		return r;
	if ((r = mounts_scratch("earlyfs-seal", dir, sizeof(dir))) < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot make a directory in "
				"$TMPDIR or /tmp: %s", strerror(-r));
	/* everything made and signed before the ESP is touched */
	snprintf(p, sizeof(p), "%s/sd-boot.efi", dir);
	r = sign(key, cert, SDBOOT_EFI, p, e);
	for (i = 0; i < IMGS && r == 0; i++)
		if (x[i])
			r = image(s, x[i], gen[i], key, cert, dir, img_name[i],
				  i == IMG_DEFAULT ? &entries : &ignore, e);
	if (r == 0)
		r = room(s, dir, x, e);
	for (i = 0; i < IMGS; i++) {
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s.efi", dir, img_name[i]);
		size[i] = x[i] && r == 0 && stat(p, &st) == 0 ?
			  (unsigned long long)st.st_size : 0;
	}
	n = snprintf(p, sizeof(p), "%u %u %llu %llu %llu\n", gen[IMG_DEFAULT],
		     x[IMG_PREVIOUS] ? gen[IMG_PREVIOUS] : 0, size[0], size[1],
		     size[2]);
	for (i = 0; i < IMGS && r == 0; i++) {
		if (i == IMG_DEFAULT) {
			r = esp_put(&s->esp, LOADER_UKI_GENERATIONS, -1, p,
				    (size_t)n);
			if (r < 0) {
				r = err_setr(e, r, EXIT_FAILED, "cannot write "
					     LOADER_UKI_GENERATIONS " to the "
					     "ESP: %s", strerror(-r));
				break;
			}
		}
		snprintf(file, sizeof(file), "%s.efi", img_name[i]);
		snprintf(at, sizeof(at), LOADER_UKI_DIR "/%s", file);
		if (x[i])
			r = put_esp(s, dir, file, at, e);
		else if (esp_remove(&s->esp, at) == 0)	/* of another state */
			fprintf(out, "earlyfs: removed %s from the ESP\n", at);
	}
	if (r == 0)
		r = put_esp(s, dir, "sd-boot.efi",
			    "/EFI/systemd/systemd-bootx64.efi", e);
	if (r == 0)
		r = put_esp(s, dir, "sd-boot.efi", "/EFI/BOOT/BOOTX64.EFI", e);
	if (r == 0)
		r = loader_conf(s, out, e);
	host_rm_rf(dir);
	/* systemd-boot's type 1 entries and the kernels' copies go */
	if (r == 0)
		r = s->ops->export(s, &m, out, e);
	if (r < 0)
		return r;
	fprintf(out, "sealed: generation %u, %zu entries of the boot "
		"partition, in %s, earlyfs.rescue.efi", gen[IMG_DEFAULT],
		entries, LOADER_UKI_DEFAULT);
	if (x[IMG_PREVIOUS])
		fprintf(out, " and earlyfs.previous.efi (generation %u)",
			gen[IMG_PREVIOUS]);
	fprintf(out, " on %s, signed with %s; systemd-boot signed too\n",
		s->esp.shown, cert);
	return 0;
}

int loader_seal_key(const char **key, const char **cert, char *k,
		    size_t kcap, char *c, size_t ccap, struct err *e)
{
	if (*key && *cert)
		return 0;
	if (loader_seal_recorded(k, kcap, c, ccap) < 0)
		return err_set(e, EXIT_USAGE, "no key is recorded in %s: give "
			       "--key KEY --cert CERT (PEM; the certificate "
			       "the firmware's db or shim's MOK list holds)",
			       conf_path());
	*key = *key ? *key : k;
	*cert = *cert ? *cert : c;
	return 0;
}

/* On the machine itself: refused while Secure Boot is on and its firmware
 * does not trust cert (the images would not start at the next boot);
 * said when Secure Boot is off. */
static int trusted_here(struct loader_site *s, const char *cert, FILE *out,
			struct err *e)
{
	char where[96];
	int t;

	if (s->b->mounted)	/* a --target: not this machine's */
		return 0;
	t = loader_firmware_trusts(cert, where, sizeof(where));
	if (t == 0)
		return err_set(e, EXIT_REFUSED, "Secure Boot is on and this "
			       "machine's firmware does not trust %s (neither "
			       "its db nor shim's MOK list holds it): the "
			       "sealed images would not start at the next "
			       "boot; enroll it first (earlyfs enroll, the "
			       "firmware in setup mode; or mokutil --import), "
			       "then seal", cert);
	if (t == 1)
		fprintf(out, "earlyfs: %s holds %s\n", where, cert);
	else if (t == 2)
		fprintf(out, "earlyfs: note: Secure Boot is off on this "
			"machine: its firmware starts the sealed images, and "
			"any other; enroll %s (earlyfs enroll) and turn it "
			"on\n", cert);
	return 0;
}

int loader_seal(struct loader_site *s, const char *key, const char *cert,
		unsigned prev, FILE *out, struct err *e)
{
	char k[4096], c[4096];
	int r = loader_seal_key(&key, &cert, k, sizeof(k), c, sizeof(c), e);

	if (r == 0)
		r = trusted_here(s, cert, out, e);
	if (r == 0)
		r = seal(s, key, cert, prev, out, e);
	if (r == 0)
		r = record(key, cert, e);
	return r;
}

int loader_seal_ready(struct loader_site *s, bool fragments_only,
		      struct err *e)
{
	char k[4096], c[4096];
	int r;

	if (!s->ops->esp || strcmp(s->ops->name, "systemd-boot") ||
	    loader_esp(s, e) < 0 || !loader_sealed(s))
		return 0;	/* an ESP it cannot open: the export says */
	if (loader_seal_recorded(k, sizeof(k), c, sizeof(c)) == 0) {
		r = loader_key_ok(s, k, c, e);
		return r < 0 ? -EPERM : 0;
	}
	if (fragments_only)
		return 1;	/* the sealed generation still boots */
	return err_setr(e, -EPERM, EXIT_REFUSED, "the boot partition is "
			"sealed and no key is recorded here (%s): this change "
			"is outside the fragments and fstab, so the sealed "
			"images would refuse the partition and the machine "
			"would not boot; seal it once with 'earlyfs seal --key "
			"KEY --cert CERT' on this machine, then change it",
			conf_path());
}

int loader_sealed_generations(struct loader_site *s, unsigned ret[2])
{
	char *t = NULL;
	size_t l;
	int r;

	ret[0] = ret[1] = 0;
	if (!loader_sealed(s))
		return -ENOENT;
	r = esp_read(&s->esp, LOADER_UKI_GENERATIONS, 64, &t, &l);
	if (r == 0 && sscanf(t, "%u %u", &ret[0], &ret[1]) != 2)
		r = -EINVAL;
	free(t);
	return r;
}

int loader_reseal(struct loader_site *s, unsigned prev, FILE *out,
		  struct err *e)
{
	char k[4096], c[4096];
	unsigned g[2];

	if (loader_seal_recorded(k, sizeof(k), c, sizeof(c)) < 0) {
		loader_sealed_generations(s, g);
		fprintf(out, "earlyfs: not sealed again (no key is recorded in "
			"%s): the machine boots generation %u, the one sealed, "
			"until 'earlyfs seal --key KEY --cert CERT'\n",
			conf_path(), g[0]);
		return 0;
	}
	return seal(s, k, c, prev, out, e);
}

/* ---- earlyfs export: the early userspace without a partition ---- */

#define ARCHIVE_FILE_MAX (256u << 20)

struct archive {
	FILE *f;
	unsigned ino;
	bool has_init;
	size_t entries;
};

/* seal_walk()'s visitor: the entry as the initramfs holds it (devices,
 * FIFOs and sockets are left out: the runner mounts devtmpfs). */
static int archived(void *ctx, int dfd, const char *name, const char *path,
		    size_t plen, const struct stat *st)
{
	static char target[PATH_MAX];
	struct archive *a = ctx;
	char p[PATH_MAX], *data = NULL;
	size_t len = 0;
	int fd, r;

	if (plen == 1 && path[0] == '.')
		return 0;	/* the initramfs's / */
	snprintf(p, sizeof(p), "%.*s", (int)plen, path);
	if (!strcmp(p, "init"))
		a->has_init = true;
	if (S_ISREG(st->st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			    O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = read_regular_fd(fd, ARCHIVE_FILE_MAX, &data, &len);
		close(fd);
		if (r < 0)
			return r;
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));

		if (n < 0 || (size_t)n >= sizeof(target))
			return n < 0 ? -errno : -ENAMETOOLONG;
		data = target;
		len = (size_t)n;
	} else if (!S_ISDIR(st->st_mode)) {
		return 0;
	}
	cpio_entry_owned(a->f, &a->ino, p, st->st_mode, (unsigned)st->st_uid,
			 (unsigned)st->st_gid, data, len);
	if (data != target)
		free(data);
	a->entries++;
	return 0;
}

/* The command line of an image with no partition: the kernel's root=,
 * init= and rootwait go (the initramfs's /init is the runner), and the
 * generation (the archive holds the live fragments). */
static int export_options(char *options, size_t cap)
{
	static const char *const drop[] = { "root=", "init=", "rootwait",
					    "earlyfs.generation=" };

	return bootmenu_options_filter(options, drop, 4, "", options, cap);
}

int loader_export_image(struct loader_site *s, const char *cpio,
			const char *uki, const char *key, const char *cert,
			FILE *out, struct err *e)
{
	static struct bootmenu m;
	static struct bootmenu_entry x;
	struct archive a = { NULL, 1, false, 0 };
	char *bytes = NULL, k[4096], c[4096], dir[4200], p[4300];
	size_t len = 0, i;
	bool with_stub;
	int r, fd, alone;

	if (!cpio == !uki)
		return err_set(e, EXIT_USAGE, "export: give --cpio FILE or "
			       "--uki FILE");
	if (uki && (!key || !cert)) {
		if (loader_seal_recorded(k, sizeof(k), c, sizeof(c)) < 0)
			return err_set(e, EXIT_USAGE, "export --uki: give --key "
				       "KEY --cert CERT (none is recorded in "
				       "%s)", conf_path());
		key = key ? key : k;
		cert = cert ? cert : c;
	}
	r = loader_menu(s->b->fd, "", 0, &m, e);
	for (i = 0; r == 0 && i < m.n; i++)
		if (m.v[i].kind == BOOTMENU_DEFAULT)
			break;
	if (r < 0)
		return r;
	if (i == m.n)
		return err_set(e, EXIT_FAILED, "the boot menu has no default");
	x = m.v[i];
	if (!beneath_exists(s->b->fd, "sbin/earlyfs-init"))
		return err_set(e, EXIT_FAILED, "the partition has no "
			       "sbin/earlyfs-init: 'earlyfs install --refresh'");
	if (uki && (r = loader_key_ok(s, key, cert, e)) < 0)
		return r;
	if (export_options(x.options, sizeof(x.options)) < 0)
		return err_set(e, EXIT_FAILED, "the command line is too long");
	a.f = open_memstream(&bytes, &len);
	if (!a.f)
		return err_set(e, EXIT_FAILED, "out of memory");
	/* a kernel whose drivers are modules: its stub first (the runner
	 * loads its modules, src/init/stub.c) */
	r = stub_front(s, &x, a.f, e);
	if (r < 0) {
		fclose(a.f);
		free(bytes);
		return r;
	}
	with_stub = r == 1;
	r = partition_alone(s, e);
	if (r < 0) {
		fclose(a.f);
		free(bytes);
		return r;
	}
	alone = r;
	r = seal_walk(alone, NULL, archived, &a);
	close(alone);
	if (r == 0 && !a.has_init)
		cpio_entry(a.f, &a.ino, "init", S_IFLNK | 0777,
			   "sbin/earlyfs-init", 17);
	cpio_entry(a.f, &a.ino, "TRAILER!!!", 0, NULL, 0);
	if (fclose(a.f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(bytes);
		return err_setr(e, r, EXIT_FAILED, "cannot read the boot "
				"partition: %s", strerror(-r));
	}
	if (cpio) {
		/* the partition's secrets (an SSH host key) are in it */
		r = atomic_write_file(cpio, bytes, len, 0600);
		free(bytes);
		if (r < 0)
			return err_setr(e, r, EXIT_FAILED, "cannot write %s: %s",
					cpio, strerror(-r));
		fprintf(out, "exported: %zu entries of the boot partition in "
			"%s (a newc archive%s, %zu KiB): boot kernel %s with it "
			"as its initramfs and the command line: %s\n",
			a.entries, cpio, with_stub ? " behind the kernel's module "
			"stub" : "", len / 1024, x.version, x.options);
		return 0;
	}
	if ((r = mounts_scratch("earlyfs-export", dir, sizeof(dir))) < 0) {
		free(bytes);
		return err_setr(e, r, EXIT_FAILED, "cannot make a directory in "
				"$TMPDIR or /tmp: %s", strerror(-r));
	}
	r = build(s, &x, NULL, 0, bytes, len, key, cert, dir, "export", e);
	free(bytes);
	snprintf(p, sizeof(p), "%s/export.efi", dir);
	fd = r < 0 ? -1 : open(p, O_RDONLY | O_CLOEXEC);
	if (r == 0 && fd < 0)
		r = err_setr(e, -errno, EXIT_FAILED, "%s: %s", p,
			     strerror(errno));
	if (r == 0) {
		char *img = NULL;
		size_t il;

		r = read_fd(fd, 1u << 30, &img, &il);
		if (r == 0)
			r = atomic_write_file(uki, img, il, 0600);
		free(img);
		if (r < 0)
			r = err_setr(e, r, EXIT_FAILED, "cannot write %s: %s",
				     uki, strerror(-r));
		else
			fprintf(out, "exported: %zu entries of the boot "
				"partition, kernel %s and the command line "
				"'%s' in %s, signed with %s\n", a.entries,
				x.version, x.options, uki, cert);
	}
	if (fd >= 0)
		close(fd);
	host_rm_rf(dir);
	return r;
}
