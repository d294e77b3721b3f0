/* askclient: the session side of ask.c, for SSH logins
 *
 * earlyfs-shell is root's login shell on the boot partition: with a
 * command (ssh HOST CMD, or a key's command=) it runs /bin/sh -c CMD;
 * without one it shows the question the boot is waiting on (a passphrase,
 * a pause) and sends the answer typed here, and when nothing waits it is
 * a shell.  earlyfs-unlock sends the passphrase read from its standard
 * input; earlyfs-continue ends a pause.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "init.h"

#define WAIT_MS 60000		/* for the boot to ask, once connected */

struct reader {
	int fd;
	size_t used;
	char buf[ASK_LINE_MAX];
};

/* Connected to ASK_SOCKET, trying for up to wait_ms: the fd, or -1. */
static int connect_ask(long wait_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long waited = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ASK_SOCKET);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (waited >= wait_ms)
			return -1;
		usleep(100 * 1000);
		waited += 100;
	}
}

/* The next line from the boot (newline dropped): 1, 0 after timeout_ms
 * (-1: none), -1 when it hung up. */
static int next_line(struct reader *r, char *line, size_t cap,
		     int timeout_ms)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->used);
		struct pollfd p = { r->fd, POLLIN, 0 };
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - r->buf);

			snprintf(line, cap, "%.*s", (int)l, r->buf);
			memmove(r->buf, nl + 1, r->used - l - 1);
			r->used -= l + 1;
			return 1;
		}
		if (r->used == sizeof(r->buf))
			return -1;	/* not the protocol */
		if (poll(&p, 1, timeout_ms) == 0)
			return 0;
		n = read(r->fd, r->buf + r->used, sizeof(r->buf) - r->used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		r->used += (size_t)n;
	}
}

static int send_answer(int fd, const char *ans, size_t len)
{
	char buf[ASK_ANSWER_MAX + 1];
	ssize_t n;

	memcpy(buf, ans, len);
	buf[len] = '\n';
	n = send(fd, buf, len + 1, MSG_NOSIGNAL);
	explicit_bzero(buf, sizeof(buf));
	return n == (ssize_t)(len + 1) ? 0 : -1;
}

/* "ASK SECRET prompt": the kind in *secret, the prompt returned. */
static const char *ask_kind(const char *line, bool *secret)
{
	if (!strncmp(line, "ASK SECRET ", 11)) {
		*secret = true;
		return line + 11;
	}
	if (!strncmp(line, "ASK ENTER ", 10)) {
		*secret = false;
		return line + 10;
	}
	return NULL;
}

static const char *text_of(const char *line)
{
	const char *sp = strchr(line, ' ');

	return sp ? sp + 1 : "";
}

/* Interactive: the questions of one connection, answered from the
 * terminal, until the boot hangs up.  0, or -1 if the terminal closed. */
static int converse(int fd)
{
	struct reader r = { fd, 0, { 0 } };
	char line[ASK_LINE_MAX], ans[ASK_ANSWER_MAX + 2];
	struct termios saved, quiet;
	bool tty = tcgetattr(0, &saved) == 0, pending = false, secret = false;
	size_t used = 0;
	int rc = 0;

	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 },
				       { pending ? 0 : -1, POLLIN, 0 } };
		const char *prompt;

		bool whole = memchr(r.buf, '\n', r.used) != NULL;

		if (!whole && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (whole || p[0].revents) {
			int k = next_line(&r, line, sizeof(line), 0);

			if (k < 0)
				break;
			if (k == 0)
				continue;
			if ((prompt = ask_kind(line, &secret))) {
				printf("%s%s", prompt, secret ? "" : "\n");
				fflush(stdout);
				quiet = saved;
				quiet.c_lflag &= ~(tcflag_t)ECHO;
				quiet.c_lflag |= ECHONL;
				if (tty && secret)
					tcsetattr(0, TCSANOW, &quiet);
				pending = true;
				used = 0;
			} else {
				if (pending && tty) {
					tcsetattr(0, TCSANOW, &saved);
					tcflush(0, TCIFLUSH);
				}
				if (pending)
					printf("\n");
				pending = false;
				printf("earlyfs: %s\n", text_of(line));
				fflush(stdout);
			}
			continue;
		}
		if (!pending || !p[1].revents)
			continue;
		ssize_t n = read(0, ans + used, sizeof(ans) - 1 - used);

		if (n <= 0) {
			rc = -1;
			break;
		}
		used += (size_t)n;
		char *nl = memchr(ans, '\n', used);

		if (!nl && used < sizeof(ans) - 1)
			continue;
		size_t len = nl ? (size_t)(nl - ans) : used;

		if (len && ans[len - 1] == '\r')
			len--;
		if (len > ASK_ANSWER_MAX)
			len = ASK_ANSWER_MAX;
		if (tty)
			tcsetattr(0, TCSANOW, &saved);
		pending = false;
		if (send_answer(fd, ans, len) < 0)
			break;
		explicit_bzero(ans, sizeof(ans));
		used = 0;
	}
	explicit_bzero(ans, sizeof(ans));
	if (tty)
		tcsetattr(0, TCSANOW, &saved);
	return rc;
}

