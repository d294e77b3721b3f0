/* secureboot: what Secure Boot with the distribution's chain (shim, then
 * GRUB, then the kernel, each signed) asks of the kernels */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "base/beneath.h"
#include "base/run.h"
#include "kv.h"
#include "layout.h"
#include "loader/efivar.h"
#include "loader/loader.h"
#include "target/boot.h"

/* sbverify on path, or (fd >= 0) on the open file as its standard
 * input (path then only names it). */
static int signer(const char *path, int fd, char *issuer, size_t cap,
		  struct err *e)
{
	char *argv[] = { "sbverify", "--list",
			 fd >= 0 ? "/dev/stdin" : (char *)path, NULL };
	char errbuf[256], *out = NULL, *p;
	size_t len;
	int r;

	issuer[0] = '\0';
	r = run_capture(argv, fd, 0, 1 << 16, &out, &len, errbuf,
			sizeof(errbuf));
	if (r < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot run sbverify: %s "
				"(install sbsigntool)", strerror(-r));
	/* "image signature issuers:\n - /CN=Debian Secure Boot CA" */
	p = r == 0 && out ? strstr(out, "image signature issuers:\n - ") : NULL;
	if (p) {
		p += 29;
		snprintf(issuer, cap, "%.*s", (int)strcspn(p, "\n"), p);
	}
	free(out);
	if (!issuer[0])
		return err_setr(e, -EPERM, EXIT_REFUSED, "%s is not signed "
				"(sbverify finds no signature): with Secure "
				"Boot on, shim and GRUB refuse to boot it; give "
				"a kernel the distribution signed, or provision "
				"without --secure-boot", path);
	return 0;
}

int secureboot_signer(const char *path, char *issuer, size_t cap,
		      struct err *e)
{
	return signer(path, -1, issuer, cap, e);
}

bool secureboot_wanted(int dir)
{
	char v[16];

	return dir >= 0 && boot_conf_get(dir, "secure_boot", v, sizeof(v)) == 0 &&
	       !strcmp(v, "yes");
}

bool secureboot_on_here(void)
{
	unsigned char v[4];

	/* SecureBoot-GUID: one byte, 1 when the firmware enforces it */
	return efivar_get_raw("SecureBoot", EFIVAR_GLOBAL_GUID, v, sizeof(v)) >= 1 &&
	       v[0] == 1;
}

int loader_kernel_allowed(struct boot *b, const char *path, FILE *out,
			  struct err *e)
{
	char issuer[256];
	int r;

	if (!secureboot_wanted(b->fd))
		return 0;
	r = secureboot_signer(path, issuer, sizeof(issuer), e);
	if (r == 0)
		fprintf(out, "earlyfs: %s is signed by %s (Secure Boot)\n",
			path, issuer);
	return r;
}

unsigned secureboot_check(struct boot *b, FILE *out)
{
	struct kernlist kl;
	char name[128], issuer[256];
	unsigned bad = 0;
	struct err e;
	size_t i;
	int fd;

	if (!secureboot_wanted(b->fd) || loader_kernels(b->fd, "", &kl, &e) < 0)
		return 0;
	for (i = 0; i < kl.n; i++) {
		if (!kl.v[i].ok)
			continue;
		snprintf(name, sizeof(name), LAYOUT_KERNEL, kl.v[i].version);
		/* read beneath the partition: no link followed out of it */
		fd = beneath_open(b->fd, name, O_RDONLY, 0);
		if (fd < 0)
			continue;	/* kernels_check says it is missing */
		if (signer(name, fd, issuer, sizeof(issuer), &e) < 0) {
			fprintf(out, "kernel %s: not signed: with Secure Boot "
				"on (secure_boot=yes), shim and GRUB refuse to "
				"boot it\n", kl.v[i].version);
			bad++;
		}
		close(fd);
	}
	return bad;
}
