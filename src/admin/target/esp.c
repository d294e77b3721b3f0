/* esp: see esp.h */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "base/run.h"
#include "target/esp.h"
#include "target/fdisk.h"
#include "text.h"


/* mtools on the image's partition: "IMAGE@@OFFSET" and "::PATH". */
static void mtools_at(const struct esp *esp, char *ret, size_t cap)
{
	snprintf(ret, cap, "%s@@%llu", esp->image,
		 (unsigned long long)esp->offset);
}

static void mtools_path(const char *path, char *ret, size_t cap)
{
	snprintf(ret, cap, "::%s", path);
}

/* Runs an mtools command (argv[0] the tool, argv[1..] after -i IMAGE);
 * its exit status, or -errno. */
static int mtools(const struct esp *esp, const char *tool,
		  const char *const *args, size_t n, int in, char **out,
		  size_t out_max, size_t *out_len)
{
	char at[4200], errbuf[256];
	char *argv[12];
	size_t i, k = 0;

	mtools_at(esp, at, sizeof(at));
	argv[k++] = (char *)tool;
	argv[k++] = "-i";
	argv[k++] = at;
	for (i = 0; i < n && k < 11; i++)
		argv[k++] = (char *)args[i];
	argv[k] = NULL;
	/* no geometry check (an image has none), no user's configuration */
	setenv("MTOOLS_SKIP_CHECK", "1", 1);
	setenv("MTOOLSRC", "/dev/null", 1);
	if (out)
		return run_capture(argv, in, 0, out_max, out, out_len, errbuf,
				   sizeof(errbuf));
	return run_filter(argv, in, 0, -1, 0, errbuf, sizeof(errbuf));
}

int esp_open_dir(const char *path, struct esp *ret, struct err *e)
{
	struct stat st;

	memset(ret, 0, sizeof(*ret));
	ret->dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ret->dir < 0 || fstat(ret->dir, &st) < 0)
		return err_setr(e, -errno, EXIT_USAGE, "the ESP %s: %s", path,
				strerror(errno));
	snprintf(ret->shown, sizeof(ret->shown), "%s", path);
	return 0;
}

int esp_open_at(const char *file, uint64_t offset, uint64_t size,
		const char *shown, struct esp *ret, struct err *e)
{
	const char *root[] = { "::/" };
	char *out = NULL;
	size_t len;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->dir = -1;
	snprintf(ret->image, sizeof(ret->image), "%s", file);
	ret->offset = offset;
	ret->size = size;
	snprintf(ret->shown, sizeof(ret->shown), "%s", shown);
	r = mtools(ret, "minfo", root, 1, -1, &out, 1 << 16, &len);
	free(out);
	if (r != 0)
		return err_set(e, EXIT_REFUSED, "the ESP, %s, holds no FAT file "
			       "system (mtools cannot read it)", ret->shown);
	return 0;
}

int esp_open_image(const char *image, unsigned partno, struct esp *ret,
		   struct err *e)
{
	struct fdisk_part p;
	char shown[4200];
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->dir = -1;
	r = fdisk_read_partition(image, partno, &p, e);
	if (r < 0)
		return r;
	if (p.table != TABLE_GPT || strcmp(p.type, FDISK_ESP_TYPE))
		return err_set(e, EXIT_REFUSED, "partition %u of %s is not an "
			       "EFI System Partition (GPT type %s); give the "
			       "ESP's partition number", partno, image,
			       FDISK_ESP_TYPE);
	snprintf(shown, sizeof(shown), "partition %u of %s", partno, image);
	return esp_open_at(image, p.offset, p.size, shown, ret, e);
}

void esp_close(struct esp *esp)
{
	if (esp->dir >= 0)
		close(esp->dir);
	esp->dir = -1;
}

int esp_format_image(const char *image, uint64_t offset, uint64_t size,
		     struct err *e)
{
	char off[32], blocks[32], errbuf[512];
	/* the FAT size for the partition's size, given: left to itself,
	 * mkfs.fat picks it from the whole image file's size (FAT32 for an
	 * image of a few GiB), and then refuses a 64 MiB ESP; a FAT32 forced
	 * on fewer clusters than it needs is one mtools and some firmware
	 * read as FAT16 */
	char *argv[] = { "mkfs.fat", "-F", size >= (512ull << 20) ? "32" : "16",
			 "-n", "ESP", off, (char *)image, blocks, NULL };
	int r;

