/* status: what a boot partition holds, read with libext2fs, not mounted */
#include <dirent.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "extlinux.h"
#include "fragment.h"
#include "report.h"

/* libext2fs errcode_t stops here: callers see -1 and e's message. */
static char *fs_read(ext2_filsys fs, const char *path, size_t max)
{
	ext2_ino_t ino;
	ext2_file_t f;
	unsigned int got = 0;
	char *buf;

	if (ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino))
		return NULL;
	if (ext2fs_file_open(fs, ino, 0, &f))
		return NULL;
	buf = calloc(1, max + 1);
	if (buf && ext2fs_file_read(f, buf, (unsigned)max, &got)) {
		free(buf);
		buf = NULL;
	}
	ext2fs_file_close(f);
	return buf;
}

struct names {
	char (*v)[256];
	size_t n, cap;
};

static int collect(struct ext2_dir_entry *de, int offset, int blocksize,
		   char *buf, void *priv)
{
	struct names *nm = priv;
	size_t len = ext2fs_dirent_name_len(de);

	(void)offset;
	(void)blocksize;
	(void)buf;
	if (nm->n < nm->cap && len < 256) {
		memcpy(nm->v[nm->n], de->name, len);
		nm->v[nm->n++][len] = '\0';
	}
	return 0;
}

static size_t fs_list(ext2_filsys fs, const char *dir, char (*ret)[256],
		      size_t cap)
{
	struct names nm = { ret, 0, cap };
	ext2_ino_t ino;

	if (ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, dir, &ino))
		return 0;
	ext2fs_dir_iterate(fs, ino, 0, NULL, collect, &nm);
	return nm.n;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void print_conf(const char *conf, FILE *out)
{
	char *copy = strdup(conf), *line, *save;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			fprintf(out, "  %s\n", line);
	free(copy);
}

static void print_labels(const char *text, FILE *out)
{
	struct extlinux_conf c;
	const char *what;
	size_t line, i;

	if (extlinux_parse(text, strlen(text), &c, &line, &what) < 0) {
		fprintf(out, "labels:   extlinux.conf line %zu: %s\n", line, what);
		return;
	}
	fprintf(out, "labels:   ");
	for (i = 0; i < c.n; i++)
		fprintf(out, "%s%s%s", i ? ", " : "", c.labels[i].name,
			!strcmp(c.labels[i].name, c.default_label) ?
			" (default)" : "");
	fprintf(out, "\n");
}

int status_target(const char *target, unsigned partno, FILE *out,
		  struct err *e)
{
	char opts[64] = "", (*names)[256], *conf, *ext;
	struct target t;
	ext2_filsys fs;
	errcode_t err;
	size_t n, i;

	if (target_resolve(target, partno, &t, e) < 0)
		return -1;
	if (t.is_image)
		snprintf(opts, sizeof(opts), "offset=%llu",
			 (unsigned long long)t.offset);
	err = ext2fs_open2(t.is_image ? t.disk : t.dev, opts[0] ? opts : NULL,
			   0, 0, 0, unix_io_manager, &fs);
	if (err)
		return err_set(e, EXIT_FAILED, "%s: no ext2/3/4 file system "
			       "(%s); not an earlyfs boot partition", target,
			       error_message(err));
	conf = fs_read(fs, "etc/earlyfs.conf", 16384);
	if (!conf) {
		ext2fs_close_free(&fs);
		return err_set(e, EXIT_FAILED, "%s: no etc/earlyfs.conf: not an "
			       "earlyfs boot partition, or its provisioning did "
			       "not finish", target);
	}
	fprintf(out, "%s: earlyfs boot partition (label %s)\n", target,
		fs->super->s_volume_name[0] ? (char *)fs->super->s_volume_name
					    : "none");
	print_conf(conf, out);
	free(conf);
	names = calloc(256, sizeof(*names));
	n = names ? fs_list(fs, "/", names, 256) : 0;
	qsort(names, n, sizeof(*names), cmp);
	fprintf(out, "kernels:  ");
	for (i = 0; i < n; i++)
		if (!strncmp(names[i], "vmlinuz-", 8))
			fprintf(out, "%s ", names[i]);
	fprintf(out, "\n");
	ext = fs_read(fs, "extlinux/extlinux.conf", 64 * 1024);
	if (ext)
		print_labels(ext, out);
	else
		fprintf(out, "labels:   no extlinux/extlinux.conf\n");
	free(ext);
	n = names ? fs_list(fs, "init.d", names, 256) : 0;
	qsort(names, n, sizeof(*names), cmp);
	fprintf(out, "fragments:");
	for (i = 0; i < n; i++) {
		enum fragment_class c = fragment_name_classify(names[i]);

		if (c == FRAGMENT_RUN)
			fprintf(out, " %s", names[i]);
		else if (c == FRAGMENT_DISABLED)
			fprintf(out, " (%s)", names[i]);
	}
	fprintf(out, "\nfree:     %llu KiB of %llu KiB\n",
		(unsigned long long)(ext2fs_free_blocks_count(fs->super) *
				     fs->blocksize >> 10),
		(unsigned long long)(ext2fs_blocks_count(fs->super) *
				     fs->blocksize >> 10));
	free(names);
	ext2fs_close_free(&fs);
	return 0;
}

/* On a running system: the partition at /boot and the last boot report. */
int status_running(FILE *out, struct err *e)
{
	char *conf = read_text("/boot/etc/earlyfs.conf", 16384), *text;
	struct boot_report *rep;
	char why[512];
	size_t i;

	if (!conf)
		return err_set(e, EXIT_FAILED, "no earlyfs boot partition at "
			       "/boot (no /boot/etc/earlyfs.conf); give a "
			       "TARGET to inspect one");
	fprintf(out, "/boot: earlyfs boot partition\n");
	print_conf(conf, out);
	free(conf);
	text = read_text("/boot/extlinux/extlinux.conf", 64 * 1024);
	if (text)
		print_labels(text, out);
	free(text);
	rep = report_load(REPORT_PATH, why, sizeof(why));
	if (!rep) {
		fprintf(out, "last boot: %s\n", why);
		return 0;
	}
	fprintf(out, "last boot: %zu fragments, root %s (%s), pivot %s, %ld ms "
		"in early userspace\n", rep->n, rep->root_device, rep->root_how,
		rep->pivot, rep->total_ms);
	for (i = 0; i < rep->n; i++)
		fprintf(out, "  %-24s %-8s %6ld ms\n", rep->fragments[i].name,
			report_status_name(rep->fragments[i].status),
			rep->fragments[i].duration_ms);
	free(rep);
	return 0;
}
