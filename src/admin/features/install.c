/* install: see install.h */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "change/change.h"
#include "features/closure.h"
#include "elfdeps.h"
#include "features/install.h"
#include "change/installset.h"
#include "change/tree.h"
#include "layout.h"
#include "text.h"

#define MANIFEST_HEAD "# earlyfs install: what was copied from the host " \
	"(earlyfs install --refresh copies it again)\n"

/* The name q drops that path's file name is, or NULL. */
static const char *dropped(const char *path, const struct install_req *q)
{
	const char *base = strrchr(path, '/');
	size_t i;

	for (i = 0; i < q->n_drop; i++)
		if (!strcmp(base ? base + 1 : path, q->drop[i]))
			return q->drop[i];
	return NULL;
}

/* The path of a manifest's "file PATH ..." or "link PATH TARGET" line
 * into kept, when the current set holds it: a path of the partition,
 * carried from that set, never looked up on the host.  Whether it was. */
static bool kept_path(int dir, struct plan *kept, const char *line)
{
	const char *path = strchr(line, ' ');
	size_t n = path ? strcspn(path + 1, " ") : 0;
	struct entry *x;

	if (!n || path[1] != '/' || n >= PATH_MAX || kept->n == ENTRIES_MAX ||
	    (strncmp(line, "file ", 5) && strncmp(line, "link ", 5)))
		return false;
	x = &kept->v[kept->n];
	memset(x, 0, sizeof(*x));
	memcpy(x->path, path + 1, n);
	x->path[n] = '\0';
	x->link = line[0] == 'l';
	x->kept = true;
	if (!installset_has(dir, x->path))
		return false;
	kept->n++;
	return true;
}

/* The binaries the manifest lists ("binary PATH" lines) into pl, those
 * q drops into gone (as the same rules read them).  On a --target the
 * manifest came with the image: a host path it names is never read (a
 * root-only file would be copied into the image); its binaries that the
 * admin or the features did not name are carried into the new manifest
 * as they were, their lines in kept, and not copied.  1 if there is a
 * manifest, 0 if not, or -errno. */
static int manifest_bins(struct boot *b, struct plan *pl, struct plan *gone,
			 const struct install_req *q, FILE *kept,
			 struct plan *kept_plan, size_t *ret_kept)
{
	char *text, *line, *save = NULL;
	size_t len, i;
	int r;

	*ret_kept = 0;
	r = beneath_read(b->fd, LAYOUT_INSTALLED, LAYOUT_INSTALLED_MAX, &text,
			 &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_setr(pl->e, r, EXIT_FAILED, LAYOUT_INSTALLED ": %s",
				r == -EINVAL ? "not a regular file" :
				strerror(-r));
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		bool named = false;

		if (boot_is_target(b) && line[0] != '#') {
			/* kept lines: what manifest() writes skips those its
			 * own entries give again; their paths stay in the set
			 * as they are */
			if (strncmp(line, "binary ", 7)) {
				if (kept_path(b->fd, kept_plan, line))
					fprintf(kept, "%s\n", line);
				continue;
			}
			for (i = 0; i < pl->n_bins && !named; i++)
				named = !strcmp(pl->bins[i], line + 7);
			if (dropped(line + 7, q))	/* the feature's name */
				closure_bin_arg(gone, dropped(line + 7, q),
						false);
			else if (!named) {
				fprintf(kept, "%s\n", line);
				(*ret_kept)++;
			}
			continue;
		}
		if (strncmp(line, "binary ", 7))
			continue;
		if (!dropped(line + 7, q))
			r = closure_bin_arg(pl, line + 7, true);
		else	/* gone from the host: its files stay */
			closure_bin_arg(gone, line + 7, true);
	}
	free(text);
	return r < 0 ? r : 1;
}

struct job {
	const struct install_req *q;
	struct plan *pl;
	char desc[512];
	struct plan *gone;	/* the closure of the dropped binaries */
	struct plan *kept;	/* an image's files of binaries not named */
	size_t n_removed;
};

/* After the change: the files of the dropped binaries' closure that no
 * kept binary needs leave the set and the tree.  The names come from the
 * host's closure, never from the partition's manifest, which is data. */
