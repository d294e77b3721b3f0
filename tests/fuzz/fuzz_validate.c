/* src/admin's validators on what a client or a partition brings: the
 * first byte picks one, the rest is the file (ASan sees a read past it) */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "extlinux.h"
#include "fuzz.h"
#include "features/sshkeys.h"
#include "change/validate.h"

static char top[] = "/tmp/earlyfs-fuzz-validate-XXXXXX";
static int root = -1;
static FILE *sink;

/* Files the partition's checks look up, each a path below top. */
static const char *const files[] = {
	"bin/sh", "bin/busybox", "lib/x86_64-linux-gnu/libc.so.6",
	"lib64/ld-linux-x86-64.so.2", "vmlinuz",
};
static const char *const dirs[] = {
	"bin", "lib", "lib/x86_64-linux-gnu", "lib64", "etc", "init.d",
	"extlinux",
};
/* Where the input goes for the validators that read a file. */
static const char *const inputs[] = {
	"etc/fstab", "extlinux/extlinux.conf", "init.d/10-x", "bin/tool",
	"etc/crypttab", "etc/earlyfs.conf",
};

static void cleanup(void)
{
	char path[sizeof(top) + 64];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, files[i]);
		unlink(path);
	}
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, inputs[i]);
		unlink(path);
	}
	for (i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;) {
		snprintf(path, sizeof(path), "%s/%s", top, dirs[i]);
		rmdir(path);
	}
	rmdir(top);
}

static void setup(void)
{
	char path[sizeof(top) + 64];
	size_t i;
	int fd;

	if (!mkdtemp(top))
		abort();
	atexit(cleanup);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, dirs[i]);
		mkdir(path, 0755);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, files[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
		if (fd >= 0)
			close(fd);
	}
	root = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sink = fopen("/dev/null", "w");
	if (root < 0 || !sink)
		abort();
}

static void put(const char *rel, const char *buf, size_t len)
{
	int fd = openat(root, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0755);

	if (fd < 0)
		return;
	if (write(fd, buf, len) < 0) {
		/* the validator then reads what is there */
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct extlinux_conf conf;
	struct problems p;
	unsigned pick;
	char *buf;

	if (root < 0)
		setup();
	if (size == 0)
		return 0;
	pick = data[0] % 11;
	buf = fuzz_exact(data + 1, size - 1);
	size--;
	if (!buf)
		return 0;
	p = (struct problems){ sink, 0, NULL };
	switch (pick) {
	case 0:	/* a fragment an earlyfsd client or 'earlyfs add' brings */
	case 1:
		validate_fragment_bytes(root, buf, size, pick == 0, "f", &p);
		break;
	case 2:
		validate_crypttab_bytes(buf, size, "crypttab", &p);
		break;
	case 3:
		ssh_validate_keys(buf, size, "authorized_keys", &p);
		break;
	case 4:
		validate_mdadm_conf_bytes(buf, size, "mdadm.conf", &p);
		break;
	case 5:	/* the partition's own files */
		put(inputs[0], buf, size);
		validate_fstab(root, inputs[0], "fstab", &p);
		break;
	case 6:
		put(inputs[1], buf, size);
		validate_extlinux(root, inputs[1], "extlinux.conf", &conf, &p);
		break;
	case 7:
		put(inputs[2], buf, size);
		validate_fragment(root, inputs[2], "10-x", &p);
		break;
	case 8:
		put(inputs[3], buf, size);
		validate_elf(root, inputs[3], "tool", &p);
		break;
	case 9:
		put(inputs[4], buf, size);
		validate_crypttab(root, inputs[4], "crypttab", &p);
		break;
	default:	/* the record, and the loader it names */
		put(inputs[5], buf, size);
		validate_for(inputs[5])(root, inputs[5], "earlyfs.conf", &p);
		break;
	}
	free(buf);
	return 0;
}
