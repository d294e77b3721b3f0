/* ask: a question for whoever answers first, on the console or over SSH
 *
 * The process that needs an answer (earlyfs-init unlock, pause) asks on
 * the console and listens on ASK_SOCKET (a Unix socket only root can
 * reach), where SSH sessions connect (earlyfs-shell, earlyfs-unlock,
 * earlyfs-continue).  One line each way:
 *   server: "ASK SECRET <prompt>" | "ASK ENTER <prompt>"
 *           "OK <text>" (accepted) | "NO <text>" (refused; an ASK follows)
 *           "SAY <text>"
 *   client: the answer, up to ASK_ANSWER_MAX bytes, then "\n".
 * A secret is not echoed, and lives only in the buffers given here and in
 * the pipe to cryptsetup; every buffer that held one is cleared.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "init.h"

static void send_line(int fd, const char *kind, const char *text)
{
	char line[ASK_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s %s\n", kind, text);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int ask_open(struct ask *a, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t i;

	memset(a, 0, sizeof(*a));
	a->lfd = -1;
	for (i = 0; i < ASK_CLIENTS; i++)
		a->c[i].fd = -1;
	a->tty = tcgetattr(0, &a->saved) == 0;
	if (!listening)
		return 0;
	mkdir(STATE_DIR, 0700);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ASK_SOCKET);
	unlink(ASK_SOCKET);
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);
	if (a->lfd < 0)
		return -errno;
	if (bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(ASK_SOCKET, 0600) < 0 || listen(a->lfd, 4) < 0) {
		int r = -errno;

		close(a->lfd);
		a->lfd = -1;
		unlink(ASK_SOCKET);
		return r;
	}
	return 0;
}

void ask_close(struct ask *a)
{
	size_t i;

	for (i = 0; i < ASK_CLIENTS; i++)
		if (a->c[i].fd >= 0) {
			close(a->c[i].fd);
			a->c[i].fd = -1;
		}
	explicit_bzero(a->c, sizeof(a->c));
	if (a->lfd >= 0) {
		close(a->lfd);
		unlink(ASK_SOCKET);
		a->lfd = -1;
	}
}

void ask_tell(struct ask *a, const char *kind, const char *fmt, ...)
{
	char text[ASK_LINE_MAX - 16];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	printf("earlyfs: %s\n", text);
	fflush(stdout);
	for (i = 0; i < ASK_CLIENTS; i++)
		if (a->c[i].fd >= 0)
			send_line(a->c[i].fd, kind, text);
}

static void echo(struct ask *a, bool on)
{
	struct termios t = a->saved;

	if (!a->tty)
		return;
	if (!on) {
		t.c_lflag &= ~(tcflag_t)ECHO;
		t.c_lflag |= ECHONL;
	}
	tcsetattr(0, TCSANOW, &t);
}

static void accept_client(struct ask *a, const char *ask_line)
{
	int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < ASK_CLIENTS; i++)
		if (a->c[i].fd < 0) {
			a->c[i].fd = fd;
			a->c[i].used = 0;
			(void)send(fd, ask_line, strlen(ask_line),
				   MSG_NOSIGNAL | MSG_DONTWAIT);
			return;
		}
	send_line(fd, "SAY", "too many sessions are waiting to answer");
	close(fd);
}

/* Reads what fd has into buf (*used so far): 1 with a whole line (the
 * newline dropped, NUL-terminated), 0 for more to come, -1 at the end.
 * A line longer than cap is cut there (a wrong answer, not an overflow). */
static int read_line(int fd, char *buf, size_t cap, size_t *used)
{
	ssize_t n = read(fd, buf + *used, cap - 1 - *used);
	char *nl;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;
	*used += (size_t)n;
	nl = memchr(buf, '\n', *used);
	if (!nl && *used < cap - 1)
		return 0;
	if (nl)
		*used = (size_t)(nl - buf);
	if (*used && buf[*used - 1] == '\r')
		(*used)--;
	buf[*used] = '\0';
	return 1;
}

ssize_t ask_question(struct ask *a, bool secret, const char *prompt,
		     char *ans, size_t cap, bool *remote)
{
	struct pollfd p[ASK_CLIENTS + 2];
	char ask_line[ASK_LINE_MAX];
	size_t used = 0, i, n;
	ssize_t len = -EIO;
	int r;

	snprintf(ask_line, sizeof(ask_line), "ASK %s %s\n",
		 secret ? "SECRET" : "ENTER", prompt);
	for (i = 0; i < ASK_CLIENTS; i++)
		if (a->c[i].fd >= 0)
			(void)send(a->c[i].fd, ask_line, strlen(ask_line),
				   MSG_NOSIGNAL | MSG_DONTWAIT);
	printf("%s", prompt);
	fflush(stdout);
	if (secret)
		echo(a, false);
	*remote = false;
	for (;;) {
		n = 0;
		p[n++] = (struct pollfd){ a->console_eof ? -1 : 0, POLLIN, 0 };
		p[n++] = (struct pollfd){ a->lfd, POLLIN, 0 };
		for (i = 0; i < ASK_CLIENTS; i++)
			p[n++] = (struct pollfd){ a->c[i].fd, POLLIN, 0 };
		if (a->console_eof && a->lfd < 0)
			break;	/* no one can answer */
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			r = read_line(0, ans, cap, &used);
			if (r > 0) {
				len = (ssize_t)used;
				break;
			}
			if (r < 0) {
				a->console_eof = true;
				used = 0;
				if (a->lfd >= 0)
					log_warn("the console gave end-of-file: "
						 "answer over SSH");
			}
		}
		if (p[1].revents & POLLIN)
			accept_client(a, ask_line);
		for (i = 0; i < ASK_CLIENTS; i++) {
			struct ask_client *c = &a->c[i];

			if (c->fd < 0 || !p[2 + i].revents)
				continue;
			r = read_line(c->fd, c->buf, sizeof(c->buf), &c->used);
			if (r < 0) {
				close(c->fd);
				c->fd = -1;
				explicit_bzero(c->buf, sizeof(c->buf));
				continue;
			}
			if (r == 0)
				continue;
			len = (ssize_t)(c->used < cap ? c->used : cap - 1);
			memcpy(ans, c->buf, (size_t)len);
			ans[len] = '\0';
			explicit_bzero(c->buf, sizeof(c->buf));
			c->used = 0;
			*remote = true;
			break;
		}
		if (*remote)
			break;
	}
	if (secret)
		echo(a, true);
	if (*remote) {
		if (a->tty)
			tcflush(0, TCIFLUSH);	/* what was typed so far */
		explicit_bzero(ans + len, cap - (size_t)len);
		printf("\n");
		fflush(stdout);
	} else if (len >= 0) {
		for (i = 0; i < ASK_CLIENTS; i++)
			if (a->c[i].fd >= 0)
				send_line(a->c[i].fd, "SAY",
					  "answered on the console");
	}
	return len;
}
