/* admin.h: the management library (libblkid, libfdisk, libext2fs) */
#ifndef EARLYFS_ADMIN_H
#define EARLYFS_ADMIN_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* Exit codes of the CLI, documented in earlyfs(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* a step failed; the message names it */
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,	/* a safety check refused the target */
	EXIT_KERNEL = 4,	/* the kernel cannot boot without an initramfs */
};

/* One error message, filled where the decision is made, printed by the CLI. */
struct err {
	char msg[1024];
	int code;		/* one of the EXIT_* */
};
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* util.c */
/* Runs argv, waits; returns its exit status, or -errno if it could not
 * start.  stdout goes to /dev/null, stderr (its start) to errbuf. */
int run_cmd(char *const argv[], char *errbuf, size_t errcap);
int loop_attach(const char *file, uint64_t offset, uint64_t size,
		bool readonly, char *ret_dev, size_t cap);
int loop_detach(const char *dev);
int mkdtemp_in(const char *prefix, char *ret, size_t cap);
int copy_file_dense(const char *src, const char *dst, mode_t mode);
int rm_rf(const char *path);
const char *data_dir(void);	/* templates/, init.d/, earlyfs-init */
const char *init_binary(void);
char *read_text(const char *path, size_t max);	/* NULL on error */
int write_text(const char *path, const char *text, mode_t mode);
uint64_t tree_bytes(const char *dir);
double elapsed_s(const struct timespec *start);
/* KEY=value from BOOT/etc/earlyfs.conf: 0, -ENOENT, -E2BIG, -errno. */
int boot_conf_get(const char *boot, const char *key, char *ret, size_t cap);
struct elf_deps;
/* 0 with what an ELF file needs, -ENOEXEC if it is not ELF, -errno. */
int elf_read_deps(const char *path, struct elf_deps *ret);

/* target.c: what is being provisioned, found before anything is written */
enum table_type { TABLE_NONE, TABLE_DOS, TABLE_GPT, TABLE_OTHER };

struct target {
	char arg[4096];		/* as given */
	bool is_image;
	char disk[4096];	/* the image file or the parent disk node */
	unsigned partno;
	uint64_t offset, size;	/* bytes, within disk */
	unsigned sector_size;
	enum table_type table;
	char partuuid[64];
	bool bootable;
	char dev[4096];		/* what mke2fs writes: partition or loop */
	bool loop_attached;
};

int target_resolve(const char *arg, unsigned partno, struct target *t,
		   struct err *e);
/* Mounted, swap, holders, loops mapping an image's partition. */
int target_check_unused(const struct target *t, struct err *e);
int target_attach(struct target *t, struct err *e);
void target_detach(struct target *t);

/* probe.c: libblkid */
struct signature {
	char type[64], label[256], uuid[128];
};
/* 1 with the first signature found in [offset, offset+size) of path,
 * 0 if none, -errno. */
int probe_signature(const char *path, uint64_t offset, uint64_t size,
		    struct signature *ret);
/* Checks a root spec resolves here; fills the device and its fs type. */
int root_resolve(const char *spec, char *ret_dev, size_t cap,
		 char *ret_type, size_t tcap, struct err *e);
/* The spec of the device mounted at / now (PARTUUID= if it has one). */
int root_current(char *ret_spec, size_t cap, struct err *e);

/* disk.c: libfdisk */
int disk_read_partition(struct target *t, struct err *e);
int disk_set_boot_flag(const struct target *t, struct err *e);
struct image_spec {
	uint64_t size, boot_size;
	enum table_type table;
	const char *root_from;
};
int image_create(const char *path, const struct image_spec *s, bool force,
		 struct err *e);

/* kernelcheck.c */
struct kernel_info {
	char path[4096];
	char version[128];	/* first word of the bzImage version string */
	char config_from[4096];
	char *config;		/* text of .config, malloc'ed */
};
/* The running kernel's image: /boot/vmlinuz-$(uname -r). */
void kernel_default_path(char *ret, size_t cap);
int kernel_inspect(const char *path, const char *config_path,
		   struct kernel_info *k, struct err *e);
void kernel_info_free(struct kernel_info *k);
struct kernel_needs {
	const char *boot_fstype;	/* "ext4" */
	const char *root_fstype;	/* NULL if unknown */
	enum table_type table;		/* TABLE_NONE: both parsers */
	const char *drivers[16];	/* driver names from sysfs or --driver */
	size_t n_drivers;
};
/* Returns 0 if every need is built in; else EXIT_KERNEL with the list. */
int kernel_check(const struct kernel_info *k, const struct kernel_needs *n,
		 FILE *out, struct err *e);
/* Drivers between a block device and the bus, from sysfs. */
size_t disk_drivers(const char *dev, const char **ret, size_t max);

/* provision.c */
struct provision_opts {
	const char *target;
	unsigned partno;
	const char *root;
	const char *kernel;
	const char *config;
	const char *label;
	const char *drivers[16];
	size_t n_drivers;
	bool force, dry_run, no_mbr;
	unsigned timeout;	/* extlinux menu, tenths of a second */
	const char *append;	/* extra kernel command line */
};
int provision(const struct provision_opts *o, FILE *out, struct err *e);

/* status.c: libext2fs, without mounting */
int status_target(const char *target, unsigned partno, FILE *out,
		  struct err *e);
int status_running(FILE *out, struct err *e);

