/* editor.h: $VISUAL or $EDITOR on a copy of a fragment */
#ifndef EARLYFS_EDITOR_H
#define EARLYFS_EDITOR_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"

/* What becomes of the edited bytes of fragment name (a new one unless
 * exists; base: the hash of what was edited, which must still be there):
 * 0, or -errno with e filled (the copy is kept and named). */
struct editor_edit {
	const char *name;
	const char *data;
	size_t len;
	bool exists;
	uint64_t base;
};
typedef int editor_submit_fn(struct boot *b, const struct editor_edit *ed,
			     void *ctx, FILE *out, struct err *e);
/* Runs the editor (default vi) on a copy of NAME; the result goes to
 * submit when the editor exits 0 and something changed. */
int editor_run(struct boot *b, const char *arg, editor_submit_fn *submit,
	       void *ctx, FILE *out, struct err *e);
#endif
