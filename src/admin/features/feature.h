/* feature.h: what early userspace is for, as features a partition holds
 *
 * A feature is its fragments (shipped in DATADIR/init.d), the host
 * binaries it runs (installed with their closure, install.h), its
 * configuration file on the partition, and the kernel options it needs.
 * The features a partition holds are listed in LAYOUT_FEATURES; adding or
 * removing one is one change (a generation).
 */
#ifndef EARLYFS_FEATURE_H
#define EARLYFS_FEATURE_H
#include <stdbool.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"
#include "change/validate.h"

#define FEATURE_NEEDS_MAX 6

struct feature {
	const char *name, *summary;
	const char *fragments[4];
	const char *binaries[3];	/* names in the host's PATH */
	const char *config;		/* LAYOUT_CRYPTTAB, ... or NULL */
	const char *option;		/* the CLI option that supplies it */
	/* "SYM[|SYM]", why, and the module a module stub carries when
	 * the first SYM is a module (NULL: none) */
	const char *kernel[FEATURE_NEEDS_MAX][3];
};

/* The bit of each feature: its index in features[]. */
enum { FEATURE_LUKS = 1u << 0, FEATURE_MDRAID = 1u << 1,
       FEATURE_FSCK = 1u << 2, FEATURE_PAUSE = 1u << 3,
       FEATURE_NETWORK = 1u << 4, FEATURE_SSH = 1u << 5 };

extern const struct feature features[];
extern const size_t n_features;

/* What the CLI gives a feature change: host files that supply the
 * configuration (NULL: keep the partition's), and the ssh feature's keys
 * and port. */
struct feature_opts {
	const char *crypttab, *mdadm_conf;
	const char *authorized_keys;	/* --authorized-keys FILE */
	const char *ssh_host_keys;	/* "system", a directory, NULL: new */
	unsigned ssh_port;		/* 0: keep (22 at first) */
	bool force;
	bool fresh;	/* a new partition: no configuration to keep */
};

/* mask with the features its features need (ssh: network). */
unsigned feature_with_needs(unsigned mask);
/* The option name of the first option set in o ("crypttab", ...), or
 * NULL: for refusing them where they do not apply. */
const char *feature_opts_given(const struct feature_opts *o);
/* The features the partition holds (LAYOUT_FEATURES): 0, or -EINVAL
 * with e naming a line this earlyfs does not know. */
int feature_installed(int root, unsigned *ret, struct err *e);
/* "luks,fsck" (or several arguments) as a bit per features[] entry:
 * 0, or -EINVAL with e naming the unknown one. */
int feature_parse(char *const *names, size_t n, unsigned *ret, struct err *e);
/* Whether a shipped fragment belongs to a feature (provisioning leaves
 * it out of the base set). */
bool feature_owns_fragment(const char *name);
/* etc/mdadm.conf made from the host's arrays behind root (mdconf.h),
 * with the crypttab o gives, else the partition's (boot_fd; -1: none). */
int feature_mdadm_conf(int boot_fd, const char *root,
		       const struct feature_opts *o, char **ret, size_t *ret_len,
		       struct err *e);
/* A kernel option a feature needs: "SYM[|SYM]" (one of them built in),
 * why, and the module a module stub carries where the first SYM is a
 * module (NULL: none). */
struct feature_need {
	const char *sym, *why, *mod;
};
/* The kernel options the features of mask need, at most max into ret:
 * how many. */
size_t feature_needs(unsigned mask, struct feature_need *ret, size_t max);
/* The configuration files given in o, read and validated before anything
 * is written: 0 or -errno with e filled. */
int feature_check_opts(unsigned mask, const struct feature_opts *o,
		       struct err *e);
/* What else a feature change writes, in the same generation: files of
 * it, and a step before it (kernels' remade module stubs). */
struct change_file;
struct feature_extra {
	const struct change_file *files;
	size_t n_files;
	int (*prepare)(struct boot *b, void *ctx, struct err *e);
	void *ctx;
};
/* feature list | add | rm, as a change (x: NULL, or more of it). */
int feature_list(struct boot *b, bool as_json, FILE *out, struct err *e);
int feature_change(struct boot *b, bool add, unsigned mask,
		   const struct feature_opts *o, const struct feature_extra *x,
		   FILE *out, struct err *e);
/* check: every installed feature's fragments, binaries and configuration
 * are on the partition. */
void feature_check(int root, struct problems *p);
#endif
