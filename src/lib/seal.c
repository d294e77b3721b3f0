/* seal: a tree as a manifest, and two manifests compared */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "layout.h"
#include "seal.h"
#include "sha256.h"
#include "text.h"

bool seal_skipped(const char *n)
{
	size_t l = strlen(n);

	return !strcmp(n, "lost+found") || !strcmp(n, LAYOUT_EXTLINUX_DIR) ||
	       !strcmp(n, "vmlinuz") ||	/* the default kernel's link */
	       !strncmp(n, LAYOUT_KERNEL_PREFIX, LAYOUT_KERNEL_PREFIX_LEN) ||
	       !strncmp(n, "earlyfs-config-", 15) ||
	       (!strncmp(n, "stub-", 5) && l > 9 && !strcmp(n + l - 4, ".img"));
}

static void escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < '!' || c > '~' || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

struct walk {
	const struct seal_scope *scope;
	seal_visit_fn *visit;
	void *ctx;
	dev_t dev;
	unsigned long entries;
	char path[PATH_MAX];
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int digest(int fd, char hex[SHA256_HEX])
{
	static unsigned char buf[1 << 16];
	unsigned char d[SHA256_LEN];
	struct sha256 s;
	ssize_t n;

	sha256_init(&s);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		sha256_update(&s, buf, (size_t)n);
	}
	sha256_final(&s, d);
	sha256_to_hex(d, hex);
	return 0;
}

static int dir(struct walk *w, int fd, size_t plen, int depth);

/* name, in the directory w->path[0..plen) at depth (1 the top), is out
 * of the manifest. */
static bool skipped(const struct walk *w, size_t plen, int depth,
		    const char *name)
{
	unsigned g = w->scope ? w->scope->generation : 0;
	char num[16];

	if (depth == 1)
		return seal_skipped(name) || (g && !strcmp(name, LAYOUT_INITD));
	if (!g || depth != 2)
		return false;
	if (plen == 3 && !memcmp(w->path, "etc", 3))
		return !strcmp(name, "fstab");
	snprintf(num, sizeof(num), "%u", g);
	return plen == strlen(LAYOUT_GENERATIONS) &&
	       !memcmp(w->path, LAYOUT_GENERATIONS, plen) && strcmp(name, num);
}

/* One entry (name in the directory dfd), then, for a directory, what is
 * in it.  w->path[0..plen) is its path. */
static int entry(struct walk *w, int dfd, const char *name, size_t plen,
		 int depth)
{
	struct stat st;
	int fd, r;

	if (++w->entries > SEAL_ENTRIES_MAX)
		return -E2BIG;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (st.st_dev != w->dev)
		return -EXDEV;
	r = w->visit(w->ctx, dfd, name, w->path, plen, &st);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	if (depth >= SEAL_DEPTH_MAX)
		return -E2BIG;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return dir(w, fd, plen, depth + 1);	/* closes fd */
}

/* What is in the directory fd (closed here), whose path is
 * w->path[0..plen), "." for the top. */
static int dir(struct walk *w, int fd, size_t plen, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int r = 0;
	bool top = depth == 1;

	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (skipped(w, plen, depth, de->d_name))
			continue;
		if (n == cap) {
			char **v;

			cap = cap ? cap * 2 : 16;
			if (n >= SEAL_ENTRIES_MAX) {
				r = -E2BIG;
				break;
			}
			v = realloc(names, cap * sizeof(*names));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			names = v;
		}
		if (!(names[n] = strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n && r == 0; i++) {
		size_t l = strlen(names[i]), at = top ? 0 : plen + 1;

		if (at + l >= sizeof(w->path)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (!top)
			w->path[plen] = '/';
		memcpy(w->path + at, names[i], l + 1);
		r = entry(w, dirfd(d), names[i], at + l, depth);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

int seal_walk(int dirfd_, const struct seal_scope *scope,
	      seal_visit_fn *visit, void *ctx)
{
	struct walk *w = calloc(1, sizeof(*w));
	struct stat st;
	int fd, r;

	if (!w)
		return -ENOMEM;
	if (fstat(dirfd_, &st) < 0) {
		r = -errno;
		free(w);
		return r;
	}
	w->dev = st.st_dev;
	w->scope = scope;
	w->visit = visit;
	w->ctx = ctx;
	w->path[0] = '.';
	r = visit(ctx, dirfd_, ".", w->path, 1, &st);
	fd = r < 0 ? -1 : openat(dirfd_, ".", O_RDONLY | O_DIRECTORY |
				 O_CLOEXEC);
	if (r == 0)
		r = fd < 0 ? -errno : dir(w, fd, 0, 1);
	free(w);
	return r;
}

/* seal_scan()'s visitor: one manifest line. */
static int line(void *ctx, int dfd, const char *name, const char *path,
		size_t plen, const struct stat *st)
{
	static char target[PATH_MAX];
	char type = '?', hex[SHA256_HEX];
	FILE *f = ctx;
	int fd, r;

	switch (st->st_mode & S_IFMT) {
	case S_IFREG: type = 'f'; break;
	case S_IFDIR: type = 'd'; break;
	case S_IFLNK: type = 'l'; break;
	case S_IFCHR: type = 'c'; break;
	case S_IFBLK: type = 'b'; break;
	case S_IFIFO: type = 'p'; break;
	case S_IFSOCK: type = 's'; break;
	}
	fprintf(f, "%c %04o %u %u ", type, (unsigned)(st->st_mode & 07777),
		(unsigned)st->st_uid, (unsigned)st->st_gid);
	if (type == 'f') {
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
			    O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = digest(fd, hex);
		close(fd);
		if (r < 0)
			return r;
		fprintf(f, "%llu:%s", (unsigned long long)st->st_size, hex);
	} else if (type == 'l') {
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));

		if (n < 0)
			return -errno;
		if ((size_t)n >= sizeof(target))
			return -ENAMETOOLONG;
		escaped(f, target, (size_t)n);
	} else if (type == 'c' || type == 'b') {
		fprintf(f, "%u:%u", major(st->st_rdev), minor(st->st_rdev));
	} else {
		fputc('-', f);
	}
	fputc(' ', f);
	escaped(f, path, plen);
	fputc('\n', f);
	return 0;
}

int seal_scan(int dirfd_, const struct seal_scope *scope, char **ret,
	      size_t *ret_len)
{
	FILE *f;
	int r;

	*ret = NULL;
	*ret_len = 0;
	f = open_memstream(ret, ret_len);
	if (!f)
		return -errno;
	fputs(SEAL_HEADER, f);
	if (scope && scope->generation)
		fprintf(f, " generation=%u", scope->generation);
	fputc('\n', f);
	r = seal_walk(dirfd_, scope, line, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(*ret);
		*ret = NULL;
		*ret_len = 0;
	}
	return r;
}

int seal_parse_line(const char *line, size_t len, struct seal_line *l)
{
	const char **f[5] = { &l->type, &l->mode, &l->uid, &l->gid, &l->data };
	size_t *fl[5] = { &l->type_len, &l->mode_len, &l->uid_len,
			  &l->gid_len, &l->data_len };
	size_t pos = 0;

	for (int i = 0; i < 5; i++) {
		size_t start = pos;

		while (pos < len && line[pos] != ' ')
			pos++;
		if (pos == start || pos == len)
			return -EINVAL;
		*f[i] = line + start;
		*fl[i] = pos - start;
		pos++;
	}
	if (pos >= len || memchr(line + pos, ' ', len - pos))
		return -EINVAL;
	l->path = line + pos;
	l->path_len = len - pos;
	return 0;
}

/* Walk order: a path sorts before what is under it, and each component
 * bytewise (so '/' counts as less than any byte a name may hold). */
static int path_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i;

	for (i = 0; i < al && i < bl; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x == y)
			continue;
		if (x == '/')
			return -1;
		if (y == '/')
			return 1;
		return x < y ? -1 : 1;
	}
	return al == bl ? 0 : al < bl ? -1 : 1;
}

