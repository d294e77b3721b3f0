/* verb: the one table of commands on a boot partition; earlyfsd's client
 *
 * The CLI parses its options and finds the verb here; a verb that changes
 * the partition goes to earlyfsd when it listens (one request, one reply,
 * docs/earlyfsd-protocol.md), else runs in-process under the same lock;
 * earlyfsd runs the same handlers for the requests it serves.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "atomic.h"
#include "loader/loader.h"
#include "change/change.h"
#include "change/generation.h"
#include "features/install.h"
#include "view/check.h"
#include "view/editor.h"
#include "features/feature.h"
#include "change/kernelfiles.h"
#include "kernel/kernels.h"
#include "view/inspect.h"
#include "layout.h"
#include "request.h"
#include "change/validate.h"
#include "verb.h"

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
		return err_setr(e, r, EXIT_REFUSED, "cannot reach earlyfsd at "
				"%s: %s (it serves root and the group its "
				"configuration names)", sock, strerror(-r));
	return err_setr(e, r, EXIT_FAILED, "cannot reach earlyfsd at %s: %s",
			sock, strerror(-r));
}

/* The request line of a call: VERB ARGS... boot=DEV:INO [base=HASH] */
static int request_header(const struct boot *b, const struct verb *v,
			  const struct verb_call *c, char *ret, size_t cap)
{
	struct stat st;
	size_t i, len;

	len = (size_t)snprintf(ret, cap, REQUEST_MAGIC " %s", v->name);
	for (i = 0; i < c->n_args && len < cap; i++)
		len += (size_t)snprintf(ret + len, cap - len, " %s",
					c->args[i]);
	if (len < cap && fstat(b->fd, &st) == 0)
		len += (size_t)snprintf(ret + len, cap - len, " boot=%llu:%llu",
					(unsigned long long)st.st_dev,
					(unsigned long long)st.st_ino);
	if (len < cap && c->has_base)
		len += (size_t)snprintf(ret + len, cap - len, " base=%016llx",
					(unsigned long long)c->base);
	if (len < cap)
		len += (size_t)snprintf(ret + len, cap - len, "\n");
	return len < cap ? 0 : -E2BIG;
}

int verb_run(struct boot *b, const struct verb *v, const struct verb_call *c,
	     FILE *out, struct err *e)
{
	char header[REQUEST_HEADER_MAX];
	int r;

	if (!(v->flags & VERB_SERVED) || !c->socket || b->mounted)
		return v->run(b, v, c, out, e);
	if (request_header(b, v, c, header, sizeof(header)) < 0)
		return err_set(e, EXIT_USAGE, "%s: the arguments are too long",
			       v->name);
	r = client_call(c->socket, header, c->data ? c->data : "", c->len,
			out, e);
	if (r == EXIT_OK)
		return 0;
	if (r > 0)
		return -EIO;	/* e holds earlyfsd's message and code */
	if (no_daemon(r))
		return v->run(b, v, c, out, e);
	return daemon_failed(c->socket, r, e);
}

int verb_args(const struct verb *v, struct verb_call *c, struct err *e)
{
	c->gen = 0;
	if (v->op == CHANGE_ROLLBACK && c->n_args &&
	    layout_parse_generation(c->args[0], strlen(c->args[0]),
				    &c->gen) < 0)
		return err_set(e, EXIT_USAGE, "%s: not a generation number",
			       c->args[0]);
	return 0;
}

/* ---- the handlers: the same in-process and in earlyfsd ---- */

static int run_change(struct boot *b, const struct verb *v,
		      const struct verb_call *c, FILE *out, struct err *e)
{
	struct change ch = { .op = (enum change_op)v->op };

	if (ch.op == CHANGE_ROLLBACK) {
		ch.gen = c->gen;
	} else {
		ch.name = c->n_args > 0 ? c->args[0] : NULL;
		ch.newname = c->n_args > 1 ? c->args[1] : NULL;
	}
	ch.data = c->data;
	ch.len = c->len;
	ch.has_base = c->has_base;
	ch.base = c->base;
	return change_commit(b, &ch, out, e);
}

