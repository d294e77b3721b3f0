/* host: this machine's files earlyfs reads and writes: its commands,
 * its data directory, sysfs, temporary files, copies */
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "atomic.h"
#include "base/host.h"
#include "base/run.h"

int host_mkstemp(const char *prefix, char *ret, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(ret, cap, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
	fd = mkostemp(ret, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Writes every block, zeros included: syslinux cannot read holes. */
int host_copy_dense(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in, out, r = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ssize_t off = 0;

		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0) {
				r = -errno;
				goto out;
			}
			off += w;
		}
	}
	if (n < 0)
		r = -errno;
	if (r == 0 && fsync(out) < 0)
		r = -errno;
out:
	if (close(out) < 0 && r == 0)
		r = -errno;
	close(in);
	return r;
}

int host_rm_rf(const char *path)
{
	char *const argv[] = { "rm", "-rf", "--one-file-system", "--",
			       (char *)path, NULL };

	return run_cmd(argv, NULL, 0) == 0 ? 0 : -EIO;
}

int host_which(const char *name, char *ret, size_t cap)
{
	static const char *const dirs[] = { "/usr/local/sbin",
		"/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(ret, cap, "%s/%s", dirs[i], name);
		if (access(ret, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Beside the binary in a build tree (build/earlyfs -> templates/), else
 * the installed location; EARLYFS_DATADIR overrides. */
const char *host_data_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], probe[PATH_MAX + 32], *slash;
	const char *env = getenv("EARLYFS_DATADIR");
	ssize_t n;

	if (dir[0])
		return dir;
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(probe, sizeof(probe), "%s/../templates/fstab", exe);
			if (access(probe, R_OK) == 0) {
				snprintf(dir, sizeof(dir), "%s/..", exe);
				return dir;
			}
		}
	}
	snprintf(dir, sizeof(dir), "%s", EARLYFS_DATADIR);
	return dir;
}

const char *host_init_binary(void)
{
	static char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/build/earlyfs-init", host_data_dir());
	if (access(path, R_OK) == 0)
		return path;
	snprintf(path, sizeof(path), "%s/earlyfs-init", host_data_dir());
	if (access(path, R_OK) == 0 || getenv("EARLYFS_DATADIR"))
		return path;
	/* a distribution's package keeps binaries out of /usr/share */
	snprintf(path, sizeof(path), "%s/earlyfs-init", EARLYFS_LIBEXECDIR);
	return path;
}

int host_write_text(const char *path, const char *text, mode_t mode)
{
	return atomic_write_file(path, text, strlen(text), mode);
}

uint64_t host_tree_bytes(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint64_t total = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			continue;
		/* a block per inode at least, as the file system will spend */
		total += ((uint64_t)st.st_size + 4095) / 4096 * 4096 + 4096;
		if (S_ISDIR(st.st_mode))
			total += host_tree_bytes(path);
	}
	closedir(d);
	return total;
}

double host_elapsed_s(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int host_sysfs_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}
