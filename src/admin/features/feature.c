/* feature: see feature.h */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"
#include "base/beneath.h"
#include "atomic.h"
#include "change/change.h"
#include "crypttab.h"
#include "features/feature.h"
#include "features/install.h"
#include "layout.h"
#include "features/mdconf.h"
#include "features/sshkeys.h"
#include "text.h"
#include "base/host.h"

const struct feature features[] = {
	{ "luks", "open the LUKS volumes of " LAYOUT_CRYPTTAB ", asking for "
	  "passphrases on the console",
	  { "40-printk", "42-luks", "69-printk" }, { "cryptsetup" },
	  LAYOUT_CRYPTTAB, "--crypttab",
	  { { "BLK_DEV_DM", "device mapper", "dm_mod" },
	    { "DM_CRYPT", "dm-crypt", "dm_crypt" },
	    { "CRYPTO_AES|CRYPTO_AES_NI_INTEL", "the AES cipher", "aes_generic" },
	    { "CRYPTO_XTS", "the XTS mode of aes-xts-plain64", "xts" },
	    { "CRYPTO_USER_API_SKCIPHER", "AF_ALG: cryptsetup's cipher check",
	      "algif_skcipher" } } },
	{ "mdraid", "assemble the RAID arrays of " LAYOUT_MDADM_CONF,
	  { "20-mdraid" }, { "mdadm" }, LAYOUT_MDADM_CONF, "--mdadm-conf",
	  { { "BLK_DEV_MD", "md, software RAID", "md_mod" },
	    { "MD_RAID1", "RAID1 (the level earlyfs tests)", "raid1" } } },
	{ "fsck", "check the root with e2fsck before it is mounted "
	  "(earlyfs.fsck=1)", { "45-fsck" }, { "e2fsck" }, NULL, NULL, { { 0 } } },
	{ "pause", "wait for Enter on the console before the root is mounted",
	  { "40-printk", "49-pause", "69-printk" }, { NULL }, NULL, NULL,
	  { { 0 } } },
	{ "network", "bring up an interface (ip= on the command line, or "
	  "DHCP), down again before the pivot",
	  { "30-network", "89-network" }, { NULL }, NULL, NULL,
	  { { "INET", "IPv4", NULL },
	    { "PACKET", "packet sockets: udhcpc's DHCP", "af_packet" } } },
	{ "ssh", "dropbear: answer the passphrase prompt or a pause over SSH "
	  "(with network)",
	  { "35-ssh", "88-ssh" }, { "dropbear" }, LAYOUT_AUTHORIZED_KEYS,
	  "--authorized-keys",
	  { { "UNIX98_PTYS", "terminals for SSH sessions", NULL },
	    { "UNIX", "the socket that sessions answer prompts on", "unix" } } },
};
const size_t n_features = sizeof(features) / sizeof(features[0]);

static int find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n_features; i++)
		if (strlen(features[i].name) == len &&
		    !memcmp(features[i].name, name, len))
			return (int)i;
	return -1;
}

static void known(char *buf, size_t cap)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n_features && used < cap; i++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s",
					 i ? ", " : "", features[i].name);
}

int feature_parse(char *const *names, size_t n, unsigned *ret, struct err *e)
{
	char list[128];
	size_t i, k, start;
	int f;

	*ret = 0;
	for (i = 0; i < n; i++)
		for (start = 0, k = 0;; k++) {
			if (names[i][k] && names[i][k] != ',')
				continue;
			if (k > start) {
				f = find(names[i] + start, k - start);
				if (f < 0) {
					known(list, sizeof(list));
					return err_set(e, EXIT_USAGE, "unknown "
						"feature '%.*s'; the features "
						"are %s (earlyfs feature list)",
						(int)(k - start),
						names[i] + start, list);
				}
				*ret |= 1u << f;
			}
			if (!names[i][k])
				break;
			start = k + 1;
		}
	if (!*ret)
		return err_set(e, EXIT_USAGE, "give the features, e.g. luks,fsck");
	return 0;
}

unsigned feature_with_needs(unsigned mask)
{
	return mask & FEATURE_SSH ? mask | FEATURE_NETWORK : mask;
}

