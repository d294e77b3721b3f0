/* make bench, part 8: the sealed boot's verification run natively, not
 * under emulation: seal_scan() of earlyfs-init's own build (the static
 * library, SHA-256 at -O2) over a mounted boot partition, in a
 * generation's scope as the default image checks it.
 *
 *   sealscan DIR GENERATION  ->  "MS FILES BYTES" (the scan's wall clock,
 *   the regular files and their bytes hashed)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "seal.h"

struct count {
	unsigned long files;
	unsigned long long bytes;
};

static int counted(void *ctx, int dfd, const char *name, const char *path,
		   size_t path_len, const struct stat *st)
{
	struct count *c = ctx;

	(void)dfd; (void)name; (void)path; (void)path_len;
	if (S_ISREG(st->st_mode)) {
		c->files++;
		c->bytes += (unsigned long long)st->st_size;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct seal_scope scope = { 0 };
	struct count c = { 0, 0 };
	struct timespec a, b;
	char *m = NULL;
	size_t l;
	int fd, r;

	if (argc != 3) {
		fprintf(stderr, "usage: sealscan DIR GENERATION\n");
		return 2;
	}
	scope.generation = (unsigned)strtoul(argv[2], NULL, 10);
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = seal_scan(fd, &scope, &m, &l);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (r == 0)
		r = seal_walk(fd, &scope, counted, &c);
	if (r < 0) {
		fprintf(stderr, "sealscan: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	printf("%.3f %lu %llu\n", (double)(b.tv_sec - a.tv_sec) * 1e3 +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e6, c.files, c.bytes);
	free(m);
	close(fd);
	return 0;
}
