/* previous.h: extlinux.conf's 'previous' label, written with every
 * change: it boots the newest valid, applied generation before the new
 * one, with that generation's default label (the safety net of an edit
 * that breaks the boot) */
#ifndef EARLYFS_PREVIOUS_H
#define EARLYFS_PREVIOUS_H
#include "base/err.h"
#include "target/boot.h"

/* Rewrites the staged extlinux.conf's 'previous' label to boot generation
 * prev with its default label (prev 0: the staged one, as generation 1). */
int previous_stage(struct boot *b, unsigned prev, struct err *e);
#endif