const char *feature_opts_given(const struct feature_opts *o)
{
	return o->crypttab ? "crypttab" : o->mdadm_conf ? "mdadm-conf" :
	       o->authorized_keys ? "authorized-keys" :
	       o->ssh_host_keys ? "ssh-host-keys" :
	       o->ssh_port ? "ssh-port" : NULL;
}

bool feature_owns_fragment(const char *name)
{
	size_t i, k;

	for (i = 0; i < n_features; i++)
		for (k = 0; k < 4 && features[i].fragments[k]; k++)
			if (!strcmp(features[i].fragments[k], name))
				return true;
	return false;
}

size_t feature_needs(unsigned mask, struct feature_need *ret, size_t max)
{
	size_t i, k, n = 0;

	for (i = 0; i < n_features; i++) {
		if (!(mask & 1u << i))
			continue;
		for (k = 0; k < FEATURE_NEEDS_MAX && features[i].kernel[k][0] &&
			    n < max; k++)
			ret[n++] = (struct feature_need){
				features[i].kernel[k][0],
				features[i].kernel[k][1],
				features[i].kernel[k][2] };
	}
	return n;
}

/* The features the partition holds (LAYOUT_FEATURES: one name a line):
 * 0, or -EINVAL with e naming a line this earlyfs does not know. */
int feature_installed(int root, unsigned *ret, struct err *e)
{
	size_t len, pos = 0, l, lineno = 0;
	const char *line;
	char *buf;
	int r, f;

	*ret = 0;
	r = beneath_read(root, LAYOUT_FEATURES, LAYOUT_FEATURES_MAX, &buf,
			 &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, LAYOUT_FEATURES ": %s",
				r == -EINVAL ? "not a regular file" :
				r == -EFBIG ? "larger than 4 KiB" : strerror(-r));
	while ((r = text_next_line(buf, len, &pos, &line, &l)) != 0) {
		lineno++;
		if (r > 0 && (l == 0 || line[0] == '#'))
			continue;
		f = r > 0 ? find(line, l) : -1;
		if (f < 0) {
			free(buf);
			return err_setr(e, -EINVAL, EXIT_FAILED, LAYOUT_FEATURES
					":%zu: not a feature this earlyfs "
					"knows; restore it ('earlyfs rollback')",
					lineno);
		}
		*ret |= 1u << f;
	}
	free(buf);
	return 0;
}

