/* loader.h: the boot loader a partition boots through, one backend each
 *
 * The partition's boot entries are data: one menu (bootmenu.h) made from
 * its state (etc/earlyfs.conf's options, etc/earlyfs.kernels, the
 * generation before), rendered by the backend etc/earlyfs.conf's
 * bootloader= names (extlinux when absent).  extlinux's file is on the
 * partition and a member of each generation; the EFI loaders' files are
 * on the ESP, a FAT file system outside the generations: exported after a
 * change's commit point, idempotently, and exported again by recovery.
 * Nothing outside this room knows a loader's file format.
 */
#ifndef EARLYFS_LOADER_H
#define EARLYFS_LOADER_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "base/err.h"
#include "bootmenu.h"
#include "kernlist.h"
#include "target/boot.h"
#include "target/esp.h"

struct loader_site;

struct loader_ops {
	const char *name;
	bool esp;		/* its files are on an ESP (or, esp=boot,
				 * on the boot partition, outside the
				 * generations) */
	bool uefi;		/* boots on UEFI firmware */
	bool bios;		/* boots on BIOS */
	/* Provision, before anything is written: what the disk must have
	 * for it (esp_spec: what esp= will say).  NULL: nothing. */
	int (*precheck)(const struct target *t, const char *esp_spec,
			struct err *e);
	/* Before a change's commit point: the loader's files that are
	 * members of the staged generation (LAYOUT_STAGING), written for
	 * generation prev as 'previous' (0: the staged one).  NULL: none. */
	int (*stage)(struct loader_site *s, unsigned prev, struct err *e);
	/* The loader's generation file for a new kernel list kl (its
	 * default and one entry per ok kernel): 1 with its path and text
	 * (malloc'ed), 0 when the loader keeps none on the partition. */
	int (*kernels_file)(struct loader_site *s, const struct kernlist *kl,
			    const char **ret_rel, char **ret_text,
			    size_t *ret_len, struct err *e);
	/* What export would do: 1 with the bytes it would write to the
	 * ESP, 0 when the ESP is up to date, or -errno with e. */
	int (*need)(struct loader_site *s, const struct bootmenu *m,
		    uint64_t *ret, struct err *e);
	/* The menu where the loader reads it; idempotent. */
	int (*export)(struct loader_site *s, const struct bootmenu *m,
		      FILE *out, struct err *e);
	/* The loader's own files (provision). */
	int (*install)(struct loader_site *s, FILE *out, struct err *e);
	/* On a running machine whose loader was there before: earlyfs's
	 * entry becomes what the machine boots (provision --default).
	 * NULL: the loader is earlyfs's own, its default is earlyfs's. */
	int (*set_default)(struct loader_site *s, FILE *out, struct err *e);
	/* Everything of earlyfs's its export wrote, removed (the loader,
	 * its other entries and the distribution's stay). */
	int (*remove)(struct loader_site *s, FILE *out, struct err *e);
	/* The next boot, and only that one, takes entry. */
	int (*once)(struct loader_site *s, const struct bootmenu *m,
		    const struct bootmenu_entry *entry, FILE *out,
		    struct err *e);
	/* Boot counting: the entry this boot was counted on, if it is
	 * earlyfs's, marked good (a running machine, its real root
	 * reached).  NULL: the loader counts no boots. */
	int (*bless)(struct loader_site *s, FILE *out, struct err *e);
	/* What status says of it after the loader's name: the ESP, the
	 * default, a pending once. */
	void (*status)(struct loader_site *s, FILE *out);
	/* Problems of what the loader reads, against the menu (check). */
	void (*check)(struct loader_site *s, const struct bootmenu *m,
		      FILE *out, unsigned *ret_problems);
};

/* Every backend, NULL-terminated; [0] is extlinux. */
extern const struct loader_ops *const loader_backends[];
const struct loader_ops *loader_by_name(const char *name);

/* A partition and the loader it boots through, with its ESP if it has
 * one (opened when first needed). */
struct loader_site {
	struct boot *b;
	const struct loader_ops *ops;
	char esp_spec[128];	/* etc/earlyfs.conf's esp= */
	bool esp_open;
	struct esp esp;
};

/* The loader of b's live state: 0, or -EINVAL with e filled when
 * bootloader= names none. */
int loader_site_open(struct boot *b, struct loader_site *s, struct err *e);
/* The same from the text of etc/earlyfs.conf (status reads it without
 * mounting; b's fd may be -1 then, b->t and disk_known set). */
int loader_site_conf(struct boot *b, const char *conf, size_t len,
		     struct loader_site *s, struct err *e);
