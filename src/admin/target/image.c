/* image: see image.h */
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/run.h"
#include "target/esp.h"
#include "target/image.h"
#include "target/target.h"

int image_create(const char *path, const struct image_spec *s, bool force,
		 struct err *e)
{
	char sizes[64], offset[64], errbuf[512];
	struct fdisk_part root;
	struct stat st;
	int fd, r;

	if (s->esp_size && s->table != TABLE_GPT)
		return err_set(e, EXIT_USAGE, "--esp-size goes with a GPT "
			       "table (--table gpt): firmware finds an ESP by "
			       "its GPT type");
	if (s->esp_size && s->esp_size < ESP_MIN_SIZE)
		return err_set(e, EXIT_USAGE, "--esp-size must be at least "
			       "%u MiB", ESP_MIN_SIZE >> 20);
	if (s->esp_size + s->boot_size + (2 << 20) >= s->size)
		return err_set(e, EXIT_USAGE, "--boot-size%s must leave room "
			       "for the root partition in --size",
			       s->esp_size ? " and --esp-size" : "");
	if (stat(path, &st) == 0 && !force)
		return err_set(e, EXIT_REFUSED, "%s exists; use --force to "
			       "replace it", path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return err_set(e, EXIT_REFUSED, "%s is not a regular file; "
			       "image create writes image files only", path);
	r = target_image_unused(path, e);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)s->size) < 0) {
		r = err_set(e, EXIT_FAILED, "cannot create %s: %s", path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	close(fd);
	r = fdisk_make_image_table(path, s->esp_size, s->boot_size, s->table,
				   e);
	if (r == 0 && s->esp_size) {
		struct fdisk_part esp;

		r = fdisk_read_partition(path, 1, &esp, e);
		if (r == 0)
			r = esp_format_image(path, esp.offset, esp.size, e);
	}
	/* the root partition: ext4, from a directory if asked; mke2fs
	 * writes at an offset into the image, no loop device needed */
	if (r == 0)
		r = fdisk_read_partition(path, IMAGE_ROOT_PART(s), &root, e);
	if (r < 0)
		goto fail;
	snprintf(offset, sizeof(offset), "offset=%llu",
		 (unsigned long long)root.offset);
	snprintf(sizes, sizeof(sizes), "%lluk",
		 (unsigned long long)(root.size / 1024));
	{
		/* -d DIR, the image, its size, and the NULL that ends it */
		char *argv[14] = { "mke2fs", "-q", "-F", "-t", "ext4", "-L",
				   "root", "-E", offset };
		int a = 9;

		if (s->root_from) {
			argv[a++] = "-d";
			argv[a++] = (char *)s->root_from;
		}
		argv[a++] = (char *)path;
		argv[a++] = sizes;
		r = run_cmd(argv, errbuf, sizeof(errbuf));
	}
	if (r != 0) {
		r = err_set(e, EXIT_FAILED, "mke2fs of the root partition "
			    "failed: %s", errbuf);
		goto fail;
	}
	return 0;
fail:
	unlink(path);
	return r;
}
