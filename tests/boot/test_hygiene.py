"""PID 1 hygiene (issue 14) under user-mode-linux: what the real init,
fragments and the rescue shell inherit; a shell that cannot run; files
that are not regular."""
import os, re, subprocess, time
from tests import harness
from tests.harness import check, reached_real_root, test, uml
from tests.boot.test_uml import images

# Prints this process's signal state and descriptors (from /proc, mounted
# here if it is not), then execs argv[1..] if given: the real init of the
# test root, and an ELF fragment.
STATE_C = r'''
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char line[256], fds[256] = "";
	FILE *f;
	DIR *d;
	struct dirent *de;

	mount("proc", "/proc", "proc", 0, NULL);
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigBlk:", 7) || !strncmp(line, "SigIgn:", 7)) {
			line[strcspn(line, "\n")] = 0;
			printf("STATE %s %s\n", argv[0], line);
		}
	if (f)
		fclose(f);
	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds),
				 " %s", de->d_name);
	if (d)
		closedir(d);
	printf("STATE %s fds:%s\n", argv[0], fds);
	fflush(stdout);
	if (getpid() == 1)	/* the real init: on to the test root's script */
		execl("/sbin/init.sh", "/sbin/init.sh", (char *)NULL);
	return 0;
}
'''


def cc():
    """musl-gcc where there is one (small static binaries), else gcc."""
    return 'musl-gcc' if subprocess.run(['sh', '-c', 'command -v musl-gcc'],
                                        capture_output=True).returncode == 0 \
        else 'gcc'


def state_binary(work):
    src = work('state.c')
    with open(src, 'w') as f:
        f.write(STATE_C)
    out = work('state')
    subprocess.run([cc(), '-static', '-Os', '-o', out, src], check=True)
    return out


def states(out, who):
    got = dict(re.findall(r'^STATE %s (SigBlk|SigIgn|fds):\s*(.*?)\r?$'
                          % re.escape(who), out, re.M))
    check(len(got) == 3, 'no state printed by %s:\n%s' % (who, out[-2000:]))
    return got


@test
def uml_real_init_and_fragments_start_clean(work):
    """The real init and an ELF fragment: no blocked or ignored signal,
    only fds 0-2; the rescue shell: no blocked signal."""
    import shutil
    st = state_binary(work)
    harness.boot_tree(work('boot'))
    shutil.copy(st, work('boot', 'init.d', '30-state'))
    harness.mkfs(work('boot'), work('boot.img'), 16)
    harness.root_tree(work('root'))
    os.rename(work('root', 'sbin', 'init'), work('root', 'sbin', 'init.sh'))
    shutil.copy(st, work('root', 'sbin', 'init'))
    harness.mkfs(work('root'), work('root.img'), 16)
    with uml(work, work('boot.img'), work('root.img'),
             'earlyfs.root=/dev/ubdb') as c:
        reached_real_root(c)
        out = c.text()
    for who in ('/init.d/30-state', '/sbin/init'):
        s = states(out, who)
        check(int(s['SigBlk'], 16) == 0, '%s starts with signals blocked: %s'
              % (who, s['SigBlk']))
        check(int(s['SigIgn'], 16) == 0, '%s starts with signals ignored: %s'
              % (who, s['SigIgn']))
        check(s['fds'].split() == ['0', '1', '2'], '%s starts with fds %s'
              % (who, s['fds']))


@test
def uml_rescue_shell_starts_with_no_signal_blocked(work):
    """The rescue shell, reached by earlyfs.break, has an empty mask."""
    boot, root = images(work, {'20-x': 'echo x\n'})
    with uml(work, boot, root,
             'earlyfs.root=/dev/ubdb earlyfs.break=20') as c:
        c.expect(r"type 'exit' to continue")
        c.send("grep SigBlk /proc/$$/status | sed 's/^/SHELL-/'")
        m = c.expect(r'SHELL-SigBlk:\s*([0-9a-f]+)')
        c.send('exit')
        reached_real_root(c)
    check(int(m.group(1), 16) == 0, 'the rescue shell starts with signals '
          'blocked: %s' % m.group(1))


GONE_C = r'''
#include <stdio.h>
int main(void) { puts("SHELL-GONE"); return 0; }
'''


