/* ELF headers of files on a partition: interpreter, DT_NEEDED, RUNPATH */
#include "elfdeps.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct elf_deps d;
	char *buf = fuzz_exact(data, size);

	if (buf && elf_is_elf(buf, size))
		elf_deps_parse(buf, size, &d);
	free(buf);
	return 0;
}
