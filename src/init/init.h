/* init.h: what the stages of earlyfs-init share */
#ifndef EARLYFS_INIT_H
#define EARLYFS_INIT_H
#include "layout.h"
#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>
#include "bootcfg.h"
#include "envfile.h"
#include "report.h"

#define NEWROOT "/mnt"
#define STATE_DIR "/run/earlyfs"
#define ENV_FILE STATE_DIR "/env"
#define FRAGMENT_DIR "/" LAYOUT_INITD
#define FSTAB_PATH "/" LAYOUT_FSTAB
#define SHELL_PATH "/" LAYOUT_SHELL

/* log.c */
void log_open(void);
void log_kmsg_unlimit(void);
void log_kmsg_restore(void);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(3, __VA_ARGS__)
#define log_warn(...) log_msg(4, __VA_ARGS__)
#define log_notice(...) log_msg(5, __VA_ARGS__)
#define log_info(...) log_msg(6, __VA_ARGS__)
extern bool log_debug_on;
#define log_debug(...) do { if (log_debug_on) log_msg(7, __VA_ARGS__); } while (0)
long now_ms(void);	/* CLOCK_BOOTTIME, ms since the kernel started */

/* child.c */
void child_setup_signals(void);
/* Set by PID 1, whose dispositions are all default (see child.c). */
extern bool child_dispositions_default;
/* Default dispositions, an empty mask, fds above 2 close-on-exec: what
 * is done before every exec of PID 1 or a child of it. */
void child_clean(void);
/* Waits for pid, reaping every other child meanwhile.  timeout_ms < 0 waits
 * forever.  Returns 0 with *ret_status, or -ETIMEDOUT. */
int child_wait(pid_t pid, long timeout_ms, int *ret_status);
void child_reap(void);
/* Sleeps ms, reaping orphans meanwhile. */
void child_sleep(long ms);
/* Kills a process group: SIGTERM, a grace period, then SIGKILL. */
void child_kill_group(pid_t pgid, int *ret_status);

/* mounts.c */
bool is_mountpoint(const char *path);
void mounts_early(void);
/* proc_ours: /proc is the mount of mounts_proc_for_cmdline(); it stays if
 * the fstab's /proc line asks for that very mount, else it is unmounted
 * first and mounted as the fstab says. */
void mounts_fstab(const char *fstab_path, bool proc_ours);
void mounts_ensure_api(void);
/* Mounts /proc if it is not (nosuid, nodev, noexec), so the command line
 * can be read before fstab is; true if it did. */
bool mounts_proc_for_cmdline(void);

/* rootdev.c */
/* Finds the node of a device spec now; 0 with the path, -ENOENT if absent,
 * -EINVAL (with *ret_what) for a bad spec. */
int rootdev_find(const char *spec, char *ret_path, size_t cap,
		 const char **ret_what);
/* Waits up to wait_s for the device of spec (what_spec names it in
 * messages: "root device"; key is where the spec comes from, to check:
 * "earlyfs.root"): 0 with its node, or -errno having logged why. */
int rootdev_wait(const char *spec, unsigned wait_s, const char *what_spec,
		 const char *key, char *dev, size_t cap);
/* The file system type the device's first sectors show ("" if none). */
int rootdev_probe(const char *dev, char *ret_type, size_t cap);
/* Waits for and mounts the real root at NEWROOT; 0 or -errno, having
 * logged why. */
int rootdev_mount(const struct boot_config *cfg, struct boot_report *rep);
void rootdev_list_devices(char *buf, size_t cap);

/* fragments.c */
void fragments_run(const char *dir, const struct boot_config *cfg, struct envlist *env,
		   struct boot_report *rep);

/* procs.c */
#define PROCS_GRACE_MS 2000	/* SIGTERM, then SIGKILL after this */
/* Now, in the clock ticks /proc/PID/stat gives start times in. */
unsigned long long procs_ticks_now(void);
/* Stops every user process (not PID 1, not kernel threads) that started at
 * or after `since` (0: any) and is not kept: SIGTERM, a grace, SIGKILL;
 * each is logged and noted in the report with `when`. */
void procs_stop(unsigned long long since, struct boot_report *rep,
		const char *when);
/* Adds the PIDs in list (EARLYFS_KEEP) to those kept past the pivot. */
void procs_keep(const char *list);
/* Notes the kept processes still running in the report. */
void procs_report_kept(struct boot_report *rep);

/* rescue.c */
/* Opens an interactive shell on the console after printing why; returns
 * when it exits.  false if no shell could be started. */
bool rescue_shell(const struct envlist *env, const char *why);
/* For fatal paths: a shell if possible (returns when it exits, so the
 * caller can retry), else waits forever. */
void rescue_or_hang(const struct boot_config *cfg, const struct envlist *env,
		    const char *why);

/* switchroot.c */
int switchroot_check_init(const char *init);
/* boot_at: where the boot partition stays (earlyfs.boot=) */
int switchroot(const char *boot_at);

/* ask.c: a question answered on the console or over SSH, whichever is
 * first (the protocol is described there) */
#define ASK_SOCKET STATE_DIR "/ask"
#define ASK_CLIENTS 4
#define ASK_ANSWER_MAX 512
#define ASK_LINE_MAX 640
struct ask_client {
	int fd;
	size_t used;
	char buf[ASK_ANSWER_MAX + 2];
};
struct ask {
	int lfd;
	bool tty, console_eof;
	struct termios saved;
	struct ask_client c[ASK_CLIENTS];
};
/* Ready to ask on the console; listening on ASK_SOCKET too if asked to
 * (0, or -errno: then only the console answers). */
int ask_open(struct ask *a, bool listening);
/* dropbear's, while the ssh feature's server runs */
#define SSH_PIDFILE "/run/dropbear.pid"
void ask_close(struct ask *a);
/* The answer's length (in ans, NUL-terminated; *remote if it came over
 * SSH), or -EIO when neither the console nor a session can answer. */
ssize_t ask_question(struct ask *a, bool secret, const char *prompt,
		     char *ans, size_t cap, bool *remote);
/* "earlyfs: TEXT" on the console, and kind ("OK", "NO", "SAY") TEXT to
 * every session. */
void ask_tell(struct ask *a, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* askclient.c: the session side, as root's login shell (earlyfs-shell)
 * and the commands earlyfs-unlock and earlyfs-continue */
int client_shell(int argc, char **argv);
int client_unlock(void);
int client_continue(void);

/* tools.c: subcommands for fragments; each returns an exit status */
int tool_unlock(const struct boot_config *cfg);
int tool_pause(void);
int tool_root_device(const struct boot_config *cfg);

/* stub.c: /init of a module stub; never returns */
int stub_main(char **envp);
/* An exported early userspace (earlyfs export) with a module stub in
 * front of it: the stub's modules loaded, then the runner goes on from
 * the initramfs itself. */
void stub_exported(void);

/* main.c */
void report_write(struct boot_report *rep);
#endif
