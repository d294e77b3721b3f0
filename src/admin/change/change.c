/* change: a change staged, validated, recorded as a generation, applied */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/statvfs.h>
#include "atomic.h"
#include "base/beneath.h"
#include "change/change.h"
#include "loader/loader.h"
#include "fragment.h"
#include "change/generation.h"
#include "layout.h"
#include "request.h"
#include "change/tree.h"
#include "change/validate.h"

/* What a change will do, found before anything is written. */
struct plan {
	char name[FRAGMENT_NAME_MAX + 1];	/* the fragment, as NN-name */
	char file[FRAGMENT_NAME_MAX + 16];	/* its file in init.d now */
	char to[FRAGMENT_NAME_MAX + 16];	/* its file after the change */
	bool exists, disabled;
	char src[PATH_MAX];	/* the tree the change starts from: "" (the
				 * live tree) or generations/N */
	unsigned from;		/* the generation that tree is */
	char desc[512];		/* the generation's description */
	bool nothing;		/* already so: no generation */
	bool invalid;		/* forced past problems: never 'previous' */
	struct gen_state *gens;	/* read once for the change */
};

/*
 * One entry per operation: what it needs and refuses (check, before any
 * write), and what it does to the staged tree (edit, on generations/.new;
 * NULL when staging the source tree is the whole change).  Adding an
 * operation is adding an entry here.
 */
struct change_type {
	bool fragment;		/* c->name is a fragment (checked, found) */
	bool must_exist;	/* ... that must be there */
	int (*check)(struct boot *b, const struct change *c, struct plan *p,
		     FILE *out, struct err *e);
	int (*edit)(int dir, const struct change *c, const struct plan *p,
		    const char *file, const char *to);
};

/* Problems found for a change, in one buffer for one message. */
struct review {
	char text[2048];
	FILE *f;
	struct problems pr;
};

static void review_open(struct review *rv)
{
	rv->text[0] = '\0';
	rv->f = fmemopen(rv->text, sizeof(rv->text) - 1, "w");
	rv->pr = (struct problems){ rv->f, 0, NULL };
}

/* Closes rv: 0, or the refusal (nothing changed) unless force, which
 * notes the problems in the description instead. */
static int review_close(struct review *rv, bool force, struct plan *p,
			struct err *e)
{
	size_t n;

	if (rv->f)
		fclose(rv->f);
	rv->f = NULL;
	if (!rv->pr.n)
		return 0;
	if (force)
		p->invalid = true;
	if (force && strstr(p->desc, " (not valid: ")) {
		return 0;	/* noted when checked */
	} else if (force) {
		n = strlen(p->desc);
		snprintf(p->desc + n, sizeof(p->desc) - n, " (not valid: %zu "
			 "problem%s, see earlyfs check)", rv->pr.n,
			 rv->pr.n == 1 ? "" : "s");
		return 0;
	}
	n = strlen(rv->text);
	if (n && rv->text[n - 1] == '\n')
		rv->text[n - 1] = '\0';
	return err_set(e, EXIT_REFUSED, "%zu problem%s; nothing changed:\n%s",
		       rv->pr.n, rv->pr.n == 1 ? "" : "s", rv->text);
}

static size_t tree_diff(int dir, const char *new_root, const struct tree *nt,
			const char *old_root, const struct tree *ot,
			bool *differs);
static void review_entries(struct boot *b, const char *root,
			   const struct tree *t, const bool *differs,
			   struct problems *pr, uint64_t *ret_bytes);

static mode_t new_fragment_mode(const char *data, size_t len)
{
	if ((len >= 2 && data[0] == '#' && data[1] == '!') ||
	    (len >= 4 && !memcmp(data, "\177ELF", 4)))
		return 0755;
	return 0644;	/* the runner gives it to /bin/sh -e */
}

static mode_t write_mode(int dir, const char *file, const struct change *c,
			 const struct plan *p);

/* The fragment a change brings, validated before anything is written:
 * the bytes of a write (data), or the file renamed (enabled, disabled,
 * moved) under its new name. */
static int check_fragment(struct boot *b, const struct change *c,
			  struct plan *p, bool data, struct err *e)
{
	char file[PATH_MAX], shown[PATH_MAX];
	struct review rv;

