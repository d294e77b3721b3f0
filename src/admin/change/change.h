/* change.h: a change to the boot partition, validated, recorded, applied */
#ifndef EARLYFS_CHANGE_H
#define EARLYFS_CHANGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "target/boot.h"
#include "base/err.h"

enum change_op {		/* those before CHANGE_ROLLBACK change the
				 * fragments alone (a sealed partition) */
	CHANGE_PUT,	/* write name (add it, or replace it) */
	CHANGE_ADD,	/* write name, refused if it exists */
	CHANGE_RM, CHANGE_ENABLE, CHANGE_DISABLE, CHANGE_MV,
	CHANGE_ROLLBACK,
	CHANGE_RECORD,	/* record direct edits of the live tree */
	CHANGE_INSTALL,	/* write LAYOUT_INSTALLED (data, if any) and files,
			 * after prepare */
	CHANGE_OPS
};

/* A file of the generation a change writes (data) or removes (NULL). */
struct change_file {
	const char *rel;	/* in init.d/ or etc/ */
	const char *data;
	size_t len;
	mode_t mode;
};

struct change {
	enum change_op op;
	const char *name, *newname;
	const char *data;
	size_t len;
	bool has_base;		/* refuse unless the current content hashes */
	uint64_t base;		/* to base (request_hash) */
	unsigned gen;		/* rollback target; 0: the one before */
	bool force;		/* record: even what does not validate */
	/* install: work on the live tree outside the generations (the
	 * binaries), under the lock, the partition writable, before the
	 * generation is staged; 0 or -errno with e filled */
	int (*prepare)(struct boot *b, void *ctx, struct err *e);
	/* install: after the generation is applied, still under the lock
	 * (files no longer needed removed; prev: the generation 'previous'
	 * boots now); its failure is only reported */
	void (*finish)(struct boot *b, void *ctx, unsigned prev, FILE *out);
	void *ctx;
	const struct change_file *files;	/* install: more files */
	size_t n_files;
};

/* The lock every writer shares (boot_lock()), and what an interrupted
 * change left finished (making the partition writable only if there is
 * something): 0, or -errno with e filled and the lock released. */
int change_lock(struct boot *b, FILE *out, struct err *e);
/* Validates, writes, records a generation; one line on out.  0 or -errno. */
int change_commit(struct boot *b, const struct change *c, FILE *out,
		  struct err *e);
/* Files edited without earlyfs since the last generation (a list for
 * messages in list); 0 when there are none.  Takes no lock. */
size_t change_direct_edits(struct boot *b, char *list, size_t cap);
#endif
