"""QEMU full-BIOS boots of images made only by the CLI."""
import json, os, re, subprocess
from tests import harness
from tests.harness import qemu, test
from tests.cli.clilib import (check, expect, image, partition_attached,
                    partition_mounted, provision)
from tests.cli.clilib import run as clilib_run


def reached_real_root(c):
    c.expect(r'Run /sbin/earlyfs-init as init process', 60)
    harness.reached_real_root(c)


@test
def qemu_cli_image_default_label_reaches_real_root(work):
    img = image(work)
    expect(provision(img), 0)
    with qemu(work, img) as c:
        c.expect(r'EXTLINUX|SYSLINUX')
        reached_real_root(c)


@test
def qemu_fragment_added_after_provisioning_runs_with_state(work):
    """Full BIOS boot (SeaBIOS, mbr.bin, extlinux, test kernel): a fragment
    written onto the provisioned partition runs, sees earlyfs.root, and the
    runner's one closing line shows exactly once on the serial console."""
    import re
    img = image(work)
    expect(provision(img), 0)
    with partition_mounted(img, 1, work('m')) as m:
        harness.write(os.path.join(m, 'init.d', '10-hello'),
                      'echo "FRAG hello from $EARLYFS_ROOT"\n')
    with qemu(work, img) as c:
        c.expect(r'SYSLINUX|EXTLINUX')
        c.expect(r'Run /sbin/earlyfs-init as init process')
        c.expect(r'FRAG hello from PARTUUID=[0-9a-f]{8}-02')
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/vda2', out),
          'root not mounted from vda2 by 50-mountroot')
    check(re.search(r'REPORT fragment 10-hello ok 0', out), 'report')
    check(len(re.findall(r'earlyfs: switched to the real root in \d+ ms '
                         r'\(2 fragments\)', out)) == 1,
          'the runner\'s closing line is not shown exactly once')


def extlinux_once(work, img, label):
    with partition_mounted(img, 1, work('m')) as m:
        subprocess.run(['extlinux', '--once=' + label,
                        os.path.join(m, 'extlinux')], check=True,
                       capture_output=True)


def rescue_shell_works(c):
    # busybox init from etc/inittab: sysinit mounts, then a respawned shell
    c.expect(r'Run /sbin/init as init process', 60)
    c.send('')
    c.send('echo "RESCUE-$((6*7)) $(cat /proc/1/comm)"')
    c.expect(r'RESCUE-42 init')
    c.send('mountpoint -q /proc && echo "RESCUE-PROC-MOUNTED"')
    c.expect(r'RESCUE-PROC-MOUNTED')
    c.send('poweroff -f')
    c.wait_exit()
    c.assert_no_panic()
    check('earlyfs-init' not in c.text().split('Run /sbin/init')[1],
          'earlyfs-init ran under the rescue label')


@test
def qemu_cli_rescue_label_with_extlinux_once(work):
    img = image(work)
    expect(provision(img), 0)
    extlinux_once(work, img, 'rescue')
    with qemu(work, img) as c:
        rescue_shell_works(c)
    # --once is cleared: the next boot takes the default label again
    with qemu(work, img) as c:
        reached_real_root(c)


@test
def qemu_cli_rescue_label_typed_at_the_prompt(work):
    img = image(work)
    expect(provision(img, 1, None, '--menu-timeout', '20'), 0)
    with qemu(work, img) as c:
        c.expect(r'boot:')
        c.send('rescue')
        rescue_shell_works(c)


@test
def qemu_cli_gpt_image_boots(work):
    img = image(work, table='gpt')
    p = provision(img)
    expect(p, 0, 'GPT table', 'gptmbr.bin', 'legacy BIOS bootable')
    with open(img, 'rb') as f, open('/usr/lib/syslinux/mbr/gptmbr.bin',
                                    'rb') as g:
        check(f.read(440) == g.read()[:440], 'MBR code is not gptmbr.bin')
    with qemu(work, img) as c:
        c.expect(r'EXTLINUX|SYSLINUX')
        reached_real_root(c)


