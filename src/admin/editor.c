/* editor: 'earlyfs edit': $EDITOR on a copy, written only if it validates */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "admin.h"
#include "atomic.h"
#include "fragment.h"
#include "request.h"

static int run_editor(const char *file)
{
	const char *ed = getenv("VISUAL");
	char cmd[4096];
	pid_t pid;
	int status;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	/* as git does: $EDITOR is shell text ("emacs -nw", quotes) */
	if (snprintf(cmd, sizeof(cmd), "%s \"$1\"", ed) >= (int)sizeof(cmd))
		return -E2BIG;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, "sh", file, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int fragment_edit(struct boot *b, const char *sock, const char *arg,
		  FILE *out, struct err *e)
{
	char name[FRAGMENT_NAME_MAX + 1], file[FRAGMENT_NAME_MAX + 16];
	char path[PATH_MAX], copy[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	char *old = NULL, *new = NULL;
	size_t old_len = 0, new_len = 0;
	bool disabled, exists;
	struct change c = { .op = CHANGE_ADD };
	int fd, r = -1, rc;

	if (fragment_name_arg(arg, name, sizeof(name), e) < 0)
		return -1;
	exists = fragment_find(b, name, file, sizeof(file), &disabled) == 0;
	if (exists) {
		snprintf(path, sizeof(path), "%s/init.d/%s", b->dir, file);
		rc = read_file(path, REQUEST_BODY_MAX, &old, &old_len);
		if (rc < 0)
			return err_set(e, EXIT_FAILED, "cannot read %s: %s",
				       path, rc == -EFBIG ? "larger than 1 MiB"
				       : strerror(-rc));
	}
	snprintf(copy, sizeof(copy), "%s/earlyfs-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", name);
	fd = mkstemp(copy);
	if (fd < 0) {
		free(old);
		return err_set(e, EXIT_FAILED, "cannot create a copy in %s: %s",
			       tmp && *tmp ? tmp : "/tmp", strerror(errno));
	}
	rc = old_len && write(fd, old, old_len) != (ssize_t)old_len ? -1 : 0;
	if (close(fd) < 0 || rc < 0) {
		err_set(e, EXIT_FAILED, "cannot write %s", copy);
		goto out_unlink;
	}
	rc = run_editor(copy);
	if (rc != 0) {
		err_set(e, EXIT_FAILED, "the editor exited with status %d; "
			"nothing written; your copy is %s", rc, copy);
		goto out;
	}
	rc = read_file(copy, REQUEST_BODY_MAX, &new, &new_len);
	if (rc < 0) {
		err_set(e, EXIT_REFUSED, "cannot read your copy %s: %s; nothing "
			"written", copy, rc == -EFBIG ? "larger than 1 MiB" :
			strerror(-rc));
		goto out;
	}
	if (exists && new_len == old_len && !memcmp(new, old, old_len)) {
		fprintf(out, "earlyfs: %s unchanged; nothing written\n", file);
		r = 0;
		goto out_unlink;
	}
	c.name = name;
	c.data = new;
	c.len = new_len;
	if (exists) {
		c.op = CHANGE_PUT;
		c.has_base = true;
		c.base = request_hash(old, old_len);
	}
	if (change_submit(b, sock, &c, out, e) < 0) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n, "\nyour copy is %s",
			 copy);
		goto out;
	}
	r = 0;
out_unlink:
	unlink(copy);
out:
	free(old);
	free(new);
	return r;
}
