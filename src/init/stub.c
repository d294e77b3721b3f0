/* stub: earlyfs-init as /init of a module stub (src/admin/stub.h): load
 * the stub's modules, mount the boot partition (the kernel's root=), free
 * the stub, move into the partition and exec its init (init=, as the
 * kernel would have) there: earlyfs-init again, from the partition.
 *
 * In a sealed image (earlyfs seal) the stub also holds SEAL_MANIFEST:
 * then the partition is mounted read-only and compared with it before
 * anything on it runs; any difference is said on the console, and the
 * boot stops there (src/lib/seal.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "atomic.h"
#include "cmdline.h"
#include "init.h"
#include "layout.h"
#include "seal.h"
#include "text.h"

static struct cmdline stub_cmdline;

static void console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* PID 1 never exits (the kernel would panic): says why and waits. */
static void __attribute__((noreturn)) stop(const char *why)
{
	log_error("%s", why);
	for (;;)
		pause();
}

static void load_modules(const char *list, size_t len)
{
	size_t pos = 0, l;
	const char *line;

	while (text_next_line(list, len, &pos, &line, &l) > 0) {
		char path[256];
		int fd;

		if (l < 8 || memcmp(line, "module /", 8) || l - 7 >= sizeof(path))
			continue;
		snprintf(path, sizeof(path), "%.*s", (int)(l - 7), line + 7);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 &&
			       errno != EEXIST))
			log_error("stub: cannot load %s: %m", path);
		if (fd >= 0)
			close(fd);
		unlink(path);	/* the stub's memory goes as it is used */
	}
}

static void said(void *ctx, const char *path, size_t pl, const char *sealed,
		 size_t sl, const char *found, size_t fl)
{
	unsigned *n = ctx;

	if ((*n)++ >= 40)	/* the console is not a log file */
		return;
	if (!found)
		log_error("seal: %.*s: sealed ('%.*s') but missing", (int)pl,
			  path, (int)sl, sealed);
	else if (!sealed)
		log_error("seal: %.*s: not sealed, found '%.*s'", (int)pl, path,
			  (int)fl, found);
	else
		log_error("seal: %.*s: sealed '%.*s', found '%.*s'", (int)pl,
			  path, (int)sl, sealed, (int)fl, found);
}

static void live_said(void *ctx, const char *path, size_t pl,
		      const char *sealed, size_t sl, const char *found,
		      size_t fl)
{
	unsigned *n = ctx;

	(void)sl;
	(void)fl;
	if ((*n)++ < 40)
		log_warn("seal: init.d/%.*s: %s since the generation that runs "
			 "was sealed; not run", (int)pl, path,
			 !found ? "removed" : !sealed ? "added" : "changed");
}

/* An image that runs generation g verified that generation's fragments
 * and fstab; the live ones (a change made without the key) are said, not
 * run. */
static void live_changes(unsigned g)
{
	char p[96], *a = NULL, *b = NULL, *fa = NULL, *fb = NULL;
	size_t al, bl, fal = 0, fbl = 0;
	unsigned n = 0;
	int x, y;

	snprintf(p, sizeof(p), "/root/" LAYOUT_GENERATIONS "/%u/" LAYOUT_INITD,
		 g);
	x = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	y = open("/root/" LAYOUT_INITD, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x >= 0 && y >= 0 && seal_scan(x, NULL, &a, &al) == 0 &&
	    seal_scan(y, NULL, &b, &bl) == 0)
		seal_compare(a, al, b, bl, live_said, &n);
	snprintf(p, sizeof(p), "/root/" LAYOUT_GENERATIONS "/%u/" LAYOUT_FSTAB,
		 g);
	read_regular(p, LAYOUT_FSTAB_MAX, &fa, &fal);
	read_regular("/root/" LAYOUT_FSTAB, LAYOUT_FSTAB_MAX, &fb, &fbl);
	if (fal != fbl || (fa && fb && memcmp(fa, fb, fal)) || !fa != !fb) {
		log_warn("seal: " LAYOUT_FSTAB ": changed since the generation "
			 "that runs was sealed; not used");
		n++;
	}
	if (n)
		log_warn("seal: running generation %u as it was sealed; seal "
			 "again ('earlyfs seal') to boot the change", g);
	free(a);
	free(b);
	free(fa);
	free(fb);
	if (x >= 0)
		close(x);
	if (y >= 0)
		close(y);
}

