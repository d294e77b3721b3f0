/* text: bounded line iteration shared by every line-oriented parser */
#ifndef EARLYFS_TEXT_H
#define EARLYFS_TEXT_H
#include <stddef.h>

#define TEXT_LINE_MAX 4096

/*
 * Returns the next line of buf[0..len) starting at *pos, without its newline,
 * and advances *pos.  Returns 1 when a line was returned, 0 at the end,
 * -E2BIG for a line longer than TEXT_LINE_MAX and -EINVAL for a NUL byte
 * (both still advance past the line so a caller may go on).
 */
int text_next_line(const char *buf, size_t len, size_t *pos,
		   const char **ret_line, size_t *ret_len);

/* Copies at most cap-1 bytes and NUL-terminates; -E2BIG if it did not fit. */
int text_copy(char *dst, size_t cap, const char *src, size_t len);

/* Splits off the next blank-separated field of line[0..len) at *pos. */
int text_next_field(const char *line, size_t len, size_t *pos,
		    const char **ret_field, size_t *ret_len);

/* Decimal digits only, no sign or blanks: -EINVAL, or -ERANGE above max. */
int text_parse_uint(const char *s, size_t len, unsigned long max,
		    unsigned long *ret);

/* Replaces control characters (and DEL) in s with '?': a name read from
 * a partition is shown, never sent to a terminal as is.  Returns s. */
char *text_printable(char *s);

/* 1 when s[0..len) is a shell variable name: [A-Za-z_][A-Za-z0-9_]* */
int text_is_name(const char *s, size_t len);
#endif
