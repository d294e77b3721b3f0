/* report: the boot report earlyfs-init leaves in /run/earlyfs/report */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "layout.h"
#include "report.h"
#include "text.h"

static const char *const status_names[] = {
	[STATUS_OK] = "ok",
	[STATUS_FAILED] = "failed",
	[STATUS_SIGNAL] = "signal",
	[STATUS_TIMEOUT] = "timeout",
	[STATUS_SKIPPED] = "skipped",
	[STATUS_ERROR] = "error",
};

const char *report_status_name(enum fragment_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0])
		       ? status_names[s] : "?";
}

int report_status_parse(const char *s, enum fragment_status *ret)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(s, status_names[i]) == 0) {
			*ret = (enum fragment_status)i;
			return 0;
		}
	return -EINVAL;
}

struct out {
	char *buf;
	size_t cap, len;
	int err;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->err = -E2BIG;
	else
		o->len += (size_t)n;
}

int report_format(const struct boot_report *r, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, 0 };
	size_t i;

	if (cap == 0)
		return -E2BIG;
	buf[0] = '\0';
	put(&o, "earlyfs-report 1\n");
	put(&o, "start_ms %ld\n", r->start_ms);
	put(&o, "generation %u\n", r->generation);
	for (i = 0; i < r->n; i++) {
		const struct report_fragment *f = &r->fragments[i];

		put(&o, "fragment %s %s %d %ld %ld %s\n", f->name,
		    report_status_name(f->status), f->code, f->start_ms,
		    f->duration_ms, f->optional ? "optional" : "required");
	}
	for (i = 0; i < r->n_procs; i++)
		put(&o, "process %s %d %s %s\n",
		    r->procs[i].kept ? "kept" : "killed", r->procs[i].pid,
		    r->procs[i].when[0] ? r->procs[i].when : "-",
		    r->procs[i].comm[0] ? r->procs[i].comm : "?");
	for (i = 0; i < r->n_notes; i++)
		put(&o, "note %s %s\n", r->notes[i].from, r->notes[i].text);
	put(&o, "root %s %ld %s %s\n", r->root_how[0] ? r->root_how : "none",
	    r->root_ms, r->root_fstype[0] ? r->root_fstype : "-",
	    r->root_device[0] ? r->root_device : "-");
	put(&o, "pivot %s %ld %s\n", r->pivot[0] ? r->pivot : "pending",
	    r->pivot_ms, r->init[0] ? r->init : "-");
	put(&o, "total_ms %ld\n", r->total_ms);
	put(&o, "peak_kib %ld\n", r->peak_kib);
	return o.err ? o.err : (int)o.len;
}

/* Splits line into at most max blank-separated words; the last takes the
 * rest of the line. */
