/* client: changes go to earlyfsd when it runs, else are made in-process */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "admin.h"
#include "atomic.h"
#include "extlinux.h"
#include "request.h"

const struct change_verb change_verbs[] = {
	[CHANGE_PUT] = { "put", 1, 1 }, [CHANGE_ADD] = { "add", 1, 1 },
	[CHANGE_RM] = { "rm", 1, 1 }, [CHANGE_ENABLE] = { "enable", 1, 1 },
	[CHANGE_DISABLE] = { "disable", 1, 1 }, [CHANGE_MV] = { "mv", 2, 2 },
	[CHANGE_ROLLBACK] = { "rollback", 0, 1 },
	[CHANGE_RECORD] = { NULL, 0, 0 },	/* the daemon's own */
};

int change_verb_find(const char *verb, enum change_op *ret)
{
	size_t i;

	for (i = 0; i < sizeof(change_verbs) / sizeof(change_verbs[0]); i++)
		if (change_verbs[i].verb && !strcmp(change_verbs[i].verb, verb)) {
			*ret = (enum change_op)i;
			return 0;
		}
	return -ENOENT;
}

/*
 * One request, one reply.  Returns the daemon's exit code (>= 0, reply
 * text on out, or in e for an error), or -errno when it cannot be reached.
 */
static int client_call(const char *sock, const char *header, const char *body,
		       size_t len, FILE *out, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *reply = NULL, *nl;
	size_t rlen = 0, cap = 0;
	int fd, r, code;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = write_all(fd, header, strlen(header));
	if (r == 0)
		r = write_all(fd, body, len);
	shutdown(fd, SHUT_WR);
	/* a refusal may come before the body is read: read the reply anyway */
	for (;;) {
		ssize_t n;

		if (rlen + 4096 + 1 > cap) {
			char *nr = realloc(reply, cap = cap ? cap * 2 : 8192);

			if (!nr) {
				free(reply);
				close(fd);
				return err_set(e, EXIT_FAILED, "out of memory");
			}
			reply = nr;
		}
		n = read(fd, reply + rlen, cap - rlen - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rlen += (size_t)n;
		if (rlen > (1 << 20))
			break;
	}
	close(fd);
	if (!reply || !rlen) {
		free(reply);
		return err_set(e, EXIT_FAILED, "earlyfsd at %s closed the "
			       "connection without a reply%s%s", sock,
			       r ? ": " : "", r ? strerror(-r) : "");
	}
	reply[rlen] = '\0';
	nl = strchr(reply, '\n');
	if (nl)
		*nl++ = '\0';
	else
		nl = reply + rlen;
	if (!strcmp(reply, "ok")) {
		fputs(nl, out);
		code = EXIT_OK;
	} else if (!strncmp(reply, "error ", 6)) {
		code = atoi(reply + 6);
		if (code <= 0)
			code = EXIT_FAILED;
		if (rlen && nl[strlen(nl) - 1] == '\n')
			nl[strlen(nl) - 1] = '\0';
		err_set(e, code, "%s", nl);
	} else {
		err_set(e, EXIT_FAILED, "earlyfsd at %s sent a reply this "
			"earlyfs does not understand: %.60s", sock, reply);
		code = EXIT_FAILED;
	}
	free(reply);
	return code;
}

/* Whether to fall back to doing the change in-process. */
static bool no_daemon(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED;
}

static int daemon_failed(const char *sock, int r, struct err *e)
{
	if (r == -EACCES || r == -EPERM)
		return err_set(e, EXIT_REFUSED, "cannot reach earlyfsd at %s: "
			       "%s (it serves root and the group its "
			       "configuration names)", sock, strerror(-r));
	return err_set(e, EXIT_FAILED, "cannot reach earlyfsd at %s: %s", sock,
		       strerror(-r));
}

static void boot_id(const struct boot *b, char *ret, size_t cap)
{
	struct stat st;

	if (fstat(b->fd, &st) == 0)
		snprintf(ret, cap, " boot=%llu:%llu",
			 (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
	else
		ret[0] = '\0';
}

/* 1 when no daemon listens (do it in-process), 0 when it did it, -1 when
 * it failed or refused (e). */
static int via_daemon(struct boot *b, const char *sock, const char *request,
		      const char *body, size_t len, FILE *out, struct err *e)
{
	char header[REQUEST_HEADER_MAX], id[64];
	int r;

	if (!sock || b->mounted)
		return 1;
	boot_id(b, id, sizeof(id));
	snprintf(header, sizeof(header), REQUEST_MAGIC " %s%s\n", request, id);
	r = client_call(sock, header, body, len, out, e);
	if (r >= 0)
		return r == EXIT_OK ? 0 : -1;
	return no_daemon(r) ? 1 : daemon_failed(sock, r, e);
}

int change_submit(struct boot *b, const char *sock, const struct change *c,
		  FILE *out, struct err *e)
{
	char request[REQUEST_HEADER_MAX], base[32] = "", gen[16] = "";
	int r;

	if (c->has_base)
		snprintf(base, sizeof(base), " base=%016llx",
			 (unsigned long long)c->base);
	if (c->op == CHANGE_ROLLBACK && c->gen)
		snprintf(gen, sizeof(gen), " %u", c->gen);
	snprintf(request, sizeof(request), "%s%s%s%s%s%s%s",
		 change_verbs[c->op].verb, c->name ? " " : "",
		 c->name ? c->name : "", c->newname ? " " : "",
		 c->newname ? c->newname : "", gen, base);
	r = via_daemon(b, sock, request, c->data, c->len, out, e);
	return r == 1 ? change_commit(b, c, out, e) : r;
}

int once_set(struct boot *b, const char *label, FILE *out, struct err *e)
{
	struct extlinux_conf *c = malloc(sizeof(*c));
	struct problems p = { NULL, 0 };
	char path[PATH_MAX], dir[PATH_MAX], errbuf[512];
	int r = -1, rc;

	if (!c)
		return err_set(e, EXIT_FAILED, "out of memory");
	if (boot_lock(b, out, e) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/extlinux/extlinux.conf", b->dir);
	if (validate_extlinux(b->dir, path, "extlinux.conf", c, &p) < 0 &&
	    !c->n) {
		err_set(e, EXIT_FAILED, "%s does not parse; see 'earlyfs "
			"check'", path);
		goto unlock;
	}
	if (!extlinux_find(c, label)) {
		err_set(e, EXIT_USAGE, "extlinux.conf has no label '%s'", label);
		goto unlock;
	}
	snprintf(dir, sizeof(dir), "%s/extlinux", b->dir);
	{
		char opt[256];
		char *const argv[] = { "extlinux", opt, dir, NULL };

		snprintf(opt, sizeof(opt), "--once=%s", label);
		rc = run_cmd(argv, errbuf, sizeof(errbuf));
	}
	if (rc != 0) {
		err_set(e, EXIT_FAILED, "extlinux --once=%s failed (%d): %s",
			label, rc, errbuf);
		goto unlock;
	}
	syncfs(b->fd);
	fprintf(out, "earlyfs: the next boot, and only that one, takes label "
		"%s\n", label);
	r = 0;
unlock:
	boot_unlock(b, out);
out:
	free(c);
	return r;
}

int once_submit(struct boot *b, const char *sock, const char *label,
		FILE *out, struct err *e)
{
	char request[REQUEST_HEADER_MAX];
	int r;

	snprintf(request, sizeof(request), "once %s", label);
	r = via_daemon(b, sock, request, "", 0, out, e);
	return r == 1 ? once_set(b, label, out, e) : r;
}
