/* espfiles: see espfiles.h */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/beneath.h"
#include "layout.h"
#include "loader/espfiles.h"
#include "target/boot.h"
#include "text.h"

#define MANIFEST ESPFILES_DIR "/manifest"
#define OWNER ESPFILES_DIR "/partition"
#define MANIFEST_MAX (64 * 1024)

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}
#define FNV0 0xcbf29ce484222325ULL

static void trim_newline(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

/* Whether list (names, one per line) has name; FAT's names have no
 * case (mtools lists a short lower-case name in upper case). */
static bool has_line(const char *list, const char *name)
{
	size_t l = strlen(name), ll;
	const char *p = list;

	for (; *p; p += ll + (p[ll] == '\n')) {
		ll = strcspn(p, "\n");
		if (ll == l && !strncasecmp(p, name, l))
			return true;
	}
	return false;
}

/* A counted entry's name on the ESP, with or without its counter, in
 * base (NAME.conf); false for any other name. */
static bool same_entry(const char *listed, const char *base)
{
	char b[160];
	unsigned l, d;

	return bootmenu_bls_counter(listed, b, sizeof(b), &l, &d) >= 0 &&
	       !strcasecmp(b, base);
}

/* The name in list (one per line) that is the counted entry base, in
 * ret (the directory's path before it); false if none is. */
static bool find_counted(const char *list, const char *dir, const char *base,
			 char *ret, size_t cap)
{
	const char *p = list;
	char name[160];
	size_t ll;

	for (; *p; p += ll + (p[ll] == '\n')) {
		ll = strcspn(p, "\n");
		if (ll >= sizeof(name))
			continue;
		memcpy(name, p, ll);
		name[ll] = '\0';
		if (same_entry(name, base)) {
			snprintf(ret, cap, "%s/%s", dir, name);
			return true;
		}
	}
	return false;
}

int espfiles_counted_path(struct loader_site *s, const char *path, char *ret,
			  size_t cap)
{
	const char *slash = strrchr(path, '/');
	char dir[160], *list = NULL;
	struct err ignore;
	bool found;

	if (!slash || loader_esp(s, &ignore) < 0)
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (esp_list(&s->esp, dir[0] ? dir : "/", &list) < 0)
		return -ENOENT;
	found = find_counted(list, dir, slash + 1, ret, cap);
	free(list);
	return found ? 0 : -ENOENT;
}

void espfiles_count(struct espfiles *f, unsigned tries)
{
	if (f->n)
		f->v[f->n - 1].tries = tries;
}

static struct espfile *add(struct espfiles *f, const char *path)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].path, path))
			return NULL;	/* there already */
	if (f->n == ESPFILES_MAX)
		return NULL;
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	snprintf(f->v[f->n].path, sizeof(f->v[0].path), "%s", path);
	return &f->v[f->n++];
}

int espfiles_text(struct espfiles *f, const char *path, const char *fmt, ...)
{
	struct espfile *x = add(f, path);
	va_list ap;
	int n;

	if (!x)
		return -E2BIG;
	va_start(ap, fmt);
	n = vasprintf(&x->text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		x->text = NULL;
		f->n--;
		return -ENOMEM;
	}
	x->size = (uint64_t)n;
	x->hash = fnv(FNV0, x->text, (size_t)n);
	return 0;
}

/* The partition's file, opened beneath it (no link followed): an fd of
 * a regular file, or -errno. */
static int open_from(struct loader_site *s, const char *name,
		     struct stat *st)
{
	int fd = beneath_open(s->b->fd, name, O_RDONLY, 0);

	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int espfiles_kernel(struct espfiles *f, struct loader_site *s,
		    const char *name, struct err *e)
{
	char path[160], buf[1 << 16];
	struct espfile *x;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), ESPFILES_DIR "/%s", name);
	if (!(x = add(f, path)))
		return 0;
	fd = open_from(s, name, &st);
	if (fd < 0) {
		f->n--;
		return err_setr(e, fd, EXIT_FAILED, "%s/%s: %s", s->b->dir,
				name, fd == -EINVAL ? "not a regular file"
						    : strerror(-fd));
	}
	snprintf(x->from, sizeof(x->from), "%s", name);
	x->hash = FNV0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		x->hash = fnv(x->hash, buf, (size_t)n);
		x->size += (uint64_t)n;
	}
	close(fd);
	if (n < 0) {
		f->n--;
		return err_setr(e, -errno, EXIT_FAILED, "%s/%s: %s", s->b->dir,
				name, strerror(errno));
	}
	return 0;
}

