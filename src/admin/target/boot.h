/* boot.h: an opened boot partition, and the lock every writer takes */
#ifndef EARLYFS_BOOT_H
#define EARLYFS_BOOT_H
#include <stdbool.h>
#include <stdio.h>
#include "base/err.h"
#include "target/target.h"

#define BOOT_DEFAULT "/boot"
/* Where a machine that keeps its own /boot (its own GRUB, its kernels
 * and initramfs images) has the earlyfs partition: earlyfs.boot= */
#define BOOT_BESIDE "/earlyfs"
/* Where the locks are: root's alone (0700), on the host. */
#define BOOT_LOCK_DIR "/run/earlyfs-locks"
/* How long a command waits for another one's lock, in seconds
 * ($EARLYFS_LOCK_TIMEOUT changes it). */
#define BOOT_LOCK_TIMEOUT 60

struct boot {
	char dir[4096];		/* the mounted boot partition */
	char name[4096];	/* what the user gave, for messages */
	int fd;			/* its root directory */
	int lock_fd;		/* the lock (BOOT_LOCK_DIR), while held */
	bool write, locked, remounted;
	unsigned keep;		/* generations kept (keep_generations=) */
	unsigned pinned[2];	/* and never pruned: those a sealed image
				 * runs while it cannot be sealed again */
	/* --target: attached and mounted here by us */
	struct target t;
	char tmpmnt[4096];
	bool mounted;
	/* t describes the partition's disk: a --target, or the partition
	 * provision is making (its ESP is found on t.disk, not on this
	 * machine, and EFI variables are not the disk's) */
	bool disk_known;
};

/* Whether b is a --target (an image or a device we attached and
 * mounted): a partition from elsewhere, whose files name nothing on the
 * host that earlyfs would read. */
static inline bool boot_is_target(const struct boot *b)
{
	return b->mounted;
}

/* The running machine's boot partition when none is given: /boot, or
 * BOOT_BESIDE when it holds the partition and /boot does not. */
const char *boot_default(void);
/* dir (default boot_default()), or target/partno attached and mounted
 * privately. */
int boot_open(const char *dir, const char *target, unsigned partno,
	      bool write, struct boot *b, struct err *e);
void boot_close(struct boot *b);
/* Takes the lock every writer shares (change_lock() also finishes what
 * an interrupted change left). */
int boot_lock(struct boot *b, FILE *out, struct err *e);
/* Remounts a read-only partition read-write until boot_unlock(); before
 * the first write of a change, never for one that is refused. */
int boot_writable(struct boot *b, struct err *e);
void boot_unlock(struct boot *b, FILE *out);
/* 'earlyfs remount rw|ro': the running machine's boot partition held
 * read-write across a package manager's run (dpkg's pre- and post-invoke
 * hooks).  rw remounts a read-only one and remembers it (a marker beside
 * the locks); ro makes read-only again only what rw made read-write, so
 * that a partition the admin mounted read-write stays so.  Under the
 * lock, so that it never falls between a change's remounts. */
int boot_hold_writable(struct boot *b, bool rw, FILE *out, struct err *e);
/* syncfs(2) of the partition: 0 or -errno. */
int boot_sync(const struct boot *b);
/* KEY=value from etc/earlyfs.conf beneath the boot partition's fd dir:
 * 0, -ENOENT, -E2BIG, -errno. */
int boot_conf_get(int dir, const char *key, char *ret, size_t cap);
/* The same from the state under tree ("" the live one, or a generation's
 * directory). */
int boot_conf_get_in(int dir, const char *tree, const char *key, char *ret,
		     size_t cap);
/* The text of LAYOUT_CONF with KEY=value set: its line (the first with
 * that key, as boot_conf_get() reads it) replaced, the others with the
 * key dropped, or the line added; malloc'ed, or NULL. */
char *boot_conf_with(int dir, const char *key, const char *value,
		     size_t *ret_len);
#endif
