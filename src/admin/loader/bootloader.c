/* bootloader: extlinux.conf from its template, extlinux, syslinux's MBR code */
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "loader/bootloader.h"
#include "layout.h"
#include "extlinux.h"
#include "template.h"
#include "base/run.h"
#include "base/host.h"

#define MBR_DIR "/usr/lib/syslinux/mbr"

int bootloader_write_conf(const char *mnt, const struct template_var *vars,
			size_t n, const char *version, const char *initrd,
			struct err *e)
{
	char path[PATH_MAX], unknown[32], *tpl, *out, *with;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/templates/extlinux.conf", host_data_dir());
	r = read_file(path, LAYOUT_EXTLINUX_MAX, &tpl, &len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read %s: %s", path,
				strerror(-r));
	r = template_render(tpl, vars, n, &out, unknown);
	free(tpl);
	if (r == -EINVAL)
		return err_set(e, EXIT_FAILED, "%s: placeholder @%s@ has no "
			       "value (or a value has a newline)", path, unknown);
	if (r < 0)
		return err_set(e, EXIT_FAILED, "cannot render %s", path);
	if (initrd) {
		len = strlen(out) + 4096;
		with = malloc(len);
		r = with ? extlinux_set_kernels(out, strlen(out), version, initrd,
						NULL, NULL, 0, with, len)
			 : -ENOMEM;
		free(out);
		if (r < 0) {
			free(with);
			return err_set(e, EXIT_FAILED, "%s: no 'earlyfs' label "
				       "for the module stub", path);
		}
		out = with;
	}
	snprintf(path, sizeof(path), "%s/extlinux", mnt);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		free(out);
		return err_set(e, EXIT_FAILED, "cannot make %s: %s", path,
			       strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/extlinux/extlinux.conf", mnt);
	r = host_write_text(path, out, 0644);
	free(out);
	return r < 0 ? err_set(e, EXIT_FAILED, "cannot write %s: %s", path,
			       strerror(-r)) : 0;
}

int bootloader_install(const char *mnt, struct err *e)
{
	char dir[PATH_MAX], errbuf[1024];
	char *const argv[] = { "extlinux", "--install", dir, NULL };
	int r;

	snprintf(dir, sizeof(dir), "%s/extlinux", mnt);
	r = run_cmd(argv, errbuf, sizeof(errbuf));
	if (r != 0)
		return err_set(e, EXIT_FAILED, "extlinux --install failed (%d): "
			       "%s", r, errbuf);
	return 0;
}

/* 440 bytes of boot code, never the disk signature or the table. */
/* Whether code (the disk's first 440 bytes) is syslinux's, from any of
 * its MBR files (what a provision wrote before). */
static bool syslinux_code(const unsigned char *code)
{
	static const char *const names[] = { "mbr.bin", "gptmbr.bin",
					     "altmbr.bin", "mbr_c.bin",
					     "gptmbr_c.bin", "altmbr_c.bin" };
	unsigned char mine[440];
	char path[PATH_MAX];
	size_t i;
	ssize_t n;
	int fd;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", MBR_DIR, names[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, mine, sizeof(mine));
		close(fd);
		/* the code, up to the disk signature it leaves alone */
		if (n > 0 && !memcmp(mine, code, (size_t)n < 432 ? (size_t)n
								 : 432))
			return true;
	}
	return false;
}

int bootloader_check_mbr(const char *disk, bool force, FILE *out,
			 struct err *e)
{
	unsigned char code[440];
	const char *whose = "another boot loader's";
	size_t i;
	int fd;
	ssize_t n;

	fd = open(disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, EXIT_FAILED, "cannot open %s for its MBR: %s",
			       disk, strerror(errno));
	n = pread(fd, code, sizeof(code), 0);
	close(fd);
	if (n != (ssize_t)sizeof(code))
		return err_set(e, EXIT_FAILED, "cannot read the MBR of %s",
			       disk);
	for (i = 0; i < sizeof(code) && !code[i]; i++)
		;
	if (i == sizeof(code) || syslinux_code(code)) {
		fprintf(out, "%s", i == sizeof(code) ? "no boot code there"
						       : "syslinux's code there");
		return 0;
	}
	if (memmem(code, sizeof(code), "GRUB", 4))
		whose = "GRUB's";
	if (force) {
		fprintf(out, "%s boot code there, to be replaced (--force)",
			whose);
		return 0;
	}
	return err_set(e, EXIT_REFUSED, "the MBR of %s holds %s boot code: "
		       "extlinux would replace it, and the machine would boot "
		       "earlyfs's menu only.  Give --no-mbr to leave it (and "
		       "start the partition from that loader), or --force to "
		       "replace it; nothing was written", disk, whose);
}

int bootloader_write_mbr(const char *disk, enum table_type table, struct err *e)
{
	char path[PATH_MAX], code[440];
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", MBR_DIR,
		 table == TABLE_GPT ? "gptmbr.bin" : "mbr.bin");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, EXIT_FAILED, "cannot read %s: %s (install "
			       "syslinux-common)", path, strerror(errno));
	n = read(fd, code, sizeof(code));
	close(fd);
	if (n <= 0)
		return err_set(e, EXIT_FAILED, "%s is empty", path);
	fd = open(disk, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, EXIT_FAILED, "cannot open %s for the MBR: %s",
			       disk, strerror(errno));
	if (pwrite(fd, code, (size_t)n, 0) != n || fsync(fd) < 0)
		r = err_set(e, EXIT_FAILED, "cannot write the MBR of %s: %s",
			    disk, strerror(errno));
	close(fd);
	return r;
}