static void remove_orphans(struct boot *b, void *ctx, unsigned prev,
			   FILE *out)
{
	struct job *j = ctx;

	const struct entries keep = { j->pl->v, j->pl->n };
	const struct entries gone = { j->gone->v, j->gone->n };

	j->n_removed = installset_drop(b, &keep, &gone);
	if (j->n_removed)
		fprintf(out, "earlyfs: removed %zu installed file%s no longer "
			"needed\n", j->n_removed, j->n_removed == 1 ? "" : "s");
}

/* Under the lock, the partition writable, before the generation: the
 * binaries' closures become the current set at once (installset.h). */
static int copy_files(struct boot *b, void *ctx, struct err *e)
{
	struct job *j = ctx;
	const struct entries keep = { j->pl->v, j->pl->n };
	const struct entries gone = { j->gone->v, j->gone->n };
	const struct entries kept = { j->kept->v, j->kept->n };
	const struct entries *carry[2] = { &gone, &kept };
	int r = installset_update(b, &keep, carry, 2, e);

	if (r == 0 && j->q->prepare)
		r = j->q->prepare(b, j->q->ctx, e);
	return r;
}

/* Whether the plan writes path (as a file or a link). */
static bool plan_writes(const struct plan *pl, const char *path, size_t n)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		if (strlen(pl->v[i].path) == n && !memcmp(pl->v[i].path, path, n))
			return true;
	return false;
}

/* The manifest: every binary asked for, every path written, with the
 * host file's size and time for 'earlyfs check'; then the lines kept
 * from an image's manifest (binary lines, and file and link lines of
 * paths this plan does not write). */
