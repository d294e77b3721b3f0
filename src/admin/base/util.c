/* util: host commands, loop devices, temp dirs, dense copies, data paths */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "atomic.h"
#include "base/beneath.h"
#include "elfdeps.h"
#include "kv.h"
#include "layout.h"
#include "text.h"
#include "base/util.h"

int run_cmd(char *const argv[], char *errbuf, size_t errcap)
{
	return run_filter(argv, -1, 0, -1, 0, errbuf, errcap);
}

int run_filter(char *const argv[], int in, off_t in_off, int out,
	       off_t out_max, char *errbuf, size_t errcap)
{
	char chunk[512];
	int pipefd[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (errbuf && errcap)
		errbuf[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		struct rlimit fsize = { (rlim_t)out_max, (rlim_t)out_max };

		if (in >= 0 && lseek(in, in_off, SEEK_SET) < 0)
			_exit(126);
		if (out >= 0 && out_max && setrlimit(RLIMIT_FSIZE, &fsize) < 0)
			_exit(126);
		dup2(in >= 0 ? in : null, 0);
		dup2(out >= 0 ? out : null, 1);
		dup2(pipefd[1], 2);
		signal(SIGXFSZ, SIG_DFL);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0) {
		size_t k = (size_t)n;

		if (!errbuf || used + 1 >= errcap)
			continue;	/* drain, keep the beginning */
		if (k > errcap - used - 1)
			k = errcap - used - 1;
		memcpy(errbuf + used, chunk, k);
		used += k;
	}
	close(pipefd[0]);
	if (errbuf && errcap) {
		errbuf[used] = '\0';
		while (used && (errbuf[used - 1] == '\n'))
			errbuf[--used] = '\0';
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int loop_attach(const char *file, uint64_t offset, uint64_t size,
		bool readonly, char *ret_dev, size_t cap)
{
	struct loop_config cfg;
	int ctl, nr, fd, dev = -1, r = 0, tries;

	fd = open(file, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	for (tries = 0; tries < 16; tries++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0) {
			r = -errno;
			break;
		}
		snprintf(ret_dev, cap, "/dev/loop%d", nr);
		dev = open(ret_dev, O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			r = -errno;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)fd;
		cfg.info.lo_offset = offset;
		cfg.info.lo_sizelimit = size;
		/* autoclear: the device goes with its last user, so a
		 * killed command leaves none behind; the fd returned keeps
		 * it while we need it */
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR |
				    (readonly ? LO_FLAGS_READ_ONLY : 0);
		strncpy((char *)cfg.info.lo_file_name, file, LO_NAME_SIZE - 1);
		r = ioctl(dev, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
		if (r == 0)
			break;
		close(dev);
		dev = -1;
		if (r != -EBUSY)
			break;
	}
	close(ctl);
	close(fd);
	return r < 0 ? r : dev;
}

int private_mounts(void)
{
	static bool done;

	if (done)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	done = true;
	return 0;
}

void tmp_clean_dead(void)
{
	static const char *const ours[] = { "earlyfs-edit.", "earlyfs-mnt." };
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	size_t i;

	tmp = tmp && *tmp ? tmp : "/tmp";
	d = opendir(tmp);
	while (d && (de = readdir(d))) {
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
			size_t l = strlen(ours[i]);
			long pid;
			char *end;

			if (strncmp(de->d_name, ours[i], l))
				continue;
			pid = strtol(de->d_name + l, &end, 10);
			if (end == de->d_name + l || *end != '.' || pid <= 0 ||
			    (kill((pid_t)pid, 0) < 0 && errno != ESRCH) ||
			    kill((pid_t)pid, 0) == 0)
				continue;
			/* its creator is dead: an empty directory goes (a
			 * non-empty one is not ours to judge) */
			snprintf(path, sizeof(path), "%s/%s", tmp, de->d_name);
			rmdir(path);
		}
	}
	if (d)
		closedir(d);
}

int loop_detach(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
		r = -errno;
	close(fd);
	return r;
}

int mkdtemp_in(const char *prefix, char *ret, size_t cap)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(ret, cap, "%s/%s.%ld.XXXXXX", tmp && *tmp ? tmp : "/tmp",
		 prefix, (long)getpid());
	return mkdtemp(ret) ? 0 : -errno;
}

int mkstemp_in(const char *prefix, char *ret, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(ret, cap, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
	fd = mkostemp(ret, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Writes every block, zeros included: syslinux cannot read holes. */
int copy_file_dense(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in, out, r = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ssize_t off = 0;

		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0) {
				r = -errno;
				goto out;
			}
			off += w;
		}
	}
	if (n < 0)
		r = -errno;
	if (r == 0 && fsync(out) < 0)
		r = -errno;
out:
	if (close(out) < 0 && r == 0)
		r = -errno;
	close(in);
	return r;
}

int rm_rf(const char *path)
{
	char *const argv[] = { "rm", "-rf", "--one-file-system", "--",
			       (char *)path, NULL };

	return run_cmd(argv, NULL, 0) == 0 ? 0 : -EIO;
}

int host_which(const char *name, char *ret, size_t cap)
{
	static const char *const dirs[] = { "/usr/local/sbin",
		"/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(ret, cap, "%s/%s", dirs[i], name);
		if (access(ret, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Beside the binary in a build tree (build/earlyfs -> templates/), else
 * the installed location; EARLYFS_DATADIR overrides. */
const char *data_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], probe[PATH_MAX + 32], *slash;
	const char *env = getenv("EARLYFS_DATADIR");
	ssize_t n;

	if (dir[0])
		return dir;
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(probe, sizeof(probe), "%s/../templates/fstab", exe);
			if (access(probe, R_OK) == 0) {
				snprintf(dir, sizeof(dir), "%s/..", exe);
				return dir;
			}
		}
	}
	snprintf(dir, sizeof(dir), "%s", EARLYFS_DATADIR);
	return dir;
}

const char *init_binary(void)
{
	static char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/build/earlyfs-init", data_dir());
	if (access(path, R_OK) == 0)
		return path;
	snprintf(path, sizeof(path), "%s/earlyfs-init", data_dir());
	return path;
}

int write_text(const char *path, const char *text, mode_t mode)
{
	return atomic_write_file(path, text, strlen(text), mode);
}

uint64_t tree_bytes(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint64_t total = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			continue;
		/* a block per inode at least, as the file system will spend */
		total += ((uint64_t)st.st_size + 4095) / 4096 * 4096 + 4096;
		if (S_ISDIR(st.st_mode))
			total += tree_bytes(path);
	}
	closedir(d);
	return total;
}

double elapsed_s(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int elf_read_deps_fd(int fd, struct elf_deps *ret)
{
	struct stat st;
	char magic[4];
	void *p;
	int r;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, magic, 4, 0) != 4 || !elf_is_elf(magic, 4))
		return -ENOEXEC;
	if (st.st_size > ELF_SIZE_MAX)
		return -EFBIG;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r = elf_deps_parse(p, (size_t)st.st_size, ret);
	munmap(p, (size_t)st.st_size);
	return r;
}

