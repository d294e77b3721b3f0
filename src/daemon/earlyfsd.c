/* earlyfsd: the single writer of the boot partition; one event loop */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "atomic.h"
#include "target/boot.h"
#include "change/change.h"
#include "base/err.h"
#include "kv.h"
#include "listen.h"
#include "verb.h"
#include "request.h"
#include "text.h"

#define CONFIG_DEFAULT "/etc/earlyfs/earlyfsd.conf"
#define CLIENTS_MAX 64
#define REQUEST_TIMEOUT_MS 5000
#define SETTLE_MS 300		/* quiet time before a direct edit is read */
#define BUF_MAX (REQUEST_HEADER_MAX + 1 + REQUEST_BODY_MAX)

struct client {
	int fd;
	uid_t uid;
	char *buf;
	size_t len, cap;
	long deadline;
};

static struct {
	struct boot boot;
	dev_t dev;
	ino_t ino;
	const char *socket;
	bool has_group;
	gid_t gid;
	char group[64];
	struct client clients[CLIENTS_MAX];
	size_t n_clients;
	long settle_at;		/* 0: no direct edit pending */
	char last_invalid[1024];
} d;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reply(int fd, int code, const char *text)
{
	char head[32];
	int flags = fcntl(fd, F_GETFL);
	struct timeval tv = { 2, 0 };

	/* small replies; a client that does not read gets 2 s */
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (code == EXIT_OK)
		snprintf(head, sizeof(head), "ok\n");
	else
		snprintf(head, sizeof(head), "error %d\n", code);
	/* one message: a client's first read sees the status and the text */
	struct iovec iov[2] = {
		{ head, strlen(head) },
		{ (void *)(text ? text : ""), text ? strlen(text) : 0 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
		/* the client went away: nothing to tell it */
	}
}

static void client_drop(size_t i)
{
	close(d.clients[i].fd);
	free(d.clients[i].buf);
	d.clients[i] = d.clients[--d.n_clients];
}

/* root, or a member (primary or supplementary) of the configured group */
static bool peer_allowed(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);
	gid_t groups[256];
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return false;
	if (cred->uid == 0)
		return true;
	if (!d.has_group)
		return false;
	if (cred->gid == d.gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == d.gid)
			return true;
	return false;
}

/* A client refused at the door: the reply, then what it already sent is
 * read (at most 64 KiB, 100 ms) before closing: closing a Unix socket
 * with unread data resets the peer, which would lose the reply. */
static void turn_away(int fd, int code, const char *text)
{
	struct timeval tv = { 0, 100 * 1000 };
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	reply(fd, code, text);
	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (total < 65536 && (n = read(fd, sink, sizeof(sink))) > 0)
		total += (size_t)n;
	close(fd);
}

