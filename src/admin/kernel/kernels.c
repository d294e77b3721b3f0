/* kernels: see kernels.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "json.h"
#include "base/beneath.h"
#include "change/change.h"
#include "loader/loader.h"
#include "features/feature.h"
#include "kernel/kernelcheck.h"
#include "change/kernelfiles.h"
#include "kernel/kernelplan.h"
#include "kernel/kernels.h"
#include "kernlist.h"
#include "kv.h"
#include "kernel/stub.h"
#include "layout.h"
#include "text.h"

#define KEEP_DEFAULT 2

static int load(const struct boot *b, struct kernlist *kl, struct err *e)
{
	return loader_kernels(b->fd, "", kl, e);
}

static int by_version_desc(const void *a, const void *b)
{
	const struct kernlist_entry *x = *(const struct kernlist_entry *const *)a;
	const struct kernlist_entry *y = *(const struct kernlist_entry *const *)b;

	return strverscmp(y->version, x->version);
}

/* The files a change of kernels writes: the list, earlyfs.conf's
 * kernel=, and the loader's file if it keeps one on the partition
 * (files[0..*ret_files), their data malloc'ed), and j->def.  The kept ok
 * versions, newest first, in ret_versions. */
static int kernel_files(struct boot *b, struct kernlist *kl,
			struct kernel_job *j, struct change_file files[3],
			size_t *ret_files, const char *ret_versions[KERNLIST_MAX],
			size_t *ret_n, struct err *e)
{
	const struct kernlist_entry *def = kernlist_default(kl);
	const struct kernlist_entry *sorted[KERNLIST_MAX];
	char kname[128], *list, *conf, *text = NULL;
	const char *rel = NULL;
	size_t n = 0, i, conf_len = 0, len = 0;
	int r, nl;

	if (!def)
		return err_set(e, EXIT_REFUSED, "no kernel here passed the "
			       "check: nothing would boot; nothing written");
	snprintf(j->def, sizeof(j->def), "%s", def->version);
	for (i = 0; i < kl->n; i++)
		if (kl->v[i].ok)
			sorted[n++] = &kl->v[i];
	qsort(sorted, n, sizeof(sorted[0]), by_version_desc);
	for (i = 0; i < n; i++)
		ret_versions[i] = sorted[i]->version;
	*ret_n = n;
	r = loader_kernels_file(b, kl, &rel, &text, &len, e);
	if (r < 0)
		return r;
	list = malloc(4096);
	nl = list ? kernlist_format(kl, list, 4096) : -ENOMEM;
	snprintf(kname, sizeof(kname), LAYOUT_KERNEL, def->version);
	conf = boot_conf_with(b->fd, "kernel", kname, &conf_len);
	if (nl < 0 || !conf) {
		free(list);
		free(text);
		free(conf);
		return err_set(e, EXIT_FAILED, "out of memory");
	}
	files[0] = (struct change_file){ LAYOUT_KERNELS, list, (size_t)nl,
					 0644 };
	files[1] = (struct change_file){ LAYOUT_CONF, conf, conf_len, 0644 };
	*ret_files = 2;
	if (text)
		files[(*ret_files)++] = (struct change_file){ rel, text, len,
							      0644 };
	return 0;
}

static void files_free(struct change_file *files, size_t n)
{
	while (n--)
		free((char *)files[n].data);
}

