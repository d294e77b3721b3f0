/* kv: KEY=value lines, the one reader of every such file
 *
 * Used for $EARLYFS_ENV (the runner), etc/earlyfs.conf, a generation's
 * info file and earlyfsd.conf (the management side).  KEY is a shell
 * variable name; blank lines and lines starting with '#' (after blanks)
 * are skipped; the value is the rest of the line, as is.
 */
#ifndef EARLYFS_KV_H
#define EARLYFS_KV_H
#include <stddef.h>

/* One line: 1 with key and value (pointers into line), 0 for a blank or
 * comment line, -EINVAL for anything else. */
int kv_parse_line(const char *line, size_t len, const char **ret_key,
		  size_t *ret_key_len, const char **ret_value,
		  size_t *ret_value_len);

/*
 * The next KEY=value of buf[0..len) from *pos, with its line number in
 * *lineno (counted from 1 across calls): 1 with a pair, 0 at the end,
 * -EINVAL for a line that is not KEY=value, -E2BIG for one longer than
 * TEXT_LINE_MAX.  Errors still advance, so a caller may go on.
 */
int kv_next(const char *buf, size_t len, size_t *pos, size_t *lineno,
	    const char **ret_key, size_t *ret_key_len, const char **ret_value,
	    size_t *ret_value_len);

/* The value of the first line with key (bad lines skipped) copied to ret:
 * 0, -ENOENT, or -E2BIG when it does not fit in cap. */
int kv_get(const char *buf, size_t len, const char *key, char *ret,
	   size_t cap);
#endif