int espfiles_kernels(struct espfiles *f, struct loader_site *s,
		     const struct bootmenu *m, struct err *e)
{
	size_t i;
	int r = 0;

	for (i = 0; i < m->n && r == 0; i++) {
		r = espfiles_kernel(f, s, m->v[i].kernel + 1, e);
		if (r == 0 && m->v[i].initrd[0])
			r = espfiles_kernel(f, s, m->v[i].initrd + 1, e);
	}
	return r;
}

void espfiles_free(struct espfiles *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].text);
	f->n = 0;
}

/* The manifest's line for path: 1 with its size and hash, else 0. */
static int manifest_find(const char *mf, size_t len, const char *path,
			 uint64_t *size, uint64_t *hash)
{
	size_t pos = 0, l, pl = strlen(path);
	const char *line;
	char word[32];

	while (mf && text_next_line(mf, len, &pos, &line, &l) > 0) {
		const char *sp;

		if (l <= pl + 1 || memcmp(line, path, pl) || line[pl] != ' ')
			continue;
		sp = memchr(line + pl + 1, ' ', l - pl - 1);
		if (!sp || (size_t)(line + l - sp - 1) >= sizeof(word))
			return 0;
		*size = strtoull(line + pl + 1, NULL, 10);
		memcpy(word, sp + 1, (size_t)(line + l - sp - 1));
		word[line + l - sp - 1] = '\0';
		*hash = strtoull(word, NULL, 16);
		return 1;
	}
	return 0;
}

static bool same(const struct espfile *x, const char *mf, size_t len)
{
	uint64_t size, hash;

	return manifest_find(mf, len, x->path, &size, &hash) &&
	       size == x->size && hash == x->hash;
}

static bool in_set(const struct espfiles *f, const char *path)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcasecmp(f->v[i].path, path))
			return true;
	return false;
}

/* The ESP's manifest (NULL if there is none), after checking that its
 * files are this partition's: 0 or -errno with e. */
static int manifest_read(struct loader_site *s, char **mf, size_t *len,
			 char *partuuid, size_t cap, struct err *e)
{
	char *owner = NULL;
	size_t ol;
	int r;

	*mf = NULL;
	*len = 0;
	if (boot_conf_get(s->b->fd, "boot_partuuid", partuuid, cap) < 0)
		partuuid[0] = '\0';
	r = esp_read(&s->esp, OWNER, 256, &owner, &ol);
	if (r == 0) {
		trim_newline(owner);
		if (strcmp(owner, partuuid)) {
			r = err_setr(e, -EEXIST, EXIT_REFUSED, "the ESP (%s) "
				     "holds the boot files of another earlyfs "
				     "partition (PARTUUID=%s in " OWNER "); "
				     "remove its entries first ('earlyfs "
				     "loader remove' there)", s->esp.shown,
				     text_printable(owner));
			free(owner);
			return r;
		}
	}
	free(owner);
	if (r < 0 && r != -ENOENT)
		return err_setr(e, r, EXIT_FAILED, "cannot read %s of the ESP "
				"(%s): %s", OWNER, s->esp.shown, strerror(-r));
	r = esp_read(&s->esp, MANIFEST, MANIFEST_MAX, mf, len);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot read %s of the ESP "
				"(%s): %s", MANIFEST, s->esp.shown,
				strerror(-r));
	return 0;
}

/* Whether the manifest names a file the set no longer has. */
static bool stale(const struct espfiles *f, const char *mf, size_t len)
{
	size_t pos = 0, l;
	const char *line;
	char path[160];

	while (mf && text_next_line(mf, len, &pos, &line, &l) > 0) {
		size_t pl = strcspn(line, " ");

		if (line[0] != '/' || pl >= sizeof(path) || pl > l)
			continue;
		memcpy(path, line, pl);
		path[pl] = '\0';
		if (!in_set(f, path))
			return true;
	}
	return false;
}

/* Which files of the set are to be written: not as the manifest says
 * they were written, or no longer there (each directory listed once). */