struct cursor {
	const char *buf, *line;
	size_t len, pos, line_len;
	struct seal_line l;
	bool done;
};

static int advance(struct cursor *c)
{
	int r = text_next_line(c->buf, c->len, &c->pos, &c->line,
			       &c->line_len);

	if (r == 0) {
		c->done = true;
		return 0;
	}
	if (r < 0 || seal_parse_line(c->line, c->line_len, &c->l) < 0)
		return -EINVAL;
	return 0;
}

/* The header: "earlyfs-seal 1", then " generation=N" or nothing. */
static int header(const char *h, size_t hl, struct seal_scope *ret)
{
	size_t l = strlen(SEAL_HEADER);
	unsigned long n;

	ret->generation = 0;
	if (hl < l || memcmp(h, SEAL_HEADER, l))
		return -EINVAL;
	if (hl == l)
		return 0;
	if (hl < l + 12 || memcmp(h + l, " generation=", 12) ||
	    text_parse_uint(h + l + 12, hl - l - 12, LAYOUT_GEN_MAX, &n) < 0 ||
	    !n)
		return -EINVAL;
	ret->generation = (unsigned)n;
	return 0;
}

int seal_scope_of(const char *text, size_t len, struct seal_scope *ret)
{
	const char *h;
	size_t hl, pos = 0;

	if (text_next_line(text, len, &pos, &h, &hl) <= 0)
		return -EINVAL;
	return header(h, hl, ret);
}

static int start(struct cursor *c, const char *buf, size_t len,
		 struct seal_scope *scope)
{
	const char *h;
	size_t hl;

	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->len = len;
	if (text_next_line(buf, len, &c->pos, &h, &hl) <= 0 ||
	    header(h, hl, scope) < 0)
		return -EINVAL;
	return advance(c);
}

long seal_compare(const char *sealed, size_t sealed_len, const char *found,
		  size_t found_len, seal_diff_fn *fn, void *ctx)
{
	struct cursor s, f;
	struct seal_scope ss, fs;
	long n = 0;

	if (start(&s, sealed, sealed_len, &ss) < 0 ||
	    start(&f, found, found_len, &fs) < 0 ||
	    ss.generation != fs.generation)
		return -EINVAL;
	while (!s.done || !f.done) {
		int c = s.done ? 1 : f.done ? -1 :
			path_cmp(s.l.path, s.l.path_len, f.l.path,
				 f.l.path_len);

		if (c < 0)
			fn(ctx, s.l.path, s.l.path_len, s.line, s.line_len,
			   NULL, 0);
		else if (c > 0)
			fn(ctx, f.l.path, f.l.path_len, NULL, 0, f.line,
			   f.line_len);
		else if (s.line_len == f.line_len &&
			 !memcmp(s.line, f.line, s.line_len))
			n--;	/* the same */
		else
			fn(ctx, s.l.path, s.l.path_len, s.line, s.line_len,
			   f.line, f.line_len);
		n++;
		if (c <= 0 && advance(&s) < 0)
			return -EINVAL;
		if (c >= 0 && advance(&f) < 0)
			return -EINVAL;
	}
	return n;
}
