/* Unit tests: template rendering and the extlinux.conf parser */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "extlinux.h"
#include "template.h"

static void test_template(void)
{
	const struct template_var v[] = { { "ROOT", "PARTUUID=ab-02" },
					  { "EMPTY", "" } };
	char unknown[32], *out;

	CHECK_INT(template_render("a @ROOT@ b @EMPTY@c", v, 2, &out, unknown), 0);
	CHECK_STR(out, "a PARTUUID=ab-02 b c");
	free(out);
	/* not placeholders: lower case, a lone @, an e-mail address */
	CHECK_INT(template_render("x@y.z @lower@ @ @@ @ROOT", v, 2, &out,
				  unknown), 0);
	CHECK_STR(out, "x@y.z @lower@ @ @@ @ROOT");
	free(out);
	CHECK_INT(template_render("@MISSING@", v, 2, &out, unknown), -EINVAL);
	CHECK_STR(unknown, "MISSING");
	const struct template_var nl[] = { { "ROOT", "a\nLABEL evil" } };
	CHECK_INT(template_render("@ROOT@", nl, 1, &out, unknown), -EINVAL);
	/* a long value repeated many times still fits */
	char big[4096];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const struct template_var b[] = { { "V", big } };
	CHECK_INT(template_render("@V@@V@@V@@V@", b, 1, &out, unknown), 0);
	CHECK_INT(strlen(out), 4 * 4095);
	free(out);
}

static void test_extlinux(void)
{
	static const char good[] =
		"# comment\nSERIAL 0 115200\nPROMPT 1\nDEFAULT earlyfs quiet\n\n"
		"LABEL earlyfs\n\tKERNEL /vmlinuz\n\tAPPEND root=PARTUUID=x-01 "
		"init=/sbin/earlyfs-init  \n"
		"label rescue\n  linux /vmlinuz-6.1\n";
	struct extlinux_conf c;
	const char *what;
	size_t line;

	CHECK_INT(extlinux_parse(good, sizeof(good) - 1, &c, &line, &what), 0);
	CHECK_INT(c.n, 2);
	CHECK_STR(c.default_label, "earlyfs");
	CHECK_STR(c.labels[0].kernel, "/vmlinuz");
	CHECK_STR(c.labels[0].append, "root=PARTUUID=x-01 init=/sbin/earlyfs-init");
	CHECK_STR(c.labels[1].name, "rescue");
	CHECK_STR(c.labels[1].kernel, "/vmlinuz-6.1");
	CHECK_STR(c.labels[1].append, "");
	CHECK(extlinux_find(&c, "rescue") == &c.labels[1]);
	CHECK(extlinux_find(&c, "nope") == NULL);

	CHECK_INT(extlinux_parse("KERNEL /x\n", 10, &c, &line, &what), -EINVAL);
	CHECK_INT(line, 1);
	CHECK_STR(what, "KERNEL outside a LABEL");
	CHECK_INT(extlinux_parse("LABEL a\nLABEL b\nKERNEL /k\n", 25, &c, &line,
				 &what), -EINVAL);
	CHECK_INT(line, 1);
	CHECK_STR(what, "label without KERNEL");
	CHECK_INT(extlinux_parse("DEFAULT x\nLABEL a\nKERNEL /k\n", 27, &c,
				 &line, &what), -EINVAL);
	CHECK_STR(what, "DEFAULT names no LABEL");
	CHECK_INT(extlinux_parse("LABEL\n", 6, &c, &line, &what), -EINVAL);

	/* oversized: too many labels, an over-long APPEND */
	char *many = malloc(64 * 40), *p = many;
	int i;
	for (i = 0; i <= EXTLINUX_LABELS_MAX; i++)
		p += sprintf(p, "LABEL l%d\nKERNEL /k\n", i);
	CHECK_INT(extlinux_parse(many, (size_t)(p - many), &c, &line, &what),
		  -E2BIG);
	free(many);
	char longapp[2100] = "LABEL a\nKERNEL /k\nAPPEND ";
	memset(longapp + strlen(longapp), 'x', 1500);
	CHECK_INT(extlinux_parse(longapp, strlen(longapp), &c, &line, &what),
		  -E2BIG);
}

