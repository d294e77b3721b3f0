/* cpio: newc entries (cpio.h) */
#include "cpio.h"
#include <string.h>

void cpio_entry(FILE *f, unsigned *ino, const char *name, mode_t mode,
		const char *data, size_t len)
{
	cpio_entry_owned(f, ino, name, mode, 0, 0, data, len);
}

void cpio_entry_owned(FILE *f, unsigned *ino, const char *name, mode_t mode,
		      unsigned uid, unsigned gid, const char *data, size_t len)
{
	size_t nl = strlen(name) + 1;

	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X"
		"%08zX%08X", (*ino)++, (unsigned)mode, uid, gid, 1u, 0u, len, 0u,
		0u, 0u, 0u, nl, 0u);
	fwrite(name, 1, nl, f);
	for (size_t pad = (4 - (110 + nl) % 4) % 4; pad; pad--)
		fputc(0, f);
	if (len)
		fwrite(data, 1, len, f);
	for (size_t pad = (4 - len % 4) % 4; pad; pad--)
		fputc(0, f);
}
