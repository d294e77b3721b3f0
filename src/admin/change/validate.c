/* validate: what must hold for a fragment, fstab or extlinux.conf to boot */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"
#include "atomic.h"
#include "base/beneath.h"
#include "crypttab.h"
#include "elfdeps.h"
#include "extlinux.h"
#include "fragment.h"
#include "fstab.h"
#include "kv.h"
#include "layout.h"
#include "loader/loader.h"
#include "request.h"
#include "text.h"
#include "base/run.h"
#include "base/host.h"
#include "change/validate.h"

void validate_problem(struct problems *p, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	p->n++;
	if (!p->out && !p->json)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (p->json) {
		json_str(p->json, NULL, line);	/* escaped there */
		return;
	}
	/* names and values from the partition: shown, never obeyed */
	fprintf(p->out, "%s\n", text_printable(line));
}

/* Library directories searched in the tree, as ld.so would on Debian. */
static const char *const lib_dirs[] = {
	"lib", "lib64", "usr/lib", "usr/lib64", "lib/x86_64-linux-gnu",
	"usr/lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu",
	"usr/lib/aarch64-linux-gnu", "lib/i386-linux-gnu",
};

/* Why a file of the partition could not be read. */
static const char *read_error(int r)
{
	return r == -EINVAL || r == -ELOOP ? "not a regular file (a link, a "
		"FIFO or a device): the runner reads regular files only" :
		strerror(-r);
}

/* Whether the booted system finds path as a file (links followed, never
 * out of the partition): 1, 0 if it is something else (a directory), or
 * -errno. */
static int tree_file(int root, const char *path)
{
	int fd = beneath_resolve(root, path, O_PATH);
	struct stat st;
	int r;

	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode);
	close(fd);
	return r;
}

static bool in_tree(int root, const char *path)
{
	return tree_file(root, path) == 1;
}

/* A DT_RUNPATH directory as ld.so reads it: $ORIGIN (or ${ORIGIN}) is
 * the directory of the file (origin, from the partition's root). */
static void runpath_dir(const char *tok, const char *origin, char *ret,
			size_t cap)
{
	if (!strncmp(tok, "$ORIGIN", 7) && (!tok[7] || tok[7] == '/'))
		snprintf(ret, cap, "%s%s", origin, tok + 7);
	else if (!strncmp(tok, "${ORIGIN}", 9) && (!tok[9] || tok[9] == '/'))
		snprintf(ret, cap, "%s%s", origin, tok + 9);
	else
		snprintf(ret, cap, "%s", tok);
}

/* Whether what an ELF file needs (d) is on the partition; rel: where the
 * file is (beneath root), for $ORIGIN. */
static void check_elf_deps(int root, struct elf_deps *d, const char *rel,
			   const char *shown, struct problems *p)
{
	char dir[PATH_MAX], origin[PATH_MAX], rp_dir[PATH_MAX];
	const char *slash = strrchr(rel, '/');
	size_t i, j;

	snprintf(origin, sizeof(origin), "/%.*s",
		 slash ? (int)(slash - rel) : 0, rel);

	if (d->interp[0] && !in_tree(root, d->interp))
		validate_problem(p, "%s: its loader %s is not on the boot partition",
			shown, d->interp);
	for (i = 0; i < d->n_needed; i++) {
		bool found = false;

		for (j = 0; j < sizeof(lib_dirs) / sizeof(lib_dirs[0]) &&
			    !found; j++) {
			snprintf(dir, sizeof(dir), "%s/%s", lib_dirs[j],
				 d->needed[i]);
			found = in_tree(root, dir);
		}
		if (!found && d->runpath[0]) {
			char *rp = strdup(d->runpath), *save, *tok;

			for (tok = rp ? strtok_r(rp, ":", &save) : NULL;
			     tok && !found; tok = strtok_r(NULL, ":", &save)) {
				runpath_dir(tok, origin, rp_dir, sizeof(rp_dir));
				snprintf(dir, sizeof(dir), "%s/%s", rp_dir,
					 d->needed[i]);
				found = in_tree(root, dir);
			}
			free(rp);
		}
		if (!found)
			validate_problem(p, "%s: needs %s, which is not in the boot "
				"partition's /lib, /lib64, /usr/lib or their "
				"multiarch directories", shown, d->needed[i]);
	}
}

