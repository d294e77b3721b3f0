/* switchroot: move /dev and /run, pivot_root so the boot partition is /boot
 * (or earlyfs.boot=); from an initramfs (earlyfs export --cpio or --uki:
 * no partition), the real root moved over / and the initramfs's files
 * freed, as switch_root does */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "atomic.h"
#include "mountinfo.h"
#include "init.h"
#include "text.h"

#define MOUNTS_MAX 128

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define RESOLVE_IN_ROOT_ 0x10

struct open_how_ {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};

/* Opens path as if NEWROOT were /, so that absolute symlinks such as
 * /sbin/init -> /lib/systemd/systemd resolve as they will for the real init. */
static int open_in_newroot(const char *path, int flags)
{
	struct open_how_ how = { (uint64_t)(flags | O_CLOEXEC), 0,
				 RESOLVE_IN_ROOT_ };
	int root, fd, e;

	root = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	e = errno;
	close(root);
	return fd < 0 ? -e : fd;
}

/* Kernels before 5.6 lack openat2: check in a child chrooted there. */
static int check_init_chrooted(const char *init)
{
	struct stat st;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (chroot(NEWROOT) < 0 || chdir("/") < 0)
			_exit(errno & 0xff);
		if (stat(init, &st) < 0)
			_exit(errno & 0xff);
		if (!S_ISREG(st.st_mode))
			_exit(EACCES);
		if (access(init, X_OK) < 0)
			_exit(errno & 0xff);
		_exit(0);
	}
	if (child_wait(pid, -1, &status) < 0)
		return -ECHILD;
	if (!WIFEXITED(status))
		return -EIO;
	return -WEXITSTATUS(status);
}

int switchroot_check_init(const char *init)
{
	struct stat st;
	int fd = open_in_newroot(init, O_PATH), r = 0;

	if (fd == -ENOSYS)
		return check_init_chrooted(init);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		r = -EACCES;
	close(fd);
	return r;
}

/* Mount points from mountinfo, in mount order. */
static size_t mount_points(char mp[][256], size_t max)
{
	static struct mountinfo_entry entry;
	struct mountinfo_entry *m = &entry;
	size_t pos = 0, l, n = 0, len;
	const char *line;
	char *buf;

	if (read_file("/proc/self/mountinfo", 1024 * 1024, &buf, &len) < 0)
		return 0;
	while (n < max && text_next_line(buf, len, &pos, &line, &l) > 0)
		if (mountinfo_parse_line(line, l, m) > 0 &&
		    text_copy(mp[n], 256, m->mount_point,
			      strlen(m->mount_point)) == 0)
			n++;
	free(buf);
	return n;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void move_under(const char *from)
{
	char to[256];

	snprintf(to, sizeof(to), "%s%s", NEWROOT, from);
	mkdir(to, 0755);
	if (!is_mountpoint(from))
		return;
	if (mount(from, to, NULL, MS_MOVE, NULL) < 0)
		log_warn("cannot move %s to the real root: %m; it stays "
			 "under the boot partition, continuing", from);
}

static void move_back(const char *to)
{
	char from[256];

	snprintf(from, sizeof(from), "%s%s", NEWROOT, to);
	mount(from, to, NULL, MS_MOVE, NULL);
}

#define RAMFS_MAGIC_ 0x858458f6
#define TMPFS_MAGIC_ 0x01021994

/* The early userspace is the initramfs itself (rootfs, which pivot_root
 * cannot move). */
static bool in_initramfs(void)
{
	struct statfs f;

	return statfs("/", &f) == 0 && ((unsigned long)f.f_type ==
					 RAMFS_MAGIC_ ||
					 (unsigned long)f.f_type == TMPFS_MAGIC_);
}

/* What is in the directory fd on dev, removed (fd closed): the
 * initramfs's memory back.  Mount points (another dev) stay. */
static void free_tree(int fd, dev_t dev, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct stat st;

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 64) {
			sub = openat(dirfd(d), de->d_name, O_RDONLY |
				     O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				free_tree(sub, dev, depth + 1);
			unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
}

static int switch_from_initramfs(void)
{
	struct stat st;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || chdir(NEWROOT) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	free_tree(fd, st.st_dev, 0);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		return -errno;
	return 0;
}

int switchroot(const char *boot_at)
{
	static char mp[MOUNTS_MAX][256];
	char at[256];
	struct stat st;
	bool keep_boot = true;
	size_t n, i;
	int r = 0;

	snprintf(at, sizeof(at), "%s%s", NEWROOT, boot_at);
	if (stat(at, &st) < 0 && mkdir(at, 0755) < 0) {
		log_warn("the real root has no %s and it cannot be made "
			 "(%m): the boot partition will not be visible after "
			 "the pivot", boot_at);
		keep_boot = false;
	}
	move_under("/dev");
	move_under("/run");
	log_debug("stage: /dev and /run moved");
	n = mount_points(mp, MOUNTS_MAX);
	for (i = n; i-- > 0;) {
		if (strcmp(mp[i], "/") == 0 || under(mp[i], NEWROOT))
			continue;
		if (umount2(mp[i], MNT_DETACH) < 0)
			log_warn("cannot unmount %s: %m, continuing", mp[i]);
	}
	log_debug("stage: other mounts detached");
	if (in_initramfs()) {
		r = switch_from_initramfs();
		if (r == 0)
			return 0;
		/* the initramfs is partly freed: nothing to go back to */
		log_error("cannot move the real root over the initramfs: %s",
			  strerror(-r));
		return r;
	}
	if (chdir(NEWROOT) < 0) {
		r = -errno;
		goto fail;
	}
	if (syscall(SYS_pivot_root, ".", keep_boot ? boot_at + 1 : ".") < 0) {
		r = -errno;
		if (chdir("/") < 0) {
			/* we are lost either way; the rescue shell says so */
		}
		goto fail;
	}
	if (!keep_boot)
		umount2(".", MNT_DETACH);
	if (chroot(".") < 0 || chdir("/") < 0) {
		r = -errno;
		log_error("chroot into the new root failed: %m");
		return r;
	}
	return 0;
fail:
	log_error("pivot_root(%s, %s%s) failed: %s", NEWROOT, NEWROOT,
		  boot_at, strerror(-r));
	move_back("/dev");
	move_back("/run");
	mounts_ensure_api();
	return r;
}
