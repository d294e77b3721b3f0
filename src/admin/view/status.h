/* status.h: what a boot partition holds, and the last boot */
#ifndef EARLYFS_STATUS_H
#define EARLYFS_STATUS_H
#include <stdbool.h>
#include <stdio.h>
#include "base/err.h"

/* as_json: the document of docs/json.md instead of the text */
int status_target(const char *target, unsigned partno, bool as_json,
		  FILE *out, struct err *e);
int status_running(bool as_json, FILE *out, struct err *e);

#endif
