/* enroll: the owner's certificate in this machine's Secure Boot keys
 * (earlyfs enroll; loader.h)
 *
 * The firmware must be in setup mode (no platform key): db and KEK then
 * take an append without a signature the firmware checks, and PK one
 * signed by its own key.  The certificate is appended to db and KEK, so
 * what they held (the vendor's, Microsoft's, the distribution's) stays,
 * and set as PK last, which leaves setup mode: Secure Boot is enforced
 * from the next boot.  The updates are made by efitools' sign-efi-sig-list
 * (EFI_VARIABLE_AUTHENTICATION_2, signed with the key, the owner GUID
 * cert-to-efi-sig-list put in the list), each written to efivarfs in one
 * write(2), one SetVariable() call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "base/host.h"
#include "base/mounts.h"
#include "base/run.h"
#include "atomic.h"
#include "esl.h"
#include "pem.h"
#include "loader/efivar.h"
#include "loader/loader.h"

/* earlyfs's signature owner GUID: its entries in db, KEK and PK */
#define OWNER "8d9f7578-6cc0-4dd1-8c06-0da6fee5ee4e"
#define VAR_MAX (512u << 10)
/* NON_VOLATILE | BOOTSERVICE | RUNTIME | TIME_BASED_AUTHENTICATED_WRITE:
 * what sign-efi-sig-list signs (with APPEND_WRITE for -a) */
#define AUTH_ATTRS 0x27u

static const struct {
	const char *name, *guid;
	bool append;
} vars[] = {
	{ "db", EFIVAR_DB_GUID, true },
	{ "KEK", EFIVAR_GLOBAL_GUID, true },
	{ "PK", EFIVAR_GLOBAL_GUID, false },	/* last: ends setup mode */
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

/* What the machine boots, signed with cert: else it would not boot once
 * the firmware holds only cert. */
static int signed_with(struct loader_site *s, const char *cert,
		       struct err *e)
{
	static const char *const files[] = {
		"/EFI/BOOT/BOOTX64.EFI", "/EFI/systemd/systemd-bootx64.efi",
		LOADER_UKI_DEFAULT,
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *argv[] = { "sbverify", "--cert", (char *)cert,
				 "/proc/self/fd/0", NULL };
		char why[256] = "", *img = NULL, *out = NULL;
		size_t len, ol;
		int fd, r = esp_read(&s->esp, files[i], 256u << 20, &img, &len);

		if (r < 0)
			return err_setr(e, r, EXIT_REFUSED, "%s on the ESP (%s): "
					"%s: run earlyfs seal first", files[i],
					s->esp.shown, strerror(-r));
		fd = run_memfd("efi", img, len);
		free(img);
		if (fd < 0)
			return err_setr(e, fd, EXIT_FAILED, "memfd: %s",
					strerror(-fd));
		r = run_capture(argv, fd, 0, 4096, &out, &ol, why, sizeof(why));
		close(fd);
		free(out);
		if (r < 0)
			return err_setr(e, r, EXIT_FAILED, "cannot run sbverify: "
					"%s (install sbsigntool)", strerror(-r));
		if (r > 0)
			return err_set(e, EXIT_REFUSED, "%s on the ESP is not "
				       "signed with %s (sbverify: %s): once the "
				       "firmware holds only that certificate it "
				       "would not start; seal with its key first "
				       "(earlyfs seal --key KEY --cert %s)",
				       files[i], cert, why[0] ? why : "no "
				       "message", cert);
	}
	return 0;
}

static int setup_mode(struct err *e)
{
	unsigned char v[4];
	int n = efivar_get_raw("SetupMode", EFIVAR_GLOBAL_GUID, v, sizeof(v));

	if (n < 1)
		return err_setr(e, n < 0 ? n : -EINVAL, EXIT_FAILED, "cannot "
				"read the firmware's SetupMode: %s",
				strerror(n < 0 ? -n : EINVAL));
	return v[0] == 1;
}

#define CERT_MAX (64u << 10)
/* shim's variables (MokListRT, the MOK list as shim leaves it at run
 * time, in parts past the first: MokListRT1...; MokNew, an import that
 * the next boot's MokManager confirms) */
#define SHIM_GUID "605dab50-e046-4300-abb6-3dd810dd8b23"

/* cert's DER bytes in der: their number, or -errno with e. */
static long cert_der(const char *cert, unsigned char *der, size_t cap,
		     struct err *e)
{
	char *t = NULL;
	size_t l;
	long n;
	int r = read_regular(cert, CERT_MAX * 2, &t, &l);

	if (r < 0)
		return err_setr(e, r, EXIT_USAGE, "--cert %s: %s", cert,
				strerror(-r));
	n = pem_decode(t, l, "CERTIFICATE", der, cap);
	free(t);
	if (n <= 0)
		return err_setr(e, -EINVAL, EXIT_USAGE, "--cert %s is not an "
				"X.509 certificate in PEM (-----BEGIN "
				"CERTIFICATE-----)", cert);
	return n;
}

/* Whether name-guid holds der: 1, 0, or -errno (-ENOENT: no such). */
static int holds(const char *name, const char *guid, const unsigned char *der,
		 size_t dlen)
{
	unsigned char *v = NULL;
	size_t vl = 0;
	int r = efivar_read(name, guid, VAR_MAX, &v, &vl);

	if (r == 0)
		r = esl_holds(v, vl, der, dlen) > 0;
	free(v);
	return r;
}

int loader_firmware_trusts(const char *cert, char *where, size_t cap)
{
	static unsigned char der[CERT_MAX];
	static const char *const shim[] = {
		"MokListRT", "MokListRT1", "MokListRT2", "MokListRT3", "MokNew",
	};
	struct err e = { "", 0 };
	long n;
	size_t i;

	snprintf(where, cap, "%s", "");
	if (!efivar_available())
		return -ENOENT;
	if (!secureboot_on_here() || setup_mode(&e) == 1)
		return 2;
	n = cert_der(cert, der, sizeof(der), &e);
	if (n < 0)
		return (int)n;
	if (holds("db", EFIVAR_DB_GUID, der, (size_t)n) == 1) {
		snprintf(where, cap, "%s", "the firmware's db");
		return 1;
	}
	for (i = 0; i < sizeof(shim) / sizeof(shim[0]); i++)
		if (holds(shim[i], SHIM_GUID, der, (size_t)n) == 1) {
			snprintf(where, cap, "%s", i == 4 ? "shim's MokNew "
				 "(confirmed at the next boot)" :
				 "shim's MOK list");
			return 1;
		}
	return 0;
}

/* The updates' time as sign-efi-sig-list's -t takes it (strptime's %c,
 * the C locale's): a year before now, since it adds one year to what it
 * is given; so the firmware keeps the true time and a later update of PK
 * by any tool, whose time is now, is not refused as older. */
static int timestamp(char *ret, size_t cap, struct err *e)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm))
		return err_set(e, EXIT_FAILED, "the clock cannot be read");
	tm.tm_year--;
	if (tm.tm_mon == 1 && tm.tm_mday == 29)
		tm.tm_mday = 28;
	if (!strftime(ret, cap, "%a %b %e %H:%M:%S %Y", &tm))
		return err_set(e, EXIT_FAILED, "the clock cannot be read");
	return 0;
}