static char *features_text(unsigned mask, size_t *ret_len)
{
	char *text = NULL;
	size_t i;
	FILE *f = open_memstream(&text, ret_len);

	if (!f)
		return NULL;
	fputs("# earlyfs features (earlyfs feature add|rm changes this)\n", f);
	for (i = 0; i < n_features; i++)
		if (mask & 1u << i)
			fprintf(f, "%s\n", features[i].name);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int feature_list(struct boot *b, bool as_json, FILE *out, struct err *e)
{
	unsigned have;
	size_t i;
	struct json j;
	int r = feature_installed(b->fd, &have, e);

	if (r < 0)
		return r;
	if (as_json) {
		json_begin(&j, out, "feature list");
		json_str(&j, "boot", b->name);
		json_array(&j, "features");
		for (i = 0; i < n_features; i++) {
			json_object(&j, NULL);
			json_str(&j, "name", features[i].name);
			json_bool(&j, "installed", have & 1u << i);
			json_str(&j, "summary", features[i].summary);
			json_close(&j);
		}
		json_end(&j);
		return 0;
	}
	for (i = 0; i < n_features; i++)
		fprintf(out, "%-8s %-13s %s\n", features[i].name,
			have & 1u << i ? "installed" : "-",
			features[i].summary);
	return 0;
}

/* A configuration file from the host: small, validated. */
static char *read_config(const struct feature *f, const char *path,
			 size_t *ret_len, struct err *e)
{
	char shown[PATH_MAX + 64];
	struct problems p = { NULL, 0, NULL };
	char *buf = NULL;
	bool keys = !strcmp(f->config, LAYOUT_AUTHORIZED_KEYS);
	size_t max = !strcmp(f->config, LAYOUT_CRYPTTAB) ? LAYOUT_CRYPTTAB_MAX
		     : keys ? LAYOUT_AUTHORIZED_KEYS_MAX : LAYOUT_MDADM_CONF_MAX;
	FILE *msg;
	char *text = NULL;
	size_t tlen = 0;
	int fd = keys ? ssh_open_keys(path, e) : open(path, O_RDONLY |
							   O_CLOEXEC);
	int r;

	if (fd < 0 && keys)
		return NULL;
	r = fd < 0 ? -errno : read_fd(fd, max, &buf, ret_len);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		err_setr(e, r, EXIT_USAGE, "%s %s: %s", f->option, path,
			 r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
		return NULL;
	}
	if (memchr(buf, '\0', *ret_len)) {
		err_set(e, EXIT_USAGE, "%s %s: not a text file", f->option, path);
		free(buf);
		return NULL;
	}
	buf[*ret_len] = '\0';
	msg = open_memstream(&text, &tlen);
	p.out = msg;
	snprintf(shown, sizeof(shown), "%s %s", f->option, path);
	if (!strcmp(f->config, LAYOUT_CRYPTTAB)) {
		validate_crypttab_bytes(buf, *ret_len, shown, &p);
	} else if (keys) {
		ssh_validate_keys(buf, *ret_len, shown, &p);
	} else {
		validate_mdadm_conf_bytes(buf, *ret_len, shown, &p);
	}
	if (msg)
		fclose(msg);
	if (p.n) {
		if (text && tlen && text[tlen - 1] == '\n')
			text[tlen - 1] = '\0';
		err_setr(e, -EINVAL, EXIT_REFUSED, "%s; nothing written",
			 text ? text : shown);
		free(text);
		free(buf);
		return NULL;
	}
	free(text);
	return buf;
}

int feature_check_opts(unsigned mask, const struct feature_opts *o,
		       struct err *e)
{
	const char *given[3] = { o->crypttab, o->mdadm_conf,
				 o->authorized_keys };
	const char *conf[3] = { LAYOUT_CRYPTTAB, LAYOUT_MDADM_CONF,
				LAYOUT_AUTHORIZED_KEYS };
	size_t i, k, len;
	char *buf;

	if ((o->ssh_host_keys || o->ssh_port) && !(mask & FEATURE_SSH))
		return err_set(e, EXIT_USAGE, "--ssh-host-keys and --ssh-port "
			       "are for the ssh feature, which is not being "
			       "added");
	if ((mask & FEATURE_SSH) && ssh_check_opts(o->ssh_host_keys, e) < 0)
		return -EINVAL;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < n_features; i++)
			if (features[i].config && !strcmp(features[i].config,
							  conf[k]))
				break;
		if (!given[k] && o->fresh && (mask & 1u << i) &&
		    strcmp(conf[k], LAYOUT_MDADM_CONF))
			return err_set(e, EXIT_USAGE, "the %s feature needs %s: "
				       "give %s FILE", features[i].name,
				       conf[k], features[i].option);
		if (!given[k])
			continue;
		if (!(mask & 1u << i))
			return err_set(e, EXIT_USAGE, "%s is for the %s feature, "
				       "which is not being added",
				       features[i].option, features[i].name);
		buf = read_config(&features[i], given[k], &len, e);
		if (!buf)
			return -EINVAL;
		free(buf);
	}
	return 0;
}

#define FILES_MAX 32

/* A shipped fragment's content as a file of the change. */
static int shipped(const char *name, struct change_file *f, struct err *e)
{
	char path[PATH_MAX], rel[PATH_MAX];
	char *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/init.d/%s", host_data_dir(), name);
	r = read_file(path, LAYOUT_FRAGMENT_MAX, &buf, &len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read the shipped "
				"fragment %s: %s (is earlyfs installed?)", path,
				strerror(-r));
	snprintf(rel, sizeof(rel), LAYOUT_INITD "/%s", name);
	f->rel = strdup(rel);
	f->data = buf;
	f->len = len;
	/* executable where shipped so (30-network is udhcpc's script) */
	f->mode = access(path, X_OK) == 0 ? 0755 : 0644;
	return f->rel ? 0 : err_set(e, EXIT_FAILED, "out of memory");
}

static bool used_by(unsigned mask, const char *fragment)
{
	size_t i, k;

	for (i = 0; i < n_features; i++)
		for (k = 0; (mask & 1u << i) && k < 4 &&
			    features[i].fragments[k]; k++)
			if (!strcmp(features[i].fragments[k], fragment))
				return true;
	return false;
}

/* What the root spec needs: a root on /dev/mapper needs luks, on /dev/md
 * mdraid. */
