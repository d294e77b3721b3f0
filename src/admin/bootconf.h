/* bootconf.h: the boot configuration: extlinux.conf's labels, 'previous',
 * and the label the next boot takes */
#ifndef EARLYFS_BOOTCONF_H
#define EARLYFS_BOOTCONF_H
#include <stdio.h>
#include "boot.h"
#include "err.h"

/* Rewrites the staged extlinux.conf's 'previous' label to boot generation
 * prev with its default label (prev 0: the staged one, as generation 1). */
int bootconf_stage_previous(struct boot *b, unsigned prev, struct err *e);
/* extlinux --once=LABEL, after checking the label exists. */
int bootconf_once(struct boot *b, const char *label, FILE *out,
		  struct err *e);
#endif