/* The list, extlinux.conf and earlyfs.conf's kernel= as one change. */
static int commit(struct boot *b, struct kernlist *kl, struct kernel_job *j,
		  const char *desc, FILE *out, struct err *e)
{
	const char *versions[KERNLIST_MAX];
	struct change_file files[3];
	size_t n = 0, i, nf = 0;
	int r = kernel_files(b, kl, j, files, &nf, versions, &n, e);

	if (r < 0)
		return r;
	{
		struct change c = { .op = CHANGE_INSTALL, .name = desc,
				    .prepare = kernelfiles_copy,
				    .finish = kernelfiles_prune,
				    .ctx = j, .files = files, .n_files = nf };

		r = change_commit(b, &c, out, e);
	}
	if (r == 0)
		fprintf(out, "earlyfs: the default label boots %s; kept: ",
			j->def);
	for (i = 0; r == 0 && i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", versions[i]);
	if (r == 0)
		fprintf(out, "\n");
	files_free(files, nf);
	return r;
}

static unsigned keep_count(struct boot *b)
{
	char v[16];
	unsigned long n;

	if (boot_conf_get(b->fd, "keep_kernels", v, sizeof(v)) < 0 ||
	    text_parse_uint(v, strlen(v), KERNLIST_MAX, &n) < 0 || n < 1)
		return KEEP_DEFAULT;
	return (unsigned)n;
}

/* Where a kernel added to b boots: b's features and disk. */
static void site_of(const struct boot *b, struct kernel_site *s)
{
	struct err ignore;
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->image = b->t.is_image || stat(b->dir, &st) < 0;
	if (!s->image)
		s->dev = st.st_dev;
	s->table = TABLE_NONE;
	s->name = b->name;
	if (feature_installed(b->fd, &s->features, &ignore) < 0)
		s->features = 0;
}

int kernels_add(struct boot *b, const char *file, bool make_default,
		bool force, const struct kernels_opts *o, FILE *out,
		struct err *e)
{
	struct kernel_info k = { .config = NULL };
	struct kernel_plan plan = { .stub = NULL };
	struct kernel_site site;
	struct kernlist kl;
	struct kernlist_entry *ent;
	struct kernel_job *j = calloc(1, sizeof(*j));
	char desc[160];
	struct statvfs sv;
	struct stat st;
	size_t i, ok;
	int r;

	if (!j)
		return err_set(e, EXIT_FAILED, "out of memory");
	r = kernel_inspect(file, NULL, &k, e);
	if (r < 0)
		goto out;
	if (!kernlist_version_ok(k.version, strlen(k.version))) {
		r = err_set(e, EXIT_USAGE, "%s: its version '%s' is not one "
			    "earlyfs can name a file after", file,
			    text_printable(k.version));
		goto out;
	}
	r = load(b, &kl, e);
	if (r < 0)
		goto out;
	/* Secure Boot: an unsigned kernel would not boot at all */
	r = loader_kernel_allowed(b, file, out, e);
	if (r < 0)
		goto out;
	j->before = kl;
	site_of(b, &site);
	r = kernelplan_make(&k, o, &site, force, &plan, out, e);
	if (r < 0)
		goto out;
	ent = kernlist_find(&kl, k.version);
	if (plan.refused) {
		/* kept out of the labels, with the reason; not copied */
		if (ent && ent->ok) {
			r = err_set(e, EXIT_KERNEL, "%s %s fails the kernel "
				    "check; the kept %s is not replaced: %s",
				    file, k.version, k.version, plan.why.msg);
			goto out;
		}
		ent = kernlist_add(&kl, k.version);
		if (!ent) {
			r = err_set(e, EXIT_FAILED, "no room in " LAYOUT_KERNELS);
			goto out;
		}
		ent->ok = false;
		snprintf(ent->why, sizeof(ent->why), "%s", plan.why.msg);
		snprintf(desc, sizeof(desc), "kernel refused %s", k.version);
		r = commit(b, &kl, j, desc, out, e);
		if (r == 0)
			r = err_set(e, EXIT_KERNEL, "%s %s is kept out of the "
				    "labels (the default still boots %s): %s",
				    file, k.version, j->def, plan.why.msg);
		goto out;
	}
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = err_set(e, EXIT_USAGE, "%s: not a regular file", file);
		goto out;
	}
	/* room for it beside whatever it replaces, and for the change */
	if (statvfs(b->dir, &sv) == 0 &&
	    (unsigned long long)sv.f_bavail * sv.f_frsize <
	    (unsigned long long)st.st_size + plan.stub_len + (1ull << 20)) {
		r = err_set(e, EXIT_REFUSED, "not enough space on %s for %s "
			    "(%lld KiB, %llu KiB free with 1 MiB for the "
			    "change): remove a kernel ('earlyfs kernel rm "
			    "VERSION'); nothing written", b->name, k.version,
			    (long long)st.st_size / 1024,
			    (unsigned long long)sv.f_bavail * sv.f_frsize /
			    1024);
		goto out;
	}
	ent = kernlist_add(&kl, k.version);
	if (!ent) {
		r = err_set(e, EXIT_FAILED, "no room in " LAYOUT_KERNELS);
		goto out;
	}
	ent->ok = true;
	ent->stub = plan.stub != NULL;
	ent->why[0] = '\0';
	if (make_default)
		snprintf(kl.pinned, sizeof(kl.pinned), "%s", k.version);
	/* the newest N stay: the oldest others go (never the default) */
	for (;;) {
		const struct kernlist_entry *def = kernlist_default(&kl);
		struct kernlist_entry *old = NULL;

		for (i = 0, ok = 0; i < kl.n; i++) {
			struct kernlist_entry *v = &kl.v[i];

			if (!v->ok)
				continue;
			ok++;
			if (v != def && strcmp(v->version, k.version) &&
			    (!old || strverscmp(v->version, old->version) < 0))
				old = v;
		}
		if (ok <= keep_count(b) || !old)
			break;
		fprintf(out, "earlyfs: %s no longer kept (keep_kernels=%u)\n",
			old->version, keep_count(b));
		memmove(old, old + 1, sizeof(*old) *
			(size_t)(&kl.v[kl.n] - old - 1));
		kl.n--;
	}
	snprintf(j->version, sizeof(j->version), "%s", k.version);
	j->src = file;
	j->stub = plan.stub;
	j->stub_len = plan.stub_len;
	plan.stub = NULL;
	j->config = k.config;
	j->config_len = k.config ? strlen(k.config) : 0;
	snprintf(desc, sizeof(desc), "kernel add %s", k.version);
	r = commit(b, &kl, j, desc, out, e);
out:
	kernelplan_free(&plan);
	kernelfiles_job_free(j);
	free(j);
	kernel_info_free(&k);
	return r;
}

