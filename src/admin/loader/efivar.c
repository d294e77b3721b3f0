/* efivar: see efivar.h */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "loader/efivar.h"

#define EFIVARFS_MAGIC 0xde5e81e4
#define ATTRS 0x7u	/* NON_VOLATILE | BOOTSERVICE | RUNTIME_ACCESS */

bool efivar_available(void)
{
	struct statfs f;

	return statfs(EFIVAR_DIR, &f) == 0 && f.f_type == EFIVARFS_MAGIC;
}

static void path_of(const char *name, const char *guid, char *ret, size_t cap)
{
	snprintf(ret, cap, EFIVAR_DIR "/%s-%s", name, guid);
}

int efivar_read(const char *name, const char *guid, size_t max,
		unsigned char **ret, size_t *len)
{
	unsigned char *buf;
	char path[256];
	size_t have = 0;
	ssize_t n;
	int fd, r = 0;

	*ret = NULL;
	*len = 0;
	path_of(name, guid, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 5);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* the firmware's value, never more than max bytes of it */
	while (have < max + 5 &&
	       (n = read(fd, buf + have, max + 5 - have)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		have += (size_t)n;
	}
	close(fd);
	if (r == 0 && (have < 4 || have > max + 4))
		r = have < 4 ? -EINVAL : -E2BIG;
	if (r < 0) {
		free(buf);
		return r;
	}
	memmove(buf, buf + 4, have - 4);
	*ret = buf;
	*len = have - 4;
	return 0;
}

int efivar_get_raw(const char *name, const char *guid, unsigned char *ret,
		   size_t cap)
{
	unsigned char *buf;
	size_t n;
	int r = efivar_read(name, guid, 64u << 10, &buf, &n);

	if (r < 0)
		return r;
	memcpy(ret, buf, n < cap ? n : cap);
	free(buf);
	return (int)n;
}

int efivar_get(const char *name, const char *guid, char *ret, size_t cap)
{
	unsigned char buf[2 * 256];
	size_t i, o = 0;
	int n;

	if (!cap)
		return -EINVAL;
	n = efivar_get_raw(name, guid, buf, sizeof(buf));
	if (n < 0)
		return n;
	for (i = 0; i + 1 < (size_t)n && i + 1 < sizeof(buf) && o + 1 < cap;
	     i += 2) {
		uint16_t c = (uint16_t)(buf[i] | buf[i + 1] << 8);

		if (!c)
			break;
		ret[o++] = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	ret[o] = '\0';
	return 0;
}

int efivar_write(const char *name, const char *guid, uint32_t attrs,
		 const void *data, size_t len)
{
	unsigned char *buf = malloc(4 + len);
	char path[256];
	int fd, flags, r = 0;

	if (!buf)
		return -ENOMEM;
	buf[0] = (unsigned char)attrs;
	buf[1] = (unsigned char)(attrs >> 8);
	buf[2] = (unsigned char)(attrs >> 16);
	buf[3] = (unsigned char)(attrs >> 24);
	memcpy(buf + 4, data, len);
	path_of(name, guid, path, sizeof(path));
	/* efivarfs makes a variable's file immutable: clear that first */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
		    (flags & FS_IMMUTABLE_FL)) {
			flags &= ~FS_IMMUTABLE_FL;
			ioctl(fd, FS_IOC_SETFLAGS, &flags);
		}
		close(fd);
	}
	/* one write(2) is one SetVariable(); the firmware's refusal is
	 * its errno (EINVAL, EACCES for a signature it does not take) */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		  (attrs & EFIVAR_APPEND ? 0 : O_TRUNC), 0644);
	if (fd < 0)
		r = -errno;
	else if (write(fd, buf, 4 + len) != (ssize_t)(4 + len))
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	free(buf);
	return r;
}

int efivar_set(const char *name, const char *guid, const char *value)
{
	unsigned char buf[2 * 256];
	size_t l = strlen(value), i;

	if (l > 255)
		return -E2BIG;
	for (i = 0; i <= l; i++) {
		buf[2 * i] = (unsigned char)value[i];
		buf[2 * i + 1] = 0;
	}
	return efivar_write(name, guid, ATTRS, buf, 2 * (l + 1));
}