@test
def uml_rescue_shell_that_exits_at_once_backs_off(work):
    """A rescue shell that exits at once (what a console at end of file
    does to sh -i; UML's console cannot give one) and a real init that
    cannot run: restarted ever more slowly, one message, no busy loop."""
    harness.boot_tree(work('boot'), shipped=False)
    sh = work('boot', 'bin', 'sh')
    os.unlink(sh)
    src = work('gone.c')
    with open(src, 'w') as f:
        f.write(GONE_C)
    subprocess.run([cc(), '-static', '-Os', '-o', sh, src], check=True)
    harness.mkfs(work('boot'), work('boot.img'), 16)
    harness.root_tree(work('root'))
    harness.mkfs(work('root'), work('root.img'), 16)
    with uml(work, work('boot.img'), work('root.img'),
             'earlyfs.root=/dev/ubdb earlyfs.init=/sbin/not-there',
             timeout=120) as c:
        c.expect(r'SHELL-GONE', 60)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            time.sleep(0.5)
            check(c.proc.poll() is None, 'the guest ended')
        out = c.text()
        c.proc.kill()
    # the bound: fewer than 20 in the first minute (the schedule,
    # 3 at once then 1, 2, 4 ... 60 s apart, gives 8)
    n = out.count('SHELL-GONE')
    print('     %d rescue shells in the first minute' % n)
    check(2 <= n < 20, '%d rescue shells in a minute' % n)
    check(out.count('restarting it ever more slowly') == 1,
          'the backoff is not said once')
    check('Kernel panic' not in out, 'panic')


@test
def uml_fifos_never_block_pid_1(work):
    """A FIFO as a fragment, as $EARLYFS_ENV and as the boot report: the
    boot goes on, and the log says why each was skipped."""
    frags = {
        '30-envfifo': 'rm -f "$EARLYFS_ENV"; mkfifo "$EARLYFS_ENV"\n'
                      'rm -f /run/earlyfs/report; mkfifo /run/earlyfs/report\n',
        '40-after': 'echo "AFTER-FIFOS"\n',
    }
    harness.boot_tree(work('boot'), frags)
    os.mkfifo(work('boot', 'init.d', '20-fifo'))
    harness.mkfs(work('boot'), work('boot.img'), 16)
    harness.root_tree(work('root'))
    harness.mkfs(work('root'), work('root.img'), 16)
    with uml(work, work('boot.img'), work('root.img'),
             'earlyfs.root=/dev/ubdb') as c:
        reached_real_root(c)
        out = c.text()
    check('20-fifo: not a regular file' in out, 'the FIFO fragment is not '
          'named')
    check('AFTER-FIFOS' in out, 'the fragments after the FIFOs did not run')
    check(re.search(r'/run/earlyfs/env: not a regular file', out),
          'the FIFO env file is not named')
    check(re.search(r'REPORT fragment 20-fifo skipped', out),
          'the report does not show 20-fifo skipped')


@test
def uml_leftover_processes_are_stopped_unless_kept(work):
    """A fragment that detaches a daemon (setsid) and outlives its time
    limit: none of it runs after the limit.  One that leaves a process
    behind: stopped at the pivot and named.  One that asks to keep its
    process: still running in the real system."""
    frags = {
        '10-slow': '# earlyfs: optional timeout=2\n'
                   'setsid sleep 1001 &\n(setsid sleep 1002 &)\nsleep 60\n',
        '20-check': 'sleep 0.5; echo "AFTER-LIMIT $(ps -o args | '
                    'grep -c "[s]leep 100[12]")"\n',
        '30-leave': 'sleep 1003 &\n',
        '40-keep': 'sleep 1004 &\necho "EARLYFS_KEEP=$!" >> "$EARLYFS_ENV"\n',
    }
    boot, root = images(work, frags, extra_init=(
        'echo "IN-ROOT leave=$(ps -o args | grep -c "[s]leep 1003") '
        'keep=$(ps -o args | grep -c "[s]leep 1004")"'))
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb') as c:
        reached_real_root(c)
        out = c.text()
    check('AFTER-LIMIT 0' in out, 'the detached daemons outlived the time '
          'limit: %s' % re.findall(r'AFTER-LIMIT.*', out))
    check('IN-ROOT leave=0 keep=1' in out, 'in the real root: %s'
          % re.findall(r'IN-ROOT.*', out))
    check(re.search(r'REPORT process killed \d+ 10-slow sleep', out),
          'the report does not name what the time limit stopped')
    check(re.search(r'REPORT process killed \d+ pivot sleep', out),
          'the report does not name what the pivot stopped')
    check(re.search(r'REPORT process kept \d+ pivot sleep', out),
          'the report does not name the kept process')
    check(re.search(r'pivot: stopping process \d+ \(sleep\), left running',
                    out), 'the console does not name what was stopped')
