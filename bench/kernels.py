"""make bench, part 5 (issue 13): Debian's stock kernel through its module
stub, on the disk of bench.boot: the stub's size, the early stage (guest
time from the kernel's 'Run /init as init process' to the real init's
first line: module loading, the boot partition's mount, the runner, the
pivot) and the total, medians of BENCH_RUNS_KERNELS (5) boots under
-icount shift=0 and under plain TCG."""
import os, statistics
from bench import boot as B
from tests import harness
from tests.cli.clilib import STOCK, run

RUNS = int(os.environ.get('BENCH_RUNS_KERNELS', '5'))


def main():
    work = harness.Workdir('bench-kernels')
    disk = B.build(work)
    sk = sorted(f for f in os.listdir(STOCK) if f.startswith('vmlinuz-'))[-1]
    version = sk[8:]
    moddir = os.path.join(os.path.dirname(STOCK), 'lib', 'modules', version)
    p = run('kernel', 'add', os.path.join(STOCK, sk), '--modules', moddir,
            '--driver', 'virtio_blk,virtio_pci', '--default', '--target',
            disk, '--partition', 1)
    harness.check(p.returncode == 0, p.out)
    with harness.partition_mounted(disk, 1, work('m'), 'ro') as m:
        stub = os.path.getsize(os.path.join(m, 'stub-%s.img' % version))
        kern = os.path.getsize(os.path.join(m, sk))
    print('module stub of %s: %d KiB (target <= 1024 KiB); the kernel %d '
          'KiB' % (version, stub // 1024, kern // 1024))
    for name, extra in (('-icount shift=0', B.ICOUNT), ('TCG', ())):
        r = [B.boot_once(work, disk, 'earlyfs', '/init', extra)
             for _ in range(RUNS)]
        print('stock kernel + stub, %s, medians of %d: early stage %.1f ms, '
              'total %.1f ms, wall %.2f s' % (
                  name, RUNS, statistics.median(x['early_ms'] for x in r),
                  statistics.median(x['total_ms'] for x in r),
                  statistics.median(x['wall_s'] for x in r)))
    work.cleanup()


if __name__ == '__main__':
    main()
