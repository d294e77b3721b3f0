/* boot: opening a boot partition (mounted, or an image's), and its lock */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include "boot.h"
#include "generation.h"
#include "layout.h"
#include "text.h"
#include "util.h"

static unsigned conf_keep(const char *dir)
{
	unsigned long n;
	char v[16];
	int r;

	if (boot_conf_get(dir, "keep_generations", v, sizeof(v)) < 0)
		return LAYOUT_KEEP_DEFAULT;
	r = text_parse_uint(v, strlen(v), 1000, &n);
	if (r == -ERANGE)
		return 1000;
	if (r < 0)
		return LAYOUT_KEEP_DEFAULT;
	return n < 2 ? 2 : (unsigned)n;
}

int boot_open(const char *dir, const char *target, unsigned partno,
	      bool write, struct boot *b, struct err *e)
{
	char path[PATH_MAX];
	const char *where;
	int r;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->img_fd = -1;
	b->write = write;
	if (target) {
		r = target_resolve(target, partno, &b->t, e);
		if (r < 0)
			return r;
		if (b->t.is_image) {
			b->img_fd = open(b->t.disk, O_RDONLY | O_CLOEXEC);
			if (b->img_fd < 0 ||
			    flock(b->img_fd, LOCK_EX | LOCK_NB) < 0) {
				r = err_set(e, EXIT_REFUSED, "%s is in use by "
					    "another earlyfs command; try "
					    "again when it is done", b->t.disk);
				goto fail;
			}
		}
		r = target_check_unused(&b->t, e);
		if (r == 0)
			r = target_attach(&b->t, e);
		if (r < 0)
			goto fail;
		if (mkdtemp_in("earlyfs-edit", b->tmpmnt, sizeof(b->tmpmnt)) < 0 ||
		    mount(b->t.dev, b->tmpmnt, "ext4",
			  MS_NOATIME | (write ? 0 : MS_RDONLY), NULL) < 0) {
			r = err_setr(e, -errno, EXIT_FAILED, "cannot mount %s: "
				     "%s; is it an earlyfs boot partition?",
				     b->t.dev, strerror(errno));
			goto fail;
		}
		b->mounted = true;
		dir = b->tmpmnt;
	}
	where = target ? target : dir ? dir : BOOT_DEFAULT;
	if (!dir)
		dir = BOOT_DEFAULT;
	if (!realpath(dir, b->dir)) {
		r = err_set(e, EXIT_FAILED, "%s: %s; give the mounted boot "
			    "partition with --boot DIR, or --target", dir,
			    strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/" LAYOUT_CONF, b->dir);
	if (access(path, F_OK) < 0) {
		r = err_set(e, EXIT_FAILED, "%s is not an earlyfs boot "
			    "partition (no " LAYOUT_CONF "); give the mounted "
			    "boot partition with --boot DIR, or an image or "
			    "partition with --target", where);
		goto fail;
	}
	snprintf(b->name, sizeof(b->name), "%s", where);
	b->fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->fd < 0) {
		r = err_set(e, EXIT_FAILED, "cannot open %s: %s", b->dir,
			    strerror(errno));
		goto fail;
	}
	b->keep = conf_keep(b->dir);
	return 0;
fail:
	boot_close(b);
	return r;
}

void boot_close(struct boot *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	if (b->mounted && umount(b->tmpmnt) == 0)
		b->mounted = false;
	if (b->tmpmnt[0] && !b->mounted)
		rmdir(b->tmpmnt);
	b->tmpmnt[0] = '\0';
	target_detach(&b->t);
	if (b->img_fd >= 0)
		close(b->img_fd);
	b->img_fd = -1;
}

static unsigned long mount_flags(const struct statvfs *v)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC }, { ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
		{ ST_SYNCHRONOUS, MS_SYNCHRONOUS },
	};
	unsigned long f = 0;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (v->f_flag & map[i].st)
			f |= map[i].ms;
	return f;
}

int boot_lock(struct boot *b, FILE *out, struct err *e)
{
	struct statvfs v;
	int r;

	while (flock(b->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_set(e, EXIT_FAILED, "cannot lock %s: %s",
				       b->dir, strerror(errno));
	b->locked = true;
	if (fstatvfs(b->fd, &v) == 0 && (v.f_flag & ST_RDONLY)) {
		if (mount(NULL, b->dir, NULL, MS_REMOUNT | mount_flags(&v),
			  NULL) < 0) {
			r = err_setr(e, -errno, EXIT_FAILED, "%s is mounted "
				     "read-only and cannot be remounted "
				     "read-write: %s", b->dir, strerror(errno));
			boot_unlock(b, out);
			return r;
		}
		b->remounted = true;
	}
	r = gen_recover(b, out, e);
	if (r < 0)
		boot_unlock(b, out);
	return r;
}

void boot_unlock(struct boot *b, FILE *out)
{
	struct statvfs v;

	if (b->remounted) {
		syncfs(b->fd);
		if (fstatvfs(b->fd, &v) < 0 ||
		    mount(NULL, b->dir, NULL,
			  MS_REMOUNT | MS_RDONLY | mount_flags(&v), NULL) < 0)
			fprintf(out, "earlyfs: warning: %s stays read-write: "
				"%s (a file on it is open for writing?)\n",
				b->dir, strerror(errno));
		b->remounted = false;
	}
	if (b->locked)
		flock(b->fd, LOCK_UN);
	b->locked = false;
}

int boot_sync(const struct boot *b)
{
	return syncfs(b->fd) < 0 ? -errno : 0;
}
