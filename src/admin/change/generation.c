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
#include "base/beneath.h"
#include "change/generation.h"
#include "change/installset.h"
#include "change/kernelfiles.h"
#include "kv.h"
#include "layout.h"
#include "text.h"
#include "change/tree.h"

void gen_path(unsigned n, const char *rel, char *ret, size_t cap)
{
	layout_generation_path("", n, rel, ret, cap);
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
	int fd;

	*ret = NULL;
	*ret_n = 0;
	fd = beneath_opendir(b->fd, LAYOUT_GENERATIONS, &d);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
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
		g->valid = true;
		gen_path(g->n, LAYOUT_GEN_APPLIED, path, sizeof(path));
		g->applied = beneath_exists(b->fd, path);
		gen_path(g->n, LAYOUT_GEN_INFO, path, sizeof(path));
		if (beneath_read(b->fd, path, LAYOUT_GEN_INFO_MAX, &info,
				 &len) < 0)
			continue;
		if (kv_get(info, len, "time", when, sizeof(when)) == 0)
			g->when = (time_t)strtoll(when, NULL, 10);
		if (kv_get(info, len, "description", g->desc,
			   sizeof(g->desc)) == 0)
			text_printable(g->desc);
		g->valid = kv_get(info, len, "valid", when, sizeof(when)) < 0 ||
			   strcmp(when, "0");
		free(info);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_gen);
	*ret = v;
	*ret_n = n;
	return 0;
}

unsigned gen_previous(const struct generation *v, size_t n)
{
	struct layout_gen *g = calloc(n ? n : 1, sizeof(*g));
	unsigned prev;
	size_t i;

	if (!g)
		return 0;
	for (i = 0; i < n; i++)
		g[i] = (struct layout_gen){ v[i].n, v[i].valid, v[i].applied };
	prev = layout_previous_generation(g, n);	/* the runner's rule */
	free(g);
	return prev;
}

unsigned gen_previous_of(const struct boot *b)
{
	struct generation *v = NULL;
	size_t n = 0;
	unsigned prev;

	if (generations_list(b, &v, &n) < 0)
		n = 0;
	prev = gen_previous(v, n);
	free(v);
	return prev;
}

int gen_state_load(const struct boot *b, struct gen_state *s)
{
	memset(s, 0, sizeof(*s));
	return generations_list(b, &s->v, &s->n);
}

void gen_state_free(struct gen_state *s)
{
	free(s->v);
	tree_free(&s->live);
	tree_free(&s->last);
	memset(s, 0, sizeof(*s));
}

unsigned gen_state_latest(const struct gen_state *s, bool *ret_applied)
{
	if (ret_applied)
		*ret_applied = s->n ? s->v[s->n - 1].applied : true;
	return s->n ? s->v[s->n - 1].n : 0;
}

unsigned gen_state_latest_valid(const struct gen_state *s, unsigned latest)
{
	size_t i;

	for (i = s->n; i-- > 0;)
		if (s->v[i].n <= latest && s->v[i].valid && s->v[i].applied)
			return s->v[i].n;
	return latest;
}

int gen_state_trees(const struct boot *b, struct gen_state *s,
		    const struct tree **ret_live, const struct tree **ret_last)
{
	char groot[PATH_MAX];
	unsigned latest = gen_state_latest(s, NULL);
	int r = 0;

	if (!s->have_live && (r = tree_scan(b->fd, "", &s->live)) == 0)
		s->have_live = true;
	if (r == 0 && !s->have_last && latest) {
		gen_path(latest, NULL, groot, sizeof(groot));
		if ((r = tree_scan(b->fd, groot, &s->last)) == 0)
			s->have_last = true;
	}
	*ret_live = &s->live;
	*ret_last = s->have_last ? &s->last : NULL;
	return r;
}

int gen_state_added(struct gen_state *s, unsigned n, bool valid)
{
	struct generation *v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->v = v;
	memset(&v[s->n], 0, sizeof(v[0]));
	v[s->n].n = n;
	v[s->n].valid = valid;
	v[s->n++].applied = true;
	/* the newest generation's tree is another one now */
	tree_free(&s->last);
	s->have_last = false;
	return 0;
}

