"""make bench: boot one disk image under QEMU (full BIOS) N times with each of
(a) earlyfs-init and the shipped fragments, (b) the kernel mounting the real
root itself (root=, the floor), (c) the same fragments sourced by a busybox
sh init script (the reference recipe's method).  Early stage = guest time
from the kernel's 'Run ... as init process' to the real init's first line;
total = guest time from kernel start to that line."""
import os, re, shutil, statistics, subprocess, sys, time
from tests import harness
from tests.harness import Workdir, qemu, write

RUNS = int(os.environ.get('BENCH_RUNS', '7'))
# -icount shift=0: the guest clock counts executed instructions (1 ns
# each), steady enough for ratios where TCG's wall-driven clock is noisy
RUNS_ICOUNT = int(os.environ.get('BENCH_RUNS_ICOUNT', '11'))
ICOUNT = ('-icount', 'shift=0')

REAL_INIT = r'''#!/bin/sh
echo "earlyfs-bench: real init" > /dev/kmsg
mount -t proc proc /proc 2>/dev/null
dmesg | grep -e ' as init process' -e 'earlyfs-bench: real init'
grep -q ' /boot ' /proc/self/mountinfo && echo "BENCH-BOOT-MOUNTED"
echo "BENCH-PEAK $(sed -n 's/^peak_kib //p' /run/earlyfs/report 2>/dev/null)"
poweroff -f
'''

# The recipe's init.sh, with its 99-pivotroot: fragments sourced in one shell.
INIT_SH = r'''#!/bin/busybox sh
set -e
mkdir -p /dev/pts
mount -a
export EARLYFS_NEWROOT=/mnt EARLYFS_ENV=/run/earlyfs/env
mkdir -p /run/earlyfs
: > "$EARLYFS_ENV"
for p in $(cat /proc/cmdline); do
	case $p in earlyfs.root=*) export EARLYFS_ROOT=${p#earlyfs.root=};; esac
done
for each in /init.d/*; do
	# a fragment with a #! line is run as the kernel would run it (the
	# shipped 50-mountroot: earlyfs-init mount-root); the others sourced
	read -r first < "${each}" || :
	case $first in
	'#!'*) "${each}" ;;
	*) . "${each}" ;;
	esac
	set -a; . "$EARLYFS_ENV"; set +a
done
umount /tmp /sys /proc /dev/pts
mount --move /dev /mnt/dev
mount --move /run /mnt/run
cd /mnt
pivot_root . boot
exec chroot . /sbin/init < dev/console > dev/console 2>&1
'''

VARIANTS = [
    ('a', 'earlyfs', 'earlyfs-init + shipped fragments', '/sbin/earlyfs-init'),
    ('a0', 'earlyfs earlyfs.skip=40,50,69', 'earlyfs-init, fragments skipped',
     '/sbin/earlyfs-init'),
    ('b', 'direct', 'kernel root= directly (floor)', '/sbin/init'),
    ('c', 'shell', 'busybox sh sourcing the fragments', '/init.sh'),
]

EXTRA_LABELS = '''
LABEL direct
	KERNEL /vmlinuz
	APPEND root=PARTUUID={d}-02 rootwait ro init=/sbin/init console=tty0 console=ttyS0,115200 panic=1

LABEL shell
	KERNEL /vmlinuz
	APPEND root=PARTUUID={d}-01 rootwait init=/init.sh earlyfs.root=PARTUUID={d}-02 console=tty0 console=ttyS0,115200 panic=1
'''


