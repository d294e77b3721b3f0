/* probe: file-system and partition identifiers read from raw sectors */
#ifndef EARLYFS_PROBE_H
#define EARLYFS_PROBE_H
#include <stddef.h>
#include <stdint.h>

/* Enough of a device to see ext2/3/4, XFS and btrfs superblocks and
 * LUKS headers. */
#define PROBE_FS_BYTES (68 * 1024)
/* What probe_fs() finds in a device's first PROBE_FS_FIRST bytes is its
 * answer for the whole PROBE_FS_BYTES too (the signatures there are looked
 * at before btrfs's at 64 KiB): a reader may try those first. */
#define PROBE_FS_FIRST 4096

struct fs_id {
	char type[16];		/* "ext4", "xfs", "btrfs", "crypto_LUKS";
				 * "" if none */
	char uuid[37];
	char label[257];
};

/* Returns 1 and fills ret when buf holds a known superblock, else 0. */
int probe_fs(const uint8_t *buf, size_t len, struct fs_id *ret);

enum ptable { PTABLE_NONE, PTABLE_DOS, PTABLE_GPT };

/* What kind of table sector 0 (512 bytes) announces. */
enum ptable probe_ptable(const uint8_t *sector0);

/* DOS: PARTUUID of partition partno is "SSSSSSSS-NN" from the disk
 * signature. */
int probe_dos_partuuid(const uint8_t *sector0, unsigned partno, char *ret,
		       size_t cap);

struct gpt_header {
	uint64_t entries_lba;
	uint32_t n_entries;
	uint32_t entry_size;
};

/* Reads a GPT header (LBA 1); -EINVAL if it is not one. */
int probe_gpt_header(const uint8_t *lba1, size_t len, struct gpt_header *ret);

/* From one GPT entry: the unique GUID as text and the name as UTF-8. */
int probe_gpt_entry(const uint8_t *entry, size_t len, char *ret_uuid,
		    char *ret_label, size_t label_cap);
#endif
