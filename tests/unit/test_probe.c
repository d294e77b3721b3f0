/* Unit tests: device specs, and superblock and partition-table probes on
 * images made by mke2fs and sfdisk */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "devspec.h"
#include "probe.h"

static void test_devspec(void)
{
	struct devspec d;
	const char *what;

	CHECK_INT(devspec_parse("/dev/sda3", &d, &what), 0);
	CHECK_INT(d.kind, DEVSPEC_PATH);
	CHECK_INT(devspec_parse("UUID=6f5401f8-12df-4e17-9935-5478f161d51a", &d,
				&what), 0);
	CHECK_INT(d.kind, DEVSPEC_UUID);
	CHECK(devspec_matches(&d, "6F5401F8-12DF-4E17-9935-5478F161D51A"));
	CHECK(!devspec_matches(&d, "6f5401f8-12df-4e17-9935-5478f161d51b"));
	CHECK_INT(devspec_parse("LABEL=\"my root\"", &d, &what), 0);
	CHECK_STR(d.value, "my root");
	CHECK(devspec_matches(&d, "my root"));
	CHECK(!devspec_matches(&d, "My root"));
	CHECK_INT(devspec_parse("PARTUUID=a63ad8c1-03", &d, &what), 0);
	CHECK_INT(d.kind, DEVSPEC_PARTUUID);
	CHECK_INT(devspec_parse("PARTLABEL=EFI system", &d, &what), 0);
	CHECK_INT(d.kind, DEVSPEC_PARTLABEL);

	CHECK_INT(devspec_parse("", &d, &what), -EINVAL);
	CHECK_INT(devspec_parse("sda3", &d, &what), -EINVAL);
	CHECK(strstr(what, "UUID=") != NULL);
	CHECK_INT(devspec_parse("/etc/passwd", &d, &what), -EINVAL);
	CHECK_INT(devspec_parse("/dev/", &d, &what), -EINVAL);
	CHECK_INT(devspec_parse("UUID=", &d, &what), -EINVAL);
	CHECK_INT(devspec_parse("UUID=not-a-uuid!", &d, &what), -EINVAL);
	CHECK_INT(devspec_parse("PARTUUID=12", &d, &what), -EINVAL);
	CHECK_INT(devspec_parse("uuid=6f5401f8-12df", &d, &what), -EINVAL);

	char big[400] = "LABEL=";
	memset(big + 6, 'x', 300);
	big[306] = '\0';
	CHECK_INT(devspec_parse(big, &d, &what), -E2BIG);
}

static uint8_t *read_image(const char *path, size_t len)
{
	uint8_t *buf = calloc(1, len);
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, buf, len) < 0)
		CHECK(!"cannot read image");
	if (fd >= 0)
		close(fd);
	return buf;
}

static void test_ext4(void)
{
	struct fs_id id;
	uint8_t *buf;

	CHECK_INT(system("mke2fs -q -F -t ext4 -O ^has_journal -L earlyboot "
			 "-U 0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e "
			 "/tmp/earlyfs-unit-ext4.img 4M >/dev/null"), 0);
	buf = read_image("/tmp/earlyfs-unit-ext4.img", PROBE_FS_BYTES);
	CHECK_INT(probe_fs(buf, PROBE_FS_BYTES, &id), 1);
	CHECK_STR(id.type, "ext4");
	CHECK_STR(id.uuid, "0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e");
	CHECK_STR(id.label, "earlyboot");
	/* the first PROBE_FS_FIRST bytes give the same answer */
	CHECK_INT(probe_fs(buf, PROBE_FS_FIRST, &id), 1);
	CHECK_STR(id.type, "ext4");
	CHECK_STR(id.uuid, "0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e");
	/* too short a buffer is no match, not a read past the end */
	CHECK_INT(probe_fs(buf, 1100, &id), 0);
	memset(buf + 1024 + 56, 0, 2);
	CHECK_INT(probe_fs(buf, PROBE_FS_BYTES, &id), 0);
	free(buf);
	unlink("/tmp/earlyfs-unit-ext4.img");
}

/* A LUKS2 header as cryptsetup writes it (header only works without
 * device-mapper), then the same bytes with a UUID that is not one. */