/* populate.c, bootloader.c: provisioning steps */
struct template_var;
int stage_tree(const char *root, struct err *e);
int install_kernel(const char *mnt, const struct kernel_info *k,
		   struct err *e);
int extlinux_write_conf(const char *mnt, const struct template_var *vars,
			size_t n, struct err *e);
int extlinux_install(const char *mnt, struct err *e);
int mbr_write(const char *disk, enum table_type table, struct err *e);

/* edit.c: changes to a mounted boot partition, as numbered generations */
#define BOOT_DEFAULT "/boot"
#define GEN_DIR "generations"
#define GEN_KEEP 10	/* unless etc/earlyfs.conf says keep_generations= */

struct boot {
	char dir[4096];		/* the mounted boot partition */
	char name[4096];	/* what the user gave, for messages */
	int fd;			/* its root directory; flock'ed while locked */
	bool write, locked, remounted;
	unsigned keep;
	/* --target: attached and mounted here by us */
	struct target t;
	int img_fd;
	char tmpmnt[4096];
	bool mounted;
};
/* dir (default /boot), or target/partno attached and mounted privately. */
int boot_open(const char *dir, const char *target, unsigned partno,
	      bool write, struct boot *b, struct err *e);
void boot_close(struct boot *b);
/* Takes the lock every writer shares, makes the partition writable,
 * finishes an interrupted change. */
int boot_lock(struct boot *b, FILE *out, struct err *e);
void boot_unlock(struct boot *b, FILE *out);

struct generation {
	unsigned n;
	time_t when;
	char desc[256];
	bool applied;
};
int generations_list(const struct boot *b, struct generation **ret,
		     size_t *ret_n);

enum change_op {
	CHANGE_PUT,	/* write name (add it, or replace it) */
	CHANGE_ADD,	/* write name, refused if it exists */
	CHANGE_RM, CHANGE_ENABLE, CHANGE_DISABLE, CHANGE_MV,
	CHANGE_ROLLBACK,
	CHANGE_RECORD,	/* record direct edits of the live tree */
};
struct change {
	enum change_op op;
	const char *name, *newname;
	const char *data;
	size_t len;
	bool has_base;		/* refuse unless the current content hashes */
	uint64_t base;		/* to base (request_hash) */
	unsigned gen;		/* rollback target; 0: the one before */
	bool force;		/* record: even what does not validate */
};
/* Validates, writes, records a generation; one line on out.  0 or -1. */
int change_commit(struct boot *b, const struct change *c, FILE *out,
		  struct err *e);
/* Files edited without earlyfs since the last generation (a list for
 * messages in list); 0 when there are none.  Takes no lock. */
size_t direct_edits(struct boot *b, char *list, size_t cap);
/* NAME or NAME.disabled in init.d: 0 with the file name, or -ENOENT. */
int fragment_find(const struct boot *b, const char *name, char *ret_file,
		  size_t cap, bool *ret_disabled);
/* A user's NAME (".disabled" dropped) checked against the naming rule. */
int fragment_name_arg(const char *arg, char *ret, size_t cap, struct err *e);

/* client.c: through earlyfsd at sock when it listens, else in-process
 * under the same lock.  sock NULL: always in-process. */
#define SOCKET_DEFAULT "/run/earlyfs/earlyfsd.sock"
/* The request verb of each change and its number of arguments. */
struct change_verb {
	const char *verb;
	size_t min_args, max_args;
};
extern const struct change_verb change_verbs[];
int change_verb_find(const char *verb, enum change_op *ret);
int change_submit(struct boot *b, const char *sock, const struct change *c,
		  FILE *out, struct err *e);
/* extlinux --once=LABEL, after checking the label exists. */
int once_set(struct boot *b, const char *label, FILE *out, struct err *e);
int once_submit(struct boot *b, const char *sock, const char *label,
		FILE *out, struct err *e);

/* editor.c: $VISUAL or $EDITOR (default vi) on a copy of NAME; submitted
 * when the editor exits 0, refused if NAME changed meanwhile. */
int fragment_edit(struct boot *b, const char *sock, const char *arg,
		  FILE *out, struct err *e);

/* inspect.c: read-only views */
struct boot_report;
/* The boot report at path (malloc'ed), or NULL with why there is none. */
struct boot_report *report_load(const char *path, char *why, size_t cap);
int fragments_print(const struct boot *b, const char *report, FILE *out,
		    struct err *e);
int log_print(const char *report, FILE *out, struct err *e);
int generations_print(const struct boot *b, FILE *out, struct err *e);
int fragment_show(const struct boot *b, const char *arg, FILE *out,
		  struct err *e);

/* check.c: one line per problem on out; EXIT_FAILED if any.  running:
 * the root spec must resolve on this machine. */
int check_tree(const struct boot *b, bool running, FILE *out, struct err *e);

/* validate.c: each problem is one line on out (when not NULL), counted */
struct problems {
	FILE *out;
	size_t n;
};
void problem(struct problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* root: the tree the file belongs to (interpreters, libraries, busybox);
 * file: where to read it; shown: its name in messages. */
void validate_fragment(const char *root, const char *file, const char *shown,
		       struct problems *p);
void validate_elf(const char *root, const char *file, const char *shown,
		  struct problems *p);
void validate_fstab(const char *file, const char *shown, struct problems *p);
struct extlinux_conf;
/* Parses and checks every label's kernel exists under boot; 0 or -1. */
int validate_extlinux(const char *boot, const char *file, const char *shown,
		      struct extlinux_conf *ret, struct problems *p);
#endif