static void test_set_previous(void)
{
	static const char conf[] =
		"DEFAULT earlyfs\n\nLABEL earlyfs\n\tKERNEL /vmlinuz\n"
		"\tAPPEND root=PARTUUID=x-01 init=/sbin/earlyfs-init\n\n"
		"LABEL rescue\n\tKERNEL /vmlinuz\n\tAPPEND root=PARTUUID=x-01\n";
	struct extlinux_conf c, c2;
	const struct extlinux_label *p;
	char out[4096], out2[4096];
	const char *what;
	size_t line;
	int n, n2;

	CHECK_INT(extlinux_parse(conf, strlen(conf), &c, &line, &what), 0);
	n = extlinux_set_previous(conf, strlen(conf), &c.labels[0], out,
				  sizeof(out));
	CHECK(n > 0);
	/* everything before is kept byte for byte */
	CHECK(strncmp(out, conf, strlen(conf) - 1) == 0);
	CHECK_INT(extlinux_parse(out, (size_t)n, &c2, &line, &what), 0);
	CHECK_INT(c2.n, 3);
	p = extlinux_find(&c2, "previous");
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->kernel, "/vmlinuz");
		CHECK_STR(p->append, "root=PARTUUID=x-01 init=/sbin/earlyfs-init "
				     "earlyfs.generation=previous");
	}
	/* again, from the label it wrote: the same bytes (a change that
	 * keeps the default label rewrites nothing) */
	n2 = extlinux_set_previous(out, (size_t)n, p, out2, sizeof(out2));
	CHECK(n2 == n && memcmp(out, out2, (size_t)n) == 0);
	/* from a label with a number of its own: one generation word */
	static const char numbered[] =
		"DEFAULT a\nLABEL a\n KERNEL /k\n APPEND x earlyfs.generation=7 y\n";
	CHECK_INT(extlinux_parse(numbered, strlen(numbered), &c2, &line,
				 &what), 0);
	n2 = extlinux_set_previous(numbered, strlen(numbered), &c2.labels[0],
				   out2, sizeof(out2));
	CHECK(n2 > 0);
	CHECK_INT(extlinux_parse(out2, (size_t)n2, &c2, &line, &what), 0);
	p = extlinux_find(&c2, "previous");
	CHECK(p && strcmp(p->append, "x y earlyfs.generation=previous") == 0);
	CHECK(strstr(out2, "generation=7") != NULL);	/* label a's own */
	/* a previous label in the middle is moved to the end */
	static const char mid[] =
		"DEFAULT a\nLABEL a\n KERNEL /k\nlabel previous\n KERNEL /old\n"
		" APPEND x earlyfs.generation=1\nLABEL b\n KERNEL /k\n";
	CHECK_INT(extlinux_parse(mid, strlen(mid), &c, &line, &what), 0);
	n = extlinux_set_previous(mid, strlen(mid), &c.labels[0], out,
				  sizeof(out));
	CHECK(n > 0);
	CHECK_INT(extlinux_parse(out, (size_t)n, &c2, &line, &what), 0);
	CHECK_INT(c2.n, 3);
	CHECK_STR(c2.labels[1].name, "b");
	CHECK_STR(c2.labels[2].name, "previous");
	CHECK_STR(c2.labels[2].kernel, "/k");
	CHECK_STR(c2.labels[2].append, "earlyfs.generation=previous");
	CHECK(strstr(out, "/old") == NULL);
	/* too small an output buffer is an error, not a truncation */
	CHECK_INT(extlinux_set_previous(conf, strlen(conf), &c.labels[0],
					out, 40), -E2BIG);
	/* a default that boots through a module stub: 'previous' keeps it */
	static const char stub[] =
		"DEFAULT earlyfs\nLABEL earlyfs\n\tKERNEL /vmlinuz-6.1.2\n"
		"\tINITRD /stub-6.1.2.img\n\tAPPEND root=x\n";
	CHECK_INT(extlinux_parse(stub, strlen(stub), &c, &line, &what), 0);
	CHECK_STR(c.labels[0].initrd, "/stub-6.1.2.img");
	n = extlinux_set_previous(stub, strlen(stub), &c.labels[0], out,
				  sizeof(out));
	CHECK(n > 0);
	CHECK_INT(extlinux_parse(out, (size_t)n, &c2, &line, &what), 0);
	p = extlinux_find(&c2, "previous");
	CHECK(p && !strcmp(p->initrd, "/stub-6.1.2.img") &&
	      !strcmp(p->kernel, "/vmlinuz-6.1.2"));
	CHECK(strstr(out, "LABEL previous\n\t# written by earlyfs: the "
		     "generation before the newest, with its default label\n"
		     "\tKERNEL /vmlinuz-6.1.2\n\tINITRD /stub-6.1.2.img\n"
		     "\tAPPEND root=x earlyfs.generation=previous\n") != NULL);
	CHECK_INT(extlinux_parse("INITRD /x\n", 10, &c, &line, &what),
		  -EINVAL);
}