	snprintf(file, sizeof(file), LAYOUT_INITD "/%s", p->file);
	snprintf(shown, sizeof(shown), LAYOUT_INITD "/%s",
		 data ? p->file : p->to);
	review_open(&rv);
	if (data)
		validate_fragment_bytes(b->fd, c->data, c->len,
					write_mode(b->fd, file, c, p) & S_IXUSR,
					shown, &rv.pr);
	else
		validate_fragment(b->fd, file, shown, &rv.pr);
	return review_close(&rv, c->force, p, e);
}

static int check_write(struct boot *b, const struct change *c,
		       struct plan *p, FILE *out, struct err *e)
{
	char path[PATH_MAX], *cur = NULL;
	size_t len = 0;
	int r;

	if (c->op == CHANGE_ADD && p->exists)
		return err_set(e, EXIT_REFUSED, "init.d/%s already exists; "
			       "change it with 'earlyfs edit %s', or remove "
			       "it first", p->file, p->name);
	if (c->len > LAYOUT_FRAGMENT_MAX)
		return err_set(e, EXIT_REFUSED, "%s is larger than 1 MiB",
			       p->name);
	if (c->has_base) {
		snprintf(path, sizeof(path), LAYOUT_INITD "/%s", p->file);
		r = p->exists ? beneath_read(b->fd, path, LAYOUT_FRAGMENT_MAX,
					     &cur, &len) : -ENOENT;
		if (r < 0 || request_hash(cur, len) != c->base) {
			free(cur);
			return err_set(e, EXIT_REFUSED, "init.d/%s changed "
				       "since you started editing it; nothing "
				       "written", p->exists ? p->file : p->name);
		}
		free(cur);
	}
	if (!p->exists)
		snprintf(p->file, sizeof(p->file), "%s", p->name);
	snprintf(p->desc, sizeof(p->desc), "%s init.d/%s",
		 p->exists ? "edit" : "add", p->file);
	return check_fragment(b, c, p, true, e);
}

/* A fragment's mode after the edit: its own, or by its first bytes. */
static mode_t write_mode(int dir, const char *file, const struct change *c,
			 const struct plan *p)
{
	struct stat st;

	return p->exists && beneath_lstat(dir, file, &st) == 0 &&
			       S_ISREG(st.st_mode) ?
		       st.st_mode & 07777 : new_fragment_mode(c->data, c->len);
}

static int edit_write(int dir, const struct change *c, const struct plan *p,
		      const char *file, const char *to)
{
	return tree_write_new(dir, file, c->data, c->len,
			      write_mode(dir, file, c, p));
}

static int check_rm(struct boot *b, const struct change *c, struct plan *p,
		    FILE *out, struct err *e)
{
	snprintf(p->desc, sizeof(p->desc), "remove init.d/%s", p->file);
	return 0;
}

static int edit_rm(int dir, const struct change *c, const struct plan *p,
		   const char *file, const char *to)
{
	return beneath_unlink(dir, file, false);
}

static int check_toggle(struct boot *b, const struct change *c,
			struct plan *p, FILE *out, struct err *e)
{
	bool disable = c->op == CHANGE_DISABLE;

	if (p->disabled == disable) {
		fprintf(out, "earlyfs: %s is already %s\n", p->name,
			p->disabled ? "disabled" : "enabled");
		p->nothing = true;
		return 0;
	}
	snprintf(p->to, sizeof(p->to), "%s%s", p->name,
		 disable ? LAYOUT_DISABLED : "");
	snprintf(p->desc, sizeof(p->desc), "%s init.d/%s",
		 disable ? "disable" : "enable", p->name);
	return check_fragment(b, c, p, false, e);
}

static int edit_rename(int dir, const struct change *c,
		       const struct plan *p, const char *file, const char *to)
{
	return beneath_rename(dir, file, to);
}

static int check_mv(struct boot *b, const struct change *c, struct plan *p,
		    FILE *out, struct err *e)
{
	char newname[FRAGMENT_NAME_MAX + 1];
	bool ignored;
	int r;

	r = tree_fragment_name_arg(c->newname, newname, sizeof(newname), e);
	if (r < 0)
		return r;
	if (tree_fragment_find(b, newname, p->to, sizeof(p->to), &ignored) == 0)
		return err_set(e, EXIT_REFUSED, "init.d/%s already exists; "
			       "remove it or choose another name", p->to);
	snprintf(p->to, sizeof(p->to), "%s%s", newname,
		 p->disabled ? LAYOUT_DISABLED : "");
	snprintf(p->desc, sizeof(p->desc), "rename init.d/%s to init.d/%s",
		 p->file, p->to);
	return check_fragment(b, c, p, false, e);
}

