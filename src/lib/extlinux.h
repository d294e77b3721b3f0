/* extlinux: the labels of an extlinux.conf */
#ifndef EARLYFS_EXTLINUX_H
#define EARLYFS_EXTLINUX_H
#include <stddef.h>

#define EXTLINUX_LABELS_MAX 32

struct extlinux_label {
	char name[64];
	char kernel[256];
	char initrd[256];	/* INITRD: "" or one or more, comma-separated */
	char append[1024];
	size_t line;
};

struct extlinux_conf {
	char default_label[64];
	struct extlinux_label labels[EXTLINUX_LABELS_MAX];
	size_t n;
};

/*
 * Parses DEFAULT, LABEL, KERNEL/LINUX, INITRD and APPEND (keywords in any case;
 * other directives are skipped).  Returns 0, or -EINVAL with *ret_line and
 * *ret_what: KERNEL/APPEND outside a label, a label without a kernel, a
 * DEFAULT naming no label; -E2BIG past the limits.
 */
int extlinux_parse(const char *buf, size_t len, struct extlinux_conf *ret,
		   size_t *ret_line, const char **ret_what);

const struct extlinux_label *extlinux_find(const struct extlinux_conf *c,
					   const char *name);

/* The label that boots the generation before the current one. */
#define EXTLINUX_PREVIOUS "previous"

/* What makes 'previous' boot the generation before the newest: the
 * runner finds which one that is at boot, so a change that leaves the
 * default label as it was leaves this label as it was too. */
#define EXTLINUX_PREVIOUS_WORD "earlyfs.generation=previous"

/*
 * Rewrites a configuration so that its 'previous' label, wherever it was,
 * is dropped and written again as the last label: from's KERNEL, INITRD
 * (a module stub) and APPEND with EXTLINUX_PREVIOUS_WORD (any earlier
 * earlyfs.generation= removed).
 * Everything else is kept byte for byte.  Returns the new length, or
 * -E2BIG if it does not fit in cap.
 */
int extlinux_set_previous(const char *buf, size_t len,
			  const struct extlinux_label *from, char *out,
			  size_t cap);

/* The label of each kernel kept on the partition: "earlyfs-VERSION". */
#define EXTLINUX_KERNEL_PREFIX "earlyfs-"

/*
 * Rewrites a configuration for the kernels of a partition: the KERNEL
 * lines of the 'earlyfs' and 'rescue' labels name /vmlinuz-DEF (and their
 * INITRD lines go, or name def_initrd), every "earlyfs-*" label is
 * dropped, and one is written after the rest for each of versions[0..n)
 * (KERNEL /vmlinuz-V, INITRD initrds[i] unless NULL, the 'earlyfs'
 * label's APPEND without earlyfs.generation=).  Everything else is kept
 * byte for byte.
 * Returns the new length, -EINVAL if there is no 'earlyfs' label, or
 * -E2BIG if it does not fit in cap.
 */
int extlinux_set_kernels(const char *buf, size_t len, const char *def,
			 const char *def_initrd, const char *const *versions,
			 const char *const *initrds, size_t n, char *out,
			 size_t cap);
#endif
