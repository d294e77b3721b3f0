/* populate: the boot partition's tree, staged for mke2fs -d, and the kernel */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include "atomic.h"
#include "elfdeps.h"
#include "fragment.h"
#include "features/feature.h"
#include "populate.h"
#include "base/run.h"
#include "base/host.h"

#define BUSYBOX "/bin/busybox"

/* Debian's busybox-static: a dynamic one would need libc on the partition. */
static bool is_static_elf(const char *path)
{
	struct elf_deps d;

	return elf_deps_read(path, &d) == 0 && !d.interp[0] && !d.n_needed;
}

static int mk(const char *root, const char *rel, mode_t mode)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return chmod(p, mode) < 0 ? -errno : 0;
}

static int link_to(const char *root, const char *target, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return symlink(target, p) < 0 ? -errno : 0;
}

static int copy_to(const char *src, const char *root, const char *rel,
		   mode_t mode)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return host_copy_dense(src, p, mode);
}

static int busybox_links(const char *root, struct err *e)
{
	char list[PATH_MAX], *text, *name, *save;
	size_t len;
	char *const argv[] = { "sh", "-c", "busybox --list > \"$0\"", list,
			       NULL };
	int r = 0;

	snprintf(list, sizeof(list), "%s/.applets", root);
	if (run_cmd(argv, NULL, 0) != 0 ||
	    read_file(list, 1 << 20, &text, &len) < 0)
		return err_set(e, EXIT_FAILED, "cannot list busybox applets");
	unlink(list);
	for (name = strtok_r(text, "\n", &save); name && r == 0;
	     name = strtok_r(NULL, "\n", &save)) {
		char rel[300];

		if (!strcmp(name, "busybox") || strchr(name, '/'))
			continue;
		snprintf(rel, sizeof(rel), "bin/%s", name);
		r = link_to(root, "busybox", rel);
	}
	free(text);
	return r < 0 ? err_set(e, EXIT_FAILED, "cannot link busybox applets: "
			       "%s", strerror(-r)) : 0;
}

int populate_stage(const char *root, struct err *e)
{
	static const struct {
		const char *rel;
		mode_t mode;
	} dirs[] = {
		{ "bin", 0755 }, { "sbin", 0755 }, { "dev", 0755 },
		{ "etc", 0755 }, { "lib", 0755 }, { "mnt", 0755 },
		{ "proc", 0555 }, { "run", 0755 }, { "sys", 0555 },
		{ "tmp", 01777 }, { "var", 0755 }, { "boot", 0755 },
		{ "root", 0700 }, { "init.d", 0755 },
	};
	static const char *const templates[] = { "fstab", "inittab", "passwd",
						 "group", "shells" };
	/* earlyfs-init's other names: root's login shell (SSH sessions see
	 * the prompt waiting) and what answers it from scripts */
	static const char *const names[] = { "sbin/earlyfs-shell",
		"sbin/earlyfs-unlock", "sbin/earlyfs-continue" };
	char src[PATH_MAX], rel[PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *d;
	int r = 0;

	if (!is_static_elf(BUSYBOX))
		return err_set(e, EXIT_FAILED, "%s is missing or not a static "
			       "binary; install busybox-static", BUSYBOX);
	if (access(host_init_binary(), R_OK) < 0)
		return err_set(e, EXIT_FAILED, "%s is missing; build it with "
			       "make", host_init_binary());
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && r == 0; i++)
		r = mk(root, dirs[i].rel, dirs[i].mode);
	if (r == 0)
		r = link_to(root, "/run", "var/run");
	if (r == 0)
		r = link_to(root, "/tmp", "var/tmp");
	for (i = 0; i < sizeof(templates) / sizeof(templates[0]) && r == 0;
	     i++) {
		snprintf(src, sizeof(src), "%s/templates/%s", host_data_dir(),
			 templates[i]);
		snprintf(rel, sizeof(rel), "etc/%s", templates[i]);
		r = copy_to(src, root, rel, 0644);
	}
	if (r < 0)
		return err_set(e, EXIT_FAILED, "cannot stage the tree in %s "
			       "(templates in %s): %s", root, host_data_dir(),
			       strerror(-r));
	r = copy_to(BUSYBOX, root, "bin/busybox", 0755);
	if (r == 0)
		r = link_to(root, "../bin/busybox", "sbin/init");
	if (r == 0)
		r = copy_to(host_init_binary(), root, "sbin/earlyfs-init", 0755);
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && r == 0; i++)
		r = link_to(root, "earlyfs-init", names[i]);
	if (r == 0)	/* the network feature writes it; etc may be read-only */
		r = link_to(root, "/run/resolv.conf", "etc/resolv.conf");
	if (r < 0)
		return err_set(e, EXIT_FAILED, "cannot stage binaries: %s",
			       strerror(-r));
	r = busybox_links(root, e);
	if (r < 0)
		return r;
	/* the shipped fragments that belong to no feature: exactly the
	 * names the runner will run */
	snprintf(src, sizeof(src), "%s/init.d", host_data_dir());
	d = opendir(src);
	if (!d)
		return err_set(e, EXIT_FAILED, "cannot read %s", src);
	while ((de = readdir(d)) && r == 0) {
		char from[PATH_MAX + 300];

		if (fragment_name_classify(de->d_name) != FRAGMENT_RUN ||
		    feature_owns_fragment(de->d_name))
			continue;	/* a feature's: with the feature */
		snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
		snprintf(rel, sizeof(rel), "init.d/%s", de->d_name);
		r = copy_to(from, root, rel, access(from, X_OK) == 0 ? 0755
								 : 0644);
	}
	closedir(d);
	return r < 0 ? err_set(e, EXIT_FAILED, "cannot stage fragments: %s",
			       strerror(-r)) : 0;
}
