/* inspect.h: read-only views of a boot partition and of the last boot */
#ifndef EARLYFS_INSPECT_H
#define EARLYFS_INSPECT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "target/boot.h"
#include "base/err.h"

struct boot_report;
/* The boot report at path (malloc'ed), or NULL with why there is none. */
struct boot_report *inspect_report_load(const char *path, char *why, size_t cap);
/* as_json: the document of docs/json.md instead of the text */
int inspect_fragments(const struct boot *b, const char *report, bool as_json,
		      FILE *out, struct err *e);
int inspect_log(const char *report, bool as_json, FILE *out, struct err *e);
int inspect_generations(const struct boot *b, bool as_json, FILE *out,
			struct err *e);
int inspect_show(const struct boot *b, const char *arg, FILE *out,
		  struct err *e);
#endif
