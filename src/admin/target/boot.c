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
#include <sys/sysmacros.h>
#include "base/beneath.h"
#include "target/boot.h"
#include "atomic.h"
#include "kv.h"
#include "layout.h"
#include "text.h"
#include "base/mounts.h"

static unsigned conf_keep(int dir)
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

/*
 * The lock every writer of a partition shares.  It is a file only root
 * can open, in a root-only directory of the host (never on the partition,
 * which may be read-only, and never the partition's world-readable root
 * directory, which any user could flock), named after what identifies the
 * partition: the image file or block device of --target, the file system
 * and root inode of a mounted one.  A wait for it is bounded.
 */
static int lock_dir(struct err *e)
{
	struct stat st;

	if (mkdir(BOOT_LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return err_set(e, EXIT_FAILED, "cannot create %s: %s",
			       BOOT_LOCK_DIR, strerror(errno));
	if (lstat(BOOT_LOCK_DIR, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 077))
		return err_set(e, EXIT_REFUSED, "%s is not a directory only "
			       "root can use (owner %u, mode %o); remove it and "
			       "try again", BOOT_LOCK_DIR, (unsigned)st.st_uid,
			       (unsigned)(st.st_mode & 07777));
	return 0;
}

/* "PID (COMMAND)" of whoever holds a lock on the file, from /proc/locks */
static void lock_holder(int fd, char *ret, size_t cap)
{
	char *locks = NULL, key[64], comm[64] = "?", path[64], *c;
	const char *p;
	struct stat st;
	size_t len;
	long pid;

	snprintf(ret, cap, "another process");
	if (fstat(fd, &st) < 0 ||
	    read_file("/proc/locks", 1 << 20, &locks, &len) < 0)
		return;
	snprintf(key, sizeof(key), " %02x:%02x:%llu ", major(st.st_dev),
		 minor(st.st_dev), (unsigned long long)st.st_ino);
	p = strstr(locks, key);
	while (p && p > locks && p[-1] != ' ')
		p--;	/* back over the pid */
	if (p && p > locks && (pid = strtol(p, NULL, 10)) > 0) {
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		free(locks);
		locks = NULL;
		if (read_file(path, 64, &locks, &len) == 0) {
			snprintf(comm, sizeof(comm), "%s", locks);
			if ((c = strchr(comm, '\n')))
				*c = '\0';
		}
		snprintf(ret, cap, "process %ld (%s)", pid, comm);
	}
	free(locks);
}

static unsigned lock_timeout(void)
{
	const char *v = getenv("EARLYFS_LOCK_TIMEOUT");
	unsigned long n;

	if (v && text_parse_uint(v, strlen(v), 86400, &n) == 0)
		return (unsigned)n;
	return BOOT_LOCK_TIMEOUT;
}

static int lock_take(struct boot *b, const char *kind, dev_t dev, ino_t ino,
		     struct err *e)
{
	char path[128], who[128];
	unsigned waited = 0, limit = lock_timeout() * 10;
	int r, fd;

	r = lock_dir(e);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), BOOT_LOCK_DIR "/%s-%llx-%llx", kind,
		 (unsigned long long)dev, (unsigned long long)ino);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, EXIT_FAILED, "cannot open the lock %s: %s",
			       path, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = err_set(e, EXIT_FAILED, "cannot lock %s: %s",
				    b->name, strerror(errno));
			close(fd);
			return r;
		}
		if (waited++ >= limit) {
			lock_holder(fd, who, sizeof(who));
			close(fd);
			return err_set(e, EXIT_REFUSED, "%s is locked by %s "
				       "(waited %u s); try again when it is "
				       "done", b->name, who, limit / 10);
		}
		usleep(100 * 1000);
	}
	b->lock_fd = fd;
	return 0;
}

const char *boot_default(void)
{
	if (access(BOOT_DEFAULT "/" LAYOUT_CONF, F_OK) < 0 &&
	    access(BOOT_BESIDE "/" LAYOUT_CONF, F_OK) == 0)
		return BOOT_BESIDE;
	return BOOT_DEFAULT;
}

