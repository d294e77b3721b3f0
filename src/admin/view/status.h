/* status.h: what a boot partition holds, and the last boot */
#ifndef EARLYFS_STATUS_H
#define EARLYFS_STATUS_H
#include <stdio.h>
#include "base/err.h"

int status_target(const char *target, unsigned partno, FILE *out,
		  struct err *e);
int status_running(FILE *out, struct err *e);

#endif
