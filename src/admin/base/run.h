/* run.h: host programs, run with no shell: the argv given, stdin and
 * stdout as asked, stderr's start kept for the message */
#ifndef EARLYFS_RUN_H
#define EARLYFS_RUN_H
#include <stddef.h>
#include <sys/types.h>

/* Runs argv (a host binary, found in PATH), waits; returns its exit
 * status, or -errno if it could not start.  stdout goes to /dev/null,
 * stderr (its start) to errbuf. */
int run_cmd(char *const argv[], char *errbuf, size_t errcap);
/* The same with stdin read from fd in at in_off and stdout written to fd
 * out (at most out_max bytes: a larger output ends it with SIGXFSZ); -1
 * for /dev/null.  No shell: argv is never parsed. */
int run_filter(char *const argv[], int in, off_t in_off, int out,
	       off_t out_max, char *errbuf, size_t errcap);
/* run_filter() with stdout kept: once the program ran (its status, >= 0,
 * returned), *ret holds its output, at most max bytes, NUL-terminated,
 * malloc'ed (a decompressor fed a stream with trailing bytes complains
 * and still gives it); -errno if it could not run or its output cannot
 * be read (-EFBIG past max). */
int run_capture(char *const argv[], int in, off_t in_off, size_t max,
		char **ret, size_t *ret_len, char *errbuf, size_t errcap);
/* A memfd holding buf, at offset 0: something to feed run_filter() or
 * run_capture(); or -errno. */
int run_memfd(const char *name, const void *buf, size_t len);
#endif