def build(work, size='128M', boot_size='64M', kernel=None,
          real_init=REAL_INIT):
    """The disk image, made by the CLI; the benchmark's extra labels and
    init.sh are then written onto the provisioned partition."""
    root = work('root')
    for d in ('dev', 'proc', 'sys', 'run', 'tmp', 'boot', 'sbin', 'mnt', 'etc'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    harness.busybox_tree(root)
    write(os.path.join(root, 'sbin', 'init'), real_init, 0o755)
    disk = work('disk.img')
    earlyfs = os.path.join(harness.BUILD, 'earlyfs')
    subprocess.run([earlyfs, 'image', 'create', disk, '--size', size,
                    '--boot-size', boot_size, '--root-from', root], check=True,
                   stdout=subprocess.DEVNULL)
    disk_id = subprocess.run(['sfdisk', '--disk-id', disk], capture_output=True,
                             text=True, check=True).stdout.strip()[2:]
    subprocess.run([earlyfs, 'provision', disk, '--partition', '1', '--root',
                    'PARTUUID=%s-02' % disk_id, '--kernel',
                    kernel or harness.kernel_image(), '--menu-timeout', '5',
                    '--append',
                    'panic=1'], check=True, stdout=subprocess.DEVNULL)
    with harness.partition_mounted(disk, 1, work('mnt')) as m:
        write(os.path.join(m, 'init.sh'), INIT_SH, 0o755)
        shutil.copy(os.path.join(harness.BUILD, 'earlyfs-init-profile'),
                    os.path.join(m, 'sbin', 'earlyfs-init-profile'))
        conf = os.path.join(m, 'extlinux', 'extlinux.conf')
        # 'profile': the default label with the runner built to time itself
        label = re.search(r'^LABEL earlyfs\n(.*?)(?=^LABEL|\Z)',
                          open(conf).read(), re.M | re.S).group(1)
        label = label.replace('init=/sbin/earlyfs-init ',
                              'init=/sbin/earlyfs-init-profile ')
        with open(conf, 'a') as f:
            f.write(EXTRA_LABELS.format(d=disk_id))
            f.write('\nLABEL profile\n' + label)
    return disk


def boot_once(work, disk, label, init, extra=()):
    t0 = time.monotonic()
    with qemu(work, disk, extra=extra) as c:
        c.expect(r'boot:', timeout=60)
        c.send(label)
        run = c.expect(r'\[\s*([\d.]+)\] Run %s as init process' % re.escape(init), 60)
        real = c.expect(r'\[\s*([\d.]+)\] earlyfs-bench: real init', 60)
        peak = c.expect(r'BENCH-PEAK (\d*)', 30)
        c.wait_exit(60)
        wall = time.monotonic() - t0
        ok_boot = 'BENCH-BOOT-MOUNTED' in c.text()
    t_run, t_real = float(run.group(1)), float(real.group(1))
    return {'early_ms': (t_real - t_run) * 1000, 'total_ms': t_real * 1000,
            'wall_s': wall, 'peak_kib': int(peak.group(1) or 0),
            'boot_mounted': ok_boot}


def series(work, disk, runs, extra):
    results = {k: [] for k, *_ in VARIANTS}
    # interleave the variants so drift on the host hits all alike
    for i in range(runs):
        for key, label, _, init in VARIANTS:
            results[key].append(boot_once(work, disk, label, init, extra))
    med = {k: {m: statistics.median(r[m] for r in v)
               for m in ('early_ms', 'total_ms', 'wall_s')}
           for k, v in results.items()}
    return results, med


RUNS_PROFILE = int(os.environ.get('BENCH_RUNS_PROFILE', '11'))


def profile_once(work, disk, label):
    """One boot of the profiling runner: [(stage, us, cpu_us)], each stage
    from the end of the one before; 'exec' starts at the kernel's 'Run'
    line and 'real init' ends at the real init's first line.  cpu_us: the
    CPU time PID 1 used in the stage (None where it is not known: before
    the first mark, PID 1's clock holds the kernel's whole start; after
    the last, it is the real init's)."""
    with qemu(work, disk, extra=ICOUNT) as c:
        c.expect(r'boot:', timeout=60)
        c.send(label)
        c.expect(r'earlyfs-bench: real init', 60)
        c.expect(r'BENCH-PEAK', 30)
        c.wait_exit(60)
        text = c.text()
    stamp = lambda pat: float(re.search(r'\[\s*([\d.]+)\] ' + pat,
                                        text).group(1)) * 1e6
    run, real = stamp(r'Run \S+ as init process'), stamp(r'earlyfs-bench: real')
    m = re.search(r'\[\s*([\d.]+)\] earlyfs-profile: now=(\d+)(.*)', text)
    offset = float(m.group(1)) * 1e6 - int(m.group(2))
    out, prev, prev_cpu = [], run, None
    for stage, us, cpu in re.findall(r' (\S+)=(\d+):(\d+)', m.group(3)):
        out.append((stage, int(us) + offset - prev,
                    None if prev_cpu is None else int(cpu) - prev_cpu))
        prev, prev_cpu = int(us) + offset, int(cpu)
    out.append(('real init', real - prev, None))
    return out


def profile(work, disk, label, runs):
    """Median time and CPU time of each stage over runs boots."""
    boots = [profile_once(work, disk, label) for _ in range(runs)]
    stages = [s for s, _, _ in boots[0]]
    same = [b for b in boots if len(b) == len(stages)]
    med = lambda i, k: (None if same[0][i][k] is None else
                        statistics.median(b[i][k] for b in same))
    return [(s, med(i, 1), med(i, 2)) for i, s in enumerate(stages)]


def profile_table(rows):
    total = sum(us for _, us, _ in rows)
    print('  %-16s %8s    %6s %8s' % ('stage', 'time', '', 'CPU'))
    for stage, us, cpu in rows:
        print('  %-16s %8.0f us %5.1f%% %8s' % (
            stage, us, 100 * us / total,
            '-' if cpu is None else '%.0f us' % cpu))
    known = [(us, cpu) for _, us, cpu in rows if cpu is not None]
    print('  %-16s %8.0f us        %5.0f us of CPU in the %.0f us of the '
          'stages where it is known: the rest waits' % (
              'sum', total, sum(c for _, c in known),
              sum(u for u, _ in known)))


def table(med):
    print('%-4s %-36s %10s %10s %8s' % ('', 'variant', 'early ms',
                                         'total ms', 'wall s'))
    for key, label, desc, _ in VARIANTS:
        m = med[key]
        print('%-4s %-36s %10.1f %10.1f %8.2f' % ('(%s)' % key, desc,
                                                m['early_ms'], m['total_ms'],
                                                m['wall_s']))


def main():
    work = Workdir('bench')
    disk = build(work)
    kvm = harness.kvm_usable()
    results, med = series(work, disk, RUNS, ())
    print('earlyfs boot benchmark: %d boots each, QEMU %s, full BIOS, '
          'medians (guest clock)' % (RUNS, 'KVM' if kvm else 'TCG'))
    table(med)
    a, b, c = med['a'], med['b'], med['c']
    print('(a)-(b) early stage: %+.1f ms (target <= 40 ms)'
          % (a['early_ms'] - b['early_ms']))
    print('(a0)-(b) early stage: %+.1f ms (the runner alone: exec, fstab, '
          'root mount, pivot)' % (med['a0']['early_ms'] - b['early_ms']))
    print('(a)/(c) early stage: %.2f (target < 1: earlyfs-init beats sh)'
          % (a['early_ms'] / c['early_ms']))
    print('(a)/(b) total: %.3f   (a)/(c) total: %.3f'
          % (a['total_ms'] / b['total_ms'], a['total_ms'] / c['total_ms']))
    size = os.path.getsize(os.path.join(harness.BUILD, 'earlyfs-init'))
    peaks = [r['peak_kib'] for r in results['a']]
    print('earlyfs-init: %d bytes static, peak RSS (VmHWM) median %d KiB'
          % (size, statistics.median(peaks)))
    print('boot partition at /boot after the pivot: %s'
          % all(r['boot_mounted'] for r in results['a']))
    _, mi = series(work, disk, RUNS_ICOUNT, ICOUNT)
    print('the same under -icount shift=0 (TCG, guest clock = instructions): '
          '%d boots each, medians' % RUNS_ICOUNT)
    table(mi)
    a, a0, b, c = (mi[k]['early_ms'] for k in ('a', 'a0', 'b', 'c'))
    print('(a0)-(b): %+.1f ms (goal <= 2 ms: the runner itself)' % (a0 - b))
    print('(a)-(b):  %+.1f ms (goal <= 8 ms with the shipped fragments)'
          % (a - b))
    print('(a)/(c):  %.2f (goal <= 0.5: earlyfs-init against one sh)'
          % (a / c))
    for label, what in (('profile', 'shipped fragments'),
                        ('profile earlyfs.skip=40,50,69', 'fragments skipped')):
        print('where the time goes, %s: earlyfs-init built with '
              'profile.h, -icount shift=0, medians of %d boots'
              % (what, RUNS_PROFILE))
        profile_table(profile(work, disk, label, RUNS_PROFILE))
    work.cleanup()


if __name__ == '__main__':
    main()