static int check_rollback(struct boot *b, const struct change *c,
			  struct plan *p, FILE *out, struct err *e)
{
	unsigned to = c->gen ? c->gen : p->from - 1;
	const struct tree *live, *last;
	struct tree t = { 0 };
	char path[PATH_MAX];
	struct review rv;
	bool *differs;
	int r;

	gen_path(to, LAYOUT_GEN_APPLIED, path, sizeof(path));
	/* p->from may be the record of direct edits about to be made */
	if (to == 0 || (to != p->from && !beneath_exists(b->fd, path)))
		return err_set(e, EXIT_FAILED, "there is no generation %u to "
			       "roll back to; see 'earlyfs generations'", to);
	p->from = to;
	gen_path(to, NULL, p->src, sizeof(p->src));
	snprintf(p->desc, sizeof(p->desc), "rollback to generation %u", to);
	/* what the rollback would put in place of the live tree, checked */
	r = gen_state_trees(b, p->gens, &live, &last);
	if (r == 0)
		r = tree_scan(b->fd, p->src, &t);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read %s/%s: %s",
				b->dir, p->src, tree_strerror(r));
	differs = calloc(t.n ? t.n : 1, sizeof(*differs));
	if (!differs) {
		tree_free(&t);
		return err_set(e, EXIT_FAILED, "out of memory");
	}
	tree_diff(b->fd, p->src, &t, "", live, differs);
	review_open(&rv);
	review_entries(b, p->src, &t, differs, &rv.pr, NULL);
	free(differs);
	tree_free(&t);
	return review_close(&rv, c->force, p, e);
}

static int check_record(struct boot *b, const struct change *c,
			struct plan *p, FILE *out, struct err *e)
{
	char list[256];

	if (!p->from) {
		snprintf(p->desc, sizeof(p->desc), "initial state");
		return 0;
	}
	if (!gen_live_changes(b, p->gens, list, sizeof(list))) {
		p->nothing = true;
		return 0;
	}
	snprintf(p->desc, sizeof(p->desc), "direct edit of %s", list);
	return 0;	/* validated when staged: the live tree is the change */
}

static int check_install(struct boot *b, const struct change *c,
			 struct plan *p, FILE *out, struct err *e)
{
	snprintf(p->desc, sizeof(p->desc), "%s", c->name);
	return 0;	/* the binaries were checked on the host */
}

/* The directories of rel from offset from on that are missing, made
 * with mode (private for a private file). */
