/* espfiles.h: what an EFI loader's backend puts on the ESP, as one set
 *
 * A backend lists the files its menu needs (loader entries as text, the
 * kernels and module stubs from the boot partition); the set is compared
 * with the ESP's manifest (ESPFILES_DIR/manifest: each file's size and
 * hash as last written), so that an export writes only what changed,
 * never deletes what the new set still names, and says its bytes before
 * writing anything.  The ESP's ESPFILES_DIR/partition names the boot
 * partition the files are from: another's are refused, not overwritten.
 */
#ifndef EARLYFS_ESPFILES_H
#define EARLYFS_ESPFILES_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "base/err.h"
#include "bootmenu.h"
#include "loader/loader.h"

#define ESPFILES_DIR "/earlyfs"
#define ESPFILES_MAX (3 * BOOTMENU_MAX + 8)

struct espfile {
	char path[160];		/* on the ESP */
	char *text;		/* malloc'ed, or NULL: */
	char from[96];		/* a file of the boot partition's top */
	uint64_t size, hash;
	bool todo;		/* to be written */
	/* A loader entry with a boot counter (systemd-boot): written as
	 * NAME+TRIES.conf for path NAME.conf; the loader renames it at
	 * each boot (NAME+LEFT-DONE.conf) and blessing to NAME.conf, so
	 * any of these names is the file while its text is unchanged. */
	unsigned tries;
	char actual[160];	/* its name on the ESP, "" none */
};

struct espfiles {
	struct espfile v[ESPFILES_MAX];
	size_t n;
	/* directories whose files matching a prefix are the set's (stale
	 * ones are removed): "/loader/entries" + "earlyfs" */
	const char *owned_dir[2], *owned_prefix[2];
};

/* A text file of the set (printf-style); 0 or -ENOMEM/-E2BIG. */
int espfiles_text(struct espfiles *f, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A backend's set for menu m (its files()): 0 or -errno with e. */
typedef int espfiles_fill_fn(struct loader_site *s, const struct bootmenu *m,
			     struct espfiles *f, struct err *e);
/* espfiles_need(), espfiles_write() and espfiles_check() of the set fill
 * makes for m (check: a set that cannot be made is one problem). */
int espfiles_need_menu(espfiles_fill_fn *fill, struct loader_site *s,
		       const struct bootmenu *m, uint64_t *ret, struct err *e);
int espfiles_write_menu(espfiles_fill_fn *fill, struct loader_site *s,
			const struct bootmenu *m, FILE *out, struct err *e);
unsigned espfiles_check_menu(espfiles_fill_fn *fill, struct loader_site *s,
			     const struct bootmenu *m, FILE *out);
/* The counted entry path (NAME.conf) as it is named on the ESP now
 * (with or without its counter), in ret: 0, or -ENOENT. */
int espfiles_counted_path(struct loader_site *s, const char *path, char *ret,
			  size_t cap);
/* The last file of the set is a counted entry, given tries. */
void espfiles_count(struct espfiles *f, unsigned tries);
/* ESPFILES_DIR/NAME from the partition's file NAME (a kernel, a stub);
 * once per name.  0, or -errno with e filled (missing, not a file). */
int espfiles_kernel(struct espfiles *f, struct loader_site *s,
		    const char *name, struct err *e);
/* The kernel and initrd of each entry of m, as ESPFILES_DIR's files. */
int espfiles_kernels(struct espfiles *f, struct loader_site *s,
		     const struct bootmenu *m, struct err *e);
void espfiles_free(struct espfiles *f);
/* 1 with the bytes to write, or 0 when the ESP holds the set; -errno. */
int espfiles_need(struct espfiles *f, struct loader_site *s, uint64_t *ret,
		  struct err *e);
/* Writes what differs (each file complete under a temporary name, then
 * renamed), then removes the owned files the set no longer names, then
 * the manifest.  0 or -errno with e filled. */
int espfiles_write(struct espfiles *f, struct loader_site *s, FILE *out,
		   struct err *e);
/* Every owned file removed, the manifest and the owner last. */
int espfiles_remove(struct espfiles *f, struct loader_site *s, FILE *out,
		    struct err *e);
/* The files of the set missing or changed on the ESP, one line each on
 * out; their count. */
unsigned espfiles_check(struct espfiles *f, struct loader_site *s,
			FILE *out);
#endif