static void elf_problem(int r, const char *shown, struct problems *p)
{
	if (r == -E2BIG)
		validate_problem(p, "%s: needs more than %d libraries (DT_NEEDED), more "
			"than earlyfs checks", shown, ELF_NEEDED_MAX);
	else
		validate_problem(p, "%s: cannot read its ELF headers: %s", shown,
			r == -EFBIG ? "larger than 1 GiB" : strerror(-r));
}

void validate_elf(int root, const char *rel, const char *shown,
		  struct problems *p)
{
	struct elf_deps *d = malloc(sizeof(*d));
	int r, fd;

	if (!d) {
		validate_problem(p, "%s: out of memory", shown);
		return;
	}
	fd = beneath_open(root, rel, O_RDONLY | O_NONBLOCK, 0);
	r = fd < 0 ? fd : elf_deps_read_fd(fd, d);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		check_elf_deps(root, d, rel, shown, p);
	else if (r != -ENOEXEC)
		elf_problem(r, shown, p);
	free(d);
}

/* "line 3: syntax error: ..." out of busybox's "PATH: line 3: ..." */
static const char *sh_message(char *msg)
{
	char *line = strstr(msg, ": line "), *nl;

	if (line)
		msg = line + 2;
	nl = strchr(msg, '\n');
	if (nl)
		*nl = '\0';
	return msg;
}

/* The host's busybox parses a private copy of the bytes already read
 * (a memfd: nothing is left behind if we are killed), as its standard
 * input opened by name for the line numbers: nothing of the target
 * runs, and what is checked is what was read. */
static void check_sh_syntax(const char *buf, size_t len, const char *shown,
			    struct problems *p)
{
	char errbuf[512];
	char *const argv[] = { HOST_BUSYBOX, "sh", "-n", "/proc/self/fd/0",
			       NULL };
	int fd = run_memfd("earlyfs-sh", buf, len), r;

	if (fd < 0) {
		validate_problem(p, "%s: cannot check its shell syntax: %s", shown,
			strerror(-fd));
		return;
	}
	r = run_filter(argv, fd, 0, -1, 0, errbuf, sizeof(errbuf));
	close(fd);
	if (r < 0)
		validate_problem(p, "%s: cannot check its shell syntax with %s: %s",
			shown, HOST_BUSYBOX, strerror(-r));
	else if (r != 0)
		validate_problem(p, "%s: %s", shown, errbuf[0] ? sh_message(errbuf)
						       : "shell syntax error");
}

void validate_fragment(int root, const char *rel, const char *shown,
		       struct problems *p)
{
	char *buf = NULL;
	struct stat st;
	size_t len;
	int r;

	r = beneath_lstat(root, rel, &st);
	if (r < 0) {
		validate_problem(p, "%s: %s", shown, strerror(-r));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		validate_problem(p, "%s: not a regular file", shown);
		return;
	}
	r = beneath_read(root, rel, LAYOUT_FRAGMENT_MAX, &buf, &len);
	if (r < 0) {
		validate_problem(p, "%s: %s", shown, r == -EFBIG ?
			"larger than 1 MiB" : read_error(r));
		return;
	}
	validate_fragment_bytes(root, buf, len, st.st_mode & S_IXUSR, shown, p);
	free(buf);
}

