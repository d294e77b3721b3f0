/* bootcfg: the earlyfs.* keys of the kernel command line, as one table */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bootcfg.h"
#include "layout.h"
#include "text.h"

const struct bootcfg_key bootcfg_keys[] = {
	{ "earlyfs.root", "real root: /dev/PATH, UUID=, LABEL=, PARTUUID=, PARTLABEL=" },
	{ "earlyfs.rootfstype", "file system type of the real root (default: try all)" },
	{ "earlyfs.rootflags", "mount options for the real root" },
	{ "earlyfs.rootwait", "seconds to wait for the root device (default 30)" },
	{ "earlyfs.init", "the real init (default /sbin/init)" },
	{ "earlyfs.break", "NN|pivot[,...]: rescue shell before fragment NN or the pivot" },
	{ "earlyfs.skip", "NN[,NN...]: fragments not to run" },
	{ "earlyfs.shell", "on-failure|never: whether failures open a rescue shell" },
	{ "earlyfs.timeout", "SECONDS and/or NN:SECONDS[,...]: fragment time limits" },
	{ "earlyfs.generation", "N: run generation N's fragments and fstab" },
	{ "earlyfs.debug", "verbose runner messages" },
	{ "earlyfs.pause", "wait for Enter on the console before the root is mounted, once" },
	{ "earlyfs.fsck", "1|force: check the root with e2fsck first (fsck feature)" },
	{ "earlyfs.net", "IFACE|MAC: the interface to bring up (network feature)" },
	{ "earlyfs.net.keep", "keep the network up after the pivot (network feature)" },
	{ "earlyfs.net.clientid", "HEX: DHCP client id, option 61 (network feature)" },
	{ "earlyfs.ssh", "off: no SSH server on this boot (ssh feature)" },
	{ NULL, NULL },
};

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

void bootcfg_from_cmdline(const struct cmdline *c, struct boot_config *cfg)
{
	const char *v;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->rootwait = 30;
	cfg->init = "/sbin/init";
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

	v = cmdline_get(c, "earlyfs.root");
	if (v && *v)
		cfg->root = v;
	else if (cmdline_has(c, "earlyfs.root"))
		cfg_problem(cfg, "earlyfs.root", v, "empty; give a device spec");
	v = cmdline_get(c, "earlyfs.rootfstype");
	if (v && *v)
		cfg->rootfstype = v;
	v = cmdline_get(c, "earlyfs.rootflags");
	if (v && *v)
		cfg->rootflags = v;
	v = cmdline_get(c, "earlyfs.rootwait");
	if (v && bootcfg_parse_seconds(v, strlen(v), &cfg->rootwait) < 0) {
		cfg->rootwait = 30;
		cfg_problem(cfg, "earlyfs.rootwait", v,
			"not a number of seconds (0-86400); using 30");
	}
	v = cmdline_get(c, "earlyfs.init");
	if (v) {
		if (v[0] == '/')
			cfg->init = v;
		else
			cfg_problem(cfg, "earlyfs.init", v,
				"not an absolute path; using /sbin/init");
	}
	v = cmdline_get(c, "earlyfs.break");
	if (v && each_item(v, break_item, cfg) < 0)
		cfg_problem(cfg, "earlyfs.break", v,
			"takes NN or pivot, comma-separated; rest ignored");
	v = cmdline_get(c, "earlyfs.skip");
	if (v && each_item(v, skip_item, cfg) < 0)
		cfg_problem(cfg, "earlyfs.skip", v,
			"takes NN, comma-separated; rest ignored");
	v = cmdline_get(c, "earlyfs.timeout");
	if (v && each_item(v, timeout_item, cfg) < 0)
		cfg_problem(cfg, "earlyfs.timeout", v,
			"takes SECONDS or NN:SECONDS, comma-separated; rest ignored");
	v = cmdline_get(c, "earlyfs.shell");
	if (v) {
		if (strcmp(v, "never") == 0)
			cfg->shell = SHELL_NEVER;
		else if (strcmp(v, "on-failure") != 0)
			cfg_problem(cfg, "earlyfs.shell", v,
				"takes on-failure or never; using on-failure");
	}
	v = cmdline_get(c, "earlyfs.generation");
	if (v && layout_parse_generation(v, strlen(v), &cfg->generation) < 0) {
		cfg->generation = 0;
		cfg_problem(cfg, "earlyfs.generation", v,
			"not a generation number; using the current set");
	}
	cfg->debug = cmdline_has(c, "earlyfs.debug");
	v = cmdline_get(c, "earlyfs.pause");
	cfg->pause = cmdline_has(c, "earlyfs.pause") &&
		     (!v || (strcmp(v, "0") && strcmp(v, "no")));

	for (i = 0; i < c->n; i++) {
		const struct bootcfg_key *k;

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
