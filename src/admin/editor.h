/* editor.h: $VISUAL or $EDITOR on a copy of a fragment */
#ifndef EARLYFS_EDITOR_H
#define EARLYFS_EDITOR_H
#include <stdio.h>
#include "boot.h"
#include "err.h"

/* Runs the editor (default vi) on a copy of NAME; the result is submitted
 * when the editor exits 0, refused if NAME changed meanwhile. */
int fragment_edit(struct boot *b, const char *sock, const char *arg,
		  FILE *out, struct err *e);
#endif