void validate_fragment_bytes(int root, const char *buf, size_t len,
			     bool exec, const char *shown, struct problems *p)
{
	struct fragment_directives d;
	char interp[256] = "";
	size_t line;
	bool use_sh = true;

	if (len > LAYOUT_FRAGMENT_MAX) {
		validate_problem(p, "%s: larger than 1 MiB", shown);
		return;
	}
	if (fragment_directives_parse(buf, len, &d, &line) < 0)
		validate_problem(p, "%s: line %zu: unknown '# earlyfs:' directive "
			"(known: optional, timeout=SECONDS)", shown, line);
	if (elf_is_elf(buf, len)) {
		if (!exec)
			validate_problem(p, "%s: an ELF binary without the executable "
				"bit: the runner would give it to /bin/sh",
				shown);
		struct elf_deps *ed = malloc(sizeof(*ed));
		int r = ed ? elf_deps_parse(buf, len, ed) : -ENOMEM;

		if (r == 0)	/* it will be in init.d */
			check_elf_deps(root, ed, LAYOUT_INITD "/x", shown, p);
		else
			elf_problem(r, shown, p);
		free(ed);
		use_sh = false;
	} else if (exec && len >= 2 && buf[0] == '#' && buf[1] == '!') {
		int n = fragment_interpreter(buf, len, interp, sizeof(interp));
		const char *b = strrchr(interp, '/');

		b = b ? b + 1 : interp;
		if (n < 0)
			validate_problem(p, "%s: its '#!' line names an interpreter "
				"longer than %zu bytes, which the kernel cuts",
				shown, sizeof(interp) - 1);
		else if (n && interp[n - 1] == '\r')
			validate_problem(p, "%s: its '#!' line ends in a carriage "
				"return (DOS line ends): the kernel would look "
				"for the interpreter '%s'", shown, interp);
		else if (interp[0] != '/')
			validate_problem(p, "%s: '#!%s': the interpreter must be an "
				"absolute path", shown, interp);
		else if ((n = tree_file(root, interp)) == 0)
			validate_problem(p, "%s: its interpreter %s is not a file",
				shown, interp);
		else if (n < 0)
			validate_problem(p, "%s: its interpreter %s is not on the boot "
				"partition", shown, interp);
		use_sh = !strcmp(b, "sh") || !strcmp(b, "ash") ||
			 !strcmp(b, "busybox");
	}
	if (use_sh && !memchr(buf, '\0', len))
		check_sh_syntax(buf, len, shown, p);
	else if (use_sh)
		validate_problem(p, "%s: a shell script with a NUL byte", shown);
}

void validate_fstab(int root, const char *rel, const char *shown,
		    struct problems *p)
{
	struct fstab *t = malloc(sizeof(*t));
	char *buf = NULL;
	size_t len, i;
	int r;

	if (!t) {
		validate_problem(p, "%s: out of memory", shown);
		return;
	}
	r = beneath_read(root, rel, LAYOUT_FSTAB_MAX, &buf, &len);
	if (r == -ENOENT) {
		/* no fstab: the runner mounts /proc, /sys and /run itself */
		goto out;
	}
	if (r < 0) {
		validate_problem(p, "%s: %s", shown, r == -EFBIG ?
			"larger than 64 KiB" : read_error(r));
		goto out;
	}
	r = fstab_parse(buf, len, t);
	if (r == -E2BIG)
		validate_problem(p, "%s: more than %d entries", shown, FSTAB_ENTRIES_MAX);
	for (i = 0; i < t->n_errors; i++)
		validate_problem(p, "%s: line %zu: %s", shown, t->errors[i].line,
			t->errors[i].what);
out:
	free(buf);
	free(t);
}

void validate_crypttab_bytes(const char *buf, size_t len, const char *shown,
			     struct problems *p)
{
	struct crypttab_entry v[CRYPTTAB_MAX];
	const char *what = "";
	size_t line = 0;
	int n, i;

	n = crypttab_parse(buf, len, v, &line, &what);
	if (n < 0) {
		validate_problem(p, "%s: line %zu: %s", shown, line, what);
		return;
	}
	if (n == 0)
		validate_problem(p, "%s: no volume (NAME DEVICE [KEYFILE [OPTIONS]])",
			shown);
	for (i = 0; i < n; i++)
		if (v[i].keyfile[0] && strncmp(v[i].keyfile, "/dev/", 5))
			validate_problem(p, "%s: line %zu: key file %s would be read "
				"from the boot partition, which is not "
				"encrypted: anyone who reads the disk could "
				"open %s.  Use none (a passphrase) or a key "
				"device under /dev", shown, v[i].line,
				v[i].keyfile, v[i].name);
}

