/* mounts: /dev and the console, the boot partition's fstab, API file systems */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "devspec.h"
#include "fstab.h"
#include "init.h"
#include "layout.h"
#include "mntopts.h"

bool is_mountpoint(const char *path)
{
	char parent[4096];
	struct stat a, b;
	size_t n = strlen(path);

	if (n + 4 > sizeof(parent) || stat(path, &a) < 0)
		return false;
	if (strcmp(path, "/") == 0)
		return true;
	memcpy(parent, path, n);
	memcpy(parent + n, "/..", 4);
	if (stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

static void mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(tmp))
		return;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++)
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];

			tmp[i] = '\0';
			mkdir(tmp, mode);
			tmp[i] = c;
		}
}

static void open_console(void)
{
	int fd;

	if (fcntl(STDIN_FILENO, F_GETFD) >= 0 &&
	    fcntl(STDOUT_FILENO, F_GETFD) >= 0 &&
	    fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* What devtmpfs lacks and shells and tools expect (as systemd makes them). */
static void dev_links(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	size_t i;

	mkdir("/dev/shm", 01777);
	mkdir("/dev/pts", 0755);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
			log_debug("cannot link %s: %m", links[i][1]);
}

void mounts_early(void)
{
	int devtmpfs_err = 0;

	if (!is_mountpoint("/dev")) {
		mkdir("/dev", 0755);
		if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID,
			  "mode=0755") < 0)
			devtmpfs_err = errno;
	}
	open_console();
	log_open();
	if (devtmpfs_err)
		log_error("cannot mount devtmpfs on /dev: %s; the kernel needs "
			  "CONFIG_DEVTMPFS=y, continuing", strerror(devtmpfs_err));
	dev_links();
	/* pivot_root and MS_MOVE refuse shared mounts */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		log_warn("cannot make mounts private: %m, continuing");
}

static void mount_entry(const struct fstab_entry *e)
{
	char dev[4096];
	const char *src = e->spec, *what;
	struct mount_opts o;
	struct devspec ds;

	if (mntopts_parse(e->mntops, &o) < 0) {
		log_warn("fstab line %zu: options too long, skipped", e->line);
		return;
	}
	if (o.noauto || strcmp(e->vfstype, "swap") == 0 ||
	    strcmp(e->file, "/") == 0 || strcmp(e->file, "none") == 0)
		return;
	if (strchr(e->spec, '=') && devspec_parse(e->spec, &ds, &what) == 0) {
		if (rootdev_find(e->spec, dev, sizeof(dev), &what) < 0) {
			log_warn("fstab line %zu: %s not found, skipped",
				 e->line, e->spec);
			return;
		}
		src = dev;
	}
	if (is_mountpoint(e->file)) {
		log_debug("%s is already mounted", e->file);
		return;
	}
	mkdir_p(e->file, 0755);
	if (mount(src, e->file, e->vfstype, o.flags,
		  o.data[0] ? o.data : NULL) < 0) {
		if (o.nofail)
			log_debug("cannot mount %s (nofail): %m", e->file);
		else
			log_warn("fstab line %zu: cannot mount %s on %s (%s): "
				 "%m, continuing", e->line, src, e->file,
				 e->vfstype);
		return;
	}
	log_debug("mounted %s on %s (%s)", src, e->file, e->vfstype);
}

#define PROC_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* The fstab's /proc line is the mount the command line was read from. */
static bool proc_line_same(const struct fstab *t)
{
	struct mount_opts o;

	for (size_t i = 0; i < t->n; i++) {
		const struct fstab_entry *e = &t->entries[i];

		if (strcmp(e->file, "/proc"))
			continue;
		return !strcmp(e->vfstype, "proc") &&
		       mntopts_parse(e->mntops, &o) == 0 && !o.noauto &&
		       o.flags == PROC_FLAGS && !o.data[0];
	}
	return false;
}

void mounts_fstab(const char *path, bool proc_ours)
{
	/* static: its entries' pages are touched as they are parsed, with
	 * no mapping made and unmade for the whole table */
	static struct fstab table;
	struct fstab *t = &table;
	size_t i, len;
	char *buf = NULL;
	int r;

	r = read_regular(path, LAYOUT_FSTAB_MAX, &buf, &len);
	if (r < 0) {
		log_warn("cannot read %s: %s, continuing", path, r == -EINVAL ?
			 "not a regular file" : r == -EFBIG ?
			 "larger than 64 KiB" : strerror(-r));
		t = NULL;
	} else {
		r = fstab_parse(buf, len, t);
		if (r == -E2BIG)
			log_warn("%s: more than %d entries; the rest are "
				 "ignored", path, FSTAB_ENTRIES_MAX);
		for (i = 0; i < t->n_errors; i++)
			log_warn("%s line %zu: %s, line skipped", path,
				 t->errors[i].line, t->errors[i].what);
	}
	/* one mount fewer when the fstab's is the same (the shipped one);
	 * detached, as the log holds /proc/sys/kernel/printk open */
	if (proc_ours && !(t && proc_line_same(t)) &&
	    umount2("/proc", MNT_DETACH) < 0)
		log_warn("cannot unmount the /proc used to read the command "
			 "line: %m, continuing");
	for (i = 0; t && i < t->n; i++)
		mount_entry(&t->entries[i]);
	free(buf);
}

static const struct {
	const char *path, *type, *data;
	unsigned long flags;
} api_mounts[] = {
	{ "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV },
};

/* The runner needs these whatever fstab says: cmdline, sysfs, state. */
void mounts_ensure_api(void)
{
	size_t i;

	for (i = 0; i < sizeof(api_mounts) / sizeof(api_mounts[0]); i++) {
		if (is_mountpoint(api_mounts[i].path))
			continue;
		mkdir(api_mounts[i].path, 0755);
		if (mount(api_mounts[i].type, api_mounts[i].path,
			  api_mounts[i].type, api_mounts[i].flags,
			  api_mounts[i].data) < 0)
			log_error("cannot mount %s on %s: %m, continuing",
				  api_mounts[i].type, api_mounts[i].path);
		else
			log_info("%s was not in fstab; mounted it",
				 api_mounts[i].path);
	}
}

bool mounts_proc_for_cmdline(void)
{
	if (is_mountpoint("/proc"))
		return false;
	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", PROC_FLAGS, NULL) < 0) {
		log_error("cannot mount /proc to read the command line: %m, "
			  "continuing with defaults");
		return false;
	}
	return true;
}
