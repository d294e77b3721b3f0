/* inspect.h: read-only views of a boot partition and of the last boot */
#ifndef EARLYFS_INSPECT_H
#define EARLYFS_INSPECT_H
#include <stddef.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"

struct boot_report;
/* The boot report at path (malloc'ed), or NULL with why there is none. */
struct boot_report *report_load(const char *path, char *why, size_t cap);
int fragments_print(const struct boot *b, const char *report, FILE *out,
		    struct err *e);
int log_print(const char *report, FILE *out, struct err *e);
int generations_print(const struct boot *b, FILE *out, struct err *e);
int fragment_show(const struct boot *b, const char *arg, FILE *out,
		  struct err *e);
#endif