static int make_parents(int dir, const char *rel, size_t from, mode_t mode)
{
	char path[PATH_MAX];
	const char *slash;
	int r;

	for (slash = strchr(rel + from, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		snprintf(path, sizeof(path), "%.*s", (int)(slash - rel), rel);
		if (beneath_exists(dir, path))
			continue;
		r = beneath_mkdir(dir, path, mode);
		if (r < 0)
			return r;
	}
	return 0;
}

static int edit_install(int dir, const struct change *c,
			const struct plan *p, const char *file, const char *to)
{
	char rel[PATH_MAX];
	size_t i;
	int r = 0;

	if (c->data)
		r = tree_write_new(dir, LAYOUT_STAGING "/" LAYOUT_INSTALLED,
				   c->data, c->len, 0644);
	for (i = 0; i < c->n_files && r == 0; i++) {
		const struct change_file *f = &c->files[i];

		snprintf(rel, sizeof(rel), LAYOUT_STAGING "/%s", f->rel);
		if (f->data)
			r = make_parents(dir, rel, sizeof(LAYOUT_STAGING),
					 f->mode & 077 ? 0755 : 0700);
		if (f->data && r == 0)
			r = tree_write_new(dir, rel, f->data, f->len, f->mode);
		else if ((r = beneath_unlink(dir, rel, false)) == -ENOENT)
			r = 0;
	}
	return r;
}

static const struct change_type types[CHANGE_OPS] = {
	[CHANGE_PUT] = { true, false, check_write, edit_write },
	[CHANGE_ADD] = { true, false, check_write, edit_write },
	[CHANGE_RM] = { true, true, check_rm, edit_rm },
	[CHANGE_ENABLE] = { true, true, check_toggle, edit_rename },
	[CHANGE_DISABLE] = { true, true, check_toggle, edit_rename },
	[CHANGE_MV] = { true, true, check_mv, edit_rename },
	[CHANGE_ROLLBACK] = { false, false, check_rollback, NULL },
	[CHANGE_RECORD] = { false, false, check_record, NULL },
	[CHANGE_INSTALL] = { false, false, check_install, edit_install },
};

/* What the change does, found and checked (its content validated)
 * before anything is written: a refusal here writes nothing.  `from`
 * is the generation the change starts from (one more than the latest
 * when direct edits are still to be recorded). */
static int change_plan(struct boot *b, const struct change *c, unsigned from,
		       struct plan *p, FILE *out, struct err *e)
{
	const struct change_type *t = &types[c->op];
	int r;

	p->src[0] = '\0';
	p->from = from;
	if (t->fragment) {
		r = tree_fragment_name_arg(c->name, p->name, sizeof(p->name), e);
		if (r < 0)
			return r;
		p->exists = tree_fragment_find(b, p->name, p->file, sizeof(p->file),
					  &p->disabled) == 0;
		if (!p->exists && t->must_exist)
			return err_set(e, EXIT_FAILED, "there is no fragment "
				       "%s in init.d; see 'earlyfs fragments'",
				       p->name);
	}
	return t->check(b, c, p, out, e);
}

/* Applies the planned change to generations/.new. */
static int change_stage(struct boot *b, const struct change *c,
			const struct plan *p, struct err *e)
{
	const struct change_type *t = &types[c->op];
	char file[PATH_MAX], to[PATH_MAX];
	int r;

	const struct tree *live = NULL, *last;

	if (!p->src[0] && gen_state_trees(b, p->gens, &live, &last) < 0)
		live = NULL;	/* gen_stage scans it, and says what fails */
	r = gen_stage(b, p->src, live, p->from, e);
	if (r < 0 || !t->edit)
		return r;
	snprintf(file, sizeof(file), LAYOUT_STAGING "/" LAYOUT_INITD "/%s",
		 p->file);
	snprintf(to, sizeof(to), LAYOUT_STAGING "/" LAYOUT_INITD "/%s", p->to);
	r = t->edit(b->fd, c, p, file, to);
	if (r == -EDQUOT)
		r = -ENOSPC;	/* the caller says what to free */
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write %s/%s: %s",
				b->dir, file, tree_strerror(r));
	return 0;
}

/* Which entries of tree nt (rooted at new_root) differ from tree ot
 * (rooted at old_root; NULL: all of them), in differs; how many changes
 * that is, files ot has and nt lacks included. */
static size_t tree_diff(int dir, const char *new_root, const struct tree *nt,
			const char *old_root, const struct tree *ot,
			bool *differs)
{
	char a[PATH_MAX], o[PATH_MAX];
	size_t i, changed = 0;

	for (i = 0; i < nt->n; i++) {
		const char *rel = nt->v[i].rel;

		tree_join(a, sizeof(a), new_root, rel);
		if (ot)
			tree_join(o, sizeof(o), old_root, rel);
		differs[i] = !S_ISDIR(nt->v[i].mode) &&
			     (!ot || !tree_same_file(dir, a, o));
		changed += differs[i];
	}
	for (i = 0; ot && i < ot->n; i++)
		if (!tree_find(nt, ot->v[i].rel))
			changed++;
	return changed;
}

/* Validates the entries of t (rooted at root) that differ, each with what
 * checks its path (validate_for()); counts the bytes the live tree needs
 * for them. */
static void review_entries(struct boot *b, const char *root,
			   const struct tree *t, const bool *differs,
			   struct problems *pr, uint64_t *ret_bytes)
{
	char s[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const char *rel = t->v[i].rel;
		validate_fn *check;

		if (!differs[i])
			continue;
		tree_join(s, sizeof(s), root, rel);
		if (ret_bytes && S_ISREG(t->v[i].mode) &&
		    beneath_lstat(b->fd, s, &st) == 0)
			*ret_bytes += (uint64_t)st.st_size + 4096;
		if (S_ISLNK(t->v[i].mode) && !strchr(rel, '/'))
			validate_problem(pr, "%s: a symbolic link; the runner "
					 "and earlyfs need a directory here",
					 rel);
		else if ((check = validate_for(rel)))
			check(b->fd, s, rel, pr);
	}
}