void validate_crypttab(int root, const char *rel, const char *shown,
		       struct problems *p)
{
	char *buf = NULL;
	size_t len;
	int r = beneath_read(root, rel, LAYOUT_CRYPTTAB_MAX, &buf, &len);

	if (r == -ENOENT)
		return;
	if (r < 0)
		validate_problem(p, "%s: %s", shown, r == -EFBIG ?
			"larger than 64 KiB" : read_error(r));
	else
		validate_crypttab_bytes(buf, len, shown, p);
	free(buf);
}

void validate_mdadm_conf_bytes(const char *buf, size_t len,
			       const char *shown, struct problems *p)
{
	size_t arrays = 0, pos = 0, l, on_dm = 0, dev_dm = 0;
	const char *line;

	while (text_next_line(buf, len, &pos, &line, &l) > 0) {
		bool dm = memmem(line, l, "/dev/mapper/", 12);

		if (l > 11 && !memcmp(line, "ARRAY /dev/", 11)) {
			arrays++;
			on_dm += dm;
		}
		if (l > 7 && !memcmp(line, "DEVICE ", 7))
			dev_dm += dm;
	}
	if (!arrays)
		validate_problem(p, "%s: no 'ARRAY /dev/NAME ... UUID=...' line (mdadm "
			"--detail --scan prints them)", shown);
	if (on_dm && !dev_dm)
		validate_problem(p, "%s: an ARRAY line names /dev/mapper/ members, "
			"which mdadm finds only with a DEVICE line naming them: "
			"add '" MDCONF_DEVICE_DM "'", shown);
}

/* Whether syslinux finds a KERNEL (or INITRD) path as a file: absolute
 * from the partition's root, relative from the configuration's
 * directory. */
static bool kernel_found(int root, const char *k)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s%s", k[0] == '/' ? "" :
		 "/" LAYOUT_EXTLINUX_DIR "/", k);
	fd = beneath_resolve(root, path, O_PATH);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	close(fd);
	return S_ISREG(st.st_mode);
}

int validate_extlinux(int root, const char *rel, const char *shown,
		      struct extlinux_conf *ret, struct problems *p)
{
	struct extlinux_conf *c = ret ? ret : malloc(sizeof(*c));
	char *buf = NULL;
	const char *what = "";
	size_t len, line = 0, i, before = p->n;
	int r;

	if (!c) {
		validate_problem(p, "%s: out of memory", shown);
		return -ENOMEM;
	}
	r = beneath_read(root, rel, LAYOUT_EXTLINUX_MAX, &buf, &len);
	if (r < 0) {
		validate_problem(p, "%s: %s", shown, r == -EFBIG ?
			"larger than 64 KiB" : read_error(r));
		goto out;
	}
	r = extlinux_parse(buf, len, c, &line, &what);
	if (r < 0) {
		if (line)
			validate_problem(p, "%s: line %zu: %s", shown, line, what);
		else
			validate_problem(p, "%s: %s", shown, what);
		goto out;
	}
	if (!c->n)
		validate_problem(p, "%s: no LABEL: nothing to boot", shown);
	for (i = 0; i < c->n; i++) {
		const struct extlinux_label *l = &c->labels[i];
		char rd[sizeof(l->initrd)], *one, *save = NULL;

		if (!kernel_found(root, l->kernel))
			validate_problem(p, "%s: line %zu: label %s: kernel %s is not "
				"on the boot partition", shown, l->line,
				l->name, l->kernel);
		/* INITRD a,b: each is loaded (a module stub, here) */
		snprintf(rd, sizeof(rd), "%s", l->initrd);
		for (one = strtok_r(rd, ",", &save); one;
		     one = strtok_r(NULL, ",", &save))
			if (!kernel_found(root, one))
				validate_problem(p, "%s: line %zu: label %s: initrd %s "
					"is not on the boot partition", shown,
					l->line, l->name, one);
	}
out:
	free(buf);
	if (!ret)
		free(c);
	return p->n == before ? 0 : -EINVAL;
}