struct prepared {
	char *auth[NVARS];	/* the update to write, or NULL: held */
	size_t len[NVARS];
	int kept[NVARS];	/* signatures the variable held */
};

/* Every update made and every variable read before one is written. */
static int prepare(const char *dir, const char *key, const char *cert,
		   const char *der, size_t dlen, struct prepared *p,
		   struct err *e)
{
	char esl[4200], out[4200], stamp[64];
	size_t i;
	int r = timestamp(stamp, sizeof(stamp), e);

	if (r < 0)
		return r;
	snprintf(esl, sizeof(esl), "%s/cert.esl", dir);
	for (i = 0; i < NVARS; i++) {
		unsigned char *v = NULL;
		size_t vl = 0;
		char *argv[16];
		int a = 0;

		r = efivar_read(vars[i].name, vars[i].guid, VAR_MAX, &v, &vl);
		if (r < 0 && r != -ENOENT)
			return err_setr(e, r, EXIT_FAILED, "cannot read the "
					"firmware's %s: %s", vars[i].name,
					strerror(-r));
		p->kept[i] = esl_walk(v, vl, NULL, NULL);
		r = esl_holds(v, vl, der, dlen);
		free(v);
		if (p->kept[i] < 0)
			return err_set(e, EXIT_REFUSED, "the firmware's %s is "
				       "not a signature list: left as it is, "
				       "nothing written", vars[i].name);
		if (r > 0)
			continue;	/* an earlier run's, or the vendor's */
		snprintf(out, sizeof(out), "%s/%s.auth", dir, vars[i].name);
		argv[a++] = "sign-efi-sig-list";
		if (vars[i].append)
			argv[a++] = "-a";
		argv[a++] = "-t";
		argv[a++] = stamp;
		argv[a++] = "-k";
		argv[a++] = (char *)key;
		argv[a++] = "-c";
		argv[a++] = (char *)cert;
		argv[a++] = (char *)vars[i].name;
		argv[a++] = esl;
		argv[a++] = out;
		argv[a] = NULL;
		r = loader_tool(argv, e);
		if (r == 0) {
			r = read_file(out, VAR_MAX, &p->auth[i], &p->len[i]);
			if (r < 0)
				return err_setr(e, r, EXIT_FAILED, "%s: %s", out,
						strerror(-r));
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_after(const char *der, size_t dlen, struct err *e)
{
	size_t i;
	int r = setup_mode(e);

	if (r < 0)
		return r;
	if (r == 1)
		return err_set(e, EXIT_FAILED, "the firmware took PK and is "
			       "still in setup mode");
	for (i = 0; i < NVARS; i++) {
		r = holds(vars[i].name, vars[i].guid,
			  (const unsigned char *)der, dlen);
		if (r <= 0)
			return err_set(e, EXIT_FAILED, "the firmware's %s does "
				       "not hold the certificate after it was "
				       "written (%s)", vars[i].name,
				       r < 0 ? strerror(-r) : "not there");
	}
	return 0;
}

static int enroll(struct loader_site *s, const char *key, const char *cert,
		  const char *dir, FILE *out, struct err *e)
{
	static unsigned char der[CERT_MAX];
	struct prepared p;
	char esl[4200];
	long dlen = cert_der(cert, der, sizeof(der), e);
	size_t i;
	char *argv[] = { "cert-to-efi-sig-list", "-g", OWNER, (char *)cert,
			 esl, NULL };
	int r = dlen < 0 ? (int)dlen : 0;

	memset(&p, 0, sizeof(p));
	snprintf(esl, sizeof(esl), "%s/cert.esl", dir);
	if (r == 0)
		r = loader_tool(argv, e);
	if (r == 0)
		r = prepare(dir, key, cert, (const char *)der, (size_t)dlen, &p,
			    e);
	for (i = 0; i < NVARS && r == 0; i++) {
		uint32_t attrs = AUTH_ATTRS |
				 (vars[i].append ? EFIVAR_APPEND : 0);

		if (!p.auth[i]) {
			fprintf(out, "earlyfs: %s already holds %s\n",
				vars[i].name, cert);
			continue;
		}
		r = efivar_write(vars[i].name, vars[i].guid, attrs, p.auth[i],
				 p.len[i]);
		if (r < 0) {
			r = err_setr(e, r, EXIT_FAILED, "the firmware refused "
				     "%s: %s%s", vars[i].name, strerror(-r),
				     i ? "; what was written before holds "
				     "the certificate too, and the machine is "
				     "still in setup mode (nothing enforced)" :
				     "");
			break;
		}
		if (vars[i].append)
			fprintf(out, "earlyfs: %s: %s appended (%d kept)\n",
				vars[i].name, cert, p.kept[i]);
		else
			fprintf(out, "earlyfs: PK: %s\n", cert);
	}
	if (r == 0)
		r = check_after((const char *)der, (size_t)dlen, e);
	if (r == 0) {
		fprintf(out, "enrolled: %s in db, KEK and PK; the firmware left "
			"setup mode: Secure Boot is enforced from the next "
			"boot (if the firmware's setup has it off, turn it on "
			"there)\n", cert);
		if (p.kept[0] == 0)
			fprintf(out, "earlyfs: warning: db holds only this "
				"certificate: nothing signed by anyone else "
				"starts under Secure Boot (another system, "
				"shim, the option ROMs of add-in cards signed "
				"by Microsoft); add theirs to db with efitools "
				"if this machine needs them\n");
	}
	for (i = 0; i < NVARS; i++)
		free(p.auth[i]);
	return r;
}

int loader_enroll(struct loader_site *s, const char *key, const char *cert,
		  FILE *out, struct err *e)
{
	char k[4096], c[4096], dir[4200];
	int r = loader_seal_key(&key, &cert, k, sizeof(k), c, sizeof(c), e);

	if (r == 0)
		r = loader_esp(s, e);
	if (r == 0)
		r = loader_key_ok(s, key, cert, e);
	if (r == 0 && !loader_sealed(s))
		r = err_set(e, EXIT_REFUSED, "the boot partition is not "
			    "sealed: with only %s in the firmware's keys its "
			    "loader and kernels would not start; run earlyfs "
			    "seal --key %s --cert %s first", cert, key, cert);
	if (r == 0)
		r = signed_with(s, cert, e);
	if (r == 0 && !efivar_available())
		r = err_set(e, EXIT_REFUSED, "no EFI variables here (%s): "
			    "enroll writes the keys of the machine it runs "
			    "on, booted through UEFI", EFIVAR_DIR);
	if (r == 0) {
		r = setup_mode(e);
		if (r == 0)
			r = err_set(e, EXIT_REFUSED, "the firmware is not in "
				    "setup mode: its platform key is set, and "
				    "only its owner changes db.  Either clear "
				    "the keys in the firmware's setup screen "
				    "('Reset to Setup Mode', or 'Delete PK': "
				    "db and KEK, with the vendor's "
				    "certificates, stay) and run this again, "
				    "or enroll through shim: mokutil --import "
				    "on the certificate in DER (openssl x509 "
				    "-in %s -outform der -out earlyfs.der), "
				    "confirmed at the next boot", cert);
		else if (r == 1)
			r = 0;
	}
	if (r < 0)
		return r;
	if ((r = mounts_scratch("earlyfs-enroll", dir, sizeof(dir))) < 0)
		return err_setr(e, r, EXIT_FAILED, "cannot make a directory in "
				"$TMPDIR or /tmp: %s", strerror(-r));
	r = enroll(s, key, cert, dir, out, e);
	host_rm_rf(dir);
	return r;
}