	snprintf(off, sizeof(off), "--offset=%llu",
		 (unsigned long long)(offset / 512));
	snprintf(blocks, sizeof(blocks), "%llu",
		 (unsigned long long)(size / 1024));
	r = run_cmd(argv, errbuf, sizeof(errbuf));
	if (r != 0)
		return err_set(e, EXIT_FAILED, "mkfs.fat of the ESP failed "
			       "(%d): %s (is dosfstools installed?)", r,
			       errbuf);
	return 0;
}

/* mdir's last line: "      66 942 976 bytes free" (digits grouped by
 * spaces): the number, or -1. */
static long long mdir_free(const char *text)
{
	const char *end = strstr(text, " bytes free"), *p;
	long long v = 0, scale = 1;

	if (!end)
		return -1;
	for (p = end; p > text && (p[-1] == ' ' || (p[-1] >= '0' &&
						   p[-1] <= '9'));) {
		p--;
		if (*p == ' ')
			continue;
		v += (*p - '0') * scale;
		scale *= 10;
	}
	return scale > 1 ? v : -1;
}

int esp_free_bytes(const struct esp *esp, uint64_t *ret)
{
	const char *root[] = { "::/" };
	struct statvfs v;
	char *out = NULL;
	long long n;
	size_t len;
	int r;

	if (esp->dir >= 0) {
		if (fstatvfs(esp->dir, &v) < 0)
			return -errno;
		*ret = (uint64_t)v.f_bavail * v.f_frsize;
		return 0;
	}
	r = mtools(esp, "mdir", root, 1, -1, &out, 1 << 20, &len);
	n = r == 0 ? mdir_free(out) : -1;
	free(out);
	if (r < 0)
		return r;
	if (n < 0)
		return -EIO;
	*ret = (uint64_t)n;
	return 0;
}

bool esp_exists(const struct esp *esp, const char *path)
{
	char p[PATH_MAX + 8], *out = NULL;
	const char *args[] = { "-b", p };
	size_t len;
	int r;

	if (esp->dir >= 0)
		return beneath_exists(esp->dir, path + 1);
	mtools_path(path, p, sizeof(p));
	r = mtools(esp, "mdir", args, 2, -1, &out, 1 << 20, &len);
	free(out);
	return r == 0;
}

int esp_mkdirs(const struct esp *esp, const char *path)
{
	char part[PATH_MAX], p[PATH_MAX + 8];
	const char *args[] = { p };
	size_t i;
	int r;

	snprintf(part, sizeof(part), "%s", path);
	for (i = 1;; i++) {
		bool last = !part[i];

		if (part[i] != '/' && !last)
			continue;
		part[i] = '\0';
		if (!esp_exists(esp, part)) {
			if (esp->dir >= 0) {
				r = beneath_mkdir(esp->dir, part + 1, 0755);
			} else {
				mtools_path(part, p, sizeof(p));
				r = mtools(esp, "mmd", args, 1, -1, NULL, 0,
					   NULL);
				r = r > 0 ? -EIO : r;
			}
			if (r < 0)
				return r;
		}
		if (last)
			return 0;
		part[i] = '/';
	}
}