void loader_site_close(struct loader_site *s);
/* earlyfs seal (loader/uki.c): the boot partition's manifest
 * (src/lib/seal.h) in unified kernel images signed on the owner's key,
 * booted by a systemd-boot signed on the same key
 *
 * Each image is systemd's EFI stub with the kernel, the command line, an
 * os-release and an initramfs: the kernel's module stub (if it has one),
 * then this host's earlyfs-init as /init and the manifest.  At boot that
 * init mounts the partition read-only, compares it with the manifest and
 * runs nothing from it unless they agree (src/init/stub.c).  The images
 * are LOADER_UKI_DIR/earlyfs.efi (the default), earlyfs.rescue.efi and
 * earlyfs.previous.efi;
 * their presence on the ESP is what makes the partition sealed for the
 * other commands (loader_sealed()): systemd-boot's type 1 entries and the
 * kernels' copies go.
 */
#define LOADER_UKI_DIR		"/EFI/Linux"
#define LOADER_UKI_DEFAULT	LOADER_UKI_DIR "/earlyfs.efi"
bool loader_sealed(struct loader_site *s);
/* systemd-boot's loader.conf, earlyfs's: the menu's default pattern and
 * the editor, or (sealed) the default image and no editor.  0; 1 when the
 * one there is someone else's (left as it is); -errno with e. */
int loader_sdboot_conf(struct loader_site *s, bool sealed, struct err *e);
/* earlyfs export: the early userspace as one image, for a machine that
 * keeps no partition: the live tree (as a manifest holds it, devices
 * left out) in a newc archive whose /init is the runner, written to cpio
 * (0600: it holds the partition's secrets), or in a unified kernel image
 * with the default kernel and its command line without root=, init= and
 * rootwait, signed (key and cert, or the recorded pair), written to uki.
 * A kernel that needs a module stub has it in front of the archive.  0
 * or -errno with e. */
int loader_export_image(struct loader_site *s, const char *cpio,
			const char *uki, const char *key, const char *cert,
			FILE *out, struct err *e);
#define LOADER_UKI_STUB	"/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

/* Where earlyfs seal records the key and certificate it signed with
 * (key=, cert=): changes on a sealed partition reseal with them.
 * $EARLYFS_SEAL_CONF names another file (tests). */
#define LOADER_SEAL_CONF "/etc/earlyfs/seal.conf"
/* The recorded pair: 0, or -ENOENT when none is. */
int loader_seal_recorded(char *key, size_t kcap, char *cert, size_t ccap);
/* Before a change of a sealed partition: 0 when it can be sealed again
 * after it (a key recorded, still root's alone), or when it is not
 * sealed; 1 when no key is recorded but the change is of the fragments
 * and fstab only (fragments_only): the sealed images run the generation
 * they were sealed with, which it leaves as it was.  Else -EPERM with e
 * saying how, nothing written. */
int loader_seal_ready(struct loader_site *s, bool fragments_only,
		      struct err *e);
/* The generations the sealed default and previous images run (0: none),
 * from LOADER_UKI_GENERATIONS ("DEFAULT PREVIOUS", then the previous,
 * rescue and default images' bytes): 0, or -ENOENT when not sealed. */
#define LOADER_UKI_GENERATIONS LOADER_UKI_DIR "/earlyfs.generations"
int loader_sealed_generations(struct loader_site *s, unsigned ret[2]);
/* After a change's commit point on a sealed partition: sealed again with
 * the recorded key (the ESP's images replaced); without one, said (the
 * sealed generation boots on), 0. */
int loader_reseal(struct loader_site *s, unsigned prev, FILE *out,
		  struct err *e);
/* A signing tool of seal and enroll (objcopy, sbsign, sbverify, efitools')
 * run with argv: 0, or -errno with e naming the package to install or
 * the tool's own message. */
int loader_tool(char *const argv[], struct err *e);
/* key and cert as given, or (either NULL) as recorded (k, c hold them):
 * 0, or -EINVAL with e filled when none is recorded. */
int loader_seal_key(const char **key, const char **cert, char *k,
		    size_t kcap, char *c, size_t ccap, struct err *e);
/* The signing key root's alone (no group or other bits), off the boot
 * partition and the ESP, and both files there: 0 or -errno with e. */
int loader_key_ok(struct loader_site *s, const char *key, const char *cert,
		  struct err *e);
/* earlyfs enroll (loader/enroll.c): cert appended to this machine's db
 * and KEK and set as its PK, the firmware in setup mode; refused (nothing
 * written) unless the partition is sealed with that certificate (its
 * loader and default image verified with sbverify), the key passes
 * loader_key_ok() and the machine has EFI variables in setup mode.
 * key/cert NULL: the recorded pair.  0 or -errno with e. */
int loader_enroll(struct loader_site *s, const char *key, const char *cert,
		  FILE *out, struct err *e);
/* Whether this machine's firmware starts what cert (PEM) signed: 1 with
 * Secure Boot on and cert in db or in shim's MOK list (or its pending
 * MokNew), where naming which; 0 with Secure Boot on and neither; 2 with
 * Secure Boot off (or in setup mode): anything starts; -errno when it
 * cannot tell (no EFI variables, cert unreadable). */
