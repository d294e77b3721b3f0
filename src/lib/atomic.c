/* atomic: replace a file so that readers see the old or the new bytes */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int atomic_write_file(const char *path, const void *buf, size_t len,
		      mode_t mode)
{
	char dir[4096], tmp[4096];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int fd = -1, dfd = -1, r = 0;

	if (!*base)
		return -EINVAL;
	if (slash) {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);

		if (dl >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, dl);
		dir[dl] = '\0';
	} else {
		strcpy(dir, ".");
	}
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmpXXXXXX", dir, base) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	r = write_all(fd, buf, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		r = -errno;
	close(dfd);
	return r;
}

int read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	/* a small file (most are) is read on the stack and then copied to
	 * an allocation of its own size: no 4 KiB buffer mapped and unmapped
	 * for each /proc or /sys file */
	char small[4096], *buf = small;
	size_t len = 0, cap = sizeof(small);
	int r = 0;

	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb = buf == small ? malloc(cap * 2)
						: realloc(buf, cap * 2);

			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			if (buf == small)
				memcpy(nb, small, len);
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			goto out;
		}
	}
	if (buf == small) {
		buf = malloc(len + 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, small, len);
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
out:
	if (buf != small)
		free(buf);
	return r;
}

int read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, max, ret_buf, ret_len);
	close(fd);
	return r;
}

int read_regular_fd(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return read_fd(fd, max, ret_buf, ret_len);
}

int read_regular(const char *path, size_t max, char **ret_buf,
		 size_t *ret_len)
{
	int fd, r;

	/* O_NONBLOCK: opening a FIFO returns at once, and is then refused */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_regular_fd(fd, max, ret_buf, ret_len);
	close(fd);
	return r;
}
