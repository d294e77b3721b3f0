/* inspect: read-only views of a boot partition: fragments, log, generations */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "atomic.h"
#include "fragment.h"
#include "change/generation.h"
#include "view/inspect.h"
#include "layout.h"
#include "report.h"
#include "base/beneath.h"
#include "json.h"
#include "layout.h"
#include "text.h"
#include "change/tree.h"

struct boot_report *inspect_report_load(const char *path, char *why, size_t cap)
{
	struct boot_report *r = malloc(sizeof(*r));
	char *text = NULL;
	size_t len, line;
	int rc;

	if (!r) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	rc = read_file(path, 256 * 1024, &text, &len);
	if (rc < 0) {
		snprintf(why, cap, "no boot report in %s (%s): this system "
			 "was not started by earlyfs-init, or /run was "
			 "cleared", path, strerror(-rc));
	} else if (report_parse(text, len, r, &line) < 0) {
		snprintf(why, cap, "%s line %zu is malformed", path, line);
	} else {
		free(text);
		return r;
	}
	free(text);
	free(r);
	return NULL;
}

static const struct report_fragment *report_find(const struct boot_report *r,
						 const char *name)
{
	size_t i;

	for (i = 0; r && i < r->n; i++)
		if (!strcmp(r->fragments[i].name, name))
			return &r->fragments[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void json_last_boot(struct json *j, const char *key,
			   const struct report_fragment *f)
{
	if (!f) {
		json_null(j, key);
		return;
	}
	json_object(j, key);
	json_str(j, "status", report_status_name(f->status));
	if (f->status == STATUS_FAILED || f->status == STATUS_SIGNAL ||
	    f->status == STATUS_ERROR)
		json_int(j, f->status == STATUS_FAILED ? "exit" :
			 f->status == STATUS_SIGNAL ? "signal" : "errno",
			 f->code);
	json_int(j, "start_ms", f->start_ms);
	json_int(j, "duration_ms", f->duration_ms);
	json_bool(j, "optional", f->optional);
	json_close(j);
}

int inspect_fragments(const struct boot *b, const char *report, bool as_json,
		      FILE *out, struct err *e)
{
	struct json j;
	char path[PATH_MAX], why[512], base[FRAGMENT_NAME_MAX + 1];
	struct boot_report *r = inspect_report_load(report, why, sizeof(why));
	char *names[FRAGMENTS_MAX * 2];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;
	int fd;

	fd = beneath_opendir(b->fd, LAYOUT_INITD, &d);
	if (fd < 0) {
		free(r);
		return err_set(e, EXIT_FAILED, "cannot read %s/" LAYOUT_INITD
			       ": %s", b->dir, strerror(-fd));
	}
	while ((de = readdir(d)) && n < FRAGMENTS_MAX * 2) {
		enum fragment_class c = fragment_name_classify(de->d_name);

		if (c == FRAGMENT_RUN || c == FRAGMENT_DISABLED ||
		    (c == FRAGMENT_INVALID && de->d_name[0] != '.' &&
		     strcmp(de->d_name, "README")))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	if (as_json) {
		json_begin(&j, out, "fragments");
		json_str(&j, "boot", b->name);
		json_array(&j, "fragments");
	} else {
		fprintf(out, "%-28s %-8s %8s  %s\n", "FRAGMENT", "STATE",
			"BYTES", "LAST BOOT");
	}
	for (i = 0; i < n; i++) {
		enum fragment_class c = fragment_name_classify(names[i]);
		const struct report_fragment *f;
		struct stat st;

		snprintf(path, sizeof(path), LAYOUT_INITD "/%s", names[i]);
		snprintf(base, sizeof(base), "%.*s",
			 (int)(strlen(names[i]) -
			       (c == FRAGMENT_DISABLED ? 9 : 0)), names[i]);
		f = report_find(r, base);
		if (as_json) {
			json_object(&j, NULL);
			json_str(&j, "name", base);
			json_str(&j, "state", c == FRAGMENT_RUN ? "enabled" :
				 c == FRAGMENT_DISABLED ? "disabled" : "invalid");
			if (beneath_lstat(b->fd, path, &st) == 0)
				json_int(&j, "bytes", (long long)st.st_size);
			else
				json_null(&j, "bytes");
			json_last_boot(&j, "last_boot",
				       c == FRAGMENT_INVALID ? NULL : f);
			json_close(&j);
			free(names[i]);
			continue;
		}
		text_printable(base);
		fprintf(out, "%-28s %-8s %8lld  ", base,
			c == FRAGMENT_RUN ? "enabled" :
			c == FRAGMENT_DISABLED ? "disabled" : "INVALID",
			beneath_lstat(b->fd, path, &st) == 0 ?
				(long long)st.st_size : -1LL);
		if (c == FRAGMENT_INVALID)
			fprintf(out, "never runs: " FRAGMENT_RULE "\n");
		else if (f)
			fprintf(out, "%s, %ld ms\n",
				report_status_name(f->status), f->duration_ms);
		else
			fprintf(out, "-\n");
		free(names[i]);
	}
	if (as_json) {
		json_close(&j);
		json_str(&j, "report_error", r ? NULL : why);
		json_end(&j);
	} else if (!r) {
		fprintf(out, "(%s)\n", why);
	}
	free(r);
	return 0;
}

static void log_json(const struct boot_report *r, FILE *out)
{
	struct json j;
	size_t i;

	json_begin(&j, out, "log");
	if (r->generation)
		json_int(&j, "generation", r->generation);
	else
		json_null(&j, "generation");
	json_int(&j, "start_ms", r->start_ms);
	json_array(&j, "fragments");
	for (i = 0; i < r->n; i++) {
		json_object(&j, NULL);
		json_str(&j, "name", r->fragments[i].name);
		json_last_boot(&j, "result", &r->fragments[i]);
		json_close(&j);
	}
	json_close(&j);
	json_array(&j, "processes");
	for (i = 0; i < r->n_procs; i++) {
		json_object(&j, NULL);
		json_int(&j, "pid", r->procs[i].pid);
		json_str(&j, "comm", r->procs[i].comm);
		json_str(&j, "when", r->procs[i].when);
		json_bool(&j, "kept", r->procs[i].kept);
		json_close(&j);
	}
	json_close(&j);
	json_array(&j, "notes");
	for (i = 0; i < r->n_notes; i++) {
		json_object(&j, NULL);
		json_str(&j, "from", r->notes[i].from);
		json_str(&j, "text", r->notes[i].text);
		json_close(&j);
	}
	json_close(&j);
	json_object(&j, "root");
	json_str(&j, "device", r->root_device);
	json_str(&j, "fstype", r->root_fstype);
	json_str(&j, "how", r->root_how);
	json_int(&j, "ms", r->root_ms);
	json_close(&j);
	json_object(&j, "pivot");
	json_str(&j, "result", r->pivot);
	json_int(&j, "at_ms", r->pivot_ms);
	json_str(&j, "init", r->init);
	json_close(&j);
	json_int(&j, "total_ms", r->total_ms);
	json_int(&j, "peak_kib", r->peak_kib);
	json_end(&j);
}

int inspect_log(const char *report, bool as_json, FILE *out, struct err *e)
{
	char why[512];
	struct boot_report *r = inspect_report_load(report, why, sizeof(why));
	size_t i;

	if (!r)
		return err_set(e, EXIT_FAILED, "%s", why);
	if (as_json) {
		log_json(r, out);
		free(r);
		return 0;
	}
	if (r->generation)
		fprintf(out, "last boot: generation %u (earlyfs.generation=)",
			r->generation);
	else
		fprintf(out, "last boot: the current fragments");
	fprintf(out, ", earlyfs-init started at %ld ms\n", r->start_ms);
	for (i = 0; i < r->n; i++) {
		const struct report_fragment *f = &r->fragments[i];

		fprintf(out, "  %-28s %-8s", f->name,
			report_status_name(f->status));
		if (f->status == STATUS_FAILED || f->status == STATUS_SIGNAL ||
		    f->status == STATUS_ERROR)
			fprintf(out, " (%s %d)", f->status == STATUS_FAILED ?
				"exit" : f->status == STATUS_SIGNAL ? "signal" :
				"errno", f->code);
		fprintf(out, " %6ld ms%s\n", f->duration_ms,
			f->optional ? "  optional" : "");
	}
	for (i = 0; i < r->n_procs; i++)
		fprintf(out, "  process %d (%s) %s\n", r->procs[i].pid,
			text_printable(r->procs[i].comm), r->procs[i].kept ?
			"kept past the pivot (EARLYFS_KEEP)" :
			!strcmp(r->procs[i].when, "pivot") ?
			"stopped at the pivot (left running)" :
			"stopped: it outlived its fragment's time limit");
	for (i = 0; i < r->n_notes; i++)
		fprintf(out, "  note from %s: %s\n",
			text_printable(r->notes[i].from),
			text_printable(r->notes[i].text));
	fprintf(out, "root: %s, %s by %s, %ld ms\n", r->root_device,
		r->root_fstype, r->root_how, r->root_ms);
	fprintf(out, "pivot: %s at %ld ms, then %s\n", r->pivot, r->pivot_ms,
		r->init);
	fprintf(out, "total: %ld ms in early userspace, peak %ld KiB\n",
		r->total_ms, r->peak_kib);
	free(r);
	return 0;
}

int inspect_generations(const struct boot *b, bool as_json, FILE *out,
			struct err *e)
{
	struct generation *v;
	char when[64];
	unsigned prev;
	size_t n, i;
	struct json j;
	int r = generations_list(b, &v, &n);

	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot list %s/"
				LAYOUT_GENERATIONS ": %s", b->dir,
				strerror(-r));
	if (as_json) {
		prev = n ? gen_previous(v, n) : 0;
		json_begin(&j, out, "generations");
		json_str(&j, "boot", b->name);
		json_array(&j, "generations");
		for (i = 0; i < n; i++) {
			struct tm tm;

			gmtime_r(&v[i].when, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_object(&j, NULL);
			json_int(&j, "generation", v[i].n);
			json_str(&j, "when", when);
			json_str(&j, "change", v[i].desc);
			json_bool(&j, "current", i == n - 1);
			json_bool(&j, "previous", i != n - 1 && v[i].n == prev);
			json_bool(&j, "applied", v[i].applied);
			json_close(&j);
		}
		json_end(&j);
		free(v);
		return 0;
	}
	if (!n) {
		fprintf(out, "no generations yet: the first change records "
			"the current state as generation 1\n");
		return 0;
	}
	prev = gen_previous(v, n);
	fprintf(out, "%5s  %-20s  %s\n", "GEN", "WHEN (UTC)", "CHANGE");
	for (i = 0; i < n; i++) {
		struct tm tm;

		gmtime_r(&v[i].when, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(out, "%5u  %-20s  %s%s%s\n", v[i].n, when, v[i].desc,
			i == n - 1 ? "  [current]" :
			v[i].n == prev ? "  [previous]" : "",
			v[i].applied ? "" : "  (not applied yet)");
	}
	free(v);
	return 0;
}

int inspect_show(const struct boot *b, const char *arg, FILE *out,
		  struct err *e)
{
	char name[FRAGMENT_NAME_MAX + 1], file[FRAGMENT_NAME_MAX + 16];
	char path[PATH_MAX], *buf;
	size_t len;
	bool disabled;
	int r;

	r = tree_fragment_name_arg(arg, name, sizeof(name), e);
	if (r < 0)
		return r;
	if (tree_fragment_find(b, name, file, sizeof(file), &disabled) < 0)
		return err_set(e, EXIT_FAILED, "there is no fragment %s in "
			       "init.d; see 'earlyfs fragments'", name);
	snprintf(path, sizeof(path), LAYOUT_INITD "/%s", file);
	r = beneath_read(b->fd, path, LAYOUT_FRAGMENT_MAX, &buf, &len);
	if (r < 0)
		return err_set(e, EXIT_FAILED, "cannot read %s/%s: %s", b->dir,
			       path, r == -EFBIG ? "larger than 1 MiB" :
			       r == -EINVAL || r == -ELOOP ?
			       "not a regular file" : strerror(-r));
	fwrite(buf, 1, len, out);
	free(buf);
	return 0;
}