int boot_open(const char *dir, const char *target, unsigned partno,
	      bool write, struct boot *b, struct err *e)
{
	const char *where;
	struct stat st;
	int r;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->lock_fd = -1;
	b->write = write;
	if (target) {
		snprintf(b->name, sizeof(b->name), "%s", target);
		r = target_resolve(target, partno, &b->t, e);
		if (r < 0)
			return r;
		/* the partition is ours alone from before the check that
		 * nothing uses it until it is detached */
		if (stat(b->t.is_image ? b->t.disk : b->t.dev, &st) < 0) {
			r = err_set(e, EXIT_FAILED, "%s: %s", target,
				    strerror(errno));
			goto fail;
		}
		r = b->t.is_image ?
			lock_take(b, "image", st.st_dev, st.st_ino, e) :
			lock_take(b, "block", st.st_rdev, 0, e);
		if (r < 0)
			goto fail;
		b->locked = true;
		mounts_clean_dead();
		r = mounts_private();
		if (r < 0) {
			r = err_setr(e, r, EXIT_FAILED, "cannot make a private "
				     "mount namespace: %s", strerror(-r));
			goto fail;
		}
		r = target_check_unused(&b->t, e);
		if (r == 0)
			r = target_attach(&b->t, e);
		if (r < 0)
			goto fail;
		if (mounts_mkdtemp("earlyfs-edit", b->tmpmnt, sizeof(b->tmpmnt)) < 0 ||
		    mount(b->t.dev, b->tmpmnt, "ext4",
			  MS_NOATIME | MS_NOSUID | MS_NODEV | MS_NOEXEC |
				  (write ? 0 : MS_RDONLY), NULL) < 0) {
			r = err_setr(e, -errno, EXIT_FAILED, "cannot mount %s: "
				     "%s; is it an earlyfs boot partition?",
				     b->t.dev, strerror(errno));
			goto fail;
		}
		b->mounted = true;
		b->disk_known = true;
		dir = b->tmpmnt;
	}
	where = target ? target : dir ? dir : boot_default();
	if (!dir)
		dir = boot_default();
	if (!realpath(dir, b->dir)) {
		r = err_set(e, EXIT_FAILED, "%s: %s; give the mounted boot "
			    "partition with --boot DIR, or --target", dir,
			    strerror(errno));
		goto fail;
	}
	b->fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->fd < 0) {
		r = err_set(e, EXIT_FAILED, "cannot open %s: %s", b->dir,
			    strerror(errno));
		goto fail;
	}
	if (beneath_lstat(b->fd, LAYOUT_CONF, &st) < 0 ||
	    !S_ISREG(st.st_mode)) {
		r = err_set(e, EXIT_FAILED, "%s is not an earlyfs boot "
			    "partition (no " LAYOUT_CONF "); give the mounted "
			    "boot partition with --boot DIR, or an image or "
			    "partition with --target", where);
		goto fail;
	}
	snprintf(b->name, sizeof(b->name), "%s", where);
	b->keep = conf_keep(b->fd);
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
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	b->lock_fd = -1;
	b->locked = false;
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
	struct stat st;
	int r;

	if (b->lock_fd < 0) {
		if (fstat(b->fd, &st) < 0)
			return err_set(e, EXIT_FAILED, "%s: %s", b->dir,
				       strerror(errno));
		r = lock_take(b, "fs", st.st_dev, st.st_ino, e);
		if (r < 0)
			return r;
	}
	b->locked = true;
	return 0;
}

int boot_writable(struct boot *b, struct err *e)
{
	struct statvfs v;

	if (b->remounted || fstatvfs(b->fd, &v) < 0 ||
	    !(v.f_flag & ST_RDONLY))
		return 0;
	if (mount(NULL, b->dir, NULL, MS_REMOUNT | mount_flags(&v), NULL) < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s is mounted "
				"read-only and cannot be remounted read-write: "
				"%s", b->dir, strerror(errno));
	b->remounted = true;
	return 0;
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
	/* a --target's lock is held until boot_close() detaches it */
	if (b->lock_fd >= 0 && !b->mounted) {
		close(b->lock_fd);
		b->lock_fd = -1;
		b->locked = false;
	}
}