/* 0 when the partition at /root is what the manifest says; else it has
 * said why. */
static int verify(const char *sealed, size_t slen)
{
	char *found = NULL;
	size_t flen;
	unsigned said_n = 0;
	long t0 = now_ms(), n;
	struct seal_scope scope;
	int fd = -1, r;

	if (seal_scope_of(sealed, slen, &scope) < 0) {
		log_error("seal: the sealed manifest cannot be read");
		return -1;
	}
	fd = open("/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? -errno : seal_scan(fd, &scope, &found, &flen);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		log_error("seal: cannot read the boot partition: %s",
			  strerror(-r));
		return -1;
	}
	n = seal_compare(sealed, slen, found, flen, said, &said_n);
	free(found);
	if (n < 0) {
		log_error("seal: the sealed manifest cannot be read");
		return -1;
	}
	if (n > 0) {
		log_error("seal: the boot partition is not what was sealed "
			  "(%ld difference%s%s): nothing on it runs. Boot "
			  "another sealed entry, or check the partition from a "
			  "trusted system and seal it again ('earlyfs seal')",
			  n, n == 1 ? "" : "s", n > 40 ? ", the first 40 said" : "");
		return -1;
	}
	log_notice("seal: the boot partition is as sealed (%ld ms)",
		   now_ms() - t0);
	if (scope.generation)
		live_changes(scope.generation);
	return 0;
}

/* /dev, /proc, /sys and the console; then the stub's modules loaded and
 * their files freed. */
static void stub_start(void)
{
	char *list = NULL;
	size_t len = 0;

	mkdir("/dev", 0755);
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	console();
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	log_open();
	if (read_file(STUB_MARKER, 1 << 16, &list, &len) == 0)
		load_modules(list, len);
	free(list);
	unlink(STUB_MARKER);
	rmdir("/m");
}

void stub_exported(void)
{
	stub_start();
	umount2("/proc", MNT_DETACH);
	umount2("/sys", MNT_DETACH);
	umount2("/dev", MNT_DETACH);
}

/* Never returns: the partition's init, or a wait with the reason said. */
int stub_main(char **envp)
{
	const char *root, *init;
	char dev[256], *buf = NULL, *seal = NULL;
	size_t blen, seal_len = 0;
	unsigned long flags = MS_RDONLY;

	mkdir("/root", 0700);
	stub_start();
	if (read_file("/proc/cmdline", CMDLINE_MAX * 2, &buf, &blen) < 0 ||
	    cmdline_parse(buf, blen, &stub_cmdline) < 0)
		log_error("stub: cannot read the kernel command line");
	free(buf);
	if (read_file(SEAL_MANIFEST, SEAL_MAX, &seal, &seal_len) < 0 &&
	    access(SEAL_MANIFEST, F_OK) == 0)
		stop("seal: the sealed manifest cannot be read");
	unlink(SEAL_MANIFEST);
	root = cmdline_get(&stub_cmdline, "root");
	init = cmdline_get(&stub_cmdline, "init");
	if (cmdline_has(&stub_cmdline, "rw") && !seal)
		flags = 0;	/* a sealed partition is read-only as it runs */
	for (;;) {
		if (!root)
			log_error("stub: no root= on the command line: the boot "
				  "partition is not known");
		else if (rootdev_wait(root, 30, "boot partition", "root", dev,
				      sizeof(dev)) < 0)	/* it said why */
			log_error("stub: the boot partition %s was not found; "
				  "looking again in 5 s", root);
		else if (mount(dev, "/root", "ext4", flags, NULL) < 0)
			log_error("stub: cannot mount the boot partition %s "
				  "(%s): %m; trying again in 5 s", root, dev);
		else
			break;
		sleep(5);
	}
	if (seal && verify(seal, seal_len) < 0) {
		umount2("/root", MNT_DETACH);
		stop("seal: stopped; the machine can be switched off");
	}
	free(seal);
	unlink("/init");
	umount2("/proc", MNT_DETACH);
	umount2("/sys", MNT_DETACH);
	umount2("/dev", MNT_DETACH);
	if (chdir("/root") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
		log_error("stub: cannot move into the boot partition: %m");
	if (!init)
		init = "/sbin/init";
	char *const argv[] = { (char *)init, NULL };

	execve(init, argv, envp);
	log_error("stub: cannot execute %s on the boot partition: %m", init);
	for (;;)
		pause();
}
