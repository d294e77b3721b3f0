/* generation.h: numbered snapshots of the tree, and making one live */
#ifndef EARLYFS_GENERATION_H
#define EARLYFS_GENERATION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include "target/boot.h"
#include "base/err.h"
#include "change/tree.h"

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
/* What the 'previous' entry boots (earlyfs.generation=previous, the
 * runner's rule): the newest valid, applied generation older than the
 * newest of v[0..n); 0 if none. */
unsigned gen_previous(const struct generation *v, size_t n);
/* The same for b's generations as listed now (0 if none, or unreadable). */
unsigned gen_previous_of(const struct boot *b);
/* What one change reads once, under the lock: the generations (listed
 * once), and the trees it compares, each scanned when first asked for:
 * the live one, and the newest generation's. */
struct gen_state {
	struct generation *v;
	size_t n;
	struct tree live, last;
	bool have_live, have_last;
};
/* 0 with the generations listed, or -errno. */
int gen_state_load(const struct boot *b, struct gen_state *s);
void gen_state_free(struct gen_state *s);
/* The newest generation's number (0 if none), whether it was applied. */
unsigned gen_state_latest(const struct gen_state *s, bool *ret_applied);
/* The newest generation up to latest that passed validation and was
 * applied: what 'previous' boots (latest itself when there is none). */
unsigned gen_state_latest_valid(const struct gen_state *s, unsigned latest);
/* The live tree and the newest generation's, scanned once: 0 with them,
 * or -errno. */
int gen_state_trees(const struct boot *b, struct gen_state *s,
		    const struct tree **ret_live, const struct tree **ret_last);
/* Generation n was recorded (applied), valid or not: the newest now. */
int gen_state_added(struct gen_state *s, unsigned n, bool valid);
/* Builds generations/.new from src (the live tree "", or generations/N a
 * rollback restores; its scan src_tree, or NULL to scan it), linking what
 * is the same in generation `from`. */
int gen_stage(struct boot *b, const char *src, const struct tree *src_tree,
	      unsigned from, struct err *e);
/* The description (and whether it passed validation) in
 * generations/.new/info. */
int gen_write_info(struct boot *b, const char *desc, bool valid);
/* Makes the live tree equal to generation n (its scan g, the live one
 * live; NULL: scanned here) and marks it applied. */
int gen_apply(struct boot *b, unsigned n, const struct tree *g,
	      const struct tree *live, struct err *e);
/* Finishes what an interrupted change left (staging, temps, an
 * unapplied generation). */
int gen_recover(struct boot *b, struct gen_state *s, FILE *out,
		struct err *e);
/* Keeps b->keep generations, never `latest` or the one before. */
void gen_prune(struct boot *b, const struct gen_state *s, unsigned latest);
/* The files where the live tree and the newest generation differ, listed
 * in list for a description; 0 when none. */
size_t gen_live_changes(const struct boot *b, struct gen_state *s,
			char *list, size_t cap);
#endif