int kernels_restub(struct boot *b, unsigned added,
		   const struct kernels_opts *o, bool force,
		   struct kernel_job *j, struct change_file *files,
		   FILE *out, struct err *e)
{
	struct feature_need need[KERNEL_EXTRA_MAX];
	struct kernel_site site;
	struct kernlist kl;
	const char *versions[KERNLIST_MAX];
	bool relabel = false;
	size_t i, n, nf = 0;
	int r;

	if (!feature_needs(feature_with_needs(added), need, KERNEL_EXTRA_MAX))
		return 0;	/* nothing of the kernel's changes */
	r = load(b, &kl, e);
	if (r < 0)
		return r;
	j->before = kl;
	site_of(b, &site);
	site.features |= feature_with_needs(added);
	for (i = 0; i < kl.n && r == 0; i++) {
		struct kernlist_entry *v = &kl.v[i];
		struct kernel_info k = { .config = NULL };
		struct kernel_plan plan = { .stub = NULL };
		char path[PATH_MAX], rel[128], cfg[64], *cur = NULL;
		char built[128];
		struct kernels_opts ko;
		struct err why = { "", 0 };
		struct stat st;
		size_t len = 0;
		int cfd;

		snprintf(rel, sizeof(rel), LAYOUT_KERNEL, v->version);
		if (!v->ok || beneath_lstat(b->fd, rel, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;	/* check names a missing one */
		snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
		/* its configuration as the partition keeps it, read with no
		 * link followed */
		snprintf(rel, sizeof(rel), LAYOUT_KERNEL_CONFIG, v->version);
		cfd = beneath_open(b->fd, rel, O_RDONLY, 0);
		snprintf(cfg, sizeof(cfg), "/proc/self/fd/%d", cfd);
		if (kernel_inspect(path, cfd >= 0 ? cfg : NULL, &k, &why) < 0) {
			fprintf(out, "earlyfs: note: no configuration found for "
				"%s: its options for these features were not "
				"checked\n", v->version);
			goto next;
		}
		/* --modules is the tree of the kernel it was built for */
		ko = *o;
		if (o->modules && (stub_tree_version(o->modules, built,
						     sizeof(built)) < 0 ||
				   strcmp(built, v->version)))
			ko.modules = NULL;
		r = kernelplan_make(&k, &ko, &site, false, &plan, out, e);
		if (r < 0)
			goto next;
		if (plan.refused && force) {
			fprintf(out, "earlyfs: warning: --force: kernel %s: "
				"%s\n", v->version, plan.why.msg);
			goto next;
		}
		if (plan.refused) {
			r = err_set(e, EXIT_KERNEL, "kernel %s cannot boot with "
				    "these features: %s; nothing written (give "
				    "--modules DIR, its module tree, if it is "
				    "not in /lib/modules/%s here; or --force)",
				    v->version, plan.why.msg, v->version);
			goto next;
		}
		if (!plan.stub)
			goto next;
		snprintf(rel, sizeof(rel), LAYOUT_STUB, v->version);
		if (v->stub && beneath_read(b->fd, rel, 64 << 20, &cur,
					    &len) == 0 &&
		    len == plan.stub_len && !memcmp(cur, plan.stub, len))
			goto next;	/* the same modules */
		if (j->n_remade == KERNEL_STUBS_MAX)
			goto next;
		fprintf(out, "earlyfs: %s's module stub %s with what these "
			"features need\n", v->version, v->stub ? "is made again"
			: "is made");
		relabel |= !v->stub;
		v->stub = true;
		snprintf(j->remade[j->n_remade].version,
			 sizeof(j->remade[0].version), "%s", v->version);
		j->remade[j->n_remade].data = plan.stub;
		j->remade[j->n_remade++].len = plan.stub_len;
		plan.stub = NULL;
next:
		free(cur);
		if (cfd >= 0)
			close(cfd);
		kernelplan_free(&plan);
		kernel_info_free(&k);
	}
	if (r < 0)
		return r;
	/* a kernel with a stub now: its labels load it, the list says so */
	if (!relabel)
		return 0;
	r = kernel_files(b, &kl, j, files, &nf, versions, &n, e);
	return r < 0 ? r : (int)nf;
}

void kernels_files_free(struct change_file *files, size_t n)
{
	files_free(files, n);
}

int kernels_rm(struct boot *b, const char *version, FILE *out,
	       struct err *e)
{
	struct kernel_job j;
	struct kernlist_entry *ent;
	struct kernlist kl;
	char desc[160];
	size_t i, ok = 0;
	int r = load(b, &kl, e);

	if (r < 0)
		return r;
	memset(&j, 0, sizeof(j));
	j.before = kl;
	ent = kernlist_find(&kl, version);
	if (!ent) {
		char shown[KERNLIST_VERSION_MAX + 1];

		snprintf(shown, sizeof(shown), "%s", version);
		return err_set(e, EXIT_USAGE, "no kernel %s here; see 'earlyfs "
			       "kernel list'", text_printable(shown));
	}
	for (i = 0; i < kl.n; i++)
		ok += kl.v[i].ok;
	if (ent->ok && ok == 1)
		return err_set(e, EXIT_REFUSED, "%s is the only kernel that "
			       "boots: add another first ('earlyfs kernel add "
			       "FILE'); nothing written", version);
	if (!strcmp(kl.pinned, version))
		kl.pinned[0] = '\0';
	memmove(ent, ent + 1, sizeof(*ent) * (size_t)(&kl.v[kl.n] - ent - 1));
	kl.n--;
	snprintf(desc, sizeof(desc), "kernel rm %s", version);
	return commit(b, &kl, &j, desc, out, e);
}

int kernels_list(struct boot *b, bool as_json, FILE *out, struct err *e)
{
	static struct bootmenu m;
	const struct kernlist_entry *def;
	struct err ignore;
	size_t i, k;
	struct kernlist kl;
	struct json j;
	int r = load(b, &kl, e);

	if (r < 0)
		return r;
	/* the menu's entries (a partition whose menu does not build lists
	 * its kernels all the same) */
	if (loader_menu(b->fd, "", 0, &m, &ignore) < 0)
		m.n = 0;
	def = kernlist_default(&kl);
	if (as_json) {
		json_begin(&j, out, "kernel list");
		json_str(&j, "boot", b->name);
		json_array(&j, "kernels");
	} else {
		fprintf(out, "%-24s %8s  %-8s %s\n", "VERSION", "KIB", "CHECK",
			"ENTRIES");
	}
	for (i = 0; i < kl.n; i++) {
		struct kernlist_entry *v = &kl.v[i];
		char file[128], labels[512] = "";
		size_t used = 0;
		struct stat st;
		bool have;

		snprintf(file, sizeof(file), LAYOUT_KERNEL, v->version);
		have = beneath_lstat(b->fd, file, &st) == 0;
		if (as_json) {
			json_object(&j, NULL);
			json_str(&j, "version", v->version);
			json_str(&j, "check", v->ok ? "ok" : "refused");
			json_str(&j, "why", v->ok ? NULL : v->why);
			json_bool(&j, "default", v == def);
			json_bool(&j, "stub", v->stub);
			json_str(&j, "file", v->ok ? file : NULL);
			if (have)
				json_int(&j, "bytes", (long long)st.st_size);
			else
				json_null(&j, "bytes");
			json_array(&j, "entries");
			for (k = 0; k < m.n; k++)
				if (!strcmp(m.v[k].kernel + 1, file))
					json_str(&j, NULL, m.v[k].id);
			json_close(&j);
			json_close(&j);
			continue;
		}
		for (k = 0; k < m.n && used < sizeof(labels) - 90; k++)
			if (!strcmp(m.v[k].kernel + 1, file))
				used += (size_t)snprintf(labels + used,
					sizeof(labels) - used, "%s%s",
					used ? ", " : "", m.v[k].id);
		if (!have)
			st.st_size = 0;
		fprintf(out, "%-24s %8lld  %-8s %s%s\n", v->version,
			(long long)st.st_size / 1024,
			v->ok ? "ok" : "refused",
			v == def ? "(default) " : "",
			v->ok ? labels : text_printable(v->why));
	}
	if (as_json)
		json_end(&j);
	return 0;
}

void kernels_check(const struct boot *b, struct problems *p)
{
	struct err e = { "", 0 };
	struct kernlist kl;
	struct stat k, s;
	char name[128];
	size_t i;

	if (load(b, &kl, &e) < 0) {
		validate_problem(p, "%s", e.msg);
		return;
	}
	for (i = 0; i < kl.n; i++) {
		if (!kl.v[i].ok)
			continue;
		snprintf(name, sizeof(name), LAYOUT_KERNEL, kl.v[i].version);
		if (beneath_lstat(b->fd, name, &k) < 0 || !S_ISREG(k.st_mode)) {
			validate_problem(p, "kernel %s: %s is missing; 'earlyfs kernel "
				"rm %s' or add it again", kl.v[i].version, name,
				kl.v[i].version);
			continue;
		}
		if (!kl.v[i].stub)
			continue;
		snprintf(name, sizeof(name), LAYOUT_STUB, kl.v[i].version);
		if (beneath_lstat(b->fd, name, &s) < 0 || !S_ISREG(s.st_mode))
			validate_problem(p, "kernel %s: its module stub %s is missing; "
				"'earlyfs kernel add' it again", kl.v[i].version,
				name);
		else if (s.st_mtime < k.st_mtime)
			validate_problem(p, "kernel %s: its module stub %s is older than "
				"the kernel and may not match it; 'earlyfs kernel "
				"add' it again", kl.v[i].version, name);
	}
}
