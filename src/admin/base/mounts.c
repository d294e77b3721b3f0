/* mounts: loop devices, mounts of our own, their temporary directories */
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/host.h"
#include "base/mounts.h"

int mounts_loop_attach(const char *file, uint64_t offset, uint64_t size,
		bool readonly, char *ret_dev, size_t cap)
{
	struct loop_config cfg;
	int ctl, nr, fd, dev = -1, r = 0, tries;

	fd = open(file, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	for (tries = 0; tries < 16; tries++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0) {
			r = -errno;
			break;
		}
		snprintf(ret_dev, cap, "/dev/loop%d", nr);
		dev = open(ret_dev, O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			r = -errno;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)fd;
		cfg.info.lo_offset = offset;
		cfg.info.lo_sizelimit = size;
		/* autoclear: the device goes with its last user, so a
		 * killed command leaves none behind; the fd returned keeps
		 * it while we need it */
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR |
				    (readonly ? LO_FLAGS_READ_ONLY : 0);
		strncpy((char *)cfg.info.lo_file_name, file, LO_NAME_SIZE - 1);
		r = ioctl(dev, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
		if (r == 0)
			break;
		close(dev);
		dev = -1;
		if (r != -EBUSY)
			break;
	}
	close(ctl);
	close(fd);
	return r < 0 ? r : dev;
}

int mounts_loop_detach(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
		r = -errno;
	close(fd);
	return r;
}

int mounts_private(void)
{
	static bool done;

	if (done)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	done = true;
	return 0;
}

void mounts_clean_dead(void)
{
	/* mount points: only while empty (a mount may still be on one);
	 * scratch directories of files (signed images): whole */
	static const struct {
		const char *prefix;
		bool whole;
	} ours[] = {
		{ "earlyfs-edit.", false }, { "earlyfs-mnt.", false },
		{ "earlyfs-seal.", true }, { "earlyfs-export.", true },
		{ "earlyfs-enroll.", true },
	};
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	size_t i;

	tmp = tmp && *tmp ? tmp : "/tmp";
	d = opendir(tmp);
	while (d && (de = readdir(d))) {
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
			size_t l = strlen(ours[i].prefix);
			long pid;
			char *end;

			if (strncmp(de->d_name, ours[i].prefix, l))
				continue;
			pid = strtol(de->d_name + l, &end, 10);
			if (end == de->d_name + l || *end != '.' || pid <= 0 ||
			    (kill((pid_t)pid, 0) < 0 && errno != ESRCH) ||
			    kill((pid_t)pid, 0) == 0)
				continue;
			/* its creator is dead */
			snprintf(path, sizeof(path), "%s/%s", tmp, de->d_name);
			if (ours[i].whole)
				host_rm_rf(path);
			else
				rmdir(path);
		}
	}
	if (d)
		closedir(d);
}

int mounts_scratch(const char *prefix, char *ret, size_t cap)
{
	mounts_clean_dead();
	return mounts_mkdtemp(prefix, ret, cap);
}

int mounts_mkdtemp(const char *prefix, char *ret, size_t cap)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(ret, cap, "%s/%s.%ld.XXXXXX", tmp && *tmp ? tmp : "/tmp",
		 prefix, (long)getpid());
	return mkdtemp(ret) ? 0 : -errno;
}

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

int mounts_alone(int dir)
{
#ifdef SYS_open_tree
	/* not AT_RECURSIVE: the one mount, none beneath it */
	long fd = syscall(SYS_open_tree, dir, "", AT_EMPTY_PATH |
			  OPEN_TREE_CLONE | O_CLOEXEC);

	return fd < 0 ? -errno : (int)fd;
#else
	(void)dir;
	return -ENOSYS;
#endif
}