static void accept_clients(int lfd)
{
	for (;;) {
		struct ucred cred;
		struct client *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (!peer_allowed(fd, &cred)) {
			syslog(LOG_WARNING, "refused a client: uid %u gid %u "
			       "pid %d is not root%s%s", (unsigned)cred.uid,
			       (unsigned)cred.gid, (int)cred.pid,
			       d.has_group ? " nor in group " : "",
			       d.has_group ? d.group : "");
			turn_away(fd, EXIT_REFUSED, "permission denied: "
				  "earlyfsd serves root and the group its "
				  "configuration names\n");
			continue;
		}
		if (d.n_clients == CLIENTS_MAX) {
			turn_away(fd, EXIT_FAILED, "earlyfsd is busy: too many "
				  "clients; try again\n");
			continue;
		}
		c = &d.clients[d.n_clients++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->uid = cred.uid;
		c->deadline = now_ms() + REQUEST_TIMEOUT_MS;
	}
}

static bool same_boot(const struct request *r)
{
	return !r->has_boot || (r->boot_dev == (unsigned long long)d.dev &&
				r->boot_ino == (unsigned long long)d.ino);
}

/* Runs one complete request; the reply carries what the CLI would print. */
static void serve(struct client *c)
{
	struct request *r = malloc(sizeof(*r));
	struct err e = { "", 0 };
	struct verb_call call = { .socket = NULL };
	const struct verb *v = NULL;
	char *args[REQUEST_ARGS_MAX];
	const char *what = "";
	char *text = NULL;
	size_t tlen = 0, i;
	FILE *out;
	int rc;

	if (!r) {
		reply(c->fd, EXIT_FAILED, "out of memory\n");
		return;
	}
	if (request_parse(c->buf ? c->buf : "", c->len, r, &what) < 0) {
		snprintf(e.msg, sizeof(e.msg), "malformed request: %s\n", what);
		reply(c->fd, EXIT_USAGE, e.msg);
		goto out;
	}
	v = verb_find(r->verb, VERB_SERVED);
	if (!v || r->n_args < v->min_args || r->n_args > v->max_args) {
		snprintf(e.msg, sizeof(e.msg), "unknown request '%s' or wrong "
			 "number of arguments (%zu)\n", r->verb, r->n_args);
		reply(c->fd, EXIT_USAGE, e.msg);
		goto out;
	}
	if (c->uid != 0 && !(v->flags & VERB_GROUP)) {
		/* a fragment runs as root before the real root is mounted:
		 * changing one is root's alone */
		syslog(LOG_NOTICE, "uid %u: %s refused: only root changes "
		       "early userspace", (unsigned)c->uid, r->verb);
		snprintf(e.msg, sizeof(e.msg), "only root may change early "
			 "userspace (what it runs, runs as root at the next "
			 "boot); group %s may use 'earlyfs once'\n", d.group);
		reply(c->fd, EXIT_REFUSED, e.msg);
		goto out;
	}
	if (!same_boot(r)) {
		snprintf(e.msg, sizeof(e.msg), "this earlyfsd manages %s, not "
			 "the directory you gave; use --no-daemon\n",
			 d.boot.dir);
		reply(c->fd, EXIT_REFUSED, e.msg);
		goto out;
	}
	out = open_memstream(&text, &tlen);
	if (!out) {
		reply(c->fd, EXIT_FAILED, "out of memory\n");
		goto out;
	}
	for (i = 0; i < r->n_args; i++)
		args[i] = r->args[i];
	call.args = args;
	call.n_args = r->n_args;
	call.data = r->body;
	call.len = r->body_len;
	call.has_base = r->has_base;
	call.base = r->base;
	call.running = true;
	if (verb_args(v, &call, &e) < 0) {
		fclose(out);
		snprintf(e.msg + strlen(e.msg), sizeof(e.msg) - strlen(e.msg),
			 "\n");
		reply(c->fd, EXIT_USAGE, e.msg);
		goto out;
	}
	rc = v->run(&d.boot, v, &call, out, &e);
	if (rc < 0)
		fprintf(out, "%s\n", e.msg);
	fclose(out);
	if (v->flags & VERB_CHANGES)
		syslog(rc < 0 ? LOG_NOTICE : LOG_INFO, "uid %u: %s%s%s: %s",
		       (unsigned)c->uid, r->verb, r->n_args ? " " : "",
		       r->n_args ? r->args[0] : "", rc < 0 ? e.msg : "done");
	reply(c->fd, rc < 0 ? (e.code ? e.code : EXIT_FAILED) : EXIT_OK, text);
	/* our own writes raise inotify events: nothing to record then */
out:
	free(text);
	free(r);
}

/* Reads what is there; 1 when the request is complete (EOF), 0 to wait,
 * -1 when the client was answered and must go. */
static int client_read(struct client *c)
{
	for (;;) {
		ssize_t n;

		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 4096;
			char *nb;

			if (c->cap >= BUF_MAX + 1) {
				reply(c->fd, EXIT_USAGE, "malformed request: "
				      "larger than 1 MiB of content\n");
				return -1;
			}
			if (cap > BUF_MAX + 1)
				cap = BUF_MAX + 1;
			nb = realloc(c->buf, cap);
			if (!nb) {
				reply(c->fd, EXIT_FAILED, "out of memory\n");
				return -1;
			}
			c->buf = nb;
			c->cap = cap;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n == 0) {
			/* len < cap here: a reused buffer's old bytes end
			 * where this request does */
			c->buf[c->len] = '\0';
			return 1;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->len += (size_t)n;
		if (c->len > REQUEST_HEADER_MAX &&
		    !memchr(c->buf, '\n', REQUEST_HEADER_MAX + 1)) {
			reply(c->fd, EXIT_USAGE, "malformed request: header "
			      "longer than 1024 bytes\n");
			return -1;
		}
	}
}

/* A direct edit has settled: record it if valid, else say why once. */
static void record_direct_edits(void)
{
	const struct change c = { .op = CHANGE_RECORD };
	struct err e = { "", 0 };
	char list[256], *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!change_direct_edits(&d.boot, list, sizeof(list)))
		return;
	out = open_memstream(&text, &len);
	if (!out)
		return;
	if (change_commit(&d.boot, &c, out, &e) < 0) {
		if (strcmp(d.last_invalid, e.msg)) {
			char *p;

			for (p = e.msg; *p; p++)
				if (*p == '\n')
					*p = ' ';
			syslog(LOG_WARNING, "direct edit of %s not recorded: "
			       "%s; 'earlyfs check' lists the problems", list,
			       e.msg);
			snprintf(d.last_invalid, sizeof(d.last_invalid), "%s",
				 e.msg);
		}
	} else {
		d.last_invalid[0] = '\0';
		fclose(out);
		out = NULL;
		if (text && *text)
			syslog(LOG_INFO, "%.*s", (int)strcspn(text, "\n"), text);
	}
	if (out)
		fclose(out);
	free(text);
}

