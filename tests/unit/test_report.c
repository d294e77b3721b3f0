/* Unit tests: atomic writes, whole-file reads, and the boot report format */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "check.h"
#include "report.h"

static void test_atomic(void)
{
	char dir[] = "/tmp/earlyfs-unit-atomic-XXXXXX", path[128], *buf;
	struct stat st;
	size_t len;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/file", dir);
	CHECK_INT(atomic_write_file(path, "old\n", 4, 0600), 0);
	CHECK_INT(atomic_write_file(path, "new content\n", 12, 0644), 0);
	CHECK_INT(read_file(path, 100, &buf, &len), 0);
	CHECK_INT(len, 12);
	CHECK_STR(buf, "new content\n");
	free(buf);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0644);
	CHECK_INT(read_file(path, 5, &buf, &len), -EFBIG);
	CHECK_INT(read_file("/nonexistent/x", 5, &buf, &len), -ENOENT);
	/* sizes about the first 4 KiB read (on the stack, then copied) */
	static const size_t sizes[] = { 0, 1, 4094, 4095, 4096, 4097, 10000 };
	static char big[10001];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t j = 0; j < sizes[i]; j++)
			big[j] = (char)('a' + (i + j) % 26);
		CHECK_INT(atomic_write_file(path, big, sizes[i], 0644), 0);
		CHECK_INT(read_file(path, 10000, &buf, &len), 0);
		CHECK_INT(len, sizes[i]);
		CHECK(memcmp(buf, big, sizes[i]) == 0 && buf[len] == '\0');
		free(buf);
		if (sizes[i])
			CHECK_INT(read_file(path, sizes[i] - 1, &buf, &len),
				  -EFBIG);
	}
	/* a directory that does not exist: an error, nothing left behind */
	CHECK_INT(atomic_write_file("/nonexistent/x", "a", 1, 0644), -ENOENT);
	CHECK_INT(atomic_write_file(dir, "a", 1, 0644), -EISDIR);
	CHECK_INT(atomic_write_file("", "a", 1, 0644), -EINVAL);
	snprintf(path, sizeof(path), "rm -r %s", dir);
	CHECK_INT(system(path), 0);
}

