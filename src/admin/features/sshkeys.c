/* sshkeys: see sshkeys.h */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "layout.h"
#include "features/sshkeys.h"
#include "text.h"
#include "base/run.h"
#include "base/mounts.h"
#include "base/host.h"

static const char *const types[SSH_KEY_TYPES] = { "ed25519", "ecdsa", "rsa" };
#define KEY_MAX (16 * 1024)

/* Whether st, a step of --authorized-keys' path, is one that only root
 * (or the caller) controls: its owner, and no group or other write bit
 * (a sticky directory such as /tmp lets no one else replace what is in
 * it). */
static int keys_step(const struct stat *st, const char *path,
		     const char *shown, struct err *e)
{
	if (st->st_uid != 0 && st->st_uid != getuid())
		return err_set(e, EXIT_REFUSED, "--authorized-keys %s: %s "
			       "belongs to uid %u, so someone else could have "
			       "put a key there; give a file that root owns, "
			       "on a path only root can change; nothing "
			       "written", path, shown, (unsigned)st->st_uid);
	if ((st->st_mode & 022) &&
	    !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)))
		return err_set(e, EXIT_REFUSED, "--authorized-keys %s: %s is "
			       "%s-writable, so someone else could have put a "
			       "key there; fix its permissions (chmod go-w %s); "
			       "nothing written", path, shown,
			       st->st_mode & 002 ? "world" : "group", shown);
	return 0;
}

int ssh_open_keys(const char *path, struct err *e)
{
	char real[PATH_MAX], name[NAME_MAX + 1], shown[PATH_MAX] = "/";
	const char *comp = NULL, *end;
	struct stat st;
	int fd, next, r;

	/* the admin's path, links and all, to the file it names; then that
	 * file reached again from / one name at a time with no link
	 * followed, each step checked on what was opened, and the file read
	 * from its own descriptor: nothing can be swapped in between */
	if (!realpath(path, real))
		return err_setr(e, -errno, EXIT_USAGE, "--authorized-keys %s: "
				"%s", path, strerror(errno));
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (end = real;; comp = end) {
		if (fd < 0 || fstat(fd, &st) < 0) {
			r = err_setr(e, -errno, comp ? EXIT_REFUSED : EXIT_FAILED,
				     "--authorized-keys %s: %s changed while it "
				     "was read (%s); nothing written", path,
				     shown, strerror(errno));
			break;
		}
		r = keys_step(&st, path, shown, e);
		if (r < 0)
			break;
		while (*end == '/')
			end++;
		if (!*end) {
			if (S_ISREG(st.st_mode))
				return fd;
			r = err_set(e, EXIT_USAGE, "--authorized-keys %s: not a "
				    "regular file", path);
			break;
		}
		comp = end;
		end = comp + strcspn(comp, "/");
		snprintf(name, sizeof(name), "%.*s", (int)(end - comp), comp);
		snprintf(shown, sizeof(shown), "%.*s", (int)(end - real), real);
		next = openat(fd, name, (*end ? O_PATH | O_DIRECTORY :
					 O_RDONLY | O_NOCTTY | O_NONBLOCK) |
			      O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* Whether the word at w (length n) is a public key type of OpenSSH's
 * authorized_keys format. */
static bool key_type(const char *w, size_t n)
{
	static const char *const known[] = { "ssh-ed25519", "ssh-rsa",
		"ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == n && !memcmp(known[i], w, n))
			return true;
	return false;
}

/* How many base64 characters start s[0..len). */
static size_t base64_run(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n] && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "abcdefghijklmnopqrstuvwxyz0123456789+/=",
					 s[n]))
		n++;
	return n;
}

size_t ssh_validate_keys(const char *buf, size_t len, const char *shown,
			 struct problems *p)
{
	size_t pos = 0, l, lineno = 0, keys = 0, i, n;
	const char *line;
	int r;

	while ((r = text_next_line(buf, len, &pos, &line, &l)) != 0) {
		bool found = false, quoted = false;

		lineno++;
		if (r < 0) {
			validate_problem(p, "%s:%zu: longer than %d bytes", shown, lineno,
				TEXT_LINE_MAX);
			continue;
		}
		while (l && (line[0] == ' ' || line[0] == '\t')) {
			line++;
			l--;
		}
		if (!l || line[0] == '#')
			continue;
		/* [options] TYPE BASE64 [comment]: options may quote blanks */
		for (i = 0; i < l && !found; i += n) {
			if (!quoted && (line[i] == ' ' || line[i] == '\t')) {
				n = 1;
				continue;
			}
			for (n = 0; i + n < l; n++) {
				if (line[i + n] == '"')
					quoted = !quoted;
				if (!quoted && (line[i + n] == ' ' ||
						line[i + n] == '\t'))
					break;
			}
			if (key_type(line + i, n) && i + n < l &&
			    base64_run(line + i + n + 1, l - i - n - 1) > 16)
				found = true;
		}
		if (found)
			keys++;
		else
			validate_problem(p, "%s:%zu: no public key (TYPE BASE64, such as "
				"ssh-ed25519 AAAA...)", shown, lineno);
	}
	if (!keys && !p->n)
		validate_problem(p, "%s: no key at all: no one could log in", shown);
	return keys;
}

/* Runs argv (a host tool) and reads the file it made: 0 or -errno with e
 * filled.  Keys are made under umask 077 in a 0700 directory. */
static int make_key(char *const argv[], const char *made, char **ret,
		    size_t *ret_len, struct err *e)
{
	char why[512];
	mode_t old = umask(077);
	int r = run_cmd(argv, why, sizeof(why));

	umask(old);
	if (r != 0)
		return err_set(e, EXIT_FAILED, "%s: %s", argv[0],
			       why[0] ? why : "failed");
	r = read_file(made, KEY_MAX, ret, ret_len);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "%s made no key %s: %s",
				argv[0], made, strerror(-r));
	return 0;
}

