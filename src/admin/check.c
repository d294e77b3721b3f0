/* check: the whole boot partition, as the runner and syslinux will see it */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blkid.h"
#include "extlinux.h"
#include "fragment.h"
#include "layout.h"
#include "util.h"
#include "validate.h"

static struct {
	const char *root;
	size_t root_len;
	struct problems *p;
	size_t n_elf;
} walk_state;

/* Where syslinux modules (ELF, resolved by syslinux), generations and the
 * kernel's file systems live: not ld.so's business. */
static bool skipped_dir(const char *rel)
{
	static const char *const skip[] = { LAYOUT_GENERATIONS,
					     LAYOUT_EXTLINUX_DIR,
					     "lost+found", "proc", "sys",
					     "dev", "run", "tmp", "mnt" };
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(rel, skip[i]))
			return true;
	return false;
}

static int visit(const char *path, const struct stat *st, int flag,
		 struct FTW *f)
{
	const char *rel = path + walk_state.root_len;
	char magic[4];
	FILE *fp;

	while (*rel == '/')
		rel++;
	if (flag == FTW_D && f->level == 1 && skipped_dir(rel))
		return FTW_SKIP_SUBTREE;
	if (flag != FTW_F || !S_ISREG(st->st_mode) || st->st_size < 52)
		return FTW_CONTINUE;
	fp = fopen(path, "re");
	if (!fp)
		return FTW_CONTINUE;
	if (fread(magic, 1, 4, fp) == 4 && !memcmp(magic, "\177ELF", 4)) {
		walk_state.n_elf++;
		validate_elf(walk_state.root, path, rel, walk_state.p);
	}
	fclose(fp);
	return FTW_CONTINUE;
}

static void check_fragments(const char *root, struct problems *p, size_t *n)
{
	char dir[PATH_MAX], path[PATH_MAX], shown[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/" LAYOUT_INITD, root);
	d = opendir(dir);
	if (!d) {
		problem(p, "init.d: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		enum fragment_class c = fragment_name_classify(de->d_name);

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(shown, sizeof(shown), LAYOUT_INITD "/%s", de->d_name);
		if (c == FRAGMENT_INVALID && strcmp(de->d_name, "README"))
			problem(p, "%s: never runs: its name breaks the rule "
				"(" FRAGMENT_RULE ")", shown);
		if (c != FRAGMENT_RUN && c != FRAGMENT_DISABLED)
			continue;
		(*n)++;
		validate_fragment(root, path, shown, p);
	}
	closedir(d);
}

static void check_previous(const char *root, const struct extlinux_conf *c,
			   struct problems *p)
{
	const struct extlinux_label *l = extlinux_find(c, EXTLINUX_PREVIOUS);
	const char *g = l ? strstr(l->append, "earlyfs.generation=") : NULL;
	char path[PATH_MAX];
	unsigned n;

	if (!l)
		return;
	if (!g) {
		problem(p, LAYOUT_EXTLINUX_CONF ": label previous has no "
			"earlyfs.generation=");
		return;
	}
	g += 19;
	if (layout_parse_generation(g, strcspn(g, " \t"), &n) < 0) {
		problem(p, LAYOUT_EXTLINUX_CONF ": label previous: "
			"earlyfs.generation=%.*s is not a generation number",
			(int)strcspn(g, " \t"), g);
		return;
	}
	layout_generation_path(root, n, LAYOUT_INITD, path, sizeof(path));
	if (access(path, F_OK) < 0)
		problem(p, LAYOUT_EXTLINUX_CONF ": label previous boots "
			"generation %u, which is not in " LAYOUT_GENERATIONS
			"/", n);
}

static void check_root(const char *root, struct problems *p)
{
	char spec[512], dev[512], type[64];
	struct err e;

	if (boot_conf_get(root, "root", spec, sizeof(spec)) < 0)
		problem(p, LAYOUT_CONF ": no root= line");
	else if (root_resolve(spec, dev, sizeof(dev), type, sizeof(type),
			      &e) < 0)
		problem(p, "root %s: no such device on this machine", spec);
}

int check_tree(const struct boot *b, bool running, FILE *out, struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	struct problems p = { out, 0 };
	char path[PATH_MAX];
	size_t n_frag = 0;

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	check_fragments(b->dir, &p, &n_frag);
	walk_state.root = b->dir;
	walk_state.root_len = strlen(b->dir);
	walk_state.p = &p;
	walk_state.n_elf = 0;
	if (nftw(b->dir, visit, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL) < 0)
		problem(&p, "%s: cannot walk the tree: %s", b->dir,
			strerror(errno));
	snprintf(path, sizeof(path), "%s/" LAYOUT_FSTAB, b->dir);
	validate_fstab(path, LAYOUT_FSTAB, &p);
	snprintf(path, sizeof(path), "%s/" LAYOUT_EXTLINUX_CONF, b->dir);
	if (validate_extlinux(b->dir, path, LAYOUT_EXTLINUX_CONF, c, &p) == 0 ||
	    c->n)
		check_previous(b->dir, c, &p);
	if (running)
		check_root(b->dir, &p);
	fprintf(out, "%s: %zu fragments, %zu ELF files, etc/fstab, "
		"extlinux.conf (%zu labels)%s: %zu problem%s\n", b->name, n_frag,
		walk_state.n_elf, c->n, running ? ", root device" : "", p.n,
		p.n == 1 ? "" : "s");
	free(c);
	if (p.n)
		return err_set(e, EXIT_FAILED, "%zu problem%s in %s", p.n,
			       p.n == 1 ? "" : "s", b->name);
	return 0;
}
