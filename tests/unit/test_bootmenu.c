/* Unit tests: the boot menu, whatever loader shows it */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bootmenu.h"
#include "check.h"

static void kernel(struct kernlist *k, const char *v, bool ok, bool stub)
{
	struct kernlist_entry *e = &k->v[k->n++];

	memset(e, 0, sizeof(*e));
	snprintf(e->version, sizeof(e->version), "%s", v);
	e->ok = ok;
	e->stub = stub;
}

/* Boot Loader Specification's boot counters in entry file names */
static void counters(void)
{
	char base[32];
	unsigned l, d;

	CHECK_INT(bootmenu_bls_counter("earlyfs+3.conf", base, sizeof(base),
				       &l, &d), 1);
	CHECK_STR(base, "earlyfs.conf");
	CHECK(l == 3 && d == 0);
	CHECK_INT(bootmenu_bls_counter("earlyfs+0-3.conf", base, sizeof(base),
				       &l, &d), 1);
	CHECK(l == 0 && d == 3 && !strcmp(base, "earlyfs.conf"));
	CHECK_INT(bootmenu_bls_counter("a+b+2-1.conf", base, sizeof(base),
				       &l, &d), 1);
	CHECK_STR(base, "a+b.conf");	/* the last '+' counts */
	/* not counters: no digits, trailing junk, another suffix, no stem,
	 * too many digits */
	static const char *const plain[] = {
		"earlyfs.conf", "earlyfs+.conf", "earlyfs+3-.conf",
		"earlyfs+3x.conf", "earlyfs+3.efi", "+3.conf",
		"earlyfs+12345.conf", "earlyfs-6.1+1.conf.bak", "x.con",
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		CHECK_INT(bootmenu_bls_counter(plain[i], base, sizeof(base),
					       &l, &d), 0);
		CHECK_STR(base, plain[i]);
	}
	CHECK_INT(bootmenu_bls_counter("a-name-longer-than-the-buffer+1.conf",
				       base, 16, &l, &d), -EINVAL);
}

/* One command line word for the generation: the one a sealed image runs,
 * or 'previous' */
static void test_options_with(void)
{
	char o[64];

	CHECK_INT(bootmenu_options_with("a  earlyfs.generation=3 b",
					"earlyfs.generation=7", o, sizeof(o)), 0);
	CHECK_STR(o, "a b earlyfs.generation=7");
	CHECK_INT(bootmenu_options_with("", "w", o, sizeof(o)), 0);
	CHECK_STR(o, "w");
	CHECK_INT(bootmenu_options_with("earlyfs.generation=previous", "w", o,
					sizeof(o)), 0);
	CHECK_STR(o, "w");
	CHECK_INT(bootmenu_options_with("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
					"bbbbbbbbbbbbbbbbbbbbbbbbbbbb", "w", o,
					sizeof(o)), -E2BIG);
	{
		static const char *const drop[] = { "root=", "rootwait" };
		char in[64] = "root=x  rootwait a root2 earlyfs.root=y";

		CHECK_INT(bootmenu_options_filter(in, drop, 2, "", in,
						  sizeof(in)), 0);
		CHECK_STR(in, "a root2 earlyfs.root=y");
		CHECK_INT(bootmenu_options_filter("root=x", drop, 2, "", o,
						  sizeof(o)), 0);
		CHECK_STR(o, "");
	}
	CHECK_INT(bootmenu_options_with("a", "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
					"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww",
					o, sizeof(o)), -E2BIG);
}

int main(void)
{
	test_options_with();
	static struct bootmenu m;
	struct kernlist k;
	struct kernlist_entry prev;
	struct bootmenu_input in = {
		.options = "root=PARTUUID=x-01 rootwait init=/sbin/earlyfs-init "
			   "earlyfs.root=/dev/sda3",
		.rescue_options = "root=PARTUUID=x-01 rootwait",
		.kernels = &k,
	};
	const struct bootmenu_entry *e;
	char longer[BOOTMENU_OPTIONS_MAX];

	memset(&k, 0, sizeof(k));
	CHECK_INT(bootmenu_build(&in, &m), -ENOENT);	/* nothing boots */
	kernel(&k, "6.1.10", true, false);
	kernel(&k, "6.1.0-57-cloud-amd64", true, true);
	kernel(&k, "6.2.0", false, false);		/* refused */
	CHECK_INT(bootmenu_build(&in, &m), 0);
	CHECK_INT(m.n, 5);		/* default, rescue, previous, two kernels */
	CHECK_STR(m.v[0].id, "earlyfs");
	CHECK_STR(m.v[0].kernel, "/earlyfs-vmlinuz-6.1.10");	/* newest ok */
	CHECK_STR(m.v[0].initrd, "");
	CHECK_STR(m.v[1].id, "rescue");
	CHECK_STR(m.v[1].options, "root=PARTUUID=x-01 rootwait");
	e = bootmenu_find(&m, "previous");
	CHECK(e && !strcmp(e->kernel, "/earlyfs-vmlinuz-6.1.10") &&
	      strstr(e->options, " earlyfs.generation=previous") &&
	      !strncmp(e->options, in.options, strlen(in.options)));
	CHECK(bootmenu_find(&m, "earlyfs-6.2.0") == NULL);	/* refused */
	e = bootmenu_find(&m, "earlyfs-6.1.0-57-cloud-amd64");
	CHECK(e && !strcmp(e->initrd, "/stub-6.1.0-57-cloud-amd64.img"));
	CHECK_STR(m.v[3].id, "earlyfs-6.1.10");		/* newest first */
	/* pinned; 'previous' boots the generation before's default */
	strcpy(k.pinned, "6.1.0-57-cloud-amd64");
	memset(&prev, 0, sizeof(prev));
	strcpy(prev.version, "6.1.10");
	prev.ok = true;
	in.previous = &prev;
	CHECK_INT(bootmenu_build(&in, &m), 0);
	CHECK_STR(m.v[0].initrd, "/stub-6.1.0-57-cloud-amd64.img");
	CHECK_STR(m.v[2].kernel, "/earlyfs-vmlinuz-6.1.10");
	CHECK_STR(m.v[2].initrd, "");
	/* 'previous' takes the generation before's command line, its
	 * earlyfs.generation= replaced by the word */
	in.previous_options = "root=PARTUUID=x-01 earlyfs.generation=3  quiet";
	CHECK_INT(bootmenu_build(&in, &m), 0);
	CHECK_STR(m.v[2].options, "root=PARTUUID=x-01 quiet "
		  BOOTMENU_PREVIOUS_WORD);
	CHECK(!strstr(m.v[0].options, "generation"));
	in.previous_options = NULL;
	/* a command line that does not fit is an error, not a cut */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	in.options = longer;
	CHECK_INT(bootmenu_build(&in, &m), -E2BIG);
	counters();
	return check_done("bootmenu");
}
