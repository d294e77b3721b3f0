/* bootmenu: the boot entries of a partition, whatever loader shows them
 *
 * earlyfs keeps its own menu, made from the partition's state: the
 * default entry ('earlyfs'), 'rescue' (the same kernel, no init=: busybox
 * init runs etc/inittab's shell), 'previous' (the generation before the
 * newest, found by the runner: earlyfs.generation=previous, with that
 * generation's default kernel) and one entry per kept kernel
 * ('earlyfs-VERSION').  Each loader's backend renders it (extlinux.conf's
 * labels, systemd-boot's entries, ...); reading a loader's file back is
 * for checking only.  Pure: no I/O.
 */
#ifndef EARLYFS_BOOTMENU_H
#define EARLYFS_BOOTMENU_H
#include <stdbool.h>
#include <stddef.h>
#include "kernlist.h"

#define BOOTMENU_MAX (KERNLIST_MAX + 3)
#define BOOTMENU_OPTIONS_MAX 1024

enum bootmenu_kind {
	BOOTMENU_DEFAULT, BOOTMENU_RESCUE, BOOTMENU_PREVIOUS, BOOTMENU_KERNEL,
};

struct bootmenu_entry {
	enum bootmenu_kind kind;
	char id[80];		/* earlyfs, rescue, previous, earlyfs-VERSION */
	char title[160];
	char version[KERNLIST_VERSION_MAX + 1];
	char kernel[KERNLIST_VERSION_MAX + 24];	/* /earlyfs-vmlinuz-VERSION */
	char initrd[KERNLIST_VERSION_MAX + 16];	/* "" or /stub-VERSION.img */
	char options[BOOTMENU_OPTIONS_MAX];
};

struct bootmenu {
	struct bootmenu_entry v[BOOTMENU_MAX];
	size_t n;		/* v[0] is the default */
	unsigned generation;	/* the state's generation (0: unknown) */
};

struct bootmenu_input {
	const char *options;		/* the default entry's command line */
	const char *rescue_options;	/* rescue's */
	const struct kernlist *kernels;	/* the kept kernels, the default */
	/* the default kernel of the generation before the newest (what
	 * 'previous' boots); NULL: the same as now */
	const struct kernlist_entry *previous;
	const char *previous_options;	/* its command line; NULL: options */
	const char *name;		/* titles say it: "earlyfs" */
};

/* 0 with the menu, -ENOENT when no kernel passed the check (nothing
 * boots), -E2BIG when an entry's command line is too long. */
int bootmenu_build(const struct bootmenu_input *in, struct bootmenu *ret);
const struct bootmenu_entry *bootmenu_find(const struct bootmenu *m,
					   const char *id);
/* A Boot Loader Specification entry's file name with a boot counter
 * ("NAME+LEFT.conf", "NAME+LEFT-DONE.conf"): 1 with NAME.conf in base,
 * the tries left and done; 0 (base = name) when it has none; -EINVAL for
 * a name that is too long for cap or a counter out of range. */
int bootmenu_bls_counter(const char *name, char *base, size_t cap,
			 unsigned *left, unsigned *done);
/* The most tries a counted entry is given. */
#define BOOTMENU_TRIES_MAX 9

/* The command line's word that makes 'previous' what it is. */
#define BOOTMENU_PREVIOUS_WORD "earlyfs.generation=previous"
/* options with any earlyfs.generation= word dropped and word added: 0, or
 * -E2BIG when it does not fit in cap. */
int bootmenu_options_with(const char *options, const char *word, char *ret,
			  size_t cap);
/* The same with the words that start with any of drop[0..n_drop) dropped
 * and word ("": none) added; ret may be options itself. */
int bootmenu_options_filter(const char *options, const char *const *drop,
			    size_t n_drop, const char *word, char *ret,
			    size_t cap);
#endif
