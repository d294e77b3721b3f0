/* generation: numbered snapshots of the tree in generations/N
 *
 * A change is built in generations/.new (unchanged files hard-linked from
 * the latest generation, so a generation costs only what changed), checked,
 * synced, and renamed to generations/N: that rename is the commit point.
 * Then the live tree (init.d/, etc/, extlinux/extlinux.conf) is made equal
 * to N file by file (temp file, sync, rename), and N is marked applied.
 * Whoever takes the lock next finishes an unapplied generation, removes a
 * stale .new and our temp files, so an interruption at any point leaves
 * every file with its old or its new content.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include "atomic.h"
#include "generation.h"
#include "kv.h"
#include "layout.h"
#include "text.h"
#include "tree.h"

void gen_path(const struct boot *b, unsigned n, const char *rel,
		     char *ret, size_t cap)
{
	if (rel)
		snprintf(ret, cap, "%s/" LAYOUT_GENERATIONS "/%u/%s", b->dir, n, rel);
	else
		snprintf(ret, cap, "%s/" LAYOUT_GENERATIONS "/%u", b->dir, n);
}

static int cmp_gen(const void *a, const void *b)
{
	const struct generation *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

int generations_list(const struct boot *b, struct generation **ret,
		     size_t *ret_n)
{
	char path[PATH_MAX], when[32], *info;
	struct generation *v = NULL;
	size_t n = 0, cap = 0, len;
	struct dirent *de;
	DIR *d;

	*ret = NULL;
	*ret_n = 0;
	snprintf(path, sizeof(path), "%s/" LAYOUT_GENERATIONS, b->dir);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct generation *g;
		unsigned num;

		if (layout_parse_generation(de->d_name, strlen(de->d_name),
					    &num) < 0)
			continue;
		if (n == cap) {
			struct generation *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		g = &v[n++];
		memset(g, 0, sizeof(*g));
		g->n = num;
		gen_path(b, g->n, LAYOUT_GEN_APPLIED, path, sizeof(path));
		g->applied = access(path, F_OK) == 0;
		gen_path(b, g->n, LAYOUT_GEN_INFO, path, sizeof(path));
		if (read_file(path, LAYOUT_GEN_INFO_MAX, &info, &len) < 0)
			continue;
		if (kv_get(info, len, "time", when, sizeof(when)) == 0)
			g->when = (time_t)strtoll(when, NULL, 10);
		kv_get(info, len, "description", g->desc, sizeof(g->desc));
		free(info);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_gen);
	*ret = v;
	*ret_n = n;
	return 0;
}

unsigned gen_latest(const struct boot *b, bool *ret_applied)
{
	struct generation *v;
	unsigned latest = 0;
	size_t n;

	if (generations_list(b, &v, &n) == 0 && n) {
		latest = v[n - 1].n;
		if (ret_applied)
			*ret_applied = v[n - 1].applied;
	}
	free(v);
	return latest;
}

/* Builds generations/.new from src (the live tree, or the generation a
 * rollback restores), linking what is the same in generation `from`. */
int gen_stage(struct boot *b, const char *src, unsigned from,
		 struct err *e)
{
	char staging[PATH_MAX], s[PATH_MAX], d[PATH_MAX], l[PATH_MAX];
	char groot[PATH_MAX] = "";
	struct tree t;
	size_t i;
	int r;

	snprintf(staging, sizeof(staging), "%s/" LAYOUT_STAGING, b->dir);
	snprintf(s, sizeof(s), "%s/" LAYOUT_GENERATIONS, b->dir);
	if ((mkdir(s, 0755) < 0 && errno != EEXIST) ||
	    mkdir(staging, 0755) < 0) {
		r = -errno;
		goto fail;
	}
	snprintf(d, sizeof(d), "%s/extlinux", staging);
	if (mkdir(d, 0755) < 0) {
		r = -errno;
		goto fail;
	}
	if (from)
		gen_path(b, from, NULL, groot, sizeof(groot));
	r = tree_scan(src, &t);
	if (r < 0)
		goto fail;
	for (i = 0; i < t.n && r == 0; i++) {
		snprintf(s, sizeof(s), "%s/%s", src, t.v[i].rel);
		snprintf(d, sizeof(d), "%s/%s", staging, t.v[i].rel);
		if (S_ISDIR(t.v[i].mode)) {
			if (mkdir(d, t.v[i].mode & 07777) < 0 ||
			    chmod(d, t.v[i].mode & 07777) < 0)
				r = -errno;
			continue;
		}
		snprintf(l, sizeof(l), "%s/%s", groot, t.v[i].rel);
		if (groot[0] && S_ISREG(t.v[i].mode) && tree_same_file(s, l) &&
		    link(l, d) == 0)
			continue;
		r = tree_copy_node(s, d);
	}
	tree_free(&t);
	if (r == 0)
		return 0;
fail:
	tree_remove(staging);
	if (r == -EDQUOT)
		r = -ENOSPC;	/* the caller says what to free */
	return err_setr(e, r, EXIT_FAILED, "cannot prepare the change in %s: "
			"%s", staging, strerror(-r));
}

