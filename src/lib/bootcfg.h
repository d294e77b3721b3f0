/* bootcfg: the earlyfs.* keys of the kernel command line, as one table */
#ifndef EARLYFS_BOOTCFG_H
#define EARLYFS_BOOTCFG_H
#include <stdbool.h>
#include <stddef.h>
#include "cmdline.h"

#define BOOTCFG_LIST_MAX 16
#define BOOTCFG_PROBLEMS_MAX 8
#define BOOTCFG_BOOT_AT_MAX 64

enum shell_policy { SHELL_ON_FAILURE, SHELL_NEVER, SHELL_REBOOT };

struct fragment_timeout {
	char prefix[3];		/* "NN" */
	unsigned seconds;
};

struct boot_config {
	const char *root;		/* earlyfs.root, NULL if absent */
	const char *rootfstype;
	const char *rootflags;
	unsigned rootwait;		/* seconds, default 30 */
	const char *init;		/* default /sbin/init */
	/* earlyfs.boot: where the boot partition stays on the real root
	 * after the pivot, default /boot (a machine that keeps its own
	 * /boot for its own loader: /earlyfs) */
	const char *boot_at;
	bool root_rw;			/* kernel "rw"; "ro" is the default */
	bool debug;
	bool pause;			/* earlyfs.pause: wait once, before 50 */
	enum shell_policy shell;
	unsigned generation;		/* 0: current */
	bool generation_previous;	/* earlyfs.generation=previous */
	/* earlyfs.break=NN|pivot[,...] */
	char breaks[BOOTCFG_LIST_MAX][3];
	size_t n_breaks;
	bool break_pivot;
	/* earlyfs.skip=NN[,NN] */
	char skips[BOOTCFG_LIST_MAX][3];
	size_t n_skips;
	/* earlyfs.timeout=SECONDS and/or NN:SECONDS[,...] */
	bool has_timeout_all;
	unsigned timeout_all;
	struct fragment_timeout timeouts[BOOTCFG_LIST_MAX];
	size_t n_timeouts;
	/* values that could not be used; the defaults stand for them */
	char problems[BOOTCFG_PROBLEMS_MAX][160];
	size_t n_problems;
};

/* A key of the command line: how its value goes into a boot_config
 * (NULL: fragments read it, the runner does not), and its help text. */
struct bootcfg_key {
	const char *key;
	const char *(*parse)(struct boot_config *cfg, const char *value);
	const char *help;
};

/* The known keys, NULL-terminated. */
extern const struct bootcfg_key bootcfg_keys[];

/*
 * Fills cfg from c.  Never fails: a bad value is recorded in cfg->problems
 * (naming the key and what it takes) and the default is kept.  Pointers in
 * cfg point into c, which must outlive it.
 */
void bootcfg_from_cmdline(const struct cmdline *c, struct boot_config *cfg);

bool bootcfg_breaks_at(const struct boot_config *cfg, const char *fragment);
bool bootcfg_skips(const struct boot_config *cfg, const char *fragment);
/* The command line's timeout for a fragment, or -1 if it names none. */
long bootcfg_timeout_for(const struct boot_config *cfg, const char *fragment);

/* A decimal number of seconds, 0..86400: -EINVAL, -ERANGE. */
int bootcfg_parse_seconds(const char *s, size_t len, unsigned *ret);
#endif