static void test_luks(void)
{
	struct fs_id id;
	uint8_t *buf;

	CHECK_INT(system("truncate -s 20M /tmp/earlyfs-unit-luks.img && "
			 "printf x | cryptsetup luksFormat --type luks2 -q "
			 "--pbkdf pbkdf2 --pbkdf-force-iterations 1000 "
			 "--uuid 5a1c3e2f-7b6d-4e8a-9c0b-1d2e3f405162 "
			 "--label secret --key-file - "
			 "/tmp/earlyfs-unit-luks.img"), 0);
	buf = read_image("/tmp/earlyfs-unit-luks.img", PROBE_FS_BYTES);
	CHECK_INT(probe_fs(buf, PROBE_FS_BYTES, &id), 1);
	CHECK_STR(id.type, "crypto_LUKS");
	CHECK_STR(id.uuid, "5a1c3e2f-7b6d-4e8a-9c0b-1d2e3f405162");
	CHECK_STR(id.label, "secret");
	CHECK_INT(probe_fs(buf, PROBE_FS_FIRST, &id), 1);
	CHECK_STR(id.type, "crypto_LUKS");
	/* a stale btrfs signature at 64 KiB does not hide the header at 0,
	 * so a reader that stops at PROBE_FS_FIRST bytes agrees */
	memcpy(buf + 65536 + 0x40, "_BHRfS_M", 8);
	CHECK_INT(probe_fs(buf, PROBE_FS_BYTES, &id), 1);
	CHECK_STR(id.type, "crypto_LUKS");
	/* where nothing is in the first 4 KiB, btrfs needs all 68 */
	memset(buf, 0, PROBE_FS_FIRST);
	CHECK_INT(probe_fs(buf, PROBE_FS_FIRST, &id), 0);
	CHECK_INT(probe_fs(buf, PROBE_FS_BYTES, &id), 1);
	CHECK_STR(id.type, "btrfs");
	free(buf);
	buf = read_image("/tmp/earlyfs-unit-luks.img", PROBE_FS_BYTES);
	buf[170] = '\033';	/* data, never a name: no UUID at all */
	CHECK_INT(probe_fs(buf, PROBE_FS_BYTES, &id), 1);
	CHECK_STR(id.uuid, "");
	free(buf);
	unlink("/tmp/earlyfs-unit-luks.img");
}

static void test_tables(void)
{
	struct gpt_header h;
	char uuid[37], label[80];
	uint8_t *buf;

	CHECK_INT(system("rm -f /tmp/earlyfs-unit-dos.img && truncate -s 8M "
			 "/tmp/earlyfs-unit-dos.img && printf 'label: dos\\n"
			 "label-id: 0x1234abcd\\n,2M\\n,\\n' | sfdisk -q "
			 "/tmp/earlyfs-unit-dos.img"), 0);
	buf = read_image("/tmp/earlyfs-unit-dos.img", 512);
	CHECK_INT(probe_ptable(buf), PTABLE_DOS);
	CHECK_INT(probe_dos_partuuid(buf, 2, uuid, sizeof(uuid)), 0);
	CHECK_STR(uuid, "1234abcd-02");
	CHECK_INT(probe_dos_partuuid(buf, 0, uuid, sizeof(uuid)), -EINVAL);
	free(buf);
	unlink("/tmp/earlyfs-unit-dos.img");

	CHECK_INT(system("rm -f /tmp/earlyfs-unit-gpt.img && truncate -s 8M "
			 "/tmp/earlyfs-unit-gpt.img && printf 'label: gpt\\n"
			 "size=2M, uuid=3F2504E0-4F89-41D3-9A0C-0305E82C3301, "
			 "name=earlyboot\\n' | sfdisk -q /tmp/earlyfs-unit-gpt.img"),
		  0);
	buf = read_image("/tmp/earlyfs-unit-gpt.img", 4096);
	CHECK_INT(probe_ptable(buf), PTABLE_GPT);
	CHECK_INT(probe_gpt_header(buf + 512, 512, &h), 0);
	CHECK_INT(h.entries_lba, 2);
	CHECK_INT(h.entry_size, 128);
	CHECK_INT(probe_gpt_entry(buf + 1024, 128, uuid, label, sizeof(label)), 0);
	CHECK_STR(uuid, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
	CHECK_STR(label, "earlyboot");
	CHECK_INT(probe_gpt_header(buf, 512, &h), -EINVAL);
	CHECK_INT(probe_gpt_entry(buf + 1024, 100, uuid, label, 80), -EINVAL);
	/* a corrupt header: absurd entry size */
	buf[512 + 84] = 7;
	CHECK_INT(probe_gpt_header(buf + 512, 512, &h), -EINVAL);
	free(buf);
	unlink("/tmp/earlyfs-unit-gpt.img");

	uint8_t zero[512] = { 0 };
	CHECK_INT(probe_ptable(zero), PTABLE_NONE);
}

int main(void)
{
	test_devspec();
	test_ext4();
	test_luks();
	test_tables();
	return check_done("probe");
}