@test
def demo_script_boots_in_batch_mode(work):
    from tests import harness
    env = dict(os.environ, DEMO_BATCH='1', DEMO_DIR=work('demo'))
    p = subprocess.run([os.path.join(harness.TOP, 'demo', 'demo.sh')],
                       capture_output=True, text=True, env=env, timeout=200)
    with open(os.path.join(harness.LOG_DIR, work.name + '.log'), 'w') as f:
        f.write(p.stdout + p.stderr)
    out = p.stdout
    check(p.returncode == 0, 'demo exited %d' % p.returncode)
    for needle in ('is an earlyfs boot partition', 'labels:   earlyfs '
                   '(default), rescue', 'SYSLINUX', 'the real root; this '
                   'init is PID 1', 'pivot ok', '=== earlyfs demo done ==='):
        check(needle in out, 'demo output lacks %r' % needle)


@test
def status_on_a_running_system_reads_boot_and_the_report(work):
    """earlyfs status with no TARGET: the partition at /boot and the report
    a real boot left, in a mount namespace that shows them where a booted
    system has them."""
    import re
    from tests.cli.clilib import EARLYFS
    img = image(work)
    expect(provision(img), 0)
    with qemu(work, img) as c:
        reached_real_root(c)
        with open(report_of(work, c.text())) as f:
            report = f.read()
    script = ('set -e; mount -o ro "$1" /boot; mount -t tmpfs none /run; '
              'mkdir /run/earlyfs; cat > /run/earlyfs/report; exec "$2" status')
    with partition_attached(img, 1, readonly=True) as loop:
        p = subprocess.run(['unshare', '--mount', '--propagation', 'private',
                            'sh', '-c', script, 'sh', loop, EARLYFS],
                           input=report, capture_output=True, text=True)
    out = p.stdout + p.stderr
    check(p.returncode == 0, 'status exited %d:\n%s' % (p.returncode, out))
    for needle in ('/boot: earlyfs boot partition', 'labels:   earlyfs '
                   '(default), rescue', 'last boot: 1 fragment, root '
                   '/dev/vda2 (fragment), pivot ok'):
        check(needle in out, 'status lacks %r:\n%s' % (needle, out))
    check(re.search(r'^  50-mountroot +ok +\d+ ms$', out, re.M), out)


def cli_ok(*args):
    from tests.cli.clilib import run
    p = run(*args)
    expect(p, 0)
    return p


def report_of(work, out):
    """The boot report as the real root printed it, for 'earlyfs log'."""
    lines = [l[len('REPORT '):].rstrip('\r') for l in out.splitlines()
             if l.startswith('REPORT ')]
    harness.write(work('report'), '\n'.join(lines) + '\n')
    return work('report')


@test
def qemu_cli_edit_runs_at_next_boot_and_rollback_restores(work):
    img = image(work)
    expect(provision(img), 0)
    t = ['--target', img, '--partition', '1']
    harness.write(work('v1'), 'echo "FRAG edit-v1"\n')
    harness.write(work('v2'), 'echo "FRAG edit-v2"\n')
    cli_ok('add', '10-edit', work('v1'), *t)
    cli_ok('add', '--replace', '10-edit', work('v2'), *t)
    with qemu(work, img) as c:
        c.expect(r'FRAG edit-v2', 90)
        harness.reached_real_root(c)
        out = c.text()
    check('FRAG edit-v1' not in out, 'the old content ran')
    p = cli_ok('log', '--report', report_of(work, out))
    check('the current fragments' in p.stdout and
          re.search(r'10-edit\s+ok\s', p.stdout), 'log: %s' % p.stdout)
    p = cli_ok('fragments', '--report', work('report'), *t)
    check(re.search(r'^10-edit\s+enabled\s+20\s+ok, \d+ ms$', p.stdout,
                    re.M), 'fragments: %s' % p.stdout)
    # the same boot's report as --json's documents
    d = json.loads(cli_ok('log', '--report', work('report'), '--json').stdout)
    check(d['command'] == 'log' and d['pivot']['result'] == 'ok' and
          {'name': '10-edit', 'status': 'ok'} in
          [{'name': f['name'], 'status': f['result']['status']}
           for f in d['fragments']], 'log --json: %s' % d)
    d = json.loads(cli_ok('fragments', '--report', work('report'), '--json',
                          *t).stdout)
    f = [f for f in d['fragments'] if f['name'] == '10-edit']
    check(f and f[0]['bytes'] == 20 and f[0]['state'] == 'enabled' and
          f[0]['last_boot']['status'] == 'ok', 'fragments --json: %s' % d)
    cli_ok('rollback', *t)
    with qemu(work, img) as c:
        c.expect(r'FRAG edit-v1', 90)
        harness.reached_real_root(c)
        out = c.text()
    check('FRAG edit-v2' not in out, 'the rolled-back content ran')


