/* efivar.h: EFI variables of the running machine (efivarfs), as strings
 * (UTF-16LE on the firmware's side, ASCII here) */
#ifndef EARLYFS_EFIVAR_H
#define EARLYFS_EFIVAR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EFIVAR_DIR "/sys/firmware/efi/efivars"
/* the UEFI specification's variables (BootOrder, SecureBoot, PK, KEK) */
#define EFIVAR_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"
/* db and dbx (EFI_IMAGE_SECURITY_DATABASE_GUID) */
#define EFIVAR_DB_GUID "d719b2cb-3d3a-4596-a3bc-dad00e67656f"
/* systemd-boot's vendor GUID (the Boot Loader Interface) */
#define EFIVAR_LOADER_GUID "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

/* Whether the machine booted through UEFI and its variables are here. */
bool efivar_available(void);
/* name-guid's value as ASCII (characters past 0x7f as '?'): 0, -ENOENT,
 * -errno. */
int efivar_get(const char *name, const char *guid, char *ret, size_t cap);
/* name-guid's data (after the attributes), its first cap bytes in ret:
 * its whole length (64 KiB at most), or -errno. */
int efivar_get_raw(const char *name, const char *guid, unsigned char *ret,
		   size_t cap);
/* name-guid's data (after the attributes), malloc'ed in *ret, *len bytes:
 * 0, -ENOENT, -E2BIG when it is longer than max, -errno. */
int efivar_read(const char *name, const char *guid, size_t max,
		unsigned char **ret, size_t *len);
#define EFIVAR_APPEND 0x40u	/* EFI_VARIABLE_APPEND_WRITE */
/* Writes data[0..len) to name-guid with attrs (EFI_VARIABLE_*): one
 * SetVariable() call; 0, or -errno (the firmware's refusal among them). */
int efivar_write(const char *name, const char *guid, uint32_t attrs,
		 const void *data, size_t len);
/* Sets name-guid (non-volatile, boot and runtime access) to the
 * NUL-terminated UTF-16 of value: 0 or -errno. */
int efivar_set(const char *name, const char *guid, const char *value);
#endif
