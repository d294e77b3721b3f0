/* fdisk: partition tables, through libfdisk (its only caller) */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "target/fdisk.h"

/* fdisk_partition_is_bootable() is DOS's active flag only: for GPT the
 * legacy BIOS bootable attribute shows in the attribute string. */
static bool is_bootable(struct fdisk_partition *pa, enum table_type tt)
{
	const char *attrs;

	if (tt != TABLE_GPT)
		return fdisk_partition_is_bootable(pa) == 1;
	attrs = fdisk_partition_get_attrs(pa);
	return attrs && strstr(attrs, "LegacyBIOSBootable");
}

static enum table_type table_of(struct fdisk_context *cxt)
{
	if (!fdisk_has_label(cxt))
		return TABLE_NONE;
	if (fdisk_is_labeltype(cxt, FDISK_DISKLABEL_DOS))
		return TABLE_DOS;
	if (fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT))
		return TABLE_GPT;
	return TABLE_OTHER;
}

/* PARTUUID as the kernel spells it: DOS "sig-NN", GPT lower-case GUID. */
static void partuuid_of(struct fdisk_context *cxt, struct fdisk_partition *pa,
			enum table_type tt, unsigned partno, char *ret,
			size_t cap)
{
	char *id = NULL;
	size_t i;

	ret[0] = '\0';
	if (tt == TABLE_DOS && fdisk_get_disklabel_id(cxt, &id) == 0 && id) {
		snprintf(ret, cap, "%s-%02x",
			 strncmp(id, "0x", 2) == 0 ? id + 2 : id, partno);
		free(id);
	} else if (tt == TABLE_GPT && fdisk_partition_get_uuid(pa)) {
		snprintf(ret, cap, "%s", fdisk_partition_get_uuid(pa));
	}
	for (i = 0; ret[i]; i++)
		ret[i] = (char)tolower((unsigned char)ret[i]);
}

int fdisk_read_partition(const char *disk, unsigned partno,
			 struct fdisk_part *t, struct err *e)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_partition *pa = NULL;
	int r = 0;

	memset(t, 0, sizeof(*t));
	if (!cxt)
		return err_set(e, EXIT_FAILED, "out of memory");
	if (fdisk_assign_device(cxt, disk, 1) < 0) {
		r = err_set(e, EXIT_FAILED, "cannot read the partition table "
			    "of %s", disk);
		goto out;
	}
	t->table = table_of(cxt);
	t->sector_size = (unsigned)fdisk_get_sector_size(cxt);
	if (t->table == TABLE_NONE) {
		r = err_set(e, EXIT_REFUSED, "%s has no partition table; "
			    "extlinux boots a partition of a DOS or GPT disk",
			    disk);
		goto out;
	}
	if (t->table == TABLE_OTHER) {
		r = err_set(e, EXIT_REFUSED, "%s has a %s partition table; "
			    "extlinux boots from DOS or GPT only", disk,
			    fdisk_label_get_name(fdisk_get_label(cxt, NULL)));
		goto out;
	}
	if (fdisk_get_partition(cxt, partno - 1, &pa) < 0 ||
	    !fdisk_partition_has_start(pa) || !fdisk_partition_has_size(pa) ||
	    fdisk_partition_get_size(pa) == 0) {
		r = err_set(e, EXIT_REFUSED, "%s has no partition %u",
			    disk, partno);
		goto out;
	}
	if (t->table == TABLE_DOS && partno > 4) {
		r = err_set(e, EXIT_REFUSED, "partition %u of %s is a logical "
			    "partition; syslinux's mbr.bin boots primary "
			    "partitions (1-4) only", partno, disk);
		goto out;
	}
	t->offset = fdisk_partition_get_start(pa) * t->sector_size;
	t->size = fdisk_partition_get_size(pa) * t->sector_size;
	t->bootable = is_bootable(pa, t->table);
	partuuid_of(cxt, pa, t->table, partno, t->partuuid,
		    sizeof(t->partuuid));
	{
		struct fdisk_parttype *pt = fdisk_partition_get_type(pa);
		const char *ts = pt ? fdisk_parttype_get_string(pt) : NULL;
		size_t i;

		if (ts)
			snprintf(t->type, sizeof(t->type), "%s", ts);
		else if (pt)
			snprintf(t->type, sizeof(t->type), "%x",
				 fdisk_parttype_get_code(pt));
		for (i = 0; t->type[i]; i++)
			t->type[i] = (char)tolower((unsigned char)t->type[i]);
	}