static void test_set_kernels(void)
{
	static const char conf[] =
		"SERIAL 0 115200\nDEFAULT earlyfs\n\nLABEL earlyfs\n"
		"\tKERNEL /vmlinuz\n\tAPPEND root=PARTUUID=x-01 "
		"init=/sbin/earlyfs-init\n\nLABEL rescue\n\tkernel /vmlinuz\n"
		"\tAPPEND root=PARTUUID=x-01\n\nLABEL mine\n\tKERNEL /other\n"
		"\nLABEL earlyfs-5.0\n\tKERNEL /vmlinuz-5.0\n\tAPPEND old\n"
		"\nLABEL previous\n\tKERNEL /vmlinuz-5.0\n"
		"\tAPPEND x earlyfs.generation=3\n";
	const char *const two[] = { "6.1.2", "6.1.10" };
	struct extlinux_conf c;
	const struct extlinux_label *l;
	char out[4096], again[4096];
	const char *what;
	size_t line;
	int n, n2;

	n = extlinux_set_kernels(conf, strlen(conf), "6.1.10", NULL, two, NULL,
				 2, out, sizeof(out));
	CHECK(n > 0);
	CHECK_INT(extlinux_parse(out, (size_t)n, &c, &line, &what), 0);
	CHECK_INT(c.n, 6);
	CHECK_STR(c.default_label, "earlyfs");
	l = extlinux_find(&c, "earlyfs");
	CHECK(l && !strcmp(l->kernel, "/earlyfs-vmlinuz-6.1.10"));
	l = extlinux_find(&c, "rescue");
	CHECK(l && !strcmp(l->kernel, "/earlyfs-vmlinuz-6.1.10"));
	/* other labels, previous included, are kept as they were */
	l = extlinux_find(&c, "mine");
	CHECK(l && !strcmp(l->kernel, "/other"));
	l = extlinux_find(&c, "previous");
	CHECK(l && !strcmp(l->kernel, "/vmlinuz-5.0"));
	CHECK(extlinux_find(&c, "earlyfs-5.0") == NULL);
	CHECK(strstr(out, "APPEND old") == NULL);
	l = extlinux_find(&c, "earlyfs-6.1.2");
	CHECK(l && !strcmp(l->kernel, "/earlyfs-vmlinuz-6.1.2") &&
	      !strcmp(l->append, "root=PARTUUID=x-01 init=/sbin/earlyfs-init"));
	CHECK(extlinux_find(&c, "earlyfs-6.1.10") != NULL);
	CHECK(strncmp(out, "SERIAL 0 115200\nDEFAULT earlyfs\n", 32) == 0);
	/* the same again changes nothing */
	n2 = extlinux_set_kernels(out, (size_t)n, "6.1.10", NULL, two, NULL,
				  2, again, sizeof(again));
	CHECK(n2 == n && !memcmp(out, again, (size_t)n));
	/* a kernel with a module stub: INITRD where it boots, none left in
	 * the default labels when the default has none */
	const char *const stubs[] = { "/stub-6.1.2.img", NULL };

	n2 = extlinux_set_kernels(out, (size_t)n, "6.1.2", "/stub-6.1.2.img",
				  two, stubs, 2, again, sizeof(again));
	CHECK(n2 > 0);
	CHECK(strstr(again, "LABEL earlyfs\n\tKERNEL /earlyfs-vmlinuz-6.1.2\n"
		     "\tINITRD /stub-6.1.2.img\n") != NULL);
	CHECK(strstr(again, "LABEL earlyfs-6.1.2\n\tINITRD") == NULL);
	CHECK(strstr(again, "KERNEL /earlyfs-vmlinuz-6.1.2\n\tINITRD /stub-6.1.2.img"
		     "\n\tAPPEND") != NULL);
	n = extlinux_set_kernels(again, (size_t)n2, "6.1.10", NULL, two, NULL,
				 2, out, sizeof(out));
	CHECK(n > 0 && strstr(out, "INITRD") == NULL);
	/* no 'earlyfs' label, or no room */
	CHECK_INT(extlinux_set_kernels("LABEL a\n KERNEL /k\n", 18, "1", NULL,
				       two, NULL, 1, out, sizeof(out)), -EINVAL);
	CHECK_INT(extlinux_set_kernels(conf, strlen(conf), "6.1.10", NULL,
				       two, NULL, 2, out, 64), -E2BIG);
}

int main(void)
{
	test_template();
	test_extlinux();
	test_set_previous();
	test_set_kernels();
	return check_done("extlinux");
}
