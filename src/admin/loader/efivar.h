/* efivar.h: EFI variables of the running machine (efivarfs), as strings
 * (UTF-16LE on the firmware's side, ASCII here) */
#ifndef EARLYFS_EFIVAR_H
#define EARLYFS_EFIVAR_H
#include <stdbool.h>
#include <stddef.h>

#define EFIVAR_DIR "/sys/firmware/efi/efivars"
/* systemd-boot's vendor GUID (the Boot Loader Interface) */
#define EFIVAR_LOADER_GUID "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

/* Whether the machine booted through UEFI and its variables are here. */
bool efivar_available(void);
/* name-guid's value as ASCII (characters past 0x7f as '?'): 0, -ENOENT,
 * -errno. */
int efivar_get(const char *name, const char *guid, char *ret, size_t cap);
/* name-guid's data (after the attributes): its length, or -errno. */
int efivar_get_raw(const char *name, const char *guid, unsigned char *ret,
		   size_t cap);
/* Sets name-guid (non-volatile, boot and runtime access) to the
 * NUL-terminated UTF-16 of value: 0 or -errno. */
int efivar_set(const char *name, const char *guid, const char *value);
#endif