/* The fingerprint line of a key, for the admin to compare at the first
 * login. */
static void say_fingerprint(const char *tool, const char *key,
			    const char *type, FILE *out)
{
	char *argv[] = { (char *)tool, "-y", "-f", (char *)key, NULL };
	char *text, *fp;
	size_t n;

	if (run_capture(argv, -1, 0, 4096, &text, &n, NULL, 0) == 0 &&
	    (fp = strstr(text, "Fingerprint: ")))
		fprintf(out, "earlyfs: ssh host key %s %.*s\n", type,
			(int)strcspn(fp + 13, "\n"), fp + 13);
	free(text);
}

static int add_file(struct change_file *files, size_t *n, size_t cap,
		    const char *rel, char *data, size_t len, mode_t mode)
{
	if (*n == cap) {
		free(data);
		return -E2BIG;
	}
	files[*n].rel = strdup(rel);
	files[*n].data = data;
	files[*n].len = len;
	files[*n].mode = mode;
	(*n)++;
	return files[*n - 1].rel ? 0 : -ENOMEM;
}

int ssh_check_opts(const char *host_keys, struct err *e)
{
	char path[PATH_MAX + 64];
	const char *dir;
	struct stat st;
	size_t i;

	if (host_which("dropbearkey", path, sizeof(path)) < 0 ||
	    host_which("dropbearconvert", path, sizeof(path)) < 0 ||
	    host_which("dropbear", path, sizeof(path)) < 0)
		return err_set(e, EXIT_USAGE, "dropbear, dropbearkey and "
			       "dropbearconvert are not all installed on this "
			       "host (Debian package dropbear-bin); nothing "
			       "written");
	if (!host_keys)
		return 0;
	dir = !strcmp(host_keys, "system") ? "/etc/ssh" : host_keys;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, EXIT_USAGE, "--ssh-host-keys %s: not a "
			       "directory (give 'system' for /etc/ssh); nothing "
			       "written", dir);
	for (i = 0; i < SSH_KEY_TYPES; i++) {
		snprintf(path, sizeof(path), "%s/ssh_host_%s_key", dir,
			 types[i]);
		if (access(path, R_OK) == 0)
			return 0;
	}
	return err_set(e, EXIT_USAGE, "--ssh-host-keys %s: no "
		       "ssh_host_{ed25519,ecdsa,rsa}_key there; nothing written",
		       dir);
}