int loader_firmware_trusts(const char *cert, char *where, size_t cap);
/* earlyfs seal: key and cert (PEM) checked before anything is written (the
 * key a regular file of root's that no one else may read, on neither the
 * boot partition nor the ESP), the images made and signed, then written
 * with the signed loader and a loader.conf without its editor; the pair
 * recorded (LOADER_SEAL_CONF).  key and cert NULL: the recorded ones.
 * The default image runs the newest generation, the previous one prev
 * (0: none), each named on its command line (earlyfs.generation=N) with
 * a manifest of that generation's scope (seal.h): later changes of the
 * fragments and fstab leave them valid.  The rescue image's manifest is
 * of the whole live partition.  0 or -errno with e filled. */
int loader_seal(struct loader_site *s, const char *key, const char *cert,
		unsigned prev, FILE *out, struct err *e);
/* esp= of a loader whose files are on the boot partition itself. */
#define LOADER_ESP_BOOT "boot"
/* esp= of GRUB on the running machine that boots through it already:
 * earlyfs's menu is a script in LOADER_GRUBD_DIR that update-grub runs. */
#define LOADER_ESP_GRUBD "grub.d"
#define LOADER_GRUBD_DIR "/etc/grub.d"
/* This machine boots a GRUB of its own: LOADER_GRUBD_DIR, its grub.cfg
 * and update-grub (or grub-mkconfig) are here. */
bool loader_grub_here(void);
/* The ESP, found from esp= (a PARTUUID of b's disk, or a directory on a
 * running machine): 0 or -errno with e filled. */
int loader_esp(struct loader_site *s, struct err *e);

/* The kept kernels of the state under tree ("" the live partition, or a
 * generation's directory): etc/earlyfs.kernels, or (a partition made
 * before it) the one etc/earlyfs.conf names.  0, or -errno with e. */
int loader_kernels(int dir, const char *tree, struct kernlist *kl,
		   struct err *e);
/* The menu of the state under tree, with 'previous' from generation
 * prev (0: the same kernel as the default).  0, or -errno with e. */
int loader_menu(int dir, const char *tree, unsigned prev, struct bootmenu *m,
		struct err *e);

/* Before a change's commit point: the loader's files of the staged
 * generation written (extlinux.conf's 'previous'), and a staged state
 * whose loader files would not fit on the ESP refused (-ENOSPC, with
 * the numbers; nothing written there).  prev: the generation 'previous'
 * will boot (0: none yet). */
int loader_stage(struct boot *b, unsigned prev, struct err *e);
/* The loader's file for a change of kernels (ops->kernels_file): 1 with
 * it, 0 if there is none, -errno with e. */
int loader_kernels_file(struct boot *b, const struct kernlist *kl,
			const char **ret_rel, char **ret_text, size_t *ret_len,
			struct err *e);
/* After the commit point: the live state's menu exported (the marker
 * that says an export is owed is written first and removed after).
 * 0, or -errno with e filled: the partition's change stands, and
 * recovery exports again. */
int loader_export(struct boot *b, unsigned prev, FILE *out, struct err *e);
/* 'earlyfs loader sync|remove|status|bless' on b (locked by the caller). */
int loader_verb(struct boot *b, const char *what, unsigned prev, FILE *out,
		struct err *e);
/* Recovery: an export owed (its marker) done; 0 if none was. */
int loader_recover(struct boot *b, unsigned prev, FILE *out, struct err *e);
#define LOADER_OWED ".loader-export-owed"

/* The next boot, and only that one, takes the entry id (a label of
 * extlinux.conf); prev: the generation 'previous' boots (the menu is
 * the one a change exports).  b locked by the caller.  0 or -errno
 * with e. */
int loader_once(struct boot *b, const char *id, unsigned prev, FILE *out,
		struct err *e);

/* Secure Boot with the distribution's chain (secure_boot=yes in
 * etc/earlyfs.conf): a kernel must be signed.  0 with the issuer of its
 * signature, or -EPERM with e saying why it would not boot. */
int secureboot_signer(const char *path, char *issuer, size_t cap,
		      struct err *e);
bool secureboot_wanted(int dir);
/* This machine's firmware enforces Secure Boot (its SecureBoot
 * variable). */
bool secureboot_on_here(void);
/* For kernel add: 0 if b does not ask for signed kernels or path is
 * signed (said on out), else -EPERM with e; nothing written. */
int loader_kernel_allowed(struct boot *b, const char *path, FILE *out,
			  struct err *e);

/* check: each kept kernel of a partition that asks for signed ones,
 * signed (one line on out per one that is not); their number. */
unsigned secureboot_check(struct boot *b, FILE *out);

/* Boot counting where the loader has it (systemd-boot): the tries a new
 * default entry gets, boot_tries= of etc/earlyfs.conf (0: none). */
#define LOADER_TRIES_DEFAULT 3
unsigned loader_boot_tries(int dir);

/* Line by line: the words of a command line that are never a boot
 * entry's (a newline, control characters); 0 or -EINVAL. */
int loader_options_ok(const char *s);
#endif