out:
	fdisk_unref_partition(pa);
	fdisk_unref_context(cxt);
	return r;
}

/* Marks the partition bootable (DOS: the only active one; GPT: legacy
 * BIOS bootable).  The table is written only if something changes. */
int fdisk_set_boot_flag(const char *disk, unsigned partno,
			enum table_type table, struct err *e)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_table *tb = NULL;
	struct fdisk_iter *it = NULL;
	struct fdisk_partition *pa;
	bool changed = false;
	int r = 0;

	if (!cxt || fdisk_assign_device(cxt, disk, 0) < 0) {
		r = err_set(e, EXIT_FAILED, "cannot open %s to set the boot "
			    "flag", disk);
		goto out;
	}
	if (fdisk_get_partitions(cxt, &tb) < 0 ||
	    !(it = fdisk_new_iter(FDISK_ITER_FORWARD))) {
		r = err_set(e, EXIT_FAILED, "cannot list partitions of %s",
			    disk);
		goto out;
	}
	while (fdisk_table_next_partition(tb, it, &pa) == 0) {
		size_t n = fdisk_partition_get_partno(pa);
		bool want = n + 1 == partno;
		unsigned long flag = table == TABLE_DOS ? DOS_FLAG_ACTIVE
							   : GPT_FLAG_LEGACYBOOT;

		/* GPT allows several legacy-bootable entries: only add ours */
		if (table == TABLE_GPT && !want)
			continue;
		if (is_bootable(pa, table) == want)
			continue;
		if (fdisk_toggle_partition_flag(cxt, n, flag) < 0) {
			r = err_set(e, EXIT_FAILED, "cannot change the boot "
				    "flag of partition %zu of %s", n + 1,
				    disk);
			goto out;
		}
		changed = true;
	}
	if (changed && fdisk_write_disklabel(cxt) < 0)
		r = err_set(e, EXIT_FAILED, "cannot write the partition table "
			    "of %s", disk);
out:
	fdisk_free_iter(it);
	fdisk_unref_table(tb);
	if (cxt)
		fdisk_deassign_device(cxt, 0);
	fdisk_unref_context(cxt);
	return r;
}

int fdisk_find_esp(const char *disk, const char *partuuid,
		   unsigned *ret_partno, struct fdisk_part *ret, struct err *e)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_partition *pa = NULL;
	unsigned found = 0;
	size_t i, n;

	if (!cxt || fdisk_assign_device(cxt, disk, 1) < 0) {
		fdisk_unref_context(cxt);
		return err_set(e, EXIT_FAILED, "cannot read the partition "
			       "table of %s", disk);
	}
	n = table_of(cxt) == TABLE_GPT ? fdisk_get_npartitions(cxt) : 0;
	for (i = 0; i < n && !found; i++) {
		struct fdisk_parttype *pt;
		const char *ts, *uuid;

		if (fdisk_get_partition(cxt, i, &pa) < 0 ||
		    !fdisk_partition_is_used(pa))
			continue;
		pt = fdisk_partition_get_type(pa);
		ts = pt ? fdisk_parttype_get_string(pt) : NULL;
		uuid = fdisk_partition_get_uuid(pa);
		if (partuuid ? uuid && !strcasecmp(uuid, partuuid)
			     : ts && !strcasecmp(ts, FDISK_ESP_TYPE))
			found = (unsigned)i + 1;
	}
	fdisk_unref_partition(pa);
	fdisk_unref_context(cxt);
	if (!found)
		return err_setr(e, -ENOENT, EXIT_REFUSED, "%s has no %s%s",
				disk, partuuid ? "partition PARTUUID=" :
				"EFI System Partition (GPT type " FDISK_ESP_TYPE
				")", partuuid ? partuuid : "");
	*ret_partno = found;
	return fdisk_read_partition(disk, found, ret, e);
}

