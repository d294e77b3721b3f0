/* verb.h: every command on a boot partition, in one table that the CLI,
 * its earlyfsd client and earlyfsd itself read */
#ifndef EARLYFS_VERB_H
#define EARLYFS_VERB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"
#include "features/feature.h"
#include "kernel/kernels.h"

#define SOCKET_DEFAULT "/run/earlyfs/earlyfsd.sock"

enum {
	VERB_CHANGES = 1 << 0,	/* writes the partition (opened read-write) */
	VERB_SERVED = 1 << 1,	/* earlyfsd does it when it listens */
	VERB_CLI = 1 << 2,	/* an 'earlyfs' command */
	VERB_BODY = 1 << 3,	/* the CLI reads a body: one more argument,
				 * FILE or - (the default) */
	VERB_NO_BOOT = 1 << 4,	/* the CLI opens no boot partition */
	VERB_REPORTS = 1 << 5,	/* its output says why it failed (check) */
	VERB_REFRESH = 1 << 6,	/* takes --refresh (install) */
	VERB_FEATURE = 1 << 7,	/* takes feature_opts' options, --force */
	VERB_KERNEL = 1 << 8,	/* takes --default, --force */
	VERB_GROUP = 1 << 9,	/* earlyfsd serves it to its group= too
				 * (nothing that runs as root at boot) */
	VERB_SEAL = 1 << 11,	/* takes --key, --cert (seal, export) */
	VERB_EXPORT = 1 << 12,	/* takes --cpio, --uki (export) */
	VERB_JSON = 1 << 10,	/* takes --json (docs/json.md); kernel and
				 * feature: their list */
};

/* One call of a verb, from the CLI's arguments or a request. */
struct verb_call {
	char *const *args;
	size_t n_args;
	const char *data;	/* the body: a fragment's content */
	size_t len;
	bool has_base;		/* refuse unless the fragment hashes to base */
	uint64_t base;
	const char *socket;	/* where earlyfsd listens; NULL: in-process */
	const char *report;	/* the boot report the views read */
	bool running;		/* the partition belongs to this machine */
	unsigned gen;		/* rollback: the generation (verb_args) */
	bool refresh;		/* install: the binaries installed before */
	struct feature_opts fo;	/* feature: configuration, --force */
	bool make_default;	/* kernel add --default */
	struct kernels_opts ko;	/* kernel add --modules, --driver */
	bool json;		/* --json: a view's document */
	const char *key, *cert;	/* seal: the signing key and certificate */
	const char *cpio, *uki;	/* export: where */
};

struct verb {
	const char *name;	/* the command and the request verb */
	unsigned flags;
	size_t min_args, max_args;	/* as requests carry them */
	int op;			/* a change's enum change_op, else -1 */
	int (*run)(struct boot *b, const struct verb *v,
		   const struct verb_call *c, FILE *out, struct err *e);
	const char *what;	/* "earlyfs: cannot WHAT ARG: ..." */
	const char *usage;	/* help text; NULL for requests only */
};

extern const struct verb verbs[];
extern const size_t n_verbs;
/* The verb called name that has every flag in flags, or NULL. */
const struct verb *verb_find(const char *name, unsigned flags);
/* Checks and converts c's arguments (a generation number): 0, or -EINVAL
 * with e saying which.  Before verb_run, by the CLI and earlyfsd alike. */
int verb_args(const struct verb *v, struct verb_call *c, struct err *e);
/* Runs v: a VERB_SERVED one through earlyfsd at c->socket when it listens
 * there (the same partition), else in-process under the lock. */
int verb_run(struct boot *b, const struct verb *v, const struct verb_call *c,
	     FILE *out, struct err *e);
#endif
