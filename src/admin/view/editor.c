/* editor: 'earlyfs edit': $EDITOR on a copy, written only if it validates */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "exitcode.h"
#include "atomic.h"
#include "base/beneath.h"
#include "view/editor.h"
#include "fragment.h"
#include "layout.h"
#include "request.h"
#include "change/tree.h"

static int run_editor(const char *file)
{
	const char *ed = getenv("VISUAL");
	char cmd[4096];
	pid_t pid;

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
	return exitcode_wait(pid);
}

int editor_run(struct boot *b, const char *arg, editor_submit_fn *submit,
	       void *ctx, FILE *out, struct err *e)
{
	char name[FRAGMENT_NAME_MAX + 1], file[FRAGMENT_NAME_MAX + 16];
	char path[PATH_MAX], copy[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	char *old = NULL, *new = NULL;
	size_t old_len = 0, new_len = 0;
	struct editor_edit ed = { .name = NULL };
	bool disabled, exists;
	int fd, r, rc;

	r = tree_fragment_name_arg(arg, name, sizeof(name), e);
	if (r < 0)
		return r;
	exists = tree_fragment_find(b, name, file, sizeof(file), &disabled) == 0;
	if (exists) {
		snprintf(path, sizeof(path), LAYOUT_INITD "/%s", file);
		rc = beneath_read(b->fd, path, LAYOUT_FRAGMENT_MAX, &old,
				  &old_len);
		if (rc < 0)
			return err_setr(e, rc, EXIT_FAILED, "cannot read "
					"%s/%s: %s", b->dir, path,
					rc == -EFBIG ? "larger than 1 MiB" :
					rc == -EINVAL || rc == -ELOOP ?
					"not a regular file" : strerror(-rc));
	}
	snprintf(copy, sizeof(copy), "%s/earlyfs-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", name);
	fd = mkstemp(copy);
	if (fd < 0) {
		r = -errno;
		free(old);
		return err_setr(e, r, EXIT_FAILED, "cannot create a copy in %s: "
				"%s", tmp && *tmp ? tmp : "/tmp", strerror(-r));
	}
	rc = write_all(fd, old, old_len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		r = err_setr(e, rc, EXIT_FAILED, "cannot write %s: %s", copy,
			     strerror(-rc));
		goto out_unlink;
	}
	rc = run_editor(copy);
	if (rc != 0) {
		r = err_set(e, EXIT_FAILED, "the editor exited with status %d; "
			    "nothing written; your copy is %s", rc, copy);
		goto out;
	}
	rc = read_file(copy, LAYOUT_FRAGMENT_MAX, &new, &new_len);
	if (rc < 0) {
		r = err_setr(e, rc, EXIT_REFUSED, "cannot read your copy %s: "
			     "%s; nothing written", copy, rc == -EFBIG ?
			     "larger than 1 MiB" : strerror(-rc));
		goto out;
	}
	if (exists && new_len == old_len && !memcmp(new, old, old_len)) {
		fprintf(out, "earlyfs: %s unchanged; nothing written\n", file);
		goto out_unlink;
	}
	ed.name = name;
	ed.data = new;
	ed.len = new_len;
	ed.exists = exists;
	if (exists)
		ed.base = request_hash(old, old_len);
	rc = submit(b, &ed, ctx, out, e);
	if (rc < 0) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n, "\nyour copy is %s",
			 copy);
		r = rc;
		goto out;
	}
out_unlink:
	unlink(copy);
out:
	free(old);
	free(new);
	return r;
}