/* A directory that is not there (root/.ssh without the ssh feature) is
 * not watched: what is made there later is recorded at the next change. */
static int watch(int ifd, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", d.boot.dir, rel);
	if (inotify_add_watch(ifd, path, IN_CLOSE_WRITE | IN_MOVED_TO |
			      IN_MOVED_FROM | IN_DELETE | IN_CREATE |
			      IN_ATTRIB) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* KEY=value lines (kv.c): boot=, socket=, group= */
static int read_config(const char *path, bool must, const char **boot,
		       const char **sock, const char **group)
{
	static const char *const keys[] = { "boot", "socket", "group" };
	static char *text;
	const char **slot[] = { boot, sock, group };
	size_t len, pos = 0, lineno = 0, kl, vl, i;
	const char *k, *v;
	int r = read_file(path, 4096, &text, &len);

	if (r < 0) {
		if (must || r != -ENOENT) {
			fprintf(stderr, "earlyfsd: cannot read %s: %s\n", path,
				r == -EFBIG ? "larger than 4 KiB" :
				strerror(-r));
			return r;
		}
		return 0;
	}
	while ((r = kv_next(text, len, &pos, &lineno, &k, &kl, &v, &vl)) != 0) {
		if (r < 0) {
			fprintf(stderr, "earlyfsd: %s: line %zu is not "
				"key=value\n", path, lineno);
			return r;
		}
		for (i = 0; i < 3; i++)
			if (kl == strlen(keys[i]) && !memcmp(k, keys[i], kl))
				break;
		if (i == 3) {
			fprintf(stderr, "earlyfsd: %s: unknown key '%.*s' "
				"(known: boot, socket, group)\n", path,
				(int)kl, k);
			return -EINVAL;
		}
		((char *)v)[vl] = '\0';	/* values are used in place */
		*slot[i] = v;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: earlyfsd [--foreground] [--config FILE] "
		"[--boot DIR] [--socket PATH] [--group NAME]\n");
}

/* Forks to the background: -1 in the child, in the parent the exit code,
 * returned once the child listens (it closes the pipe). */
static int daemonize(void)
{
	int ready[2], c;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return EXIT_FAILED;
	switch (fork()) {
	case -1:
		return EXIT_FAILED;
	case 0:
		close(ready[0]);
		setsid();
		c = open("/dev/null", O_RDWR);
		dup2(c, 0);
		dup2(c, 1);
		dup2(c, 2);
		if (c > 2)
			close(c);
		close(ready[1]);
		break;
	default:
		close(ready[1]);
		return read(ready[0], &c, 1) < 0 ? EXIT_FAILED : EXIT_OK;
	}
	return -1;
}

/* The event loop: clients in the order they came, signals, direct edits.
 * Returns when a signal other than SIGHUP stops it. */
static void event_loop(int lfd, int sfd, int ifd)
{
	struct pollfd pfd[3 + CLIENTS_MAX];
	size_t i;

	for (;;) {
		long now = now_ms(), wait = -1;
		size_t n = 3;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = ifd, .events = POLLIN };
		for (i = 0; i < d.n_clients; i++) {
			pfd[n++] = (struct pollfd){ .fd = d.clients[i].fd,
						    .events = POLLIN };
			if (wait < 0 || d.clients[i].deadline - now < wait)
				wait = d.clients[i].deadline - now;
		}
		if (d.settle_at && (wait < 0 || d.settle_at - now < wait))
			wait = d.settle_at - now;
		if (wait < -1 || (wait < 0 && (d.n_clients || d.settle_at)))
			wait = 0;
		if (poll(pfd, n, (int)wait) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo != SIGHUP) {
				syslog(LOG_INFO, "stopping on signal %u",
				       si.ssi_signo);
				break;
			}
		}
		if (pfd[2].revents) {
			char ev[4096];

			while (read(ifd, ev, sizeof(ev)) > 0)
				;
			d.settle_at = now_ms() + SETTLE_MS;
		}
		/* clients in the order they came; each runs to completion */
		for (i = 0; i < d.n_clients;) {
			struct client *cl = &d.clients[i];
			int r = 0;

			if (pfd[3 + i].revents && pfd[3 + i].fd == cl->fd)
				r = client_read(cl);
			else if (now_ms() > cl->deadline) {
				reply(cl->fd, EXIT_USAGE, "malformed request: "
				      "not complete within 5 s (end it by "
				      "shutting down the sending side)\n");
				r = -1;
			}
			if (r == 1)
				serve(cl);
			if (r != 0) {
				client_drop(i);
				/* the last client moved into slot i; its
				 * poll result is in the last slot */
				pfd[3 + i] = pfd[3 + d.n_clients];
				continue;
			}
			i++;
		}
		if (pfd[0].revents)
			accept_clients(lfd);
		if (d.settle_at && now_ms() >= d.settle_at) {
			d.settle_at = 0;
			record_direct_edits();
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "boot", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, 's' },
		{ "group", required_argument, NULL, 'g' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = CONFIG_DEFAULT, *boot = NULL, *sock = NULL;
	const char *group = NULL, *o_boot = NULL, *o_sock = NULL;
	const char *o_group = NULL;
	bool fg = false, config_given = false, unwatched = false;
	struct listen_access access;
	struct err e = { "", 0 };
	struct stat st;
	sigset_t mask;
	int c, lfd, sfd, ifd;
	size_t i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fg = true; break;
		case 'c': config = optarg; config_given = true; break;
		case 'b': o_boot = optarg; break;
		case 's': o_sock = optarg; break;
		case 'g': o_group = optarg; break;
		case 'V': printf("earlyfsd %s\n", EARLYFS_VERSION); return 0;
		default: usage(); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return EXIT_USAGE;
	}
	if (read_config(config, config_given, &boot, &sock, &group) < 0)
		return EXIT_USAGE;
	boot = o_boot ? o_boot : boot ? boot : boot_default();
	d.socket = o_sock ? o_sock : sock ? sock : SOCKET_DEFAULT;
	group = o_group ? o_group : group;
	openlog("earlyfsd", LOG_PID | (fg ? LOG_PERROR : 0), LOG_DAEMON);
	if (group && *group) {
		struct group *g = getgrnam(group);

		if (!g) {
			syslog(LOG_ERR, "group %s does not exist", group);
			return EXIT_USAGE;
		}
		d.has_group = true;
		d.gid = g->gr_gid;
		snprintf(d.group, sizeof(d.group), "%s", group);
	}
	if (geteuid() != 0) {
		syslog(LOG_ERR, "must run as root");
		return EXIT_REFUSED;
	}
	if (boot_open(boot, NULL, 0, true, &d.boot, &e) < 0) {
		syslog(LOG_ERR, "%s", e.msg);
		return EXIT_FAILED;
	}
	fstat(d.boot.fd, &st);
	d.dev = st.st_dev;
	d.ino = st.st_ino;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	access = (struct listen_access){ d.has_group, d.gid, d.group };
	if (listen_dir(d.socket, &access) < 0 ||
	    (lfd = listen_socket(d.socket, &access)) < 0)
		return EXIT_FAILED;
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	/* the directories of what a generation holds */
	for (i = 0; ifd >= 0 && i < n_layout_tracked && !unwatched; i++)
		unwatched = watch(ifd, layout_tracked[i].dir ?
				  layout_tracked[i].path :
				  layout_tracked[i].in) < 0;
	if (ifd < 0 || unwatched)
		syslog(LOG_WARNING, "cannot watch %s with inotify: %m; direct "
		       "edits are recorded at the next change", d.boot.dir);
	if (!fg) {
		c = daemonize();
		if (c >= 0)
			return c;
	}
	syslog(LOG_INFO, "managing %s on %s%s%s", d.boot.dir, d.socket,
	       d.has_group ? " for root and group " : " for root",
	       d.has_group ? d.group : "");
	d.settle_at = now_ms();	/* edits made while we were not running */

	event_loop(lfd, sfd, ifd);
	for (i = d.n_clients; i-- > 0;)
		client_drop(i);
	close(lfd);
	unlink(d.socket);
	boot_close(&d.boot);
	return 0;
}
