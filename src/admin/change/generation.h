/* generation.h: numbered snapshots of the tree, and making one live */
#ifndef EARLYFS_GENERATION_H
#define EARLYFS_GENERATION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include "target/boot.h"
#include "base/err.h"

struct generation {
	unsigned n;
	time_t when;
	char desc[512];	/* what the change did, as recorded */
	bool applied;
	bool valid;	/* passed validation (not forced past problems) */
};

/* generations/N[/REL], relative to the partition's fd */
void gen_path(unsigned n, const char *rel, char *ret, size_t cap);
/* Every generation, oldest first (malloc'ed): 0 or -errno. */
int generations_list(const struct boot *b, struct generation **ret,
		     size_t *ret_n);
/* The newest generation's number, 0 if none. */
unsigned gen_latest(const struct boot *b, bool *ret_applied);
/* Builds generations/.new from src (the live tree "", or generations/N a
 * rollback restores), linking what is the same in generation `from`. */
int gen_stage(struct boot *b, const char *src, unsigned from, struct err *e);
/* The description (and whether it passed validation) in
 * generations/.new/info. */
int gen_write_info(struct boot *b, const char *desc, bool valid);
/* The newest generation up to `latest` that passed validation and was
 * applied: what 'previous' boots (latest itself when there is none). */
unsigned gen_latest_valid(const struct boot *b, unsigned latest);
/* Makes the live tree equal to generation n and marks it applied. */
int gen_apply(struct boot *b, unsigned n, struct err *e);
/* Finishes what an interrupted change left (staging, temps, an
 * unapplied generation). */
int gen_recover(struct boot *b, FILE *out, struct err *e);
/* Keeps b->keep generations, never `latest` or the one before. */
void gen_prune(struct boot *b, unsigned latest);
/* The files where the live tree and generation `latest` differ, listed
 * in list for a description; 0 when none. */
size_t gen_live_changes(struct boot *b, unsigned latest, char *list,
			size_t cap);
#endif