int client_shell(int argc, char **argv)
{
	int fd;

	if (argc > 1) {	/* ssh HOST CMD: sh -c CMD */
		argv[0] = "sh";
		execv(SHELL_PATH, argv);
		fprintf(stderr, "earlyfs-shell: %s: %s\n", SHELL_PATH,
			strerror(errno));
		return 127;
	}
	fd = connect_ask(0);
	while (fd >= 0) {
		if (converse(fd) < 0)
			return 0;
		close(fd);
		fd = connect_ask(3000);	/* a next question (a pause) */
		if (fd < 0) {
			printf("earlyfs: nothing more is waiting for an answer; "
			       "the boot goes on\n");
			return 0;
		}
	}
	printf("earlyfs: nothing is waiting for an answer; a shell on the "
	       "early system ('exit' logs out)\n");
	fflush(stdout);
	execl(SHELL_PATH, "-sh", (char *)NULL);
	fprintf(stderr, "earlyfs-shell: %s: %s\n", SHELL_PATH, strerror(errno));
	return 127;
}

/* Waits for the boot to ask; the connection and its first line. */
static int first_question(struct reader *r, char *line, size_t cap,
			  const char *what)
{
	r->fd = connect_ask(WAIT_MS);
	r->used = 0;
	if (r->fd < 0 || next_line(r, line, cap, WAIT_MS) <= 0) {
		fprintf(stderr, "%s: the boot is not waiting for an answer "
			"(nothing asked within %d s)\n", what, WAIT_MS / 1000);
		return -1;
	}
	return 0;
}

int client_unlock(void)
{
	char pass[ASK_ANSWER_MAX + 2], line[ASK_LINE_MAX];
	struct reader r;
	size_t len = 0;
	ssize_t n;
	int opened = 0, rc = 1;
	bool secret, sent = false;

	while (len < sizeof(pass) &&
	       (n = read(0, pass + len, sizeof(pass) - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len && pass[len - 1] == '\n')
		len--;
	if (len && pass[len - 1] == '\r')
		len--;
	if (len == 0 || len > ASK_ANSWER_MAX) {
		fprintf(stderr, "earlyfs-unlock: give the passphrase on standard "
			"input (1 to %d bytes, one line)\n", ASK_ANSWER_MAX);
		explicit_bzero(pass, sizeof(pass));
		return 2;
	}
	if (first_question(&r, line, sizeof(line), "earlyfs-unlock") < 0) {
		explicit_bzero(pass, sizeof(pass));
		return 1;
	}
	do {
		if (ask_kind(line, &secret)) {
			if (!secret) {
				if (!opened)
					fprintf(stderr, "earlyfs-unlock: the "
						"boot waits at a pause, not for a "
						"passphrase: earlyfs-continue ends "
						"it\n");
				rc = opened ? 0 : 1;
				break;
			}
			if (sent) {	/* asked again: that one was wrong */
				rc = 1;
				break;
			}
			if (send_answer(r.fd, pass, len) < 0)
				break;
			sent = true;
		} else if (!strncmp(line, "OK ", 3)) {
			printf("earlyfs-unlock: %s\n", line + 3);
			opened++;
			sent = false;
			rc = 0;
		} else if (!strncmp(line, "NO ", 3)) {
			fprintf(stderr, "earlyfs-unlock: %s\n", line + 3);
			rc = 1;
			if (sent)
				break;
		} else {
			printf("earlyfs-unlock: %s\n", text_of(line));
		}
	} while (next_line(&r, line, sizeof(line), -1) > 0);
	explicit_bzero(pass, sizeof(pass));
	close(r.fd);
	return rc;
}

int client_continue(void)
{
	char line[ASK_LINE_MAX];
	struct reader r;
	bool secret;

	if (first_question(&r, line, sizeof(line), "earlyfs-continue") < 0)
		return 1;
	if (!ask_kind(line, &secret) || secret) {
		fprintf(stderr, "earlyfs-continue: the boot is asking for a "
			"passphrase, not waiting at a pause: earlyfs-unlock "
			"answers it\n");
		close(r.fd);
		return 1;
	}
	if (send_answer(r.fd, "", 0) < 0) {
		close(r.fd);
		return 1;
	}
	while (next_line(&r, line, sizeof(line), 5000) > 0)
		printf("earlyfs-continue: %s\n", text_of(line));
	close(r.fd);
	return 0;
}
