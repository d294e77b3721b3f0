/* bootcfg: the earlyfs.* keys of the kernel command line, as one table */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bootcfg.h"
#include "layout.h"
#include "text.h"

int bootcfg_parse_seconds(const char *s, size_t len, unsigned *ret)
{
	unsigned long v;
	int r = text_parse_uint(s, len, 86400, &v);

	if (r == 0)
		*ret = (unsigned)v;
	return r;
}

static void cfg_problem(struct boot_config *cfg, const char *key,
		    const char *value, const char *what)
{
	if (cfg->n_problems == BOOTCFG_PROBLEMS_MAX)
		return;
	snprintf(cfg->problems[cfg->n_problems++], sizeof(cfg->problems[0]),
		 "%s=%.40s: %s", key, value ? value : "", what);
}

static bool is_nn(const char *s, size_t len)
{
	return len == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' &&
	       s[1] <= '9';
}

/* Splits a comma list; calls item() for each; stops at the first error. */
static int each_item(const char *v, int (*item)(struct boot_config *,
						 const char *, size_t),
		     struct boot_config *cfg)
{
	while (v && *v) {
		const char *comma = strchr(v, ',');
		size_t len = comma ? (size_t)(comma - v) : strlen(v);
		int r = item(cfg, v, len);

		if (r < 0)
			return r;
		v = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int add_nn(char list[][3], size_t *n, const char *s, size_t len)
{
	if (!is_nn(s, len))
		return -EINVAL;
	if (*n == BOOTCFG_LIST_MAX)
		return -E2BIG;
	memcpy(list[*n], s, 2);
	list[(*n)++][2] = '\0';
	return 0;
}

static int break_item(struct boot_config *cfg, const char *s, size_t len)
{
	if (len == 5 && memcmp(s, "pivot", 5) == 0) {
		cfg->break_pivot = true;
		return 0;
	}
	return add_nn(cfg->breaks, &cfg->n_breaks, s, len);
}

static int skip_item(struct boot_config *cfg, const char *s, size_t len)
{
	return add_nn(cfg->skips, &cfg->n_skips, s, len);
}

static int timeout_item(struct boot_config *cfg, const char *s, size_t len)
{
	unsigned sec = 0;
	const char *colon = memchr(s, ':', len);
	const char *n = colon ? colon + 1 : s;
	size_t nlen = colon ? len - (size_t)(colon - s) - 1 : len;

	if (bootcfg_parse_seconds(n, nlen, &sec) < 0)
		return -EINVAL;
	if (!colon) {
		cfg->has_timeout_all = true;
		cfg->timeout_all = sec;
		return 0;
	}
	if (!is_nn(s, (size_t)(colon - s)))
		return -EINVAL;
	if (cfg->n_timeouts == BOOTCFG_LIST_MAX)
		return -E2BIG;
	memcpy(cfg->timeouts[cfg->n_timeouts].prefix, s, 2);
	cfg->timeouts[cfg->n_timeouts].prefix[2] = '\0';
	cfg->timeouts[cfg->n_timeouts++].seconds = sec;
	return 0;
}

/* Each key's value into cfg: NULL, or what is wrong with it (the default
 * is kept).  v is NULL for a key given without '='. */
static const char *parse_root(struct boot_config *cfg, const char *v)
{
	if (!v || !*v)
		return "empty; give a device spec";
	cfg->root = v;
	return NULL;
}

static const char *parse_rootfstype(struct boot_config *cfg, const char *v)
{
	if (v && *v)
		cfg->rootfstype = v;
	return NULL;
}

static const char *parse_rootflags(struct boot_config *cfg, const char *v)
{
	if (v && *v)
		cfg->rootflags = v;
	return NULL;
}

static const char *parse_rootwait(struct boot_config *cfg, const char *v)
{
	if (v && bootcfg_parse_seconds(v, strlen(v), &cfg->rootwait) < 0) {
		cfg->rootwait = 30;
		return "not a number of seconds (0-86400); using 30";
	}
	return NULL;
}

static const char *parse_init(struct boot_config *cfg, const char *v)
{
	if (!v)
		return NULL;
	if (v[0] != '/')
		return "not an absolute path; using /sbin/init";
	cfg->init = v;
	return NULL;
}

/* An absolute path of plain names ([A-Za-z0-9._-], no . or ..), at most
 * BOOTCFG_BOOT_AT_MAX bytes: where pivot_root leaves the partition. */
static const char *parse_boot(struct boot_config *cfg, const char *v)
{
	const char *p;
	size_t comp = 0;

	if (!v || v[0] != '/' || strlen(v) > BOOTCFG_BOOT_AT_MAX)
		return "not an absolute path of at most 64 bytes; using /boot";
	for (p = v + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			if (comp == 0 || (comp == 1 && p[-1] == '.') ||
			    (comp == 2 && p[-1] == '.' && p[-2] == '.'))
				return "takes /NAME[/NAME...], no empty, . or "
				       ".. part; using /boot";
			if (*p == '\0')
				break;
			comp = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-'))
			return "takes letters, digits, '.', '_', '-' and '/'; "
			       "using /boot";
		comp++;
	}
	cfg->boot_at = v;
	return NULL;
}

static const char *parse_break(struct boot_config *cfg, const char *v)
{
	return v && each_item(v, break_item, cfg) < 0 ?
		"takes NN or pivot, comma-separated; rest ignored" : NULL;
}

static const char *parse_skip(struct boot_config *cfg, const char *v)
{
	return v && each_item(v, skip_item, cfg) < 0 ?
		"takes NN, comma-separated; rest ignored" : NULL;
}

static const char *parse_timeout(struct boot_config *cfg, const char *v)
{
	return v && each_item(v, timeout_item, cfg) < 0 ?
		"takes SECONDS or NN:SECONDS, comma-separated; rest ignored" :
		NULL;
}

static const char *parse_shell(struct boot_config *cfg, const char *v)
{
	if (!v)
		return NULL;
	if (strcmp(v, "never") == 0)
		cfg->shell = SHELL_NEVER;
	else if (strcmp(v, "reboot") == 0)
		cfg->shell = SHELL_REBOOT;
	else if (strcmp(v, "on-failure") != 0)
		return "takes on-failure, never or reboot; using on-failure";
	return NULL;
}

static const char *parse_generation(struct boot_config *cfg, const char *v)
{
	if (v && !strcmp(v, "previous")) {
		cfg->generation_previous = true;
		return NULL;
	}
	if (v && layout_parse_generation(v, strlen(v), &cfg->generation) < 0) {
		cfg->generation = 0;
		return "not a generation number; using the current set";
	}
	return NULL;
}

static const char *parse_debug(struct boot_config *cfg, const char *v)
{
	cfg->debug = true;
	return NULL;
}

static const char *parse_pause(struct boot_config *cfg, const char *v)
{
	cfg->pause = !v || (strcmp(v, "0") && strcmp(v, "no"));
	return NULL;
}

/* The keys: what the runner reads (parse), and what fragments read
 * (no parse; known, so not reported as unknown). */
const struct bootcfg_key bootcfg_keys[] = {
	{ "earlyfs.root", parse_root, "real root: /dev/PATH, UUID=, LABEL=, PARTUUID=, PARTLABEL=" },
	{ "earlyfs.rootfstype", parse_rootfstype, "file system type of the real root (default: try all)" },
	{ "earlyfs.rootflags", parse_rootflags, "mount options for the real root" },
	{ "earlyfs.rootwait", parse_rootwait, "seconds to wait for the root device (default 30)" },
	{ "earlyfs.init", parse_init, "the real init (default /sbin/init)" },
	{ "earlyfs.boot", parse_boot, "where the boot partition stays after the pivot (default /boot)" },
	{ "earlyfs.break", parse_break, "NN|pivot[,...]: rescue shell before fragment NN or the pivot" },
	{ "earlyfs.skip", parse_skip, "NN[,NN...]: fragments not to run" },
	{ "earlyfs.shell", parse_shell, "on-failure|never|reboot: whether failures open a rescue shell" },
	{ "earlyfs.timeout", parse_timeout, "SECONDS and/or NN:SECONDS[,...]: fragment time limits" },
	{ "earlyfs.generation", parse_generation, "N|previous: run generation N's (or the one before the newest's) fragments and fstab" },
	{ "earlyfs.debug", parse_debug, "verbose runner messages" },
	{ "earlyfs.pause", parse_pause, "wait for Enter on the console before the root is mounted, once" },
	{ "earlyfs.fsck", NULL, "1|force: check the root with e2fsck first (fsck feature)" },
	{ "earlyfs.net", NULL, "IFACE|MAC: the interface to bring up (network feature)" },
	{ "earlyfs.net.keep", NULL, "keep the network up after the pivot (network feature)" },
	{ "earlyfs.net.clientid", NULL, "HEX: DHCP client id, option 61 (network feature)" },
	{ "earlyfs.ssh", NULL, "off: no SSH server on this boot (ssh feature)" },
	{ NULL, NULL, NULL },
};

void bootcfg_from_cmdline(const struct cmdline *c, struct boot_config *cfg)
{
	const struct bootcfg_key *k;
	const char *v;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->rootwait = 30;
	cfg->init = "/sbin/init";
	cfg->boot_at = "/boot";
	cfg->shell = SHELL_ON_FAILURE;

	/* The kernel's own ro/rw: the last one wins, as in the kernel. */
	for (i = 0; i < c->n; i++) {
		if (c->params[i].value)
			continue;
		if (strcmp(c->params[i].key, "rw") == 0)
			cfg->root_rw = true;
		else if (strcmp(c->params[i].key, "ro") == 0)
			cfg->root_rw = false;
	}

	for (k = bootcfg_keys; k->key; k++) {
		const char *why;

		if (!k->parse || !cmdline_has(c, k->key))
			continue;
		v = cmdline_get(c, k->key);
		why = k->parse(cfg, v);
		if (why)
			cfg_problem(cfg, k->key, v, why);
	}

	for (i = 0; i < c->n; i++) {
		if (strncmp(c->params[i].key, "earlyfs.", 8) != 0)
			continue;
		for (k = bootcfg_keys; k->key; k++)
			if (strcmp(k->key, c->params[i].key) == 0)
				break;
		if (!k->key)
			cfg_problem(cfg, c->params[i].key, c->params[i].value,
				"unknown key; passed to fragments only");
	}
}

static bool in_list(const char list[][3], size_t n, const char *fragment)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(list[i], fragment, 2) == 0)
			return true;
	return false;
}

bool bootcfg_breaks_at(const struct boot_config *cfg, const char *fragment)
{
	return in_list(cfg->breaks, cfg->n_breaks, fragment);
}

bool bootcfg_skips(const struct boot_config *cfg, const char *fragment)
{
	return in_list(cfg->skips, cfg->n_skips, fragment);
}

long bootcfg_timeout_for(const struct boot_config *cfg, const char *fragment)
{
	size_t i = cfg->n_timeouts;

	while (i-- > 0)
		if (strncmp(cfg->timeouts[i].prefix, fragment, 2) == 0)
			return cfg->timeouts[i].seconds;
	return cfg->has_timeout_all ? (long)cfg->timeout_all : -1;
}
