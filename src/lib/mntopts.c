/* mntopts: fstab option strings to mount(2) flags and file-system data */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include "mntopts.h"

struct flag_opt {
	const char *name;
	unsigned long set;
	unsigned long clear;
};

static const struct flag_opt flag_opts[] = {
	{ "defaults", 0, 0 },
	{ "ro", MS_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },
	{ "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },
	{ "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },
	{ "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "noatime", MS_NOATIME, 0 },
	{ "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 },
	{ "diratime", 0, MS_NODIRATIME },
	{ "relatime", MS_RELATIME, 0 },
	{ "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ "lazytime", MS_LAZYTIME, 0 },
	{ "nolazytime", 0, MS_LAZYTIME },
	{ "silent", MS_SILENT, 0 },
	{ "loud", 0, MS_SILENT },
	{ "bind", MS_BIND, 0 },
	{ "rbind", MS_BIND | MS_REC, 0 },
	{ NULL, 0, 0 },
};

static const char *const dropped[] = {
	"auto", "noauto", "nofail", "user", "users", "nouser", "owner",
	"group", "_netdev", NULL,
};

static bool is_dropped(const char *o, size_t len)
{
	size_t i;

	if (len >= 2 && memcmp(o, "x-", 2) == 0)
		return true;
	if (len >= 8 && memcmp(o, "comment=", 8) == 0)
		return true;
	for (i = 0; dropped[i]; i++)
		if (strlen(dropped[i]) == len && memcmp(dropped[i], o, len) == 0)
			return true;
	return false;
}

int mntopts_parse(const char *opts, struct mount_opts *ret)
{
	size_t used = 0;

	memset(ret, 0, sizeof(*ret));
	while (opts && *opts) {
		const char *comma = strchr(opts, ',');
		size_t len = comma ? (size_t)(comma - opts) : strlen(opts);
		const struct flag_opt *f;

		for (f = flag_opts; f->name; f++)
			if (strlen(f->name) == len &&
			    memcmp(f->name, opts, len) == 0)
				break;
		if (f->name) {
			ret->flags = (ret->flags | f->set) & ~f->clear;
		} else if (len == 6 && memcmp(opts, "noauto", 6) == 0) {
			ret->noauto = true;
		} else if (len == 6 && memcmp(opts, "nofail", 6) == 0) {
			ret->nofail = true;
		} else if (len > 0 && !is_dropped(opts, len)) {
			if (used + len + 2 > sizeof(ret->data))
				return -E2BIG;
			if (used)
				ret->data[used++] = ',';
			memcpy(ret->data + used, opts, len);
			used += len;
			ret->data[used] = '\0';
		}
		opts = comma ? comma + 1 : NULL;
	}
	return 0;
}