static int run_once(struct boot *b, const struct verb *v,
		    const struct verb_call *c, FILE *out, struct err *e)
{
	int r = change_lock(b, out, e);

	if (r < 0)
		return r;
	r = loader_once(b, c->args[0], gen_previous_of(b), out, e);
	boot_unlock(b, out);
	return r;
}

static int run_loader(struct boot *b, const struct verb *v,
		      const struct verb_call *c, FILE *out, struct err *e)
{
	int r = change_lock(b, out, e);

	if (r < 0)
		return r;
	r = loader_verb(b, c->args[0], gen_previous_of(b), out, e);
	boot_unlock(b, out);
	return r;
}

static int run_ping(struct boot *b, const struct verb *v,
		    const struct verb_call *c, FILE *out, struct err *e)
{
	fprintf(out, "earlyfsd %s manages %s\n", EARLYFS_VERSION, b->dir);
	return 0;
}

/* An edit's bytes as a put (an add, for a new fragment), through
 * earlyfsd when it listens at the socket ctx. */
static int edit_submit(struct boot *b, const struct editor_edit *ed,
		       void *ctx, FILE *out, struct err *e)
{
	char *args[1] = { (char *)ed->name };
	struct verb_call call = { .args = args, .n_args = 1, .socket = ctx,
				  .data = ed->data, .len = ed->len,
				  .has_base = ed->exists, .base = ed->base };

	return verb_run(b, verb_find(ed->exists ? "put" : "add", VERB_SERVED),
			&call, out, e);
}

static int run_edit(struct boot *b, const struct verb *v,
		    const struct verb_call *c, FILE *out, struct err *e)
{
	return editor_run(b, c->args[0], edit_submit, (void *)c->socket, out,
			  e);
}

static int run_fragments(struct boot *b, const struct verb *v,
			 const struct verb_call *c, FILE *out, struct err *e)
{
	return inspect_fragments(b, c->report, c->json, out, e);
}

static int run_show(struct boot *b, const struct verb *v,
		    const struct verb_call *c, FILE *out, struct err *e)
{
	return inspect_show(b, c->args[0], out, e);
}

static int run_check(struct boot *b, const struct verb *v,
		     const struct verb_call *c, FILE *out, struct err *e)
{
	return check_tree(b, c->running, c->json, out, e);
}

static int run_log(struct boot *b, const struct verb *v,
		   const struct verb_call *c, FILE *out, struct err *e)
{
	return inspect_log(c->report, c->json, out, e);
}

static int run_generations(struct boot *b, const struct verb *v,
			   const struct verb_call *c, FILE *out,
			   struct err *e)
{
	return inspect_generations(b, c->json, out, e);
}

static int run_install(struct boot *b, const struct verb *v,
		       const struct verb_call *c, FILE *out, struct err *e)
{
	if (!c->n_args && !c->refresh)
		return err_set(e, EXIT_USAGE, "give the binaries to install, "
			       "or --refresh");
	return install_run(b, c->args, c->n_args, out, e);
}

/* feature add: the kept kernels' module stubs made again with what the
 * features need, in the same generation. */
static int feature_add(struct boot *b, unsigned mask,
		       const struct verb_call *c, FILE *out, struct err *e)
{
	struct kernel_job *j = calloc(1, sizeof(*j));
	struct change_file files[3];
	struct feature_extra x = { files, 0, kernelfiles_copy, j };
	int r;

	if (!j)
		return err_set(e, EXIT_FAILED, "out of memory");
	r = kernels_restub(b, mask, &c->ko, c->fo.force, j, files, out, e);
	if (r >= 0) {
		x.n_files = (size_t)r;
		r = feature_change(b, true, mask, &c->fo, &x, out, e);
	}
	kernels_files_free(files, x.n_files);
	kernelfiles_job_free(j);
	free(j);
	return r;
}