static int root_needs(struct boot *b, unsigned mask, bool force,
		      struct err *e)
{
	char root[512];

	if (force || boot_conf_get(b->fd, "root", root, sizeof(root)) < 0)
		return 0;
	if (!strncmp(root, "/dev/mapper/", 12) && !(mask & FEATURE_LUKS))
		return err_set(e, EXIT_REFUSED, "the root %s is a LUKS volume "
			       "that the luks feature opens: without it the "
			       "boot cannot mount it (--force to remove it "
			       "anyway); nothing written", root);
	if (!strncmp(root, "/dev/md", 7) && !(mask & FEATURE_MDRAID))
		return err_set(e, EXIT_REFUSED, "the root %s is a RAID array "
			       "that the mdraid feature assembles: without it "
			       "the boot cannot mount it (--force to remove it "
			       "anyway); nothing written", root);
	return 0;
}

int feature_mdadm_conf(int boot_fd, const char *root,
		       const struct feature_opts *o, char **ret, size_t *ret_len,
		       struct err *e)
{
	char *ct = NULL;
	size_t ct_len = 0;
	int r = -ENOENT;

	if (o->crypttab)
		r = read_file(o->crypttab, LAYOUT_CRYPTTAB_MAX, &ct, &ct_len);
	else if (boot_fd >= 0)
		r = beneath_read(boot_fd, LAYOUT_CRYPTTAB, LAYOUT_CRYPTTAB_MAX,
				 &ct, &ct_len);
	if (r < 0)
		ct = NULL;
	r = mdconf_generate(root, ct, ct_len, ret, ret_len, e);
	free(ct);
	return r;
}

/* etc/mdadm.conf for the partition's own root. */
static int generate_mdadm_conf(struct boot *b, const struct feature_opts *o,
			       char **ret, size_t *ret_len, struct err *e)
{
	char root[512];

	if (boot_conf_get(b->fd, "root", root, sizeof(root)) < 0)
		return err_set(e, EXIT_USAGE, "the mdraid feature needs %s: "
			       "give --mdadm-conf FILE (the partition's root "
			       "is not known, so it cannot be made from the "
			       "host's arrays); nothing written",
			       LAYOUT_MDADM_CONF);
	return feature_mdadm_conf(b->fd, root, o, ret, ret_len, e);
}