static int no_space(struct boot *b, const char *what, struct err *e)
{
	struct statvfs v;
	unsigned long long kib = 0;

	if (fstatvfs(b->fd, &v) == 0)
		kib = (unsigned long long)v.f_bfree * v.f_frsize / 1024;
	return err_setr(e, -ENOSPC, EXIT_FAILED, "%s: the boot partition %s "
			"is full (%llu KiB free); nothing was changed.  Free "
			"space on it (old kernels, files you added; fewer "
			"generations with keep_generations= in " LAYOUT_CONF
			") and try again", what, b->dir, kib);
}

static int commit_locked(struct boot *b, struct gen_state *gs,
			 const struct change *c, FILE *out, struct err *e)
{
	char list[256], final[PATH_MAX];
	struct plan p = { .nothing = false, .gens = gs };
	const struct tree *live = NULL, *last = NULL;
	struct tree st = { 0 };
	struct statvfs v;
	struct review rv;
	uint64_t bytes = 0;
	size_t changed = 0, i;
	bool pending, *differs = NULL;
	unsigned latest, prev;
	int r;

	latest = gen_state_latest(gs, NULL);
	pending = c->op != CHANGE_RECORD &&
		  (!latest || gen_live_changes(b, gs, list, sizeof(list)));
	r = change_plan(b, c, latest + pending, &p, out, e);
	if (r < 0 || p.nothing)
		return r;
	r = boot_writable(b, e);
	if (r < 0)
		return r;
	if (pending) {
		/* the state before the change becomes a generation of its
		 * own: the first one, or edits made without earlyfs, which a
		 * rollback would otherwise overwrite unrecorded */
		const struct change first = { .op = CHANGE_RECORD,
					      .force = true };

		r = commit_locked(b, gs, &first, out, e);
		if (r < 0)
			return r;
		latest = gen_state_latest(gs, NULL);
		if (c->op != CHANGE_ROLLBACK)
			p.from = latest;
	}
	if (c->prepare && (r = c->prepare(b, c->ctx, e)) < 0)
		return r;
	r = change_stage(b, c, &p, e);
	if (r == -ENOSPC) {
		tree_remove(b->fd, LAYOUT_STAGING);
		return no_space(b, c->name ? c->name : "change", e);
	}
	if (r < 0)
		goto fail;
	/* the staged tree, scanned once: what differs from the newest
	 * generation is what the change changed, and what is checked */
	if ((r = tree_scan(b->fd, LAYOUT_STAGING, &st)) < 0 ||
	    (r = gen_state_trees(b, gs, &live, &last)) < 0) {
		err_setr(e, r, EXIT_FAILED, "cannot read %s/%s: %s", b->dir,
			 LAYOUT_STAGING, tree_strerror(r));
		goto fail;
	}
	differs = calloc(st.n ? st.n : 1, sizeof(*differs));
	if (!differs) {
		r = err_set(e, EXIT_FAILED, "out of memory");
		goto fail;
	}
	if (latest)
		gen_path(latest, NULL, final, sizeof(final));
	changed = tree_diff(b->fd, LAYOUT_STAGING, &st, latest ? final : NULL,
			    last, differs);
	/* the loader's staged files ('previous' of extlinux.conf), and
	 * room on the ESP for what the commit will export: alone they are
	 * no change; they count for what is checked, not for changed */
	prev = gen_state_latest_valid(gs, latest);
	r = loader_stage(b, prev, e);
	if (r < 0)
		goto fail;
	for (i = 0; i < st.n; i++)
		if (!strcmp(st.v[i].rel, LAYOUT_EXTLINUX_CONF))
			differs[i] = true;
	if (latest && !changed) {
		tree_remove(b->fd, LAYOUT_STAGING);
		if (c->op != CHANGE_RECORD)
			fprintf(out, "earlyfs: %s: nothing changed\n", p.desc);
		goto out;
	}
	review_open(&rv);
	review_entries(b, LAYOUT_STAGING, &st, differs, &rv.pr, &bytes);
	r = review_close(&rv, c->force, &p, e);
	if (r == 0 && (r = gen_write_info(b, p.desc, !p.invalid)) < 0)
		err_setr(e, r, EXIT_FAILED, "%s: %s", p.desc, tree_strerror(r));
	if (r == 0 && fstatvfs(b->fd, &v) == 0 &&
	    (uint64_t)v.f_bfree * v.f_frsize < bytes + 65536)
		r = -ENOSPC;
	if (r == 0 && (r = boot_sync(b)) < 0)
		err_setr(e, r, EXIT_FAILED, "%s: %s", p.desc, tree_strerror(r));
	if (r == -ENOSPC || r == -EDQUOT) {
		tree_remove(b->fd, LAYOUT_STAGING);
		r = no_space(b, p.desc, e);
		goto out;
	}
	if (r < 0)
		goto fail;
	gen_path(latest + 1, NULL, final, sizeof(final));
	r = beneath_rename(b->fd, LAYOUT_STAGING, final);
	if (r < 0) {
		err_setr(e, r, EXIT_FAILED, "cannot record generation %u: %s",
			 latest + 1, tree_strerror(r));
		goto fail;
	}
	/* the staged tree is the generation's; the live one is as read */
	r = gen_apply(b, latest + 1, &st, live, e);
	if (r == 0)
		r = gen_state_added(gs, latest + 1, !p.invalid);
	if (r < 0)
		goto out;
	gen_prune(b, gs, latest + 1);
	if (c->finish)
		c->finish(b, c->ctx, prev, out);
	fprintf(out, "earlyfs: %s (generation %u)\n", p.desc, latest + 1);
	/* after the commit point: the loader's files on the ESP */
	r = loader_export(b, prev, out, e);
	goto out;
fail:
	tree_remove(b->fd, LAYOUT_STAGING);
out:
	free(differs);
	tree_free(&st);
	return r;
}