static int run_feature(struct boot *b, const struct verb *v,
		       const struct verb_call *c, FILE *out, struct err *e)
{
	const struct feature_opts *o = &c->fo;
	const char *what = c->args[0];
	unsigned mask;
	int r;

	if (!strcmp(what, "list") && c->n_args == 1)
		return feature_list(b, c->json, out, e);
	if (c->json)
		return err_set(e, EXIT_USAGE, "--json: for 'feature list'");
	if (strcmp(what, "add") && strcmp(what, "rm"))
		return err_set(e, EXIT_USAGE, "feature %s: give list, add "
			       "FEATURE... or rm FEATURE...", what);
	r = feature_parse(c->args + 1, c->n_args - 1, &mask, e);
	if (r < 0)
		return r;
	if (!strcmp(what, "rm") && (feature_opts_given(o) || c->ko.modules ||
				    c->ko.n_drivers))
		return err_set(e, EXIT_USAGE, "--%s is an option of 'feature "
			       "add'", feature_opts_given(o) ?
			       feature_opts_given(o) : c->ko.modules ?
			       "modules" : "driver");
	if (!strcmp(what, "rm"))
		return feature_change(b, false, mask, o, NULL, out, e);
	return feature_add(b, mask, c, out, e);
}

static int run_kernel(struct boot *b, const struct verb *v,
		      const struct verb_call *c, FILE *out, struct err *e)
{
	const char *what = c->args[0];

	if (!strcmp(what, "list") && c->n_args == 1)
		return kernels_list(b, c->json, out, e);
	if (c->json)
		return err_set(e, EXIT_USAGE, "--json: for 'kernel list'");
	if (!strcmp(what, "add") && c->n_args == 2)
		return kernels_add(b, c->args[1], c->make_default, c->fo.force,
				   &c->ko, out, e);
	if (!strcmp(what, "rm") && c->n_args == 2 && !c->make_default)
		return kernels_rm(b, c->args[1], out, e);
	return err_set(e, EXIT_USAGE, "kernel %s: give list, add FILE "
		       "[--default] or rm VERSION", what);
}

static int run_remount(struct boot *b, const struct verb *v,
		       const struct verb_call *c, FILE *out, struct err *e)
{
	const char *how = c->args[0];

	if (strcmp(how, "rw") && strcmp(how, "ro"))
		return err_set(e, EXIT_USAGE, "remount %s: give rw or ro",
			       how);
	return boot_hold_writable(b, !strcmp(how, "rw"), out, e);
}

/* b's loader under the change lock (seal, export): 0, or -errno with
 * nothing held. */
static int site_locked(struct boot *b, struct loader_site *s, FILE *out,
		       struct err *e)
{
	int r = change_lock(b, out, e);

	if (r < 0)
		return r;
	r = loader_site_open(b, s, e);
	if (r < 0) {
		loader_site_close(s);
		boot_unlock(b, out);
	}
	return r;
}

static void site_unlock(struct boot *b, struct loader_site *s, FILE *out)
{
	loader_site_close(s);
	boot_unlock(b, out);
}

static int run_seal(struct boot *b, const struct verb *v,
		    const struct verb_call *c, FILE *out, struct err *e)
{
	struct loader_site s;
	int r = site_locked(b, &s, out, e);

	if (r < 0)
		return r;
	r = loader_seal(&s, c->key, c->cert, gen_previous_of(b), out, e);
	site_unlock(b, &s, out);
	return r;
}

static int run_enroll(struct boot *b, const struct verb *v,
		      const struct verb_call *c, FILE *out, struct err *e)
{
	struct loader_site s;
	int r = site_locked(b, &s, out, e);

	if (r < 0)
		return r;
	r = loader_enroll(&s, c->key, c->cert, out, e);
	site_unlock(b, &s, out);
	return r;
}

