/* run: host programs run with no shell: argv, stdin, stdout, stderr */
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "exitcode.h"
#include "atomic.h"
#include "base/run.h"

int run_cmd(char *const argv[], char *errbuf, size_t errcap)
{
	return run_filter(argv, -1, 0, -1, 0, errbuf, errcap);
}

int run_filter(char *const argv[], int in, off_t in_off, int out,
	       off_t out_max, char *errbuf, size_t errcap)
{
	char chunk[512];
	int pipefd[2];
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
	return exitcode_wait(pid);
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

int run_memfd(const char *name, const void *buf, size_t len)
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