int boot_hold_writable(struct boot *b, bool rw, FILE *out, struct err *e)
{
	char marker[128];
	struct statvfs v;
	struct stat st;
	bool held;
	int r;

	if (boot_is_target(b))
		return err_set(e, EXIT_USAGE, "remount is for the running "
			       "machine's boot partition (--boot DIR), not a "
			       "--target");
	if (fstat(b->fd, &st) < 0 || fstatvfs(b->fd, &v) < 0)
		return err_set(e, EXIT_FAILED, "%s: %s", b->dir,
			       strerror(errno));
	r = boot_lock(b, out, e);
	if (r < 0)
		return r;
	snprintf(marker, sizeof(marker), BOOT_LOCK_DIR "/rw-%llx-%llx",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	held = access(marker, F_OK) == 0;
	if (rw && !(v.f_flag & ST_RDONLY)) {
		fprintf(out, "earlyfs: %s is read-write already%s\n", b->dir,
			held ? " ('earlyfs remount ro' makes it read-only)" :
			       " (mounted so: 'earlyfs remount ro' leaves it)");
		return 0;
	}
	if (rw) {
		int fd = open(marker, O_WRONLY | O_CREAT | O_NOFOLLOW |
			      O_CLOEXEC, 0600);

		if (fd < 0)
			return err_set(e, EXIT_FAILED, "cannot create %s: %s",
				       marker, strerror(errno));
		close(fd);
		if (mount(NULL, b->dir, NULL, MS_REMOUNT | mount_flags(&v),
			  NULL) < 0) {
			r = err_set(e, EXIT_FAILED, "cannot remount %s "
				    "read-write: %s", b->dir, strerror(errno));
			unlink(marker);
			return r;
		}
		fprintf(out, "earlyfs: %s is read-write until 'earlyfs "
			"remount ro'\n", b->dir);
		return 0;
	}
	if (!held) {
		fprintf(out, "earlyfs: %s was not made read-write by 'earlyfs "
			"remount rw': left %s\n", b->dir,
			v.f_flag & ST_RDONLY ? "read-only" : "read-write");
		return 0;
	}
	if (!(v.f_flag & ST_RDONLY)) {
		syncfs(b->fd);
		if (mount(NULL, b->dir, NULL,
			  MS_REMOUNT | MS_RDONLY | mount_flags(&v), NULL) < 0)
			return err_set(e, EXIT_FAILED, "cannot remount %s "
				       "read-only: %s (a file on it is open "
				       "for writing? 'earlyfs remount ro' "
				       "again when it is closed)", b->dir,
				       strerror(errno));
	}
	unlink(marker);
	fprintf(out, "earlyfs: %s is read-only again\n", b->dir);
	return 0;
}

int boot_sync(const struct boot *b)
{
	return syncfs(b->fd) < 0 ? -errno : 0;
}

int boot_conf_get_in(int dir, const char *tree, const char *key, char *ret,
		     size_t cap)
{
	char path[PATH_MAX], *conf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s%s" LAYOUT_CONF, tree,
		 tree[0] ? "/" : "");
	r = beneath_read(dir, path, LAYOUT_CONF_MAX, &conf, &len);
	if (r < 0)
		return r;
	r = kv_get(conf, len, key, ret, cap);
	free(conf);
	return r;
}

int boot_conf_get(int dir, const char *key, char *ret, size_t cap)
{
	return boot_conf_get_in(dir, "", key, ret, cap);
}

char *boot_conf_with(int dir, const char *key, const char *value,
		     size_t *ret_len)
{
	size_t len = 0, pos = 0, l, kl, vl, klen = strlen(key);
	const char *line, *k, *v;
	char *buf = NULL, *text = NULL;
	bool done = false;
	FILE *f;

	if (beneath_read(dir, LAYOUT_CONF, LAYOUT_CONF_MAX, &buf, &len) < 0)
		len = 0;
	f = open_memstream(&text, ret_len);
	if (!f) {
		free(buf);
		return NULL;
	}
	while (buf && text_next_line(buf, len, &pos, &line, &l) != 0) {
		if (kv_parse_line(line, l, &k, &kl, &v, &vl) == 1 &&
		    kl == klen && !memcmp(k, key, kl)) {
			if (!done)
				fprintf(f, "%s=%s\n", key, value);
			done = true;
			continue;
		}
		fprintf(f, "%.*s\n", (int)l, line);
	}
	if (!done)
		fprintf(f, "%s=%s\n", key, value);
	free(buf);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
