"""make bench, part 5 (issue 13): a stock kernel, side by side.

Debian's cloud kernel (drivers as modules, ext4 built in) boots the disk of
bench.boot to the same real root with each of
  earlyfs    earlyfs's module stub, then the partition's earlyfs-init
  itools     Debian's initramfs-tools image, as the package installs it
  itools-list  the same made with MODULES=list (virtio_pci, virtio_blk)
  dracut     dracut's generic image (--no-hostonly)
and, for the floor, the test kernel (drivers built in) mounting the root
itself.  The distribution images come from a throwaway Debian chroot
(bench/distro-initrds.sh, cached).  Early stage = guest time from the
kernel's 'Run /init as init process' (the floor: /sbin/init) to the real
init's first line; total = from the kernel's start to that line.  Medians
of BENCH_RUNS_KERNELS (5) boots under -icount shift=0 and under plain TCG
(interleaved), the image sizes, and the earlyfs stub of Debian's generic
kernel too (ext4 a module there)."""
import os, re, statistics, subprocess
from bench import boot as B
from tests import harness
from tests.cli.clilib import STOCK, run
from tests.cli.test_kernels import real_version

RUNS = int(os.environ.get('BENCH_RUNS_KERNELS', '5'))
HERE = os.path.dirname(os.path.abspath(__file__))

DISTRO_LABELS = '''
LABEL itools
	KERNEL /vmlinuz-{v}
	INITRD /initrd-tools.img
	APPEND {append}

LABEL itools-list
	KERNEL /vmlinuz-{v}
	INITRD /initrd-tools-list.img
	APPEND {append}

LABEL dracut
	KERNEL /vmlinuz-{v}
	INITRD /initrd-dracut.img
	APPEND {append}

LABEL floor
	KERNEL /vmlinuz-{tv}
	APPEND {append} init=/sbin/init
'''

VARIANTS = [
    ('earlyfs', 'earlyfs + its module stub', '/init'),
    ('itools', 'initramfs-tools, as installed', '/init'),
    ('itools-list', 'initramfs-tools, MODULES=list', '/init'),
    ('dracut', 'dracut, generic', '/init'),
    ('floor', 'built-in drivers, root= (the test kernel)', '/sbin/init'),
]
IMAGES = {'itools': 'initrd-tools.img', 'itools-list': 'initrd-tools-list.img',
          'dracut': 'initrd-dracut.img'}


def distro():
    p = subprocess.run(['sh', os.path.join(HERE, 'distro-initrds.sh')],
                       capture_output=True, text=True)
    harness.check(p.returncode == 0, 'distro-initrds.sh: ' + p.stderr[-2000:])
    d = p.stdout.strip().splitlines()[-1]
    return d, open(os.path.join(d, 'version')).read().strip()


def add(work, disk, kernel, moddir):
    p = run('kernel', 'add', kernel, '--modules', moddir, '--driver',
            'virtio_blk,virtio_pci', '--default', '--target', disk,
            '--partition', 1)
    harness.check(p.returncode == 0 and 'module stub' in p.out, p.out)


def medians(results):
    return {k: {m: statistics.median(r[m] for r in v)
                for m in ('early_ms', 'total_ms', 'wall_s')}
            for k, v in results.items()}


def main():
    work = harness.Workdir('bench-kernels')
    d, version = distro()
    disk = B.build(work, size='256M', boot_size='192M')
    disk_id = subprocess.run(['sfdisk', '--disk-id', disk], capture_output=True,
                             text=True, check=True).stdout.strip()[2:]
    kernel = work('vmlinuz-' + version)  # kernel add names it by its version
    subprocess.run(['cp', os.path.join(d, 'vmlinuz'), kernel], check=True)
    subprocess.run(['cp', os.path.join(d, 'config'), work('config-' + version)],
                   check=True)
    add(work, disk, kernel, os.path.join(d, 'lib', 'modules', version))
    sizes = {}
    with harness.partition_mounted(disk, 1, work('m')) as m:
        conf = os.path.join(m, 'extlinux', 'extlinux.conf')
        text = open(conf).read()
        append = re.search(r'^LABEL earlyfs\n.*?^\s*APPEND (.*?)$', text,
                           re.M | re.S).group(1)
        append = re.sub(r'\s*init=\S+', '', append)
        append = append.replace('root=PARTUUID=%s-01' % disk_id,
                                'root=PARTUUID=%s-02 ro' % disk_id)
        for key, name in IMAGES.items():
            subprocess.run(['cp', os.path.join(d, name), m], check=True)
            sizes[key] = os.path.getsize(os.path.join(d, name))
        sizes['earlyfs'] = os.path.getsize(os.path.join(m, 'stub-%s.img'
                                                        % version))
        with open(conf, 'a') as f:
            f.write(DISTRO_LABELS.format(v=version, append=append,
                                         tv=real_version()))
    print('%s: the stub and the distributions\' images, same kernel, same '
          'disk (KiB):' % version)
    for key, desc, _ in VARIANTS[:4]:
        print('  %-12s %-34s %8d' % (key, desc, sizes[key] // 1024))
    for name, extra in (('-icount shift=0', B.ICOUNT), ('TCG', ())):
        results = {k: [] for k, *_ in VARIANTS}
        for i in range(RUNS):
            for key, _, init in VARIANTS:
                results[key].append(B.boot_once(work, disk, key, init, extra))
        med = medians(results)
        print('%s, medians of %d boots (ms of guest clock; wall s):'
              % (name, RUNS))
        print('  %-12s %-46s %9s %9s %7s' % ('label', '', 'early', 'total',
                                             'wall'))
        for key, desc, _ in VARIANTS:
            m = med[key]
            print('  %-12s %-46s %9.1f %9.1f %7.2f' % (
                key, desc, m['early_ms'], m['total_ms'], m['wall_s']))
        e, it = med['earlyfs']['early_ms'], med['itools']['early_ms']
        print('  earlyfs / initramfs-tools early stage: %.3f (1/%.0f; goal '
              '<= 1/20); / MODULES=list %.3f; / dracut %.3f; earlyfs - '
              'floor %+.1f ms' % (
                  e / it, it / e, e / med['itools-list']['early_ms'],
                  e / med['dracut']['early_ms'],
                  e - med['floor']['early_ms']))
    # Debian's generic kernel: ext4 and crc32c are modules too
    sk = sorted(f for f in os.listdir(STOCK) if f.startswith('vmlinuz-'))[-1]
    gv = sk[8:]
    add(work, disk, os.path.join(STOCK, sk),
        os.path.join(os.path.dirname(STOCK), 'lib', 'modules', gv))
    with harness.partition_mounted(disk, 1, work('m'), 'ro') as m:
        stub = os.path.getsize(os.path.join(m, 'stub-%s.img' % gv))
    r = [B.boot_once(work, disk, 'earlyfs', '/init', B.ICOUNT)
         for _ in range(RUNS)]
    print('%s (generic: ext4 a module), stub %d KiB, -icount shift=0, '
          'medians of %d: early stage %.1f ms, total %.1f ms' % (
              gv, stub // 1024, RUNS,
              statistics.median(x['early_ms'] for x in r),
              statistics.median(x['total_ms'] for x in r)))
    work.cleanup()


if __name__ == '__main__':
    main()