static void test_report(void)
{
	struct boot_report r, back;
	char buf[8192];
	size_t line;
	int n;

	memset(&r, 0, sizeof(r));
	r.start_ms = 412;
	r.n = 3;
	strcpy(r.fragments[0].name, "00-mounts");
	r.fragments[0].start_ms = 413;
	r.fragments[0].duration_ms = 9;
	strcpy(r.fragments[1].name, "20-fail");
	r.fragments[1].status = STATUS_FAILED;
	r.fragments[1].code = 3;
	strcpy(r.fragments[2].name, "30-net");
	r.fragments[2].status = STATUS_TIMEOUT;
	r.fragments[2].optional = true;
	strcpy(r.root_how, "runner");
	strcpy(r.root_fstype, "ext4");
	strcpy(r.root_device, "/dev/mapper/my root");
	strcpy(r.pivot, "ok");
	strcpy(r.init, "/sbin/init");
	r.total_ms = 240;
	r.peak_kib = 612;
	n = report_format(&r, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(strstr(buf, "fragment 20-fail failed 3 0 0 required\n") != NULL);
	CHECK_INT(report_parse(buf, (size_t)n, &back, &line), 0);
	CHECK_INT(back.n, 3);
	CHECK_STR(back.fragments[1].name, "20-fail");
	CHECK_INT(back.fragments[1].status, STATUS_FAILED);
	CHECK_INT(back.fragments[1].code, 3);
	CHECK(back.fragments[2].optional);
	CHECK_INT(back.fragments[2].status, STATUS_TIMEOUT);
	CHECK_STR(back.root_device, "/dev/mapper/my root");
	CHECK_STR(back.pivot, "ok");
	CHECK_INT(back.total_ms, 240);
	CHECK_INT(back.peak_kib, 612);

	CHECK_INT(report_format(&r, buf, 50), -E2BIG);
	CHECK_INT(report_parse("", 0, &back, &line), -EINVAL);
	CHECK_INT(report_parse("earlyfs-report 2\n", 17, &back, &line), -EINVAL);
	CHECK_INT(report_parse("earlyfs-report 1\nfragment x bogus 0 0 0 r\n",
			       42, &back, &line), -EINVAL);
	CHECK_INT(line, 2);
	CHECK_INT(report_parse("earlyfs-report 1\nwhat 1\n", 24, &back, &line),
		  -EINVAL);
	/* numbers are checked like any input: no garbage, no overflow */
	{
		static const char *const bad[] = {
			"earlyfs-report 1\ngeneration 1073741825\n",
			"earlyfs-report 1\ngeneration -1\n",
			"earlyfs-report 1\ntotal_ms 12x\n",
			"earlyfs-report 1\npeak_kib 99999999999999999999999\n",
			"earlyfs-report 1\nfragment a ok 0 -5 1 -\n",
			"earlyfs-report 1\nfragment a ok 2147483648 0 1 -\n",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_INT(report_parse(bad[i], strlen(bad[i]), &back,
					       &line), -EINVAL);
		const char *good = "earlyfs-report 1\ngeneration 86401\n"
				   "fragment a timeout 86400 0 1 -\n";

		CHECK_INT(report_parse(good, strlen(good), &back, &line), 0);
		CHECK_INT(back.generation, 86401);
		CHECK_INT(back.fragments[0].code, 86400);
	}
	/* processes stopped or kept: round trip, and bad lines */
	{
		struct boot_report p2;
		char out[4096];
		int pn;

		memset(&p2, 0, sizeof(p2));
		p2.procs[0] = (struct report_proc){ false, 201, "10-net",
						    "udhcpc" };
		p2.procs[1] = (struct report_proc){ true, 202, "pivot",
						    "dropbear" };
		p2.n_procs = 2;
		pn = report_format(&p2, out, sizeof(out));
		CHECK(pn > 0);
		CHECK(strstr(out, "process killed 201 10-net udhcpc\n") != NULL);
		CHECK(strstr(out, "process kept 202 pivot dropbear\n") != NULL);
		CHECK_INT(report_parse(out, (size_t)pn, &back, &line), 0);
		CHECK_INT(back.n_procs, 2);
		CHECK_INT(back.procs[1].pid, 202);
		CHECK(back.procs[1].kept);
		CHECK_STR(back.procs[0].comm, "udhcpc");
		CHECK_INT(report_parse("earlyfs-report 1\nprocess gone 5 x y\n",
				       36, &back, &line), -EINVAL);
		CHECK_INT(report_parse("earlyfs-report 1\nprocess kept 0 x y\n",
				       36, &back, &line), -EINVAL);
	}
	/* notes from fragments (EARLYFS_NOTE): the text keeps its blanks */
	{
		static const char two[] = "earlyfs-report 1\n"
			"note 20-mdraid md0 is degraded: 1 of 2 devices missing\n"
			"note 45-fsck e2fsck fixed errors on /dev/vda2\n";
		static const char bad[] = "earlyfs-report 1\nnote 20-mdraid\n";
		char out[4096];
		int k;

		CHECK_INT(report_parse(two, sizeof(two) - 1, &back, &line), 0);
		CHECK_INT(back.n_notes, 2);
		CHECK_STR(back.notes[0].from, "20-mdraid");
		CHECK_STR(back.notes[0].text,
			  "md0 is degraded: 1 of 2 devices missing");
		k = report_format(&back, out, sizeof(out));
		CHECK(k > 0 && strstr(out, two + 17) != NULL);
		CHECK_INT(report_parse(bad, sizeof(bad) - 1, &back, &line),
			  -EINVAL);
	}
}

int main(void)
{
	test_atomic();
	test_report();
	return check_done("report");
}