@test
def qemu_broken_fragment_fails_default_label_previous_boots(work):
    img = image(work)
    expect(provision(img), 0)
    t = ['--target', img, '--partition', '1']
    harness.write(work('broken'), 'echo "FRAG broken"\nexit 7\n')
    p = cli_ok('add', '20-broken', work('broken'), *t)
    gen = int(re.search(r'generation (\d+)', p.stdout).group(1))
    with qemu(work, img) as c:
        c.expect(r'fragment 20-broken failed: exit status 7', 90)
        c.expect(r'#', 30)      # the rescue shell's prompt
        c.send('poweroff -f')
        c.wait_exit()
        c.assert_no_panic()
        check('REALINIT' not in c.text(), 'the default label reached root')
    p = cli_ok('once', 'previous', *t)
    with qemu(work, img) as c:
        c.expect(r'earlyfs.generation=previous: running generation %d'
                 % (gen - 1), 90)
        harness.reached_real_root(c)
        out = c.text()
    check('FRAG broken' not in out, 'the broken fragment ran under previous')
    p = cli_ok('log', '--report', report_of(work, out))
    check('generation %d' % (gen - 1) in p.stdout, 'log: %s' % p.stdout)
    # --once is spent: the default label (and the failure) is back
    with qemu(work, img) as c:
        c.expect(r'fragment 20-broken failed', 90)


@test
def qemu_debian_sysvinit_root_reaches_login_and_reaps(work):
    """A real Debian 12 root with sysvinit-core as init (debootstrap,
    cached): it reaches its login prompt on the serial console, starts with
    no signal blocked or ignored, and a minute later has left no zombie."""
    root = subprocess.run([os.path.join(harness.TOP, 'tests', 'rootfs',
                                        'sysvinit.sh')], capture_output=True,
                          text=True)
    check(root.returncode == 0, 'cannot build the sysvinit root: %s'
          % root.stderr[-2000:])
    img = work('disk.img')
    expect(clilib_run('image', 'create', img, '--size', '640M',
                      '--boot-size', '48M', '--root-from',
                      root.stdout.strip()), 0, 'created')
    expect(provision(img, 1, None, '--append', 'panic=1 rw'), 0)
    with qemu(work, img, timeout=240) as c:
        c.expect(r'Run /sbin/earlyfs-init as init process', 60)
        c.expect(r'INIT: version', 60)
        m = c.expect(r'PROBE init SigBlk:\s*([0-9a-f]+)\s+SigIgn:\s*'
                     r'([0-9a-f]+)', 90)
        c.expect(r'earlyfs-sysv login:', 90)
        z = c.expect(r'PROBE zombies=(\d+)', 90)
    check(int(m.group(1), 16) == 0, 'sysvinit started with signals blocked: '
          '%s' % m.group(1))
    check(int(z.group(1)) == 0, '%s zombies a minute after boot'
          % z.group(1))