static void mark(struct espfiles *f, struct loader_site *s, const char *mf,
		 size_t len)
{
	char dir[160] = "", *list = NULL;
	size_t i;

	for (i = 0; i < f->n; i++) {
		const char *path = f->v[i].path, *slash = strrchr(path, '/');
		size_t dl = (size_t)(slash - path);

		if (strlen(dir) != dl || strncmp(dir, path, dl)) {
			free(list);
			list = NULL;
			snprintf(dir, sizeof(dir), "%.*s", (int)dl, path);
			if (esp_list(&s->esp, dl ? dir : "/", &list) < 0)
				list = NULL;
		}
		f->v[i].actual[0] = '\0';
		if (f->v[i].tries)
			f->v[i].todo = !same(&f->v[i], mf, len) || !list ||
				       !find_counted(list, dir, slash + 1,
						     f->v[i].actual,
						     sizeof(f->v[0].actual));
		else
			f->v[i].todo = !same(&f->v[i], mf, len) || !list ||
				       !has_line(list, slash + 1);
	}
	free(list);
}

int espfiles_need(struct espfiles *f, struct loader_site *s, uint64_t *ret,
		  struct err *e)
{
	char partuuid[64], *mf;
	bool changed;
	size_t len, i;
	int r;

	*ret = 0;
	r = manifest_read(s, &mf, &len, partuuid, sizeof(partuuid), e);
	if (r < 0)
		return r;
	changed = !mf || stale(f, mf, len);
	mark(f, s, mf, len);
	for (i = 0; i < f->n; i++)
		if (f->v[i].todo) {
			/* a file and its temporary name are there at once */
			*ret += f->v[i].size + 4096;
			changed = true;
		}
	free(mf);
	return changed;
}

static int mkparents(const struct esp *esp, const char *path)
{
	char dir[160];
	const char *slash = strrchr(path, '/');

	if (slash == path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return esp_mkdirs(esp, dir);
}

static int put(struct loader_site *s, struct espfile *x)
{
	struct stat st;
	int fd, r;

	r = mkparents(&s->esp, x->path);
	if (r < 0)
		return r;
	if (x->text && x->tries) {
		/* NAME.conf as NAME+TRIES.conf; the name it had goes with
		 * the prune after every file is written */
		snprintf(x->actual, sizeof(x->actual), "%.*s+%u.conf",
			 (int)(strlen(x->path) - 5), x->path, x->tries);
		return esp_put(&s->esp, x->actual, -1, x->text,
			       (size_t)x->size);
	}
	if (x->text)
		return esp_put(&s->esp, x->path, -1, x->text, (size_t)x->size);
	fd = open_from(s, x->from, &st);
	if (fd < 0)
		return fd;
	r = (uint64_t)st.st_size == x->size
		    ? esp_put(&s->esp, x->path, fd, NULL, 0) : -ESTALE;
	close(fd);
	return r;
}

/* Whether dir/name (path) is a counted entry of the set's: 1 its file
 * now, 0 a name it had before (stale), -1 not a counted entry's name. */
static int counted_keeps(const struct espfiles *f, const char *dir,
			 const char *name, const char *path)
{
	size_t i, dl = strlen(dir);

	for (i = 0; i < f->n; i++) {
		const struct espfile *x = &f->v[i];

		if (!x->tries || strncasecmp(x->path, dir, dl) ||
		    x->path[dl] != '/' || !same_entry(name, x->path + dl + 1))
			continue;
		return x->actual[0] && !strcasecmp(x->actual, path);
	}
	return -1;
}

/* Owned files of dir the set does not name, removed. */
static void prune(struct espfiles *f, struct loader_site *s, const char *dir,
		  const char *prefix, FILE *out)
{
	char *list = NULL, *name, *save = NULL, path[160];

	if (esp_list(&s->esp, dir, &list) < 0)
		return;
	for (name = strtok_r(list, "\n", &save); name;
	     name = strtok_r(NULL, "\n", &save)) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (strncasecmp(name, prefix, strlen(prefix)) ||
		    !strcasecmp(path, MANIFEST) || !strcasecmp(path, OWNER))
			continue;
		switch (counted_keeps(f, dir, name, path)) {
		case 1: continue;	/* the counted entry's file */
		case 0: break;		/* a name it had before */
		default:
			if (in_set(f, path))
				continue;
		}
		if (esp_remove(&s->esp, path) == 0)
			fprintf(out, "earlyfs: removed %s from the ESP\n", path);
	}
	free(list);
}

int espfiles_write(struct espfiles *f, struct loader_site *s, FILE *out,
		   struct err *e)
{
	char partuuid[64], *mf, *text = NULL, line[256];
	size_t len, i, tl = 0;
	FILE *m;
	int r;