/* Builds generations/.new from src (the live tree "", or the generation
 * a rollback restores), linking what is the same in generation `from`. */
int gen_stage(struct boot *b, const char *src, const struct tree *src_tree,
	      unsigned from, struct err *e)
{
	char s[PATH_MAX], d[PATH_MAX], l[PATH_MAX], groot[PATH_MAX] = "";
	struct tree scanned = { 0 };
	const struct tree *t = src_tree;
	size_t i;
	int r;

	r = beneath_mkdir(b->fd, LAYOUT_GENERATIONS, 0755);
	if (r == 0 && beneath_exists(b->fd, LAYOUT_STAGING))
		r = -EEXIST;
	if (r == 0)
		r = beneath_mkdir(b->fd, LAYOUT_STAGING, 0755);
	/* the directories the tracked files are in (the files and
	 * directories held whole come with the scan) */
	for (i = 0; i < n_layout_tracked && r == 0; i++) {
		if (!layout_tracked[i].in[0])
			continue;
		snprintf(d, sizeof(d), LAYOUT_STAGING "/%s",
			 layout_tracked[i].in);
		r = beneath_mkdir(b->fd, d, layout_tracked[i].in_mode);
	}
	if (r < 0)
		goto fail;
	if (from)
		gen_path(from, NULL, groot, sizeof(groot));
	if (!t) {
		r = tree_scan(b->fd, src, &scanned);
		if (r < 0)
			goto fail;
		t = &scanned;
	}
	for (i = 0; i < t->n && r == 0; i++) {
		const char *rel = t->v[i].rel;

		if ((r = tree_join(s, sizeof(s), src, rel)) < 0 ||
		    (r = tree_join(d, sizeof(d), LAYOUT_STAGING, rel)) < 0 ||
		    (r = tree_join(l, sizeof(l), groot, rel)) < 0)
			break;
		if (S_ISDIR(t->v[i].mode)) {
			r = beneath_mkdir(b->fd, d, t->v[i].mode & 07777);
			continue;
		}
		if (groot[0] && S_ISREG(t->v[i].mode) &&
		    tree_same_file(b->fd, s, l) &&
		    beneath_link(b->fd, l, d) == 0)
			continue;
		r = tree_copy_node(b->fd, s, d);
	}
	tree_free(&scanned);
	if (r == 0)
		return 0;
fail:
	if (r != -EEXIST)
		tree_remove(b->fd, LAYOUT_STAGING);
	if (r == -EDQUOT)
		r = -ENOSPC;	/* the caller says what to free */
	return err_setr(e, r, EXIT_FAILED, "cannot prepare the change in "
			"%s/" LAYOUT_STAGING ": %s", b->dir, tree_strerror(r));
}

int gen_write_info(struct boot *b, const char *desc, bool valid)
{
	char text[1024];
	size_t i, start;

	snprintf(text, sizeof(text), "time=%lld\nvalid=%d\ndescription=",
		 (long long)time(NULL), valid);
	start = strlen(text);
	snprintf(text + start, sizeof(text) - start - 1, "%s", desc);
	for (i = start; text[i]; i++)
		if ((unsigned char)text[i] < 0x20)
			text[i] = '?';	/* file names may hold anything */
	strcat(text, "\n");
	return tree_write_new(b->fd, LAYOUT_STAGING "/" LAYOUT_GEN_INFO, text,
			      strlen(text), 0644);
}

/* Makes the live tree equal to generation n: what differs is written
 * beside its target, synced, then renamed over it. */