/* A file of init.d/ is a fragment when its name says it runs (or is
 * disabled); README and the rest are not read. */
static void validate_fragment_named(int root, const char *path,
				    const char *rel, struct problems *p)
{
	const char *base = strrchr(rel, '/');

	if (fragment_name_classify(base ? base + 1 : rel) <= FRAGMENT_DISABLED)
		validate_fragment(root, path, rel, p);
}

static void validate_extlinux_file(int root, const char *path,
				   const char *rel, struct problems *p)
{
	validate_extlinux(root, path, rel, NULL, p);
}

/* etc/earlyfs.conf: the loader it names, and for one on the ESP, the
 * command lines its entries are made from. */
void validate_conf(int root, const char *path, const char *rel,
		   struct problems *p)
{
	static const char *const lines[] = { "options", "rescue_options" };
	char v[BOOTMENU_OPTIONS_MAX + 1], *buf = NULL;
	const struct loader_ops *ops = NULL;
	unsigned long tries;
	size_t len, i;
	int r;

	r = beneath_read(root, path, LAYOUT_CONF_MAX, &buf, &len);
	if (r < 0) {
		validate_problem(p, "%s: %s", rel, r == -EFBIG ?
				 "larger than 16 KiB" : read_error(r));
		return;
	}
	r = kv_get(buf, len, "bootloader", v, sizeof(v));
	if (r == 0 && !(ops = loader_by_name(v)))
		validate_problem(p, "%s: bootloader=%s is none earlyfs knows",
				 rel, text_printable(v));
	if (kv_get(buf, len, "boot_tries", v, 16) == 0 &&
	    text_parse_uint(v, strlen(v), BOOTMENU_TRIES_MAX, &tries) < 0)
		validate_problem(p, "%s: boot_tries=%s is not a number of "
				 "tries from 0 (no counting) to %d", rel,
				 text_printable(v), BOOTMENU_TRIES_MAX);
	if (ops && ops->esp) {
		if (kv_get(buf, len, "esp", v, 128) < 0)
			validate_problem(p, "%s: bootloader=%s and no esp=", rel,
					 ops->name);
		for (i = 0; i < 2; i++) {
			r = kv_get(buf, len, lines[i], v, sizeof(v));
			if (r == -ENOENT && i == 0)
				validate_problem(p, "%s: no options= (the "
						 "kernel's command line)", rel);
			else if (r == -E2BIG || (r == 0 &&
						 loader_options_ok(v) < 0))
				validate_problem(p, "%s: %s= is longer than %d "
						 "bytes", rel, lines[i],
						 BOOTMENU_OPTIONS_MAX - 1);
			else if (r == 0 && !strstr(v, "root="))
				validate_problem(p, "%s: %s= has no root=: the "
						 "kernel would not find the "
						 "boot partition", rel, lines[i]);
		}
	}
	free(buf);
}

/* The tracked files and what checks each (fnmatch patterns: a '*' does
 * not cross a '/'). */
static const struct {
	const char *pattern;
	validate_fn *check;
} validators[] = {
	{ LAYOUT_INITD "/*", validate_fragment_named },
	{ LAYOUT_FSTAB, validate_fstab },
	{ LAYOUT_CRYPTTAB, validate_crypttab },
	{ LAYOUT_EXTLINUX_CONF, validate_extlinux_file },
	{ LAYOUT_CONF, validate_conf },
};

validate_fn *validate_for(const char *rel)
{
	size_t i;

	for (i = 0; i < sizeof(validators) / sizeof(validators[0]); i++)
		if (!fnmatch(validators[i].pattern, rel, FNM_PATHNAME))
			return validators[i].check;
	return NULL;
}