static size_t split(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w[n++] = p;
		if (n == max)
			break;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int copy_word(char *dst, size_t cap, const char *w)
{
	return text_copy(dst, cap, w, strlen(w));
}

/* A decimal in [min, max] (a report is read back like any input). */
static int num(const char *w, long min, long max, long *ret)
{
	unsigned long v;
	bool neg = *w == '-';
	int r = text_parse_uint(w + neg, strlen(w + neg), (unsigned long)max +
				(neg ? 1 : 0), &v);

	if (r < 0)
		return r;
	*ret = neg ? -(long)v : (long)v;
	return *ret < min || *ret > max ? -ERANGE : 0;
}

#define MS_MAX (1L << 40)	/* milliseconds: some 35 years */

int report_parse(const char *buf, size_t len, struct boot_report *ret,
		 size_t *ret_line)
{
	size_t pos = 0, lineno = 0, l, n;
	const char *line;
	char tmp[TEXT_LINE_MAX + 1], *w[8];
	int r;

	memset(ret, 0, sizeof(*ret));
	while ((r = text_next_line(buf, len, &pos, &line, &l)) != 0) {
		*ret_line = ++lineno;
		if (r < 0)
			return -EINVAL;
		memcpy(tmp, line, l);
		tmp[l] = '\0';
		n = split(tmp, w, 2);
		if (n == 0)
			continue;
		/* the last word of each kind of line takes the rest */
		if (n == 2)
			n = 1 + split(w[1], w + 1,
				      !strcmp(w[0], "fragment") ? 6 :
				      !strcmp(w[0], "process") ? 4 :
				      !strcmp(w[0], "note") ? 2 :
				      !strcmp(w[0], "root") ? 4 :
				      !strcmp(w[0], "pivot") ? 3 : 1);
		if (lineno == 1) {
			if (n != 2 || strcmp(w[0], "earlyfs-report") ||
			    strcmp(w[1], "1"))
				return -EINVAL;
		} else if (!strcmp(w[0], "start_ms") && n == 2) {
			if (num(w[1], 0, MS_MAX, &ret->start_ms) < 0)
				return -EINVAL;
		} else if (!strcmp(w[0], "generation") && n == 2) {
			long g;

			if (num(w[1], 0, LAYOUT_GEN_MAX, &g) < 0)
				return -EINVAL;
			ret->generation = (unsigned)g;
		} else if (!strcmp(w[0], "fragment") && n == 7) {
			struct report_fragment *f;

			if (ret->n == FRAGMENTS_MAX)
				return -E2BIG;
			f = &ret->fragments[ret->n];
			if (copy_word(f->name, sizeof(f->name), w[1]) < 0 ||
			    report_status_parse(w[2], &f->status) < 0)
				return -EINVAL;
			long code;

			if (num(w[3], -INT_MAX, INT_MAX, &code) < 0 ||
			    num(w[4], 0, MS_MAX, &f->start_ms) < 0 ||
			    num(w[5], 0, MS_MAX, &f->duration_ms) < 0)
				return -EINVAL;
			f->code = (int)code;
			f->optional = strcmp(w[6], "optional") == 0;
			ret->n++;
		} else if (!strcmp(w[0], "process") && n == 5) {
			struct report_proc *p;
			long pid;

			if (ret->n_procs == REPORT_PROCS_MAX)
				return -E2BIG;
			p = &ret->procs[ret->n_procs];
			if ((strcmp(w[1], "kept") && strcmp(w[1], "killed")) ||
			    num(w[2], 1, INT_MAX, &pid) < 0 ||
			    copy_word(p->when, sizeof(p->when), w[3]) < 0 ||
			    copy_word(p->comm, sizeof(p->comm), w[4]) < 0)
				return -EINVAL;
			p->kept = !strcmp(w[1], "kept");
			p->pid = (int)pid;
			ret->n_procs++;
		} else if (!strcmp(w[0], "note") && n == 3) {
			struct report_note *t;

			if (ret->n_notes == REPORT_NOTES_MAX)
				return -E2BIG;
			t = &ret->notes[ret->n_notes];
			if (copy_word(t->from, sizeof(t->from), w[1]) < 0 ||
			    copy_word(t->text, sizeof(t->text), w[2]) < 0)
				return -EINVAL;
			ret->n_notes++;
		} else if (!strcmp(w[0], "root") && n == 5) {
			if (copy_word(ret->root_how, sizeof(ret->root_how), w[1]) < 0 ||
			    copy_word(ret->root_fstype, sizeof(ret->root_fstype), w[3]) < 0 ||
			    copy_word(ret->root_device, sizeof(ret->root_device), w[4]) < 0)
				return -EINVAL;
			if (num(w[2], 0, MS_MAX, &ret->root_ms) < 0)
				return -EINVAL;
		} else if (!strcmp(w[0], "pivot") && n == 4) {
			if (copy_word(ret->pivot, sizeof(ret->pivot), w[1]) < 0 ||
			    copy_word(ret->init, sizeof(ret->init), w[3]) < 0)
				return -EINVAL;
			if (num(w[2], 0, MS_MAX, &ret->pivot_ms) < 0)
				return -EINVAL;
		} else if (!strcmp(w[0], "total_ms") && n == 2) {
			if (num(w[1], 0, MS_MAX, &ret->total_ms) < 0)
				return -EINVAL;
		} else if (!strcmp(w[0], "peak_kib") && n == 2) {
			if (num(w[1], 0, MS_MAX, &ret->peak_kib) < 0)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	if (lineno == 0)
		return -EINVAL;
	return 0;
}