int fdisk_first_lba(const char *disk, uint64_t *ret, struct err *e)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_partition *pa = NULL;
	uint64_t first = UINT64_MAX;
	size_t i, n;

	if (!cxt || fdisk_assign_device(cxt, disk, 1) < 0) {
		fdisk_unref_context(cxt);
		return err_set(e, EXIT_FAILED, "cannot read the partition "
			       "table of %s", disk);
	}
	n = fdisk_get_npartitions(cxt);
	for (i = 0; i < n; i++)
		if (fdisk_get_partition(cxt, i, &pa) == 0 &&
		    fdisk_partition_is_used(pa) &&
		    fdisk_partition_has_start(pa) &&
		    fdisk_partition_get_start(pa) < first)
			first = fdisk_partition_get_start(pa);
	/* in 512-byte sectors, as the boot code counts */
	if (first != UINT64_MAX)
		first = first * fdisk_get_sector_size(cxt) / 512;
	fdisk_unref_partition(pa);
	fdisk_unref_context(cxt);
	*ret = first;
	return 0;
}

/* An explicit number: following the default makes libfdisk's DOS driver
 * ask (primary or extended?) through a dialog we do not have. */
static int add_partition(struct fdisk_context *cxt, size_t partno,
			 uint64_t start, uint64_t sectors, size_t *ret_n)
{
	struct fdisk_partition *pa = fdisk_new_partition();
	int r;

	if (!pa)
		return -ENOMEM;
	fdisk_partition_set_partno(pa, partno);
	if (start)
		fdisk_partition_set_start(pa, start);
	else
		fdisk_partition_start_follow_default(pa, 1);
	if (sectors)
		fdisk_partition_set_size(pa, sectors);
	else
		fdisk_partition_end_follow_default(pa, 1);
	r = fdisk_add_partition(cxt, pa, ret_n);
	fdisk_unref_partition(pa);
	return r;
}

int fdisk_make_image_table(const char *path, uint64_t esp_size,
			   uint64_t boot_size, enum table_type table,
			   struct err *e)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_label *lb;
	size_t n0 = 0, n1, n2, i = 0;
	int r = 0;

	if (!cxt || fdisk_assign_device(cxt, path, 0) < 0 ||
	    fdisk_create_disklabel(cxt, table == TABLE_GPT ? "gpt" : "dos")
		    < 0 ||
	    (esp_size && add_partition(cxt, i++, 2048, esp_size / 512, &n0)
				 < 0) ||
	    add_partition(cxt, i++, esp_size ? 0 : 2048, boot_size / 512,
			  &n1) < 0 ||
	    add_partition(cxt, i++, 0, 0, &n2) < 0) {
		r = err_set(e, EXIT_FAILED, "cannot partition %s", path);
		goto out;
	}
	lb = fdisk_get_label(cxt, NULL);
	if (table == TABLE_DOS) {
		struct fdisk_parttype *linux_type =
			fdisk_label_get_parttype_from_code(lb, 0x83);

		fdisk_set_partition_type(cxt, n1, linux_type);
		fdisk_set_partition_type(cxt, n2, linux_type);
	}
	if (esp_size) {
		struct fdisk_parttype *esp_type =
			fdisk_label_get_parttype_from_string(lb,
							     FDISK_ESP_TYPE);

		if (!esp_type || fdisk_set_partition_type(cxt, n0, esp_type)) {
			r = err_set(e, EXIT_FAILED, "cannot make partition 1 "
				    "of %s an EFI System partition", path);
			goto out;
		}
	} else {
		fdisk_toggle_partition_flag(cxt, n1, table == TABLE_GPT
						     ? GPT_FLAG_LEGACYBOOT
						     : DOS_FLAG_ACTIVE);
	}
	if (fdisk_write_disklabel(cxt) < 0)
		r = err_set(e, EXIT_FAILED, "cannot write the partition table "
			    "of %s", path);
out:
	if (cxt)
		fdisk_deassign_device(cxt, r == 0 ? 0 : 1);
	fdisk_unref_context(cxt);
	return r;
}
