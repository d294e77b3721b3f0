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
#include "json.h"
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

/* The conf's KEY=value lines: indented text, or the members of "conf". */
/* The conf's KEY=value lines: indented text, or the members of "conf"
 * (read by kv.c, as every reader of etc/earlyfs.conf). */
static void print_conf(const char *conf, struct json *j, FILE *out)
{
	char *copy, *line, *save, key[64];
	const char *k, *v;
	size_t pos = 0, lineno = 0, kl, vl;
	int r;

	if (j) {
		json_object(j, "conf");
		while ((r = kv_next(conf, strlen(conf), &pos, &lineno, &k, &kl,
				    &v, &vl)) != 0)
			if (r > 0 && kl < sizeof(key)) {
				memcpy(key, k, kl);
				key[kl] = '\0';
				json_strn(j, key, v, vl);
			}
		json_close(j);
		return;
	}
	copy = strdup(conf);
	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			fprintf(out, "  %s\n", line);
	free(copy);
}

static void print_labels(const char *text, struct json *j, FILE *out)
{
	struct extlinux_conf c;
	const char *what;
	size_t line, i;

	if (extlinux_parse(text, strlen(text), &c, &line, &what) < 0) {
		if (!j) {
			fprintf(out, "labels:   extlinux.conf line %zu: %s\n",
				line, what);
			return;
		}
		json_null(j, "labels");
		json_str(j, "labels_error", what);
		return;
	}
	if (j) {
		json_array(j, "labels");
		for (i = 0; i < c.n; i++) {
			json_object(j, NULL);
			json_str(j, "name", c.labels[i].name);
			json_str(j, "kernel", c.labels[i].kernel);
			json_bool(j, "default", !strcmp(c.labels[i].name,
							c.default_label));
			json_close(j);
		}
		json_close(j);
		return;
	}
	fprintf(out, "labels:   ");
	for (i = 0; i < c.n; i++)
		fprintf(out, "%s%s%s", i ? ", " : "", c.labels[i].name,
			!strcmp(c.labels[i].name, c.default_label) ?
			" (default)" : "");
	fprintf(out, "\n");
}

/* An EFI loader: its name, the ESP, the entries there, the default (as
 * text; in JSON, "loader" with that text as "detail"). */
static void print_loader(struct boot *b, const char *conf, struct json *j,
			 FILE *out)
{
	struct loader_site s;
	struct err e;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	if (loader_site_conf(b, conf, strlen(conf), &s, &e) < 0) {
		if (!j) {
			fprintf(out, "loader:   %s\n", e.msg);
			return;
		}
		json_object(j, "loader");
		json_null(j, "name");
		json_str(j, "error", e.msg);
		json_close(j);
		return;
	}
	if (!j) {
		fprintf(out, "loader:   %s", s.ops->name);
		if (s.ops->status)
			s.ops->status(&s, out);
		fprintf(out, "\n");
		loader_site_close(&s);
		return;
	}
	mem = open_memstream(&text, &len);
	if (mem && s.ops->status)
		s.ops->status(&s, mem);
	if (mem)
		fclose(mem);
	json_object(j, "loader");
	json_str(j, "name", s.ops->name);
	json_str(j, "detail", text && text[0] == ',' ? text + 1 +
		 (text[1] == ' ') : text ? text : "");
	json_close(j);
	free(text);
	loader_site_close(&s);
}

static bool on_esp(const char *conf)
{
	char name[64];

	return kv_get(conf, strlen(conf), "bootloader", name,
		      sizeof(name)) == 0 && strcmp(name, "extlinux");
}