int gen_write_info(struct boot *b, const char *desc)
{
	char path[PATH_MAX], text[1024];
	size_t i, start;

	snprintf(text, sizeof(text), "time=%lld\ndescription=",
		 (long long)time(NULL));
	start = strlen(text);
	snprintf(text + start, sizeof(text) - start - 1, "%s", desc);
	for (i = start; text[i]; i++)
		if ((unsigned char)text[i] < 0x20)
			text[i] = '?';	/* file names may hold anything */
	strcat(text, "\n");
	snprintf(path, sizeof(path), "%s/" LAYOUT_STAGING "/info", b->dir);
	return tree_write_new(path, text, strlen(text), 0644);
}

/* Makes the live tree equal to generation n: what differs is written
 * beside its target, synced, then renamed over it. */
int gen_apply(struct boot *b, unsigned n, struct err *e)
{
	struct tree g = { 0 }, live = { 0 };
	char groot[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	char (*tmp)[PATH_MAX] = NULL;
	size_t i, n_tmp = 0, *which = NULL;
	int r, fd;

	gen_path(b, n, NULL, groot, sizeof(groot));
	r = tree_scan(groot, &g);
	if (r == 0)
		r = tree_scan(b->dir, &live);
	if (r < 0) {
		err_set(e, EXIT_FAILED, "cannot read generation %u or the live "
			"tree: %s", n, strerror(-r));
		goto out;
	}
	tmp = calloc(g.n ? g.n : 1, sizeof(*tmp));
	which = calloc(g.n ? g.n : 1, sizeof(*which));
	if (!tmp || !which) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < g.n; i++) {
		const char *rel = g.v[i].rel, *slash;

		snprintf(src, sizeof(src), "%s/%s", groot, rel);
		snprintf(dst, sizeof(dst), "%s/%s", b->dir, rel);
		if (S_ISDIR(g.v[i].mode)) {
			if (mkdir(dst, g.v[i].mode & 07777) < 0 &&
			    errno != EEXIST) {
				r = err_set(e, EXIT_FAILED, "cannot create %s: "
					    "%s", dst, strerror(errno));
				goto out;
			}
			chmod(dst, g.v[i].mode & 07777);
			continue;
		}
		if (tree_same_file(src, dst))
			continue;
		slash = strrchr(rel, '/');
		snprintf(tmp[n_tmp], PATH_MAX, "%s/%.*s/.%s.tmpXXXXXX", b->dir,
			 (int)(slash - rel), rel, slash + 1);
		fd = mkstemp(tmp[n_tmp]);
		if (fd < 0 || (close(fd), unlink(tmp[n_tmp])) < 0 ||
		    (r = tree_copy_node(src, tmp[n_tmp])) < 0) {
			if (fd < 0 || r == 0)
				r = -errno;
			err_set(e, EXIT_FAILED, "cannot write %s: %s", dst,
				strerror(-r));
			unlink(tmp[n_tmp]);
			goto out;
		}
		which[n_tmp++] = i;
	}
	r = boot_sync(b);
	if (r < 0) {
		err_set(e, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			strerror(-r));
		goto out;
	}
	for (i = 0; i < n_tmp; i++) {
		snprintf(dst, sizeof(dst), "%s/%s", b->dir, g.v[which[i]].rel);
		if (rename(tmp[i], dst) < 0) {
			r = err_set(e, EXIT_FAILED, "cannot rename %s: %s", dst,
				    strerror(errno));
			goto out;
		}
		tmp[i][0] = '\0';
	}
	/* what the generation does not have goes, deepest first */
	for (i = live.n; i-- > 0;) {
		if (tree_find(&g, live.v[i].rel))
			continue;
		snprintf(dst, sizeof(dst), "%s/%s", b->dir, live.v[i].rel);
		if (S_ISDIR(live.v[i].mode))
			rmdir(dst);	/* kept if something else is in it */
		else if (unlink(dst) < 0 && errno != ENOENT) {
			r = err_set(e, EXIT_FAILED, "cannot remove %s: %s",
				    dst, strerror(errno));
			goto out;
		}
	}
	gen_path(b, n, LAYOUT_GEN_APPLIED, dst, sizeof(dst));
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	r = boot_sync(b);
	if (r < 0)
		err_set(e, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			strerror(-r));
out:
	for (i = 0; tmp && i < n_tmp; i++)
		if (tmp[i][0])
			unlink(tmp[i]);
	free(tmp);
	free(which);
	tree_free(&g);
	tree_free(&live);
	return r < 0 ? r : 0;
}