static int make_host_keys(const char *from, struct change_file *files,
			  size_t *n, size_t cap, FILE *out, struct err *e)
{
	char tmp[PATH_MAX], made[PATH_MAX + 64], src[PATH_MAX + 64];
	char rel[128], keytool[PATH_MAX], convert[PATH_MAX];
	const char *dir = NULL;
	size_t i, len, got = 0;
	struct stat st;
	char *data;
	int r;

	if (from)
		dir = !strcmp(from, "system") ? "/etc/ssh" : from;
	if (host_which("dropbearkey", keytool, sizeof(keytool)) < 0 ||
	    host_which("dropbearconvert", convert, sizeof(convert)) < 0)
		return err_set(e, EXIT_USAGE, "dropbearkey and dropbearconvert "
			       "are not installed on this host (Debian package "
			       "dropbear-bin); nothing written");
	if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return err_set(e, EXIT_USAGE, "--ssh-host-keys %s: not a "
			       "directory (give 'system' for /etc/ssh)", dir);
	/* the keys are made in a tmpfs of this process's own mount
	 * namespace: killed at any point, nothing of them stays on a disk
	 * (the empty directory goes with tmp_clean_dead) */
	tmp[0] = '\0';
	r = mounts_mkdtemp("earlyfs-mnt", tmp, sizeof(tmp));
	if (r < 0)
		tmp[0] = '\0';
	if (r == 0)
		r = mounts_private();
	if (r == 0 && mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV |
			    MS_NOEXEC, "mode=0700,size=1m") < 0)
		r = -errno;
	if (r < 0) {
		if (tmp[0])
			rmdir(tmp);
		return err_setr(e, r, EXIT_FAILED, "cannot make a private "
				"tmpfs for the host keys: %s", strerror(-r));
	}
	for (i = 0, r = 0; i < SSH_KEY_TYPES && r == 0; i++) {
		snprintf(made, sizeof(made), "%s/dropbear_%s_host_key", tmp,
			 types[i]);
		snprintf(rel, sizeof(rel), LAYOUT_DROPBEAR_DIR
			 "/dropbear_%s_host_key", types[i]);
		if (dir) {
			char *argv[] = { convert, "openssh", "dropbear", src,
					 made, NULL };

			snprintf(src, sizeof(src), "%s/ssh_host_%s_key", dir,
				 types[i]);
			if (access(src, F_OK) < 0) {
				r = add_file(files, n, cap, rel, NULL, 0, 0);
				continue;
			}
			r = make_key(argv, made, &data, &len, e);
		} else if (i < 2) {	/* new: ed25519 and ecdsa */
			char *argv[] = { keytool, "-t", (char *)types[i], "-f",
					 made, NULL };

			r = make_key(argv, made, &data, &len, e);
		} else {
			r = add_file(files, n, cap, rel, NULL, 0, 0);
			continue;
		}
		if (r == 0) {
			say_fingerprint(keytool, made, types[i], out);
			r = add_file(files, n, cap, rel, data, len, 0600);
			got++;
		}
	}
	umount2(tmp, MNT_DETACH);	/* and the keys with it */
	rmdir(tmp);
	if (r == 0 && !got)
		r = err_set(e, EXIT_USAGE, "--ssh-host-keys %s: no "
			    "ssh_host_{ed25519,ecdsa,rsa}_key there; nothing "
			    "written", dir);
	if (r == 0 && dir)
		fprintf(out, "earlyfs: warning: the host keys of %s are now "
			"on the boot partition too, which is not encrypted: "
			"whoever can read that disk can pose as this machine's "
			"SSH server; the default (no --ssh-host-keys) makes "
			"keys of its own\n", dir);
	if (r == -E2BIG || r == -ENOMEM)
		r = err_set(e, EXIT_FAILED, "too many files in one change");
	return r;
}

int ssh_files(struct boot *b, const char *host_keys, unsigned port,
	      struct change_file *files, size_t *n, size_t cap, FILE *out,
	      struct err *e)
{
	char rel[128], *text;
	bool have = false;
	size_t i;
	int r = 0;

	for (i = 0; i < SSH_KEY_TYPES; i++) {
		snprintf(rel, sizeof(rel), LAYOUT_DROPBEAR_DIR
			 "/dropbear_%s_host_key", types[i]);
		have |= beneath_exists(b->fd, rel);
	}
	if (!have || host_keys)
		r = make_host_keys(host_keys, files, n, cap, out, e);
	if (r == 0 && (port || !beneath_exists(b->fd, LAYOUT_SSH_PORT))) {
		if (asprintf(&text, "%u\n", port ? port : 22) < 0)
			return err_set(e, EXIT_FAILED, "out of memory");
		if (add_file(files, n, cap, LAYOUT_SSH_PORT, text, strlen(text),
			     0644) < 0)
			return err_set(e, EXIT_FAILED, "too many files in one "
				       "change");
	}
	return r;
}

int ssh_remove_files(struct change_file *files, size_t *n, size_t cap)
{
	char rel[128];
	size_t i;
	int r = 0;

	for (i = 0; i < SSH_KEY_TYPES && r == 0; i++) {
		snprintf(rel, sizeof(rel), LAYOUT_DROPBEAR_DIR
			 "/dropbear_%s_host_key", types[i]);
		r = add_file(files, n, cap, rel, NULL, 0, 0);
	}
	return r == 0 ? add_file(files, n, cap, LAYOUT_SSH_PORT, NULL, 0, 0)
		      : r;
}

void ssh_check(int root, struct problems *p)
{
	char rel[128], *buf;
	size_t i, len;
	int r;

	r = beneath_read(root, LAYOUT_AUTHORIZED_KEYS,
			 LAYOUT_AUTHORIZED_KEYS_MAX, &buf, &len);
	if (r == 0) {
		if (memchr(buf, '\0', len))
			validate_problem(p, LAYOUT_AUTHORIZED_KEYS ": not a text file");
		else
			ssh_validate_keys(buf, len, LAYOUT_AUTHORIZED_KEYS, p);
		free(buf);
	} else if (r != -ENOENT) {	/* missing: feature_check says it */
		validate_problem(p, LAYOUT_AUTHORIZED_KEYS ": %s", r == -EFBIG ?
			"larger than 64 KiB" : strerror(-r));
	}
	for (i = 0; i < SSH_KEY_TYPES; i++) {
		snprintf(rel, sizeof(rel), LAYOUT_DROPBEAR_DIR
			 "/dropbear_%s_host_key", types[i]);
		if (beneath_exists(root, rel))
			return;
	}
	validate_problem(p, "feature ssh: no host key in " LAYOUT_DROPBEAR_DIR "; "
		"'earlyfs feature add ssh' makes them");
}