static char *manifest(const struct plan *pl, struct plan *gone,
		      const char *kept, size_t kept_len, size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0, i, pos = 0, l;
	const char *line;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs(MANIFEST_HEAD, f);
	for (i = 0; i < pl->n_bins; i++)
		fprintf(f, "binary %s\n", pl->bins[i]);
	for (i = 0; i < pl->n; i++) {
		const struct entry *x = &pl->v[i];

		if (x->link)
			fprintf(f, "link %s %s\n", x->path, x->target);
		else
			fprintf(f, "file %s %lld %lld\n", x->path,
				(long long)x->st.st_size,
				(long long)x->st.st_mtime);
	}
	while (text_next_line(kept, kept_len, &pos, &line, &l) > 0) {
		const char *path = memchr(line, ' ', l);
		size_t n = path ? strcspn(path + 1, " ") : 0;

		if (l > 7 && !memcmp(line, "binary ", 7))
			fprintf(f, "%.*s\n", (int)l, line);
		else if (path && path + 1 + n <= line + l &&
			 !plan_writes(pl, path + 1, n) &&
			 !plan_writes(gone, path + 1, n))
			fprintf(f, "%.*s\n", (int)l, line);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*ret_len = len;
	return text;
}

int install_apply(struct boot *b, const struct install_req *q, FILE *out,
		  struct err *e)
{
	struct plan *pl = calloc(1, sizeof(*pl)), *gone = calloc(1, sizeof(*gone));
	struct plan *kplan = calloc(1, sizeof(*kplan));
	struct job j = { q, pl, "", gone, kplan, 0 };
	struct change c = { .op = CHANGE_INSTALL };
	struct err ignored = { "", 0 };
	size_t i, n_old, len = 0, used, n_kept = 0, kept_len = 0;
	char *text = NULL, *kept = NULL;
	FILE *kf = open_memstream(&kept, &kept_len);
	bool had = false;
	int r = 0;

	if (!pl || !gone || !kf ||
	    !(pl->v = calloc(ENTRIES_MAX, sizeof(*pl->v))) ||
	    !(gone->v = calloc(ENTRIES_MAX, sizeof(*gone->v))) || !kplan ||
	    !(kplan->v = calloc(ENTRIES_MAX, sizeof(*kplan->v)))) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	pl->e = e;
	pl->tree = b->fd;
	gone->e = &ignored;
	gone->tree = b->fd;
	closure_ldconf(pl, "/etc/ld.so.conf", 0);
	memcpy(gone->ldconf, pl->ldconf, sizeof(pl->ldconf));
	gone->n_ldconf = pl->n_ldconf;
	for (i = 0; i < q->n && r == 0; i++)
		r = closure_bin_arg(pl, q->bins[i], false);
	n_old = pl->n_bins;
	if (r == 0 && (r = manifest_bins(b, pl, gone, q, kf, kplan, &n_kept)) >= 0) {
		had = r == 1;
		r = 0;
	}
	if (fclose(kf) != 0 && r == 0)
		r = err_set(e, EXIT_FAILED, "out of memory");
	kf = NULL;
	n_old = pl->n_bins - n_old;
	for (i = 0; i < pl->n_bins && r == 0; i++)
		r = closure_add_elf(pl, pl->bins[i], pl->bins[i], 0);
	for (i = 0; i < gone->n_bins && r == 0; i++)
		closure_add_elf(gone, gone->bins[i], gone->bins[i], 0);
	if (r < 0)
		goto out;
	if (!pl->n_bins && !q->n_files) {
		r = n_kept ? err_set(e, EXIT_USAGE, "on --target, only what "
				     "you name is copied from this host (the "
				     "image's " LAYOUT_INSTALLED " names host "
				     "files, and is not followed): give the "
				     "binaries to copy again") :
			     err_set(e, EXIT_USAGE, "nothing to install: give "
				     "binaries, or use --refresh on a partition "
				     "that has some");
		goto out;
	}
	if (n_kept)
		fprintf(out, "earlyfs: %zu binar%s listed in the image's "
			LAYOUT_INSTALLED " but not named here %s not copied "
			"from this host (on --target only what you name is); "
			"%s lines are kept\n", n_kept, n_kept == 1 ? "y" :
			"ies", n_kept == 1 ? "is" : "are",
			n_kept == 1 ? "its" : "their");
	if (pl->n_bins || had) {
		text = manifest(pl, gone, kept, kept_len, &len);
		if (!text) {
			r = err_set(e, EXIT_FAILED, "out of memory");
			goto out;
		}
	}
	used = (size_t)snprintf(j.desc, sizeof(j.desc), "install");
	for (i = 0; i < q->n && i < pl->n_bins && used < sizeof(j.desc); i++)
		used += (size_t)snprintf(j.desc + used, sizeof(j.desc) - used,
					 " %s", pl->bins[i]);
	if (!q->n)
		snprintf(j.desc, sizeof(j.desc), "refresh %zu installed "
			 "binar%s", n_old, n_old == 1 ? "y" : "ies");
	if (q->desc)
		snprintf(j.desc, sizeof(j.desc), "%s", q->desc);
	c.name = j.desc;
	c.data = text;
	c.len = len;
	c.prepare = copy_files;
	c.finish = remove_orphans;
	c.ctx = &j;
	c.files = q->files;
	c.n_files = q->n_files;
	r = change_commit(b, &c, out, e);
out:
	if (kf)
		fclose(kf);
	free(kept);
	free(text);
	if (pl)
		free(pl->v);
	if (gone)
		free(gone->v);
	if (kplan)
		free(kplan->v);
	free(pl);
	free(gone);
	free(kplan);
	return r;
}

int install_run(struct boot *b, char *const *bins, size_t n, FILE *out,
		struct err *e)
{
	const struct install_req q = { .bins = bins, .n = n };

	return install_apply(b, &q, out, e);
}

void install_check(int root, struct problems *p)
{
	char *text, *line, *save = NULL, path[PATH_MAX];
	long long size, mtime;
	struct stat st, host;
	size_t len;

	if (beneath_read(root, LAYOUT_INSTALLED, LAYOUT_INSTALLED_MAX, &text,
			 &len) < 0)
		return;
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "file %4095s %lld %lld", path, &size,
			   &mtime) != 3 || path[0] != '/')
			continue;
		if (installset_stat(root, path, &st) < 0)
			validate_problem(p, "%s: installed from the host, missing from "
				"the boot partition; run 'earlyfs install "
				"--refresh'", path);
		else if (lstat(path, &host) < 0)
			validate_problem(p, "%s: installed from the host, which no "
				"longer has it", path);
		else if ((long long)host.st_mtime != mtime ||
			 (long long)host.st_size != size)
			validate_problem(p, "%s: the host's copy changed since it was "
				"installed (upgraded?); run 'earlyfs install "
				"--refresh'", path);
	}
	free(text);
}
