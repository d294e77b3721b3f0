/* stub: earlyfs-init as /init of a module stub (src/admin/stub.h): load
 * the stub's modules, mount the boot partition (the kernel's root=), free
 * the stub, move into the partition and exec its init (init=, as the
 * kernel would have) there: earlyfs-init again, from the partition. */
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

/* Never returns: the partition's init, or a wait with the reason said. */
int stub_main(char **envp)
{
	const char *root, *init;
	char dev[256], *list = NULL, *buf = NULL;
	size_t len = 0, blen;
	unsigned long flags = MS_RDONLY;

	mkdir("/dev", 0755);
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/root", 0700);
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	console();
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	log_open();
	if (read_file("/proc/cmdline", CMDLINE_MAX * 2, &buf, &blen) < 0 ||
	    cmdline_parse(buf, blen, &stub_cmdline) < 0)
		log_error("stub: cannot read the kernel command line");
	free(buf);
	if (read_file(STUB_MARKER, 1 << 16, &list, &len) == 0)
		load_modules(list, len);
	free(list);
	unlink(STUB_MARKER);
	rmdir("/m");
	root = cmdline_get(&stub_cmdline, "root");
	init = cmdline_get(&stub_cmdline, "init");
	if (cmdline_has(&stub_cmdline, "rw"))
		flags = 0;
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