int status_target(const char *target, unsigned partno, bool as_json,
		  FILE *out, struct err *e)
{
	char (*names)[256], *conf, *ext;
	uint64_t free_bytes, total;
	struct json js, *j = as_json ? &js : NULL;
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
	if (j) {
		json_begin(j, out, "status");
		json_str(j, "boot", target);
		json_str(j, "label", fs_label(fs)[0] ? fs_label(fs) : NULL);
	} else {
		fprintf(out, "%s: earlyfs boot partition (label %s)\n", target,
			fs_label(fs)[0] ? fs_label(fs) : "none");
	}
	print_conf(conf, j, out);
	if (on_esp(conf)) {
		struct boot b = { .fd = -1, .lock_fd = -1, .t = t,
				  .disk_known = true };

		snprintf(b.dir, sizeof(b.dir), "%s", target);
		print_loader(&b, conf, j, out);
	} else if (j) {
		json_object(j, "loader");
		json_str(j, "name", "extlinux");
		json_str(j, "detail", "");
		json_close(j);
	}
	names = calloc(256, sizeof(*names));
	n = names ? fs_list(fs, "/", names, 256) : 0;
	qsort(names, n, sizeof(*names), cmp);
	if (j)
		json_array(j, "kernels");
	else
		fprintf(out, "kernels:  ");
	for (i = 0; i < n; i++) {
		if (strncmp(names[i], LAYOUT_KERNEL_PREFIX,
			    LAYOUT_KERNEL_PREFIX_LEN))
			continue;
		if (j)
			json_str(j, NULL, names[i]);
		else
			fprintf(out, "%s ", names[i]);
	}
	if (j)
		json_close(j);
	else
		fprintf(out, "\n");
	if (fs_read(fs, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX, &ext,
		    &len) == 0) {
		print_labels(ext, j, out);
		free(ext);
	} else if (j) {
		json_null(j, "labels");
	} else if (!on_esp(conf)) {
		fprintf(out, "labels:   no " LAYOUT_EXTLINUX_CONF "\n");
	}
	free(conf);
	n = names ? fs_list(fs, LAYOUT_INITD, names, 256) : 0;
	qsort(names, n, sizeof(*names), cmp);
	if (j)
		json_array(j, "fragments");
	else
		fprintf(out, "fragments:");
	for (i = 0; i < n; i++) {
		enum fragment_class c = fragment_name_classify(names[i]);

		if (c != FRAGMENT_RUN && c != FRAGMENT_DISABLED)
			continue;
		if (j) {
			json_object(j, NULL);
			json_strn(j, "name", names[i], strlen(names[i]) -
				  (c == FRAGMENT_DISABLED ? 9 : 0));
			json_bool(j, "enabled", c == FRAGMENT_RUN);
			json_close(j);
		} else {
			fprintf(out, c == FRAGMENT_RUN ? " %s" : " (%s)",
				names[i]);
		}
	}
	fs_space(fs, &free_bytes, &total);
	if (j) {
		json_close(j);
		json_int(j, "free_kib", (long long)(free_bytes >> 10));
		json_int(j, "size_kib", (long long)(total >> 10));
		json_end(j);
	} else {
		fprintf(out, "\nfree:     %llu KiB of %llu KiB\n",
			(unsigned long long)(free_bytes >> 10),
			(unsigned long long)(total >> 10));
	}
	free(names);
	fs_close(fs);
	return 0;
}

/* On a running system: the partition at /boot (or beside it) and the last
 * boot report. */
int status_running(bool as_json, FILE *out, struct err *e)
{
	struct boot_report *rep;
	struct json js, *j = as_json ? &js : NULL;
	const char *dir = boot_default();
	char why[512], path[PATH_MAX], *conf, *text;
	size_t i, len;
	int r;

	snprintf(path, sizeof(path), "%s/" LAYOUT_CONF, dir);
	r = read_file(path, LAYOUT_CONF_MAX, &conf, &len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "no earlyfs boot partition "
				"at %s (no %s); give a TARGET to inspect one",
				dir, path);
	if (j) {
		json_begin(j, out, "status");
		json_str(j, "boot", dir);
	} else {
		fprintf(out, "%s: earlyfs boot partition\n", dir);
	}
	print_conf(conf, j, out);
	if (on_esp(conf)) {
		struct boot b = { .fd = -1, .lock_fd = -1 };

		snprintf(b.dir, sizeof(b.dir), "%s", dir);
		print_loader(&b, conf, j, out);
	}
	free(conf);
	snprintf(path, sizeof(path), "%s/" LAYOUT_EXTLINUX_CONF, dir);
	if (read_file(path, LAYOUT_EXTLINUX_MAX, &text, &len) == 0) {
		print_labels(text, j, out);
		free(text);
	} else if (j) {
		json_null(j, "labels");
	}
	rep = inspect_report_load(REPORT_PATH, why, sizeof(why));
	if (!rep) {
		if (j) {
			json_null(j, "last_boot");
			json_str(j, "last_boot_error", why);
			json_end(j);
		} else {
			fprintf(out, "last boot: %s\n", why);
		}
		return 0;
	}
	if (j) {
		json_object(j, "last_boot");
		json_str(j, "root_device", rep->root_device);
		json_str(j, "root_how", rep->root_how);
		json_str(j, "pivot", rep->pivot);
		json_int(j, "total_ms", rep->total_ms);
		json_array(j, "fragments");
		for (i = 0; i < rep->n; i++) {
			json_object(j, NULL);
			json_str(j, "name", rep->fragments[i].name);
			json_str(j, "status", report_status_name(
					rep->fragments[i].status));
			json_int(j, "duration_ms",
				 rep->fragments[i].duration_ms);
			json_close(j);
		}
		json_end(j);
		free(rep);
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