/* A file written beside path, then renamed over it. */
static int put_dir(const struct esp *esp, const char *path, int in,
		   const void *data, size_t len)
{
	char tmp[PATH_MAX], buf[65536];
	off_t off = 0;
	int out, r = 0;
	ssize_t n;

	out = beneath_tmpfile(esp->dir, path + 1, tmp, sizeof(tmp));
	if (out < 0)
		return out;
	while (r == 0 && in >= 0 &&
	       (n = pread(in, buf, sizeof(buf), off)) != 0) {
		r = n < 0 ? -errno : write_all(out, buf, (size_t)n);
		off += n > 0 ? n : 0;
	}
	if (r == 0 && in < 0)
		r = write_all(out, data, len);
	if (r == 0 && (fchmod(out, 0644) < 0 || fsync(out) < 0))
		r = -errno;
	if (close(out) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = beneath_rename(esp->dir, tmp, path + 1);
	if (r < 0)
		beneath_unlink(esp->dir, tmp, false);
	return r;
}

int esp_put(const struct esp *esp, const char *path, int src,
	    const void *data, size_t len)
{
	char tmp[PATH_MAX], to[PATH_MAX + 8];
	const char *slash = strrchr(path, '/');
	int in, r;

	if (esp->dir >= 0)
		return put_dir(esp, path, src, data, len);
	/* mtools renames within a directory: the temporary name beside
	 * it; FAT keeps the name's case with a long name */
	snprintf(tmp, sizeof(tmp), "%.*s/.%s.tmp", (int)(slash - path), path,
		 slash + 1);
	esp_remove(esp, tmp);
	in = src >= 0 ? src : run_memfd("esp-put", data, len);
	if (in < 0)
		return in;
	mtools_path(tmp, to, sizeof(to));
	{
		const char *args[] = { "-o", "-", to };

		r = mtools(esp, "mcopy", args, 3, in, NULL, 0, NULL);
	}
	if (src < 0)
		close(in);
	if (r != 0)
		return r < 0 ? r : -EIO;
	return esp_rename(esp, tmp, path);
}

int esp_rename(const struct esp *esp, const char *from, const char *to)
{
	const char *fs = strrchr(from, '/'), *ts = strrchr(to, '/');
	char p[PATH_MAX + 8];
	int r;

	if (!fs || !ts || fs - from != ts - to || strncmp(from, to,
							   (size_t)(fs - from)))
		return -EXDEV;
	if (esp->dir >= 0)
		return beneath_rename(esp->dir, from + 1, to + 1);
	if (!esp_exists(esp, from))
		return -ENOENT;
	esp_remove(esp, to);
	mtools_path(from, p, sizeof(p));
	{
		const char *args[] = { p, ts + 1 };

		r = mtools(esp, "mren", args, 2, -1, NULL, 0, NULL);
	}
	return r < 0 ? r : r ? -EIO : 0;
}

int esp_read(const struct esp *esp, const char *path, size_t max,
	     char **ret, size_t *ret_len)
{
	char p[PATH_MAX + 8];
	const char *args[] = { p };
	int r;

	*ret = NULL;
	if (esp->dir >= 0)
		return beneath_read(esp->dir, path + 1, max, ret, ret_len);
	if (!esp_exists(esp, path))
		return -ENOENT;
	mtools_path(path, p, sizeof(p));
	r = mtools(esp, "mtype", args, 1, -1, ret, max, ret_len);
	if (r > 0) {
		free(*ret);
		*ret = NULL;
		return -EIO;
	}
	return r;
}

int esp_remove(const struct esp *esp, const char *path)
{
	char p[PATH_MAX + 8];
	const char *args[] = { p };
	int r;

	if (esp->dir >= 0) {
		r = beneath_unlink(esp->dir, path + 1, false);
		return r;
	}
	if (!esp_exists(esp, path))
		return -ENOENT;
	mtools_path(path, p, sizeof(p));
	r = mtools(esp, "mdel", args, 1, -1, NULL, 0, NULL);
	return r < 0 ? r : r ? -EIO : 0;
}

int esp_rmdir(const struct esp *esp, const char *path)
{
	char p[PATH_MAX + 8];
	const char *args[] = { p };
	int r;

	if (esp->dir >= 0)
		return beneath_unlink(esp->dir, path + 1, true);
	if (!esp_exists(esp, path))
		return -ENOENT;
	mtools_path(path, p, sizeof(p));
	r = mtools(esp, "mrd", args, 1, -1, NULL, 0, NULL);
	return r < 0 ? r : r ? -ENOTEMPTY : 0;
}

int esp_list(const struct esp *esp, const char *path, char **ret)
{
	char p[PATH_MAX + 8], *out = NULL, *line, *save = NULL;
	const char *args[] = { "-b", p };
	size_t len, used = 0;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int r;

	*ret = NULL;
	f = open_memstream(ret, &used);
	if (!f)
		return -ENOMEM;
	if (esp->dir >= 0) {
		r = beneath_opendir(esp->dir, path + 1, &d);
		while (r == 0 && (de = readdir(d)))
			if (de->d_type == DT_REG)
				fprintf(f, "%s\n", de->d_name);
		if (r == 0)
			closedir(d);
	} else {
		mtools_path(path, p, sizeof(p));
		r = mtools(esp, "mdir", args, 2, -1, &out, 1 << 20, &len);
		r = r > 0 ? -ENOENT : r;
		/* "::/dir/name" lines, a directory's with a trailing '/' */
		for (line = r == 0 ? strtok_r(out, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			const char *base = strrchr(line, '/');
			size_t l = strlen(line);

			if (l && line[l - 1] != '/' && base)
				fprintf(f, "%s\n", base + 1);
		}
		free(out);
	}
	fclose(f);
	if (r < 0) {
		free(*ret);
		*ret = NULL;
	}
	return r;
}