/* Finishes what an interrupted change left. */
int gen_recover(struct boot *b, FILE *out, struct err *e)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool applied = true;
	unsigned latest;
	DIR *d;

	snprintf(path, sizeof(path), "%s/" LAYOUT_GENERATIONS, b->dir);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".new") && strncmp(de->d_name, ".old-", 5))
			continue;
		snprintf(path, sizeof(path), "%s/" LAYOUT_GENERATIONS "/%s", b->dir,
			 de->d_name);
		tree_remove(path);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/" LAYOUT_INITD, b->dir);
	tree_remove_temps(path, 0);
	snprintf(path, sizeof(path), "%s/" LAYOUT_ETC, b->dir);
	tree_remove_temps(path, 0);
	snprintf(path, sizeof(path), "%s/" LAYOUT_EXTLINUX_DIR, b->dir);
	tree_remove_temps(path, 8);
	latest = gen_latest(b, &applied);
	if (latest && !applied) {
		int r = gen_apply(b, latest, e);

		if (r < 0)
			return r;
		fprintf(out, "earlyfs: finished generation %u, which an "
			"interrupted change had recorded but not applied\n",
			latest);
	}
	return 0;
}

void gen_prune(struct boot *b, unsigned latest)
{
	struct generation *v;
	char from[PATH_MAX], to[PATH_MAX];
	size_t n, i;

	if (generations_list(b, &v, &n) < 0)
		return;
	for (i = 0; i + b->keep < n; i++) {
		if (v[i].n + 1 >= latest)
			break;	/* never the current or the previous one */
		gen_path(b, v[i].n, NULL, from, sizeof(from));
		snprintf(to, sizeof(to), "%s/" LAYOUT_GENERATIONS "/.old-%u", b->dir,
			 v[i].n);
		if (rename(from, to) == 0)
			tree_remove(to);
	}
	free(v);
}

/* The files where the live tree and generation `latest` differ, as a
 * list for a description; 0 when none. */
size_t gen_live_changes(struct boot *b, unsigned latest, char *list,
			   size_t cap)
{
	char groot[PATH_MAX], a[PATH_MAX], g[PATH_MAX];
	struct tree lt = { 0 }, gt = { 0 };
	size_t i, n = 0, len = 0;

	list[0] = '\0';
	gen_path(b, latest, NULL, groot, sizeof(groot));
	if (tree_scan(b->dir, &lt) < 0 || tree_scan(groot, &gt) < 0) {
		tree_free(&lt);
		return 1;	/* unknown: let the record find out */
	}
	for (i = 0; i < lt.n + gt.n; i++) {
		const struct node *x = i < lt.n ? &lt.v[i] : &gt.v[i - lt.n];

		if (i >= lt.n && tree_find(&lt, x->rel))
			continue;
		snprintf(a, sizeof(a), "%s/%s", b->dir, x->rel);
		snprintf(g, sizeof(g), "%s/%s", groot, x->rel);
		if (tree_same_file(a, g))
			continue;
		n++;
		if (len + strlen(x->rel) + 8 < cap)
			len += (size_t)snprintf(list + len, cap - len, "%s%s",
						len ? ", " : "", x->rel);
		else if (len + 5 < cap && !strstr(list, ", ..."))
			len += (size_t)snprintf(list + len, cap - len, ", ...");
	}
	tree_free(&lt);
	tree_free(&gt);
	return n;
}
