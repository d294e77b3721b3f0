/* report: the boot report earlyfs-init leaves in /run/earlyfs/report */
#ifndef EARLYFS_REPORT_H
#define EARLYFS_REPORT_H
#include <stdbool.h>
#include <stddef.h>
#include "fragment.h"

#define REPORT_PATH "/run/earlyfs/report"

enum fragment_status {
	STATUS_OK,
	STATUS_FAILED,		/* code: exit status */
	STATUS_SIGNAL,		/* code: signal number */
	STATUS_TIMEOUT,
	STATUS_SKIPPED,
	STATUS_ERROR,		/* could not be started; code: errno */
};

struct report_fragment {
	char name[FRAGMENT_NAME_MAX + 1];
	enum fragment_status status;
	int code;
	bool optional;
	long start_ms;		/* since the kernel started (CLOCK_BOOTTIME) */
	long duration_ms;
};

/* A process the runner stopped (at a fragment's time limit, or at the
 * pivot), or left running because a fragment asked (EARLYFS_KEEP). */
#define REPORT_PROCS_MAX 32
struct report_proc {
	bool kept;
	int pid;
	char when[FRAGMENT_NAME_MAX + 1];	/* a fragment, or "pivot" */
	char comm[16];
};

/* What a fragment asked to be noted (EARLYFS_NOTE). */
#define REPORT_NOTES_MAX 8
struct report_note {
	char from[FRAGMENT_NAME_MAX + 1];
	char text[200];
};

struct boot_report {
	long start_ms;
	unsigned generation;
	struct report_fragment fragments[FRAGMENTS_MAX];
	size_t n;
	char root_how[16];	/* "runner", "fragment", "none" */
	char root_device[256];
	char root_fstype[32];
	long root_ms;		/* waiting for and mounting the root */
	char pivot[16];		/* "ok", "failed", "pending" */
	long pivot_ms;		/* when, since the kernel started */
	char init[256];
	long total_ms;
	long peak_kib;
	struct report_proc procs[REPORT_PROCS_MAX];
	size_t n_procs;
	struct report_note notes[REPORT_NOTES_MAX];
	size_t n_notes;
};

const char *report_status_name(enum fragment_status s);
int report_status_parse(const char *s, enum fragment_status *ret);

/* Formats r as text; returns the length or -E2BIG. */
int report_format(const struct boot_report *r, char *buf, size_t cap);

/* Parses what report_format wrote; -EINVAL with *ret_line on a bad line. */
int report_parse(const char *buf, size_t len, struct boot_report *ret,
		 size_t *ret_line);
#endif
