/* layout: where things are on a boot partition, and how large they may be
 *
 * Paths are relative to the partition's root: the runner sees them under
 * "/", the management side under the mounted partition.  Every file of
 * earlyfs names these, never the strings.
 */
#ifndef EARLYFS_LAYOUT_H
#define EARLYFS_LAYOUT_H
#include <stdbool.h>
#include <stddef.h>

#define LAYOUT_INITD		"init.d"
#define LAYOUT_ETC		"etc"
#define LAYOUT_FSTAB		"etc/fstab"
#define LAYOUT_CONF		"etc/earlyfs.conf"	/* what provision made */
#define LAYOUT_EXTLINUX_DIR	"extlinux"
#define LAYOUT_EXTLINUX_CONF	"extlinux/extlinux.conf"
#define LAYOUT_GENERATIONS	"generations"
#define LAYOUT_STAGING		"generations/.new"	/* a change being built */
#define LAYOUT_PRUNED_PREFIX	".old-"			/* generations/.old-N */
#define LAYOUT_GEN_INFO		"info"			/* generations/N/info */
#define LAYOUT_GEN_APPLIED	"applied"		/* generations/N/applied */
#define LAYOUT_DISABLED		".disabled"		/* init.d/NN-name.disabled */
#define LAYOUT_SHELL		"bin/sh"
#define LAYOUT_INSTALLED	"etc/earlyfs.installed"	/* earlyfs install */
/* the installed files: installed -> installed.N (src/admin/installset.h) */
#define LAYOUT_INSTALLED_SET	"installed"
#define LAYOUT_FEATURES		"etc/earlyfs.features"	/* earlyfs feature */
#define LAYOUT_CRYPTTAB		"etc/crypttab"		/* luks feature */
#define LAYOUT_MDADM_CONF	"etc/mdadm.conf"	/* mdraid feature */
#define LAYOUT_KERNELS		"etc/earlyfs.kernels"	/* earlyfs kernel */
#define STUB_MARKER		"/earlyfs-stub"	/* in a module stub: its modules */
#define LAYOUT_STUB		"stub-%s.img"	/* a kernel's module stub, by version */
/* A kept kernel, by version, and its configuration: names no package
 * owns, so that a package manager writing /boot/vmlinuz-V, config-V
 * into this partition (mounted at /boot) and removing them again never
 * touches what a label boots, and pruning never removes a package's
 * file. */
#define LAYOUT_KERNEL_PREFIX	"earlyfs-vmlinuz-"
#define LAYOUT_KERNEL_PREFIX_LEN (sizeof(LAYOUT_KERNEL_PREFIX) - 1)
#define LAYOUT_KERNEL		LAYOUT_KERNEL_PREFIX "%s"
#define LAYOUT_KERNEL_CONFIG	"earlyfs-config-%s"
/* a kernel, stub or the /vmlinuz link being written beside its place */
#define LAYOUT_KERNEL_TMP	".%s.tmp"
#define LAYOUT_ROOT_HOME	"root"			/* root's home, 0700 */
#define LAYOUT_SSH_DIR		"root/.ssh"		/* ssh feature, 0700 */
#define LAYOUT_AUTHORIZED_KEYS	"root/.ssh/authorized_keys"
#define LAYOUT_DROPBEAR_DIR	"etc/dropbear"		/* host keys, 0700 */
#define LAYOUT_SSH_PORT		"etc/dropbear/port"	/* its port, digits */

/* Limits on what is read from a partition (it is data, never trusted). */
#define LAYOUT_FRAGMENT_MAX	(1024 * 1024)
#define LAYOUT_CONF_MAX		(16 * 1024)
#define LAYOUT_EXTLINUX_MAX	(64 * 1024)
#define LAYOUT_FSTAB_MAX	(64 * 1024)
#define LAYOUT_GEN_INFO_MAX	4096
#define LAYOUT_INSTALLED_MAX	(1024 * 1024)
#define LAYOUT_FEATURES_MAX	4096
#define LAYOUT_CRYPTTAB_MAX	(64 * 1024)
#define LAYOUT_MDADM_CONF_MAX	(64 * 1024)
#define LAYOUT_AUTHORIZED_KEYS_MAX (64 * 1024)
#define LAYOUT_KERNELS_MAX	4096
#define LAYOUT_GEN_MAX		(1u << 30)	/* largest generation number */
#define LAYOUT_KEEP_DEFAULT	10		/* generations kept */

/* What a generation holds (tracked by its changes, watched by earlyfsd):
 * each a directory (held whole) or a file, and the directory it is in,
 * with that directory's mode. */
struct layout_tracked {
	const char *path;
	bool dir;
	const char *in;		/* "" : the partition's top */
	unsigned in_mode;
};
extern const struct layout_tracked layout_tracked[];
extern const size_t n_layout_tracked;

/*
 * root "/" or a mount point, generation n, rel NULL or a path inside it:
 * ROOT/generations/N[/REL]; root "" gives the relative generations/N[/REL].  0, or -ENAMETOOLONG when it does not fit.
 */
int layout_generation_path(const char *root, unsigned n, const char *rel,
			   char *ret, size_t cap);
/* A generation number, 1 to LAYOUT_GEN_MAX, digits only: 0 or -EINVAL,
 * -ERANGE.  Every reader of one (runner, CLI, earlyfsd) uses this. */
int layout_parse_generation(const char *s, size_t len, unsigned *ret);

/* What earlyfs.generation=previous names: of the generations found (n,
 * whether its info says valid, whether it was applied), the newest valid,
 * applied one older than the newest of all; 0 if there is none. */
struct layout_gen {
	unsigned n;
	bool valid, applied;
};
unsigned layout_previous_generation(const struct layout_gen *v, size_t n);
#endif
