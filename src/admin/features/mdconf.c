/* mdconf: see mdconf.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "target/blkid.h"
#include "crypttab.h"
#include "features/mdconf.h"
#include "text.h"
#include "base/run.h"
#include "base/host.h"

#define ARRAYS_MAX (CRYPTTAB_MAX + 1)
#define DETAIL_MAX 4096		/* mdadm --detail --brief: one line */
#define MEMBERS_MAX 32

static const char how[] = "give the arrays with --mdadm-conf FILE (mdadm "
			  "--detail --scan prints their ARRAY lines)";

/* The md device (mdN, in /sys/class/block) behind spec, or -errno. */
static int md_node(const char *spec, char *ret, size_t cap)
{
	char real[PATH_MAX], sys[PATH_MAX + 32];
	const char *base;
	struct stat st;

	if (!realpath(spec, real) || stat(real, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	base = strrchr(real, '/') + 1;
	snprintf(sys, sizeof(sys), "/sys/class/block/%s/md", base);
	if (strncmp(base, "md", 2) || access(sys, F_OK) < 0)
		return -ENODEV;
	snprintf(ret, cap, "%s", base);
	return 0;
}

/* "metadata=", "UUID=", "name=" of mdadm's ARRAY line, each checked to be
 * a plain word, appended to out. */
static int brief(const char *text, char *out, size_t cap)
{
	static const char *const keys[] = { "metadata=", "UUID=", "name=" };
	const char *line = strstr(text, "ARRAY ");
	size_t used = 0, k, n;
	bool uuid = false;
	const char *t;

	if (!line || (line != text && line[-1] != '\n'))
		return -EINVAL;
	out[0] = '\0';
	for (t = line + 6; *t && *t != '\n'; t += n) {
		t += strspn(t, " \t");
		n = strcspn(t, " \t\n");
		for (k = 0; k < 3; k++) {
			size_t kl = strlen(keys[k]), v;

			if (n <= kl || strncmp(t, keys[k], kl))
				continue;
			for (v = kl; v < n; v++)
				if (!strchr("abcdefghijklmnopqrstuvwxyz"
					    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789:._-", t[v]))
					break;
			if (v < n && k == 2)
				continue;	/* a name is optional */
			if (v < n || n > 128 || used + n + 2 > cap)
				return -EINVAL;
			used += (size_t)snprintf(out + used, cap - used, " %.*s",
						 (int)n, t);
			uuid |= k == 1;
		}
	}
	return uuid ? 0 : -EINVAL;
}

/* devices=/dev/mapper/A,... when the members of array node are
 * device-mapper volumes; "" otherwise. */
static int members(const char *node, char *out, size_t cap)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], name[CRYPTTAB_NAME_MAX + 2];
	size_t used = 0, n = 0;
	struct dirent *d;
	bool dm = false;
	DIR *dh;
	int fd;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "/sys/class/block/%s/slaves", node);
	dh = opendir(dir);
	if (!dh)
		return -errno;
	used = (size_t)snprintf(out, cap, " devices=");
	while ((d = readdir(dh)) && n < MEMBERS_MAX) {
		ssize_t l = 0;

		if (d->d_name[0] == '.')
			continue;
		if (!strncmp(d->d_name, "dm-", 3)) {
			snprintf(path, sizeof(path), "%s/%s/dm/name", dir,
				 d->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			l = fd < 0 ? -1 : read(fd, name, sizeof(name) - 1);
			if (fd >= 0)
				close(fd);
			if (l <= 1 || name[l - 1] != '\n')
				continue;
			name[l - 1] = '\0';
			dm = true;
		}
		if (used + strlen(d->d_name) + sizeof(name) + 16 > cap)
			break;
		used += (size_t)snprintf(out + used, cap - used, "%s/dev/%s%s",
					 n++ ? "," : "", l > 0 ? "mapper/" : "",
					 l > 0 ? name : d->d_name);
	}
	closedir(dh);
	if (!dm)
		out[0] = '\0';
	return 0;
}

/* The ARRAY line of the array spec: appended to *text; *dm set when its
 * members are device-mapper volumes. */
static int describe(const char *spec, FILE *text, bool *dm, struct err *e)
{
	char node[NAME_MAX + 1], mdadm[PATH_MAX], dev[PATH_MAX + 8];
	char words[512], devs[1024], why[256] = "", *out;
	char *argv[] = { mdadm, "--detail", "--brief", dev, NULL };
	size_t n;
	int r;

	r = md_node(spec, node, sizeof(node));
	if (r < 0)
		return err_setr(e, r, EXIT_USAGE, "the root needs the array %s, "
				"which is not an md device on this host (%s): "
				"%s", spec, strerror(-r), how);
	if (host_which("mdadm", mdadm, sizeof(mdadm)) < 0)
		return err_set(e, EXIT_USAGE, "mdadm is not installed on this "
			       "host (Debian package mdadm): install it, or %s",
			       how);
	snprintf(dev, sizeof(dev), "/dev/%s", node);
	r = run_capture(argv, -1, 0, DETAIL_MAX, &out, &n, why, sizeof(why));
	if (r != 0 || !n) {
		free(out);
		return err_set(e, EXIT_FAILED, "mdadm --detail --brief %s: %s; "
			       "%s", dev, r < 0 ? strerror(-r) : why[0] ? why :
			       "no output", how);
	}
	r = brief(out, words, sizeof(words));
	free(out);
	if (r < 0)
		return err_set(e, EXIT_FAILED, "mdadm --detail --brief %s "
			       "printed no ARRAY line with a plain UUID=; %s",
			       dev, how);
	if (members(node, devs, sizeof(devs)) < 0)
		devs[0] = '\0';
	fprintf(text, "ARRAY %s%s%s\n", spec, words, devs);
	*dm |= devs[0] != '\0';
	return 0;
}

static bool is_md(const char *dev)
{
	const char *base = strrchr(dev, '/');

	return !strncmp(dev, "/dev/md", 7) ||
	       (base && !strncmp(base, "/md", 3));
}

int mdconf_generate(const char *root, const char *crypttab, size_t ct_len,
		    char **ret, size_t *ret_len, struct err *e)
{
	struct crypttab_entry v[CRYPTTAB_MAX];
	const char *arrays[ARRAYS_MAX];
	char resolved[ARRAYS_MAX][PATH_MAX], type[64];
	size_t n = 0, i, line;
	const char *what;
	struct err ignore;
	char *lines = NULL;
	size_t len = 0;
	bool dm = false;
	FILE *text;
	int r, nv = 0;

	*ret = NULL;
	if (!strncmp(root, "/dev/md", 7))
		arrays[n++] = root;
	if (!strncmp(root, "/dev/mapper/", 12) && crypttab)
		nv = crypttab_parse(crypttab, ct_len, v, &line, &what);
	/* a bad crypttab is refused elsewhere, with the reason */
	for (i = 0; nv > 0 && i < (size_t)nv && n < ARRAYS_MAX; i++) {
		if (strcmp(v[i].name, root + 12))
			continue;
		if (blkid_root_resolve(v[i].device, resolved[n], PATH_MAX, type,
				 sizeof(type), &ignore) < 0)
			snprintf(resolved[n], PATH_MAX, "%s", v[i].device);
		if (is_md(resolved[n])) {
			arrays[n] = resolved[n];
			n++;
		}
	}
	if (!n)
		return err_set(e, EXIT_USAGE, "the mdraid feature needs "
			       "etc/mdadm.conf, made from the arrays that back "
			       "the root; the root %s is not on an md array "
			       "of this host: %s", root, how);
	text = open_memstream(&lines, &len);
	if (!text)
		return err_set(e, EXIT_FAILED, "out of memory");
	for (i = 0, r = 0; i < n && r == 0; i++)
		r = describe(arrays[i], text, &dm, e);
	if (fclose(text) != 0 && r == 0)
		r = err_set(e, EXIT_FAILED, "out of memory");
	if (r == 0 && asprintf(ret, "# earlyfs: the host's arrays that back "
			       "the root (mdadm --detail --brief)\n%s%s",
			       dm ? MDCONF_DEVICE_DM "\n" : "", lines) < 0) {
		*ret = NULL;
		r = err_set(e, EXIT_FAILED, "out of memory");
	}
	free(lines);
	if (r == 0)
		*ret_len = strlen(*ret);
	return r;
}