static int run_export(struct boot *b, const struct verb *v,
		      const struct verb_call *c, FILE *out, struct err *e)
{
	struct loader_site s;
	int r = site_locked(b, &s, out, e);

	if (r < 0)
		return r;
	r = loader_export_image(&s, c->cpio, c->uki, c->key, c->cert, out,
				e);
	site_unlock(b, &s, out);
	return r;
}

#define CHANGE_VERB (VERB_CHANGES | VERB_SERVED)
#define CLI_CHANGE (CHANGE_VERB | VERB_CLI)

/* In the order 'earlyfs help' lists them. */
const struct verb verbs[] = {
	{ "fragments", VERB_CLI | VERB_JSON, 0, 0, -1, run_fragments,
	  "list the fragments",
	  "fragments [--report FILE] [--json]\n"
	  "      each fragment in run order: enabled, size, last boot's result" },
	{ "show", VERB_CLI, 1, 1, -1, run_show, "show",
	  "show NAME\n      print a fragment" },
	{ "add", CLI_CHANGE | VERB_BODY, 1, 1, CHANGE_ADD, run_change, "add",
	  "add [--replace] NAME [FILE|-]\n"
	  "      a new fragment from FILE or standard input (--replace: or a\n"
	  "      new content for an existing one)" },
	{ "put", CHANGE_VERB, 1, 1, CHANGE_PUT, run_change, "add", NULL },
	{ "edit", VERB_CHANGES | VERB_CLI, 1, 1, -1, run_edit, "edit",
	  "edit NAME\n"
	  "      $VISUAL/$EDITOR on a copy; written when it validates" },
	{ "rm", CLI_CHANGE, 1, 1, CHANGE_RM, run_change, "rm",
	  "rm NAME\n      remove a fragment" },
	{ "enable", CLI_CHANGE, 1, 1, CHANGE_ENABLE, run_change, "enable",
	  "enable NAME\n      let a fragment run" },
	{ "disable", CLI_CHANGE, 1, 1, CHANGE_DISABLE, run_change, "disable",
	  "disable NAME\n      keep a fragment, as NAME.disabled" },
	{ "mv", CLI_CHANGE, 2, 2, CHANGE_MV, run_change, "mv",
	  "mv NAME NEWNAME\n      rename (renumber) a fragment" },
	{ "check", VERB_CLI | VERB_REPORTS | VERB_JSON, 0, 0, -1, run_check, "check",
	  "check [--json]\n"
	  "      validate the whole boot partition: one line per problem" },
	{ "log", VERB_CLI | VERB_NO_BOOT | VERB_JSON, 0, 0, -1, run_log, "show the boot log",
	  "log [--report FILE] [--json]\n"
	  "      the last boot: each fragment's result and time, root, pivot" },
	{ "once", CLI_CHANGE | VERB_GROUP, 1, 1, -1, run_once,
	  "boot once with label",
	  "once ENTRY\n"
	  "      boot ENTRY (earlyfs, rescue, previous, earlyfs-VERSION; an\n"
	  "      extlinux label) on the next boot only" },
	{ "generations", VERB_CLI | VERB_JSON, 0, 0, -1, run_generations,
	  "list the generations",
	  "generations [--json]\n      the recorded generations, newest last" },
	{ "rollback", CLI_CHANGE, 0, 1, CHANGE_ROLLBACK, run_change,
	  "roll back",
	  "rollback [N]\n"
	  "      restore generation N (default: the previous one) as a new one" },
	{ "install", VERB_CHANGES | VERB_CLI | VERB_REFRESH, 0, 256, -1,
	  run_install, "install",
	  "install [--refresh] BINARY...\n"
	  "      copy binaries from this host with their libraries and loader\n"
	  "      (--refresh: copy again what was installed, after an upgrade)" },
	{ "feature", VERB_CHANGES | VERB_CLI | VERB_FEATURE | VERB_JSON, 1, 17, -1,
	  run_feature, "change features",
	  "feature list [--json] | add FEATURE... | rm FEATURE...\n"
	  "          [--crypttab FILE] [--mdadm-conf FILE] [--force]\n"
	  "          [--authorized-keys FILE] [--ssh-host-keys system|DIR]\n"
	  "          [--ssh-port PORT] [--modules DIR] [--driver NAME[,NAME]]\n"
	  "      what early userspace does: luks, mdraid, fsck, pause,\n"
	  "      network, ssh; each with its fragments, binaries and\n"
	  "      configuration; kernels' module stubs made again with\n"
	  "      what they need" },
	{ "kernel", VERB_CLI | VERB_KERNEL | VERB_JSON, 1, 2, -1,
	  run_kernel, "change kernels",
	  "kernel list [--json] | add FILE [--default] [--force] | rm VERSION\n"
	  "          [--modules DIR] [--driver NAME[,NAME]]\n"
	  "      the kernels kept: each checked, kept as earlyfs-vmlinuz-\n"
	  "      VERSION (a name no package owns) with a label earlyfs-\n"
	  "      VERSION; the default label boots the newest that passed\n"
	  "      (or --default); the newest 2 are kept;\n"
	  "      with --driver, a kernel whose drivers are modules gets a\n"
	  "      module stub" },
	{ "loader", VERB_CLI | VERB_CHANGES, 1, 1, -1, run_loader, "loader",
	  "loader status | sync | remove | bless\n"
	  "      the boot loader's entries: what it is and where they are;\n"
	  "      written to the ESP again; earlyfs's taken off the ESP;\n"
	  "      this boot's counted entry marked good (systemd-boot)" },
	{ "seal", VERB_CLI | VERB_CHANGES | VERB_SEAL, 0, 0, -1, run_seal,
	  "seal",
	  "seal [--key KEY --cert CERT]\n"
	  "      boot only what is on the partition now: its manifest in\n"
	  "      unified kernel images signed with KEY (root's, 0600, off\n"
	  "      the boot partition and the ESP), systemd-boot signed too;\n"
	  "      at boot a difference stops it (Secure Boot, UEFI); the\n"
	  "      pair is recorded in /etc/earlyfs/seal.conf and every\n"
	  "      change seals again with it" },
	{ "enroll", VERB_CLI | VERB_SEAL, 0, 0, -1, run_enroll, "enroll",
	  "enroll [--key KEY --cert CERT]\n"
	  "      this machine's firmware, in setup mode, takes CERT as its\n"
	  "      Secure Boot keys: appended to db and KEK (what they hold\n"
	  "      stays), set as PK; only once the partition is sealed with\n"
	  "      it (default: the pair earlyfs seal recorded)" },
	{ "export", VERB_CLI | VERB_SEAL | VERB_EXPORT, 0, 0, -1, run_export,
	  "export",
	  "export --cpio FILE | --uki FILE [--key KEY --cert CERT]\n"
	  "      the early userspace without a partition (netboot, a VM\n"
	  "      template): the partition's tree as an initramfs archive\n"
	  "      whose /init is the runner, or that and the default kernel\n"
	  "      in a unified kernel image signed with KEY" },
	{ "remount", VERB_CLI, 1, 1, -1, run_remount, "remount",
	  "remount rw | ro\n"
	  "      the running machine's boot partition read-write until\n"
	  "      'remount ro' (dpkg's hooks, around each run); ro leaves\n"
	  "      read-write what remount rw did not make so" },
	{ "ping", VERB_SERVED | VERB_GROUP, 0, 0, -1, run_ping, "ping", NULL },
};
const size_t n_verbs = sizeof(verbs) / sizeof(verbs[0]);

const struct verb *verb_find(const char *name, unsigned flags)
{
	size_t i;

	for (i = 0; i < n_verbs; i++)
		if (!strcmp(verbs[i].name, name) &&
		    (verbs[i].flags & flags) == flags)
			return &verbs[i];
	return NULL;
}