int gen_apply(struct boot *b, unsigned n, const struct tree *gt,
	      const struct tree *lt, struct err *e)
{
	struct tree gs = { 0 }, ls = { 0 };
	char groot[PATH_MAX], src[PATH_MAX];
	char (*tmp)[PATH_MAX] = NULL;
	size_t i, n_tmp = 0, *which = NULL;
	int r = 0, fd;

	gen_path(n, NULL, groot, sizeof(groot));
	if (!gt && (r = tree_scan(b->fd, groot, &gs)) == 0)
		gt = &gs;
	if (r == 0 && !lt && (r = tree_scan(b->fd, "", &ls)) == 0)
		lt = &ls;
	if (r < 0) {
		err_set(e, EXIT_FAILED, "cannot read generation %u or the live "
			"tree: %s", n, tree_strerror(r));
		goto out;
	}
	tmp = calloc(gt->n ? gt->n : 1, sizeof(*tmp));
	which = calloc(gt->n ? gt->n : 1, sizeof(*which));
	if (!tmp || !which) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < gt->n; i++) {
		const char *rel = gt->v[i].rel;

		tree_join(src, sizeof(src), groot, rel);
		if (S_ISDIR(gt->v[i].mode)) {
			r = beneath_mkdir(b->fd, rel, gt->v[i].mode & 07777);
			if (r < 0) {
				err_set(e, EXIT_FAILED, "cannot create %s/%s: "
					"%s", b->dir, rel, tree_strerror(r));
				goto out;
			}
			continue;
		}
		if (tree_same_file(b->fd, src, rel))
			continue;
		fd = beneath_tmpfile(b->fd, rel, tmp[n_tmp], PATH_MAX);
		if (fd >= 0) {
			close(fd);
			r = beneath_unlink(b->fd, tmp[n_tmp], false);
			if (r == 0)
				r = tree_copy_node(b->fd, src, tmp[n_tmp]);
		} else {
			r = fd;
		}
		if (r < 0) {
			err_set(e, EXIT_FAILED, "cannot write %s/%s: %s",
				b->dir, rel, tree_strerror(r));
			if (fd >= 0)
				beneath_unlink(b->fd, tmp[n_tmp], false);
			goto out;
		}
		which[n_tmp++] = i;
	}
	r = boot_sync(b);
	if (r < 0) {
		err_set(e, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			tree_strerror(r));
		goto out;
	}
	for (i = 0; i < n_tmp; i++) {
		r = beneath_rename(b->fd, tmp[i], gt->v[which[i]].rel);
		if (r < 0) {
			err_set(e, EXIT_FAILED, "cannot rename %s/%s: %s",
				b->dir, gt->v[which[i]].rel, tree_strerror(r));
			goto out;
		}
		tmp[i][0] = '\0';
	}
	/* what the generation does not have goes, deepest first */
	for (i = lt->n; i-- > 0;) {
		if (tree_find(gt, lt->v[i].rel))
			continue;
		if (S_ISDIR(lt->v[i].mode)) {
			/* kept if something else is in it */
			beneath_unlink(b->fd, lt->v[i].rel, true);
			continue;
		}
		r = beneath_unlink(b->fd, lt->v[i].rel, false);
		if (r < 0 && r != -ENOENT) {
			err_set(e, EXIT_FAILED, "cannot remove %s/%s: %s",
				b->dir, lt->v[i].rel, tree_strerror(r));
			goto out;
		}
	}
	gen_path(n, LAYOUT_GEN_APPLIED, src, sizeof(src));
	fd = beneath_open(b->fd, src, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	r = boot_sync(b);
	if (r < 0)
		err_set(e, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			tree_strerror(r));
out:
	for (i = 0; tmp && i < n_tmp; i++)
		if (tmp[i][0])
			beneath_unlink(b->fd, tmp[i], false);
	free(tmp);
	free(which);
	tree_free(&gs);
	tree_free(&ls);
	return r < 0 ? r : 0;
}

/* What an interrupted change left: generations/.new and .old-N (removed
 * with !dry), counted. */
