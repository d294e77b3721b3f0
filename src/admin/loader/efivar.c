/* efivar: see efivar.h */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
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

int efivar_get_raw(const char *name, const char *guid, unsigned char *ret,
		   size_t cap)
{
	unsigned char buf[4 + 2 * 256];
	char path[256];
	ssize_t n;
	int fd;

	path_of(name, guid, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 4)
		return n < 0 ? -errno : -EINVAL;
	n -= 4;
	memcpy(ret, buf + 4, (size_t)n < cap ? (size_t)n : cap);
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

int efivar_set(const char *name, const char *guid, const char *value)
{
	unsigned char buf[4 + 2 * 256];
	size_t l = strlen(value), i, n;
	char path[256];
	int fd, flags, r = 0;

	if (l > 255)
		return -E2BIG;
	buf[0] = ATTRS;
	buf[1] = buf[2] = buf[3] = 0;
	for (i = 0; i <= l; i++) {
		buf[4 + 2 * i] = (unsigned char)value[i];
		buf[5 + 2 * i] = 0;
	}
	n = 4 + 2 * (l + 1);
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
	/* one write(2) is one SetVariable() */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != (ssize_t)n)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}