	r = manifest_read(s, &mf, &len, partuuid, sizeof(partuuid), e);
	if (r < 0)
		return r;
	r = mkparents(&s->esp, OWNER);
	if (r == 0 && !mf)
		r = esp_put(&s->esp, OWNER, -1, line,
			    (size_t)snprintf(line, sizeof(line), "%s\n",
					     partuuid));
	if (r == 0)
		mark(f, s, mf, len);
	/* kernels and stubs first, then the entries that name them */
	for (i = 0; i < f->n && r == 0; i++)
		if (!f->v[i].text && f->v[i].todo)
			r = put(s, &f->v[i]);
	for (i = 0; i < f->n && r == 0; i++)
		if (f->v[i].text && f->v[i].todo)
			r = put(s, &f->v[i]);
	free(mf);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write the boot files "
				"to the ESP (%s): %s; the entries there are as "
				"they were or complete", s->esp.shown,
				r == -ESTALE ? "a kernel changed while it was "
				"copied" : strerror(-r));
	for (i = 0; i < 2 && f->owned_dir[i]; i++)
		prune(f, s, f->owned_dir[i], f->owned_prefix[i], out);
	m = open_memstream(&text, &tl);
	if (!m)
		return err_set(e, EXIT_FAILED, "out of memory");
	fprintf(m, "# the files earlyfs wrote here for the boot partition "
		"PARTUUID=%s: path, bytes, FNV-1a 64\n", partuuid);
	for (i = 0; i < f->n; i++)
		fprintf(m, "%s %llu %016llx\n", f->v[i].path,
			(unsigned long long)f->v[i].size,
			(unsigned long long)f->v[i].hash);
	fclose(m);
	r = text ? esp_put(&s->esp, MANIFEST, -1, text, tl) : -ENOMEM;
	free(text);
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot write %s to the ESP "
				"(%s): %s", MANIFEST, s->esp.shown,
				strerror(-r));
	return 0;
}

int espfiles_remove(struct espfiles *f, struct loader_site *s, FILE *out,
		    struct err *e)
{
	char partuuid[64], *mf;
	size_t len, i;
	int r;

	r = manifest_read(s, &mf, &len, partuuid, sizeof(partuuid), e);
	free(mf);
	if (r < 0)
		return r;
	espfiles_free(f);	/* the empty set: every owned file is stale */
	for (i = 0; i < 2 && f->owned_dir[i]; i++)
		prune(f, s, f->owned_dir[i], f->owned_prefix[i], out);
	esp_remove(&s->esp, MANIFEST);
	esp_remove(&s->esp, OWNER);
	esp_rmdir(&s->esp, ESPFILES_DIR);
	return 0;
}

unsigned espfiles_check(struct espfiles *f, struct loader_site *s,
			FILE *out)
{
	unsigned bad = 0;
	size_t i, len = 0;
	char *mf;

	if (esp_read(&s->esp, MANIFEST, MANIFEST_MAX, &mf, &len) < 0)
		mf = NULL;
	mark(f, s, mf, len);
	for (i = 0; i < f->n; i++)
		if (f->v[i].todo) {
			fprintf(out, "the ESP (%s): %s is missing or not what "
				"the boot partition says; 'earlyfs loader "
				"sync' writes it\n", s->esp.shown,
				f->v[i].path);
			bad++;
		}
	free(mf);
	return bad;
}

/* The backends' sets, one at a time (large: static). */
static struct espfiles menu_set;

int espfiles_need_menu(espfiles_fill_fn *fill, struct loader_site *s,
		       const struct bootmenu *m, uint64_t *ret, struct err *e)
{
	int r = fill(s, m, &menu_set, e);

	if (r == 0)
		r = espfiles_need(&menu_set, s, ret, e);
	espfiles_free(&menu_set);
	return r;
}

int espfiles_write_menu(espfiles_fill_fn *fill, struct loader_site *s,
			const struct bootmenu *m, FILE *out, struct err *e)
{
	int r = fill(s, m, &menu_set, e);

	if (r == 0)
		r = espfiles_write(&menu_set, s, out, e);
	espfiles_free(&menu_set);
	return r;
}

unsigned espfiles_check_menu(espfiles_fill_fn *fill, struct loader_site *s,
			     const struct bootmenu *m, FILE *out)
{
	unsigned bad = 1;
	struct err e;

	if (loader_esp(s, &e) < 0 || fill(s, m, &menu_set, &e) < 0)
		fprintf(out, "%s\n", e.msg);
	else
		bad = espfiles_check(&menu_set, s, out);
	espfiles_free(&menu_set);
	return bad;
}