static size_t leftovers(struct boot *b, bool dry, FILE *out)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = 0, i;
	DIR *d = NULL;
	int r;

	beneath_opendir(b->fd, LAYOUT_GENERATIONS, &d);
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".new") &&
		    strncmp(de->d_name, LAYOUT_PRUNED_PREFIX,
			    strlen(LAYOUT_PRUNED_PREFIX)))
			continue;
		n++;
		if (dry)
			continue;
		snprintf(path, sizeof(path), LAYOUT_GENERATIONS "/%s",
			 de->d_name);
		r = tree_remove(b->fd, path);
		if (r < 0)
			fprintf(out, "earlyfs: warning: cannot remove %s/%s: %s; "
				"remove it by hand\n", b->dir, path,
				tree_strerror(r));
	}
	if (d)
		closedir(d);
	/* our temp files beside the tracked ones */
	for (i = 0; i < n_layout_tracked; i++)
		n += tree_remove_temps(b->fd, layout_tracked[i].dir ?
				       layout_tracked[i].path :
				       layout_tracked[i].in, 0, dry);
	/* a kernel add killed while copying; a stub whose kernel a package
	 * removed before the hook ran */
	n += kernelfiles_leftovers(b->fd, !dry, out, NULL);
	/* an install killed before or after its switch */
	n += installset_leftovers(b->fd, dry, out);
	return n;
}

/* Finishes what an interrupted change left; writes only if it left
 * something. */
int gen_recover(struct boot *b, struct gen_state *s, FILE *out,
		struct err *e)
{
	bool applied = true;
	unsigned latest;
	int r;

	latest = gen_state_latest(s, &applied);
	if (!leftovers(b, true, out) && (!latest || applied))
		return 0;
	r = boot_writable(b, e);
	if (r < 0)
		return r;
	leftovers(b, false, out);
	if (latest && !applied) {
		r = gen_apply(b, latest, NULL, NULL, e);
		if (r < 0)
			return r;
		s->v[s->n - 1].applied = true;
		fprintf(out, "earlyfs: finished generation %u, which an "
			"interrupted change had recorded but not applied\n",
			latest);
	}
	return 0;
}

void gen_prune(struct boot *b, const struct gen_state *s, unsigned latest)
{
	const struct generation *v = s->v;
	char from[PATH_MAX], to[PATH_MAX];
	size_t i;

	for (i = 0; i + b->keep < s->n; i++) {
		if (v[i].n + 1 >= latest)
			break;	/* never the current or the previous one */
		if (v[i].n == b->pinned[0] || v[i].n == b->pinned[1])
			continue;
		gen_path(v[i].n, NULL, from, sizeof(from));
		/* a name of its own: a stale .old-N that cannot be removed
		 * (recovery warns about it) never blocks pruning */
		snprintf(to, sizeof(to), LAYOUT_GENERATIONS "/"
			 LAYOUT_PRUNED_PREFIX "%u.%ld", v[i].n, (long)getpid());
		if (beneath_rename(b->fd, from, to) == 0)
			tree_remove(b->fd, to);
	}
}

/* The files where the live tree and the newest generation differ, as a
 * list for a description; 0 when none. */
size_t gen_live_changes(const struct boot *b, struct gen_state *st,
			char *list, size_t cap)
{
	char groot[PATH_MAX], g[PATH_MAX];
	const struct tree *lt, *gt;
	size_t i, n = 0, len = 0;

	list[0] = '\0';
	if (gen_state_trees(b, st, &lt, &gt) < 0 || !gt)
		return 1;	/* unknown: let the record find out */
	gen_path(gen_state_latest(st, NULL), NULL, groot, sizeof(groot));
	for (i = 0; i < lt->n + gt->n; i++) {
		const struct node *x = i < lt->n ? &lt->v[i] : &gt->v[i - lt->n];

		if (i >= lt->n && tree_find(lt, x->rel))
			continue;
		tree_join(g, sizeof(g), groot, x->rel);
		if (tree_same_file(b->fd, x->rel, g))
			continue;
		n++;
		if (len + strlen(x->rel) + 8 < cap)
			len += (size_t)snprintf(list + len, cap - len, "%s%s",
						len ? ", " : "", x->rel);
		else if (len + 5 < cap && !strstr(list, ", ..."))
			len += (size_t)snprintf(list + len, cap - len, ", ...");
	}
	return n;
}
