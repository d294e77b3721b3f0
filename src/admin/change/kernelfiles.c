/* kernelfiles: see kernelfiles.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/beneath.h"
#include "extlinux.h"
#include "change/kernelfiles.h"
#include "loader/loader.h"
#include "layout.h"

#define KP LAYOUT_KERNEL_PREFIX_LEN

/* A regular file of the partition with every block written (syslinux
 * reads no holes), given another name there: a package's kernel in
 * /boot is kept under earlyfs's own name without a second copy; dpkg
 * replaces and removes its name, never this inode.  false: copy it. */
static bool linked(int in, int dir, const char *tmp)
{
	struct stat s, d;

	return fstat(in, &s) == 0 && fstat(dir, &d) == 0 &&
	       S_ISREG(s.st_mode) && s.st_dev == d.st_dev &&
	       (long long)s.st_blocks * 512 >= (long long)s.st_size &&
	       linkat(in, "", dir, tmp, AT_EMPTY_PATH) == 0;
}

int kernelfiles_put(int dir, const char *shown, const char *dst,
		    const char *src, const char *data, size_t len,
		    struct err *e)
{
	char tmp[160], buf[1 << 16];
	int in = -1, out, r = 0;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), LAYOUT_KERNEL_TMP, dst);
	beneath_unlink(dir, tmp, false);
	if (src && (in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return err_setr(e, -errno, EXIT_FAILED, "%s: %s", src,
				strerror(errno));
	if (in >= 0 && linked(in, dir, tmp)) {
		close(in);
		r = beneath_rename(dir, tmp, dst);
		/* a rename onto the same inode leaves tmp */
		beneath_unlink(dir, tmp, false);
		if (r < 0) {
			return err_setr(e, r, EXIT_FAILED, "cannot write "
					"%s/%s: %s", shown, dst, strerror(-r));
		}
		return 0;
	}
	out = beneath_open(dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (out < 0) {
		if (in >= 0)
			close(in);
		return err_setr(e, out, EXIT_FAILED, "cannot create %s/%s: %s",
				shown, tmp, strerror(-out));
	}
	while (in >= 0 && r == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else if (write(out, buf, (size_t)n) != n)
			r = errno ? -errno : -EIO;
	}
	if (in < 0 && write(out, data, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (r == 0 && fsync(out) < 0)
		r = -errno;
	if (in >= 0)
		close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = beneath_rename(dir, tmp, dst);
	if (r < 0) {
		beneath_unlink(dir, tmp, false);
		return err_setr(e, r, EXIT_FAILED, "cannot write %s/%s: %s",
				shown, dst, strerror(-r));
	}
	return 0;
}

int kernelfiles_place(int dir, const char *shown,
		      const struct kernel_job *j, struct err *e)
{
	char dst[128];
	int r;

	snprintf(dst, sizeof(dst), LAYOUT_KERNEL, j->version);
	r = kernelfiles_put(dir, shown, dst, j->src, NULL, 0, e);
	if (r == 0 && j->stub) {
		snprintf(dst, sizeof(dst), LAYOUT_STUB, j->version);
		r = kernelfiles_put(dir, shown, dst, NULL, j->stub,
				    j->stub_len, e);
	}
	snprintf(dst, sizeof(dst), LAYOUT_KERNEL_CONFIG, j->version);
	if (r == 0 && j->config)
		r = kernelfiles_put(dir, shown, dst, NULL, j->config,
				    j->config_len, e);
	return r;
}

int kernelfiles_link_default(int dir, const char *version)
{
	char link[128], tmp[32];
	int r;

	snprintf(link, sizeof(link), LAYOUT_KERNEL, version);
	snprintf(tmp, sizeof(tmp), LAYOUT_KERNEL_TMP, "vmlinuz");
	beneath_unlink(dir, tmp, false);
	r = beneath_symlink(link, dir, tmp);
	if (r == 0)
		r = beneath_rename(dir, tmp, "vmlinuz");
	return r;
}

int kernelfiles_copy(struct boot *b, void *ctx, struct err *e)
{
	const struct kernel_job *j = ctx;
	char dst[128];
	size_t i;
	int r = 0;

	for (i = 0; i < j->n_remade && r == 0; i++) {
		snprintf(dst, sizeof(dst), LAYOUT_STUB, j->remade[i].version);
		r = kernelfiles_put(b->fd, b->dir, dst, NULL, j->remade[i].data,
				    j->remade[i].len, e);
	}
	if (r == 0 && j->src)
		r = kernelfiles_place(b->fd, b->dir, j, e);
	if (r == 0 && (r = boot_sync(b)) < 0)
		err_setr(e, r, EXIT_FAILED, "cannot sync %s: %s", b->dir,
			 strerror(-r));
	return r;
}

/* Other vmlinuz-* files are not earlyfs's (a package's, in /boot): they
 * stay.  A kernel stays while an entry of the menu boots it, or a label
 * of extlinux.conf (one the admin wrote too). */
void kernelfiles_prune(struct boot *b, void *ctx, unsigned prev, FILE *out)
{
	const struct kernel_job *j = ctx;
	struct extlinux_conf *c = malloc(sizeof(*c));
	static struct bootmenu m;
	char link[128], *buf = NULL;
	const char *what;
	size_t len, line, i;
	struct dirent *de;
	struct err ignore;
	DIR *d;

	snprintf(link, sizeof(link), LAYOUT_KERNEL, j->def);
	if (kernelfiles_link_default(b->fd, j->def) < 0)
		fprintf(out, "earlyfs: warning: cannot point %s/vmlinuz at "
			"%s\n", b->dir, link);
	if (!c || loader_menu(b->fd, "", prev, &m, &ignore) < 0)
		goto out;	/* keep everything */
	c->n = 0;
	if (beneath_read(b->fd, LAYOUT_EXTLINUX_CONF, LAYOUT_EXTLINUX_MAX,
			 &buf, &len) == 0 &&
	    extlinux_parse(buf, len, c, &line, &what) < 0)
		goto out;	/* keep everything */
	if (beneath_opendir(b->fd, ".", &d) < 0)
		goto out;
	while ((de = readdir(d))) {
		struct stat st;
		bool used = false;

		const struct kernlist_entry *was;

		if (strncmp(de->d_name, LAYOUT_KERNEL_PREFIX, KP) ||
		    beneath_lstat(b->fd, de->d_name, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		was = kernlist_find((struct kernlist *)&j->before,
				    de->d_name + KP);
		if (!was || !was->ok)
			continue;
		for (i = 0; i < c->n && !used; i++)
			used = c->labels[i].kernel[0] == '/' &&
			       !strcmp(c->labels[i].kernel + 1, de->d_name);
		for (i = 0; i < m.n && !used; i++)
			used = !strcmp(m.v[i].kernel + 1, de->d_name);
		used |= !strcmp(de->d_name, link);
		/* labels that still name /vmlinuz boot the default */
		if (!used && beneath_unlink(b->fd, de->d_name, false) == 0) {
			char other[128];

			fprintf(out, "earlyfs: removed %s (no entry boots it)\n",
				de->d_name);
			snprintf(other, sizeof(other), LAYOUT_STUB,
				 de->d_name + KP);
			beneath_unlink(b->fd, other, false);
			snprintf(other, sizeof(other), LAYOUT_KERNEL_CONFIG,
				 de->d_name + KP);
			beneath_unlink(b->fd, other, false);
		}
	}
	closedir(d);
	boot_sync(b);
out:
	free(buf);
	free(c);
}

void kernelfiles_job_free(struct kernel_job *j)
{
	size_t i;

	free(j->stub);
	j->stub = NULL;
	for (i = 0; i < j->n_remade; i++)
		free(j->remade[i].data);
	j->n_remade = 0;
}

/* Whether name is one of LAYOUT_KERNEL_TMP's: ".vmlinuz.tmp", or
 * ".earlyfs-vmlinuz-V.tmp", ".stub-V.img.tmp" for a version V. */
static bool kernel_temp(const char *name)
{
	size_t n = strlen(name);

	if (n < 6 || name[0] != '.' || strcmp(name + n - 4, ".tmp"))
		return false;
	if (n == 12 && !memcmp(name + 1, "vmlinuz", 7))
		return true;
	if (n > KP + 5 && !memcmp(name + 1, LAYOUT_KERNEL_PREFIX, KP))
		return kernlist_version_ok(name + 1 + KP, n - 5 - KP);
	return n > 14 && !memcmp(name + 1, "stub-", 5) &&
	       !memcmp(name + n - 8, ".img", 4) &&
	       kernlist_version_ok(name + 6, n - 14);
}

size_t kernelfiles_leftovers(int dir, bool remove, FILE *out,
			     struct problems *p)
{
	char kernel[128];
	struct dirent *de;
	struct stat st;
	size_t n = 0, l;
	DIR *d;

	if (beneath_opendir(dir, ".", &d) < 0)
		return 0;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		bool orphan = false;

		l = strlen(name);
		if (!kernel_temp(name)) {
			/* stub-V.img, a regular file, without vmlinuz-V */
			if (l < 10 || memcmp(name, "stub-", 5) ||
			    strcmp(name + l - 4, ".img") ||
			    !kernlist_version_ok(name + 5, l - 9) ||
			    beneath_lstat(dir, name, &st) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			snprintf(kernel, sizeof(kernel), LAYOUT_KERNEL_PREFIX
				 "%.*s", (int)(l - 9), name + 5);
			if (beneath_lstat(dir, kernel, &st) == 0)
				continue;
			orphan = true;
		}
		n++;
		if (p && orphan)
			validate_problem(p, "%s: a module stub whose kernel %s is gone "
				"(removed by a package?); the next earlyfs "
				"change removes it", name, kernel);
		else if (p)
			validate_problem(p, "%s: left by an interrupted kernel add; the "
				"next earlyfs change removes it", name);
		if (remove && beneath_unlink(dir, name, false) == 0 && out &&
		    orphan)
			fprintf(out, "earlyfs: removed %s: its kernel %s is "
				"gone\n", name, kernel);
	}
	closedir(d);
	return n;
}