int elf_read_deps(const char *path, struct elf_deps *ret)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = elf_read_deps_fd(fd, ret);
	close(fd);
	return r;
}

int boot_conf_get(int dir, const char *key, char *ret, size_t cap)
{
	char *conf;
	size_t len;
	int r;

	r = beneath_read(dir, LAYOUT_CONF, LAYOUT_CONF_MAX, &conf, &len);
	if (r < 0)
		return r;
	r = kv_get(conf, len, key, ret, cap);
	free(conf);
	return r;
}

char *boot_conf_with(int dir, const char *key, const char *value,
		     size_t *ret_len)
{
	size_t len = 0, pos = 0, l, kl, vl, klen = strlen(key);
	const char *line, *k, *v;
	char *buf = NULL, *text = NULL;
	bool done = false;
	FILE *f;

	if (beneath_read(dir, LAYOUT_CONF, LAYOUT_CONF_MAX, &buf, &len) < 0)
		len = 0;
	f = open_memstream(&text, ret_len);
	if (!f) {
		free(buf);
		return NULL;
	}
	while (buf && text_next_line(buf, len, &pos, &line, &l) != 0) {
		if (kv_parse_line(line, l, &k, &kl, &v, &vl) == 1 &&
		    kl == klen && !memcmp(k, key, kl)) {
			if (!done)
				fprintf(f, "%s=%s\n", key, value);
			done = true;
			continue;
		}
		fprintf(f, "%.*s\n", (int)l, line);
	}
	if (!done)
		fprintf(f, "%s=%s\n", key, value);
	free(buf);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int run_capture(char *const argv[], int in, off_t in_off, size_t max,
		char **ret, size_t *ret_len, char *errbuf, size_t errcap)
{
	int out = memfd_create("earlyfs-capture", MFD_CLOEXEC), r, st;

	*ret = NULL;
	if (out < 0)
		return -errno;
	st = run_filter(argv, in, in_off, out, (off_t)max, errbuf, errcap);
	r = st < 0 ? st : lseek(out, 0, SEEK_SET) == 0 ?
		read_fd(out, max, ret, ret_len) : -errno;
	close(out);
	return r < 0 ? r : st;
}

int memfd_of(const char *name, const void *buf, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	const char *p = buf;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len) {
		n = write(fd, p, len);
		if (n <= 0) {
			n = n < 0 ? -errno : -EIO;
			close(fd);
			return (int)n;
		}
		p += n;
		len -= (size_t)n;
	}
	return fd;
}

int sysfs_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}
