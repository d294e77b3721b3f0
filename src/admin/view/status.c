/* status: what a boot partition holds (read with libext2fs, not mounted),
 * and the last boot */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "extlinux.h"
#include "fragment.h"
#include "atomic.h"
#include "target/boot.h"
#include "target/fs.h"
#include "view/inspect.h"
#include "kv.h"
#include "layout.h"
#include "loader/loader.h"
#include "target/target.h"
#include "report.h"
#include "view/status.h"

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

/* An EFI loader: its name, the ESP, the entries there, the default. */
static void print_loader(struct boot *b, const char *conf, FILE *out)
{
	struct loader_site s;
	struct err e;

	if (loader_site_conf(b, conf, strlen(conf), &s, &e) < 0) {
		fprintf(out, "loader:   %s\n", e.msg);
		return;
	}
	fprintf(out, "loader:   %s", s.ops->name);
	if (s.ops->status)
		s.ops->status(&s, out);
	fprintf(out, "\n");
	loader_site_close(&s);
}

static bool on_esp(const char *conf)
{
	char name[64];

	return kv_get(conf, strlen(conf), "bootloader", name,
		      sizeof(name)) == 0 && strcmp(name, "extlinux");
}

int status_target(const char *target, unsigned partno, FILE *out,
		  struct err *e)
{
	char (*names)[256], *conf, *ext;
	uint64_t free_bytes, total;
	struct target t;
	struct fs *fs;
	size_t n, i, len;
	int r;

	r = target_resolve(target, partno, &t, e);
	if (r < 0)
		return r;
	r = fs_open(t.is_image ? t.disk : t.dev, t.is_image ? t.offset : 0,
		    target, &fs, e);
	if (r < 0)
		return r;
	r = fs_read(fs, LAYOUT_CONF, LAYOUT_CONF_MAX, &conf, &len);
	if (r < 0) {
		fs_close(fs);
		return err_setr(e, r, EXIT_FAILED, "%s: no " LAYOUT_CONF ": not "
				"an earlyfs boot partition, or its "
				"provisioning did not finish", target);
	}
	fprintf(out, "%s: earlyfs boot partition (label %s)\n", target,
		fs_label(fs)[0] ? fs_label(fs) : "none");
	print_conf(conf, out);
	if (on_esp(conf)) {
		struct boot b = { .fd = -1, .lock_fd = -1, .t = t,
				  .disk_known = true };

		snprintf(b.dir, sizeof(b.dir), "%s", target);
		print_loader(&b, conf, out);
	}
	names = calloc(256, sizeof(*names));
	n = names ? fs_list(fs, "/", names, 256) : 0;
	qsort(names, n, sizeof(*names), cmp);
	fprintf(out, "kernels:  ");
	for (i = 0; i < n; i++)
		if (!strncmp(names[i], "vmlinuz-", 8))
			fprintf(out, "%s ", names[i]);
	fprintf(out, "\n");
	if (fs_read(fs, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX, &ext,
		    &len) == 0) {
		print_labels(ext, out);
		free(ext);
	} else if (!on_esp(conf)) {
		fprintf(out, "labels:   no " LAYOUT_EXTLINUX_CONF "\n");
	}
	free(conf);
	n = names ? fs_list(fs, LAYOUT_INITD, names, 256) : 0;
	qsort(names, n, sizeof(*names), cmp);
	fprintf(out, "fragments:");
	for (i = 0; i < n; i++) {
		enum fragment_class c = fragment_name_classify(names[i]);

		if (c == FRAGMENT_RUN)
			fprintf(out, " %s", names[i]);
		else if (c == FRAGMENT_DISABLED)
			fprintf(out, " (%s)", names[i]);
	}
	fs_space(fs, &free_bytes, &total);
	fprintf(out, "\nfree:     %llu KiB of %llu KiB\n",
		(unsigned long long)(free_bytes >> 10),
		(unsigned long long)(total >> 10));
	free(names);
	fs_close(fs);
	return 0;
}

/* On a running system: the partition at /boot and the last boot report. */
int status_running(FILE *out, struct err *e)
{
	struct boot_report *rep;
	char why[512], *conf, *text;
	size_t i, len;
	int r;

	r = read_file(BOOT_DEFAULT "/" LAYOUT_CONF, LAYOUT_CONF_MAX, &conf, &len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "no earlyfs boot partition "
				"at " BOOT_DEFAULT " (no " BOOT_DEFAULT "/"
				LAYOUT_CONF "); give a TARGET to inspect one");
	fprintf(out, "/boot: earlyfs boot partition\n");
	print_conf(conf, out);
	if (on_esp(conf)) {
		struct boot b = { .fd = -1, .lock_fd = -1 };

		snprintf(b.dir, sizeof(b.dir), BOOT_DEFAULT);
		print_loader(&b, conf, out);
	}
	free(conf);
	if (read_file(BOOT_DEFAULT "/" LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX,
		      &text, &len) == 0) {
		print_labels(text, out);
		free(text);
	}
	rep = inspect_report_load(REPORT_PATH, why, sizeof(why));
	if (!rep) {
		fprintf(out, "last boot: %s\n", why);
		return 0;
	}
	fprintf(out, "last boot: %zu fragment%s, root %s (%s), pivot %s, %ld "
		"ms in early userspace\n", rep->n, rep->n == 1 ? "" : "s",
		rep->root_device, rep->root_how, rep->pivot, rep->total_ms);
	for (i = 0; i < rep->n; i++)
		fprintf(out, "  %-24s %-8s %6ld ms\n", rep->fragments[i].name,
			report_status_name(rep->fragments[i].status),
			rep->fragments[i].duration_ms);
	free(rep);
	return 0;
}
