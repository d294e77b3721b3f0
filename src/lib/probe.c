/* probe: file-system and partition identifiers read from raw sectors */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "probe.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void uuid_text(const uint8_t *u, char *ret)
{
	snprintf(ret, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* GPT GUIDs store their first three fields little-endian. */
static void guid_text(const uint8_t *g, char *ret)
{
	uint8_t u[16] = { g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6] };

	memcpy(u + 8, g + 8, 8);
	uuid_text(u, ret);
}

static void label_text(const uint8_t *p, size_t max, char *ret)
{
	size_t n = strnlen((const char *)p, max);

	memcpy(ret, p, n);
	ret[n] = '\0';
}

int probe_fs(const uint8_t *buf, size_t len, struct fs_id *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (len >= 1024 + 256 && le16(buf + 1024 + 56) == 0xef53) {
		const uint8_t *sb = buf + 1024;
		uint32_t compat = le32(sb + 92), incompat = le32(sb + 96);

		strcpy(ret->type, (incompat & 0x2c0) ? "ext4" :
				  (compat & 0x4) ? "ext3" : "ext2");
		uuid_text(sb + 104, ret->uuid);
		label_text(sb + 120, 16, ret->label);
		return 1;
	}
	if (len >= 512 && memcmp(buf, "XFSB", 4) == 0) {
		strcpy(ret->type, "xfs");
		uuid_text(buf + 32, ret->uuid);
		label_text(buf + 108, 12, ret->label);
		return 1;
	}
	if (len >= 512 && memcmp(buf, "LUKS\xba\xbe", 6) == 0 &&
	    (buf[6] << 8 | buf[7]) >= 1 && (buf[6] << 8 | buf[7]) <= 2) {
		size_t i;

		/* a text UUID, read as data: hex digits and dashes only */
		for (i = 0; i < 36; i++) {
			char c = (char)buf[168 + i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			      (c >= 'A' && c <= 'F') || c == '-'))
				break;
			ret->uuid[i] = c;
		}
		ret->uuid[i == 36 && !buf[168 + 36] ? 36 : 0] = '\0';
		strcpy(ret->type, "crypto_LUKS");
		if (buf[7] == 2)	/* LUKS2 has a label where LUKS1 had */
			label_text(buf + 24, 48, ret->label);	/* the cipher */
		return 1;
	}
	if (len >= 65536 + 0x12b + 256 &&
	    memcmp(buf + 65536 + 0x40, "_BHRfS_M", 8) == 0) {
		strcpy(ret->type, "btrfs");
		uuid_text(buf + 65536 + 0x20, ret->uuid);
		label_text(buf + 65536 + 0x12b, 256, ret->label);
		return 1;
	}
	return 0;
}

enum ptable probe_ptable(const uint8_t *s)
{
	int i;

	if (s[510] != 0x55 || s[511] != 0xaa)
		return PTABLE_NONE;
	for (i = 0; i < 4; i++)
		if (s[446 + 16 * i + 4] == 0xee)
			return PTABLE_GPT;
	return PTABLE_DOS;
}

int probe_dos_partuuid(const uint8_t *s, unsigned partno, char *ret,
		       size_t cap)
{
	if (partno == 0 || partno > 255)
		return -EINVAL;
	if (snprintf(ret, cap, "%08x-%02x", le32(s + 440), partno) >= (int)cap)
		return -E2BIG;
	return 0;
}

int probe_gpt_header(const uint8_t *h, size_t len, struct gpt_header *ret)
{
	if (len < 92 || memcmp(h, "EFI PART", 8) != 0)
		return -EINVAL;
	ret->entries_lba = le64(h + 72);
	ret->n_entries = le32(h + 80);
	ret->entry_size = le32(h + 84);
	if (ret->entry_size < 128 || ret->entry_size > 4096 ||
	    ret->n_entries == 0 || ret->n_entries > 1024)
		return -EINVAL;
	return 0;
}

int probe_gpt_entry(const uint8_t *e, size_t len, char *ret_uuid,
		    char *ret_label, size_t label_cap)
{
	size_t i, o = 0;

	if (len < 128)
		return -EINVAL;
	guid_text(e + 16, ret_uuid);
	/* The name is UTF-16LE; keep ASCII, replace the rest with '?'. */
	for (i = 0; i < 36 && o + 1 < label_cap; i++) {
		uint16_t c = le16(e + 56 + 2 * i);

		if (c == 0)
			break;
		ret_label[o++] = c < 0x80 ? (char)c : '?';
	}
	ret_label[o] = '\0';
	return 0;
}