int feature_change(struct boot *b, bool add, unsigned mask,
		   const struct feature_opts *o, const struct feature_extra *x,
		   FILE *out, struct err *e)
{
	struct change_file files[FILES_MAX];
	const char *bins[8], *drop[8];
	char *bin_args[8], desc[256], *text;
	size_t nf = 0, nb = 0, nd = 0, i, k, len, used = 0;
	unsigned have, want, needed;
	int r;

	memset(files, 0, sizeof(files));
	r = feature_installed(b->fd, &have, e);
	if (r < 0)
		return r;
	needed = add ? feature_with_needs(mask) & ~mask & ~have : 0;
	if (needed) {
		fprintf(out, "earlyfs: ssh needs network: adding it too\n");
		mask |= needed;
	}
	want = add ? have | mask : have & ~mask;
	if (!add && !(have & mask))
		return err_set(e, EXIT_USAGE, "not installed: see 'earlyfs "
			       "feature list'");
	if (!add && (want & FEATURE_SSH) && !(want & FEATURE_NETWORK))
		return err_set(e, EXIT_REFUSED, "ssh needs network: remove both "
			       "('earlyfs feature rm ssh network'); nothing "
			       "written");
	r = root_needs(b, want, o->force, e);
	if (r == 0 && add)
		r = feature_check_opts(mask, o, e);
	if (r < 0)
		return r;
	used = (size_t)snprintf(desc, sizeof(desc), "feature %s", add ? "add"
				: "rm");
	for (i = 0; i < n_features && r == 0; i++) {
		const struct feature *f = &features[i];

		if (!(mask & 1u << i) || (!add && !(have & 1u << i)))
			continue;
		used += (size_t)snprintf(desc + used, sizeof(desc) - used,
					 " %s", f->name);
		for (k = 0; k < 4 && f->fragments[k] && r == 0; k++) {
			if (add) {
				r = shipped(f->fragments[k], &files[nf++], e);
			} else if (!used_by(want, f->fragments[k])) {
				char rel[PATH_MAX];

				snprintf(rel, sizeof(rel), LAYOUT_INITD "/%s",
					 f->fragments[k]);
				files[nf++].rel = strdup(rel);
			}
		}
		for (k = 0; k < 3 && f->binaries[k]; k++) {
			if (add)
				bins[nb++] = f->binaries[k];
			else
				drop[nd++] = f->binaries[k];
		}
		if (r == 0 && (1u << i) == FEATURE_SSH)
			r = add ? ssh_files(b, o->ssh_host_keys, o->ssh_port,
					    files, &nf, FILES_MAX - 2, out, e)
				: ssh_remove_files(files, &nf, FILES_MAX - 2);
		if (r < 0 || !f->config)
			continue;
		if (!add) {
			files[nf++].rel = strdup(f->config);
			continue;
		}
		const char *given = !strcmp(f->config, LAYOUT_CRYPTTAB)
			? o->crypttab : !strcmp(f->config, LAYOUT_MDADM_CONF)
			? o->mdadm_conf : o->authorized_keys;
		if (given) {
			files[nf].rel = strdup(f->config);
			files[nf].mode = 0600;	/* names the disks: root's */
			files[nf].data = read_config(f, given, &files[nf].len,
						     e);
			r = files[nf++].data ? 0 : -EINVAL;
		} else if (beneath_exists(b->fd, f->config)) {
			continue;	/* the partition's own is kept */
		} else if (!strcmp(f->config, LAYOUT_MDADM_CONF)) {
			files[nf].rel = strdup(f->config);
			files[nf].mode = 0600;
			r = generate_mdadm_conf(b, o, (char **)&files[nf].data,
						&files[nf].len, e);
			nf++;
		} else {
			r = err_set(e, EXIT_USAGE, "the %s feature needs %s on "
				    "the boot partition: give %s FILE; nothing "
				    "written", f->name, f->config, f->option);
		}
	}
	for (i = 0; i < nf && r == 0; i++)
		if (!files[i].rel)
			r = err_set(e, EXIT_FAILED, "out of memory");
	text = r == 0 ? features_text(want, &len) : NULL;
	if (r == 0 && !text)
		r = err_set(e, EXIT_FAILED, "out of memory");
	if (r == 0) {
		struct install_req q = { .n = nb, .drop = drop, .n_drop = nd,
					 .files = files, .desc = desc };

		files[nf].rel = LAYOUT_FEATURES;
		files[nf].data = text;
		files[nf].len = len;
		files[nf++].mode = 0644;
		for (i = 0; x && i < x->n_files && nf < FILES_MAX; i++)
			files[nf++] = x->files[i];
		if (x) {
			q.prepare = x->prepare;
			q.ctx = x->ctx;
		}
		for (i = 0; i < nb; i++)
			bin_args[i] = (char *)bins[i];
		q.bins = bin_args;
		q.n_files = nf;
		r = install_apply(b, &q, out, e);
		nf -= 1 + (x ? x->n_files : 0);
	}
	free(text);
	for (i = 0; i < nf; i++) {
		free((char *)files[i].rel);
		free((char *)files[i].data);
	}
	return r;
}

void feature_check(int root, struct problems *p)
{
	struct err e = { "", 0 };
	char rel[PATH_MAX];
	unsigned have;
	size_t i, k;

	if (feature_installed(root, &have, &e) < 0) {
		validate_problem(p, "%s", e.msg);
		return;
	}
	for (i = 0; i < n_features; i++) {
		const struct feature *f = &features[i];

		if (!(have & 1u << i))
			continue;
		for (k = 0; k < 4 && f->fragments[k]; k++) {
			snprintf(rel, sizeof(rel), LAYOUT_INITD "/%s",
				 f->fragments[k]);
			if (!beneath_exists(root, rel))
				validate_problem(p, "feature %s: %s is missing (or "
					"disabled); 'earlyfs feature add %s' "
					"restores it", f->name, rel, f->name);
		}
		if (f->config && !beneath_exists(root, f->config))
			validate_problem(p, "feature %s: %s is missing; 'earlyfs feature "
				"add %s %s FILE' writes it", f->name, f->config,
				f->name, f->option);
	}
	validate_crypttab(root, LAYOUT_CRYPTTAB, LAYOUT_CRYPTTAB, p);
	if (have & FEATURE_SSH)
		ssh_check(root, p);
}
