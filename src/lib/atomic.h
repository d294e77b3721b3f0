/* atomic: replace a file so that readers see the old or the new bytes */
#ifndef EARLYFS_ATOMIC_H
#define EARLYFS_ATOMIC_H
#include <stddef.h>
#include <sys/types.h>

/*
 * Writes buf to a temp file in path's directory, fsyncs it, renames it over
 * path and fsyncs the directory.  On failure path is untouched and the temp
 * file removed.  Returns 0 or -errno.
 */
int atomic_write_file(const char *path, const void *buf, size_t len,
		      mode_t mode);

/* Reads a whole file of at most max bytes into a malloc'ed, NUL-terminated
 * buffer.  -EFBIG when larger. */
int read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* read_file() of a regular file only (links followed): a FIFO, device or
 * directory is -EINVAL, and opening one never blocks. */
int read_regular(const char *path, size_t max, char **ret_buf,
		 size_t *ret_len);
/* The same from an open fd: -EINVAL unless it is a regular file. */
int read_regular_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);
/* read_file() from an open fd, read to its end. */
int read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);
/* write(2) until all of buf is written; 0 or -errno (EINTR retried). */
int write_all(int fd, const void *buf, size_t len);
#endif
