/* check: the whole boot partition, as the runner and syslinux will see it */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"
#include "base/beneath.h"
#include "target/blkid.h"
#include "extlinux.h"
#include "fragment.h"
#include "layout.h"
#include "loader/loader.h"
#include "change/generation.h"
#include "change/tree.h"
#include "features/feature.h"
#include "change/kernelfiles.h"
#include "kernel/kernels.h"
#include "features/install.h"
#include "change/validate.h"
#include "view/check.h"

struct walk {
	int root;
	struct problems *p;
	size_t n_elf;
};

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

/* Every ELF file of the partition, links not followed, no mount crossed */
static void walk_elf(struct walk *w, const char *rel, int depth)
{
	char sub[PATH_MAX], magic[4];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	fd = beneath_opendir(w->root, rel, &d);
	if (fd < 0) {
		if (fd != -EXDEV)	/* a mount point: not the partition */
			validate_problem(w->p, "%s: cannot walk the tree: %s",
				*rel ? rel : ".", strerror(-fd));
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (tree_join(sub, sizeof(sub), rel, de->d_name) < 0 ||
		    beneath_lstat(w->root, sub, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((depth == 0 && skipped_dir(sub)) || depth > 32)
				continue;
			walk_elf(w, sub, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_size < 52)
			continue;
		fd = beneath_open(w->root, sub, O_RDONLY | O_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (pread(fd, magic, 4, 0) == 4 && !memcmp(magic, "\177ELF", 4)) {
			w->n_elf++;
			validate_elf(w->root, sub, sub, w->p);
		}
		close(fd);
	}
	closedir(d);
}

static void check_fragments(int root, struct problems *p, size_t *n)
{
	char rel[PATH_MAX], shown[PATH_MAX];
	struct dirent *de;
	DIR *d = NULL;
	int fd;

	fd = beneath_opendir(root, LAYOUT_INITD, &d);
	if (fd < 0) {
		validate_problem(p, "init.d: %s", fd == -ELOOP || fd == -ENOTDIR ?
			"not a directory (a symbolic link?): the runner needs "
			"one" : strerror(-fd));
		return;
	}
	while ((de = readdir(d))) {
		enum fragment_class c = fragment_name_classify(de->d_name);

		snprintf(rel, sizeof(rel), LAYOUT_INITD "/%s", de->d_name);
		snprintf(shown, sizeof(shown), LAYOUT_INITD "/%s", de->d_name);
		if (c == FRAGMENT_INVALID && strcmp(de->d_name, "README"))
			validate_problem(p, "%s: never runs: its name breaks the rule "
				"(" FRAGMENT_RULE ")", shown);
		if (c != FRAGMENT_RUN && c != FRAGMENT_DISABLED)
			continue;
		(*n)++;
		validate_fragment(root, rel, shown, p);
	}
	closedir(d);
}

static void check_previous(int root, const struct extlinux_conf *c,
			   struct problems *p)
{
	const struct extlinux_label *l = extlinux_find(c, EXTLINUX_PREVIOUS);
	const char *g = l ? strstr(l->append, "earlyfs.generation=") : NULL;
	char path[PATH_MAX];
	unsigned n;

	if (!l)
		return;
	if (!g) {
		validate_problem(p, LAYOUT_EXTLINUX_CONF ": label previous has no "
			"earlyfs.generation=");
		return;
	}
	g += 19;
	/* the runner finds it (what earlyfs writes); a number names one */
	if (!strncmp(g, "previous", 8) && strchr(" \t", g[8]))
		return;
	if (layout_parse_generation(g, strcspn(g, " \t"), &n) < 0) {
		validate_problem(p, LAYOUT_EXTLINUX_CONF ": label previous: "
			"earlyfs.generation=%.*s is not a generation number",
			(int)strcspn(g, " \t"), g);
		return;
	}
	layout_generation_path("", n, LAYOUT_INITD, path, sizeof(path));
	if (!beneath_exists(root, path))
		validate_problem(p, LAYOUT_EXTLINUX_CONF ": label previous boots "
			"generation %u, which is not in " LAYOUT_GENERATIONS
			"/", n);
}

static void check_root(int root, struct problems *p)
{
	char spec[512], dev[512], type[64];
	struct err e;

	if (boot_conf_get(root, "root", spec, sizeof(spec)) < 0)
		validate_problem(p, LAYOUT_CONF ": no root= line");
	else if (blkid_root_resolve(spec, dev, sizeof(dev), type, sizeof(type),
			      &e) < 0)
		validate_problem(p, "root %s: no such device on this machine", spec);
}

/* One problem per line of text (freed). */
static void problem_lines(struct problems *p, char *text)
{
	char *line, *save = NULL;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		validate_problem(p, "%s", line);
	free(text);
}

/* The loader's files against the menu (ESP loaders: each file there);
 * what it says in the summary line in what. */
static void check_loader(const struct boot *b, struct problems *p,
			 char *what, size_t cap)
{
	static struct bootmenu m;
	struct loader_site s;
	char *text = NULL;
	size_t len = 0;
	unsigned bad = 0;
	struct err e;
	FILE *f;

	what[0] = '\0';
	if (loader_site_open((struct boot *)b, &s, &e) < 0) {
		validate_problem(p, "%s", e.msg);
		return;
	}
	f = open_memstream(&text, &len);
	if (f) {
		secureboot_check((struct boot *)b, f);
		fclose(f);
	}
	problem_lines(p, text);
	text = NULL;
	if (!s.ops->esp)
		return;		/* extlinux.conf: checked with the files */
	if (loader_menu(b->fd, "", gen_previous_of(b), &m, &e) < 0) {
		validate_problem(p, "the boot menu: %s", e.msg);
		return;
	}
	if (beneath_exists(b->fd, LOADER_OWED))
		validate_problem(p, "an export of the boot entries to the ESP "
			"is owed (an interrupted change): any earlyfs change "
			"writes it");
	f = open_memstream(&text, &len);
	if (f) {
		s.ops->check(&s, &m, f, &bad);
		fclose(f);
	}
	problem_lines(p, text);
	snprintf(what, cap, "%s (%zu entries)", s.ops->name, m.n);
	loader_site_close(&s);
}

int check_tree(const struct boot *b, bool running, bool as_json, FILE *out,
	       struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	struct problems p = { out, 0, NULL };
	struct json j;
	struct walk w = { b->fd, &p, 0 };
	size_t n_frag = 0;
	char loader[160], labels[64];

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	if (as_json) {
		json_begin(&j, out, "check");
		json_str(&j, "boot", b->name);
		json_array(&j, "problems");
		p.json = &j;
	}
	check_fragments(b->fd, &p, &n_frag);
	walk_elf(&w, "", 0);
	install_check(b->fd, &p);
	feature_check(b->fd, &p);
	kernels_check(b, &p);
	kernelfiles_leftovers(b->fd, false, NULL, &p);
	validate_fstab(b->fd, LAYOUT_FSTAB, LAYOUT_FSTAB, &p);
	validate_conf(b->fd, LAYOUT_CONF, LAYOUT_CONF, &p);
	check_loader(b, &p, loader, sizeof(loader));
	c->n = 0;
	if (!loader[0] &&
	    (validate_extlinux(b->fd, LAYOUT_EXTLINUX_CONF,
			       LAYOUT_EXTLINUX_CONF, c, &p) == 0 || c->n))
		check_previous(b->fd, c, &p);
	snprintf(labels, sizeof(labels), "extlinux.conf (%zu label%s)", c->n,
		 c->n == 1 ? "" : "s");
	if (running)
		check_root(b->fd, &p);
	if (as_json) {
		json_close(&j);
		json_int(&j, "problem_count", (long long)p.n);
		json_int(&j, "fragments", (long long)n_frag);
		json_int(&j, "elf_files", (long long)w.n_elf);
		json_str(&j, "loader", loader[0] ? loader : labels);
		json_bool(&j, "root_device_checked", running);
		json_end(&j);
	} else {
		fprintf(out, "%s: %zu fragment%s, %zu ELF file%s, etc/fstab, "
			"%s%s: %zu problem%s\n", b->name, n_frag,
			n_frag == 1 ? "" : "s", w.n_elf, w.n_elf == 1 ? "" : "s",
			loader[0] ? loader : labels,
			running ? ", root device" : "", p.n,
			p.n == 1 ? "" : "s");
	}
	free(c);
	if (p.n)
		return err_set(e, EXIT_FAILED, "%zu problem%s in %s", p.n,
			       p.n == 1 ? "" : "s", b->name);
	return 0;
}