/* The lock, and the state read once under it, with what an interrupted
 * change left finished. */
static int lock_and_load(struct boot *b, struct gen_state *gs, FILE *out,
			 struct err *e)
{
	unsigned latest;
	int r = boot_lock(b, out, e);

	if (r < 0)
		return r;
	r = gen_state_load(b, gs);
	if (r < 0)
		r = err_setr(e, r, EXIT_FAILED, "cannot list %s/" LAYOUT_GENERATIONS
			     ": %s", b->dir, tree_strerror(r));
	if (r == 0)
		r = gen_recover(b, gs, out, e);
	if (r == 0 && (latest = gen_state_latest(gs, NULL)))
		r = loader_recover(b, gen_state_latest_valid(gs, latest - 1),
				   out, e);
	if (r < 0) {
		gen_state_free(gs);
		boot_unlock(b, out);
	}
	return r;
}

int change_lock(struct boot *b, FILE *out, struct err *e)
{
	struct gen_state gs;
	int r = lock_and_load(b, &gs, out, e);

	if (r == 0)
		gen_state_free(&gs);
	return r;
}

/* A sealed partition changes only where it can be sealed again after
 * (loader.h), or, without the key, in its fragments and fstab alone,
 * which the generation its images run keeps as it was: that generation
 * and the previous image's are kept from pruning then. */
static int sealed_ready(struct boot *b, enum change_op op, struct err *e)
{
	struct loader_site s;
	int r;

	b->pinned[0] = b->pinned[1] = 0;
	if (loader_site_open(b, &s, e) < 0)
		return 0;	/* no loader yet: nothing sealed either */
	r = loader_seal_ready(&s, op < CHANGE_ROLLBACK, e);
	if (r == 1)
		loader_sealed_generations(&s, b->pinned);
	loader_site_close(&s);
	return r < 0 ? r : 0;
}

int change_commit(struct boot *b, const struct change *c, FILE *out,
		  struct err *e)
{
	struct gen_state gs;
	int r;

	r = lock_and_load(b, &gs, out, e);
	if (r < 0)
		return r;
	r = sealed_ready(b, c->op, e);
	if (r == 0)
		r = commit_locked(b, &gs, c, out, e);
	gen_state_free(&gs);
	boot_unlock(b, out);
	return r;
}

size_t change_direct_edits(struct boot *b, char *list, size_t cap)
{
	struct gen_state gs;
	size_t n;

	if (gen_state_load(b, &gs) < 0 || !gen_state_latest(&gs, NULL)) {
		gen_state_free(&gs);
		snprintf(list, cap, "(no generation yet)");
		return 1;
	}
	n = gen_live_changes(b, &gs, list, cap);
	gen_state_free(&gs);
	return n;
}
