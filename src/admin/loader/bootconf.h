/* bootconf.h: the label the next boot takes */
#ifndef EARLYFS_BOOTCONF_H
#define EARLYFS_BOOTCONF_H
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"

/* extlinux --once=LABEL, after checking the label exists. */
int bootconf_once(struct boot *b, const char *label, FILE *out,
		  struct err *e);
#endif
