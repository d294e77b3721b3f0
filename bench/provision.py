"""make bench, part 2: provision the 64 MiB partition of an image N times
(kernel build excluded); space used on the boot partition without the
kernel, beside the machine's own initramfs."""
import glob, os, re, statistics, subprocess, sys, time
from tests import harness

RUNS = int(os.environ.get('BENCH_RUNS', '7'))
E = os.path.join(harness.BUILD, 'earlyfs')


def main():
    work = harness.Workdir('bench-provision')
    kernel = harness.kernel_image()
    img = work('disk.img')
    subprocess.run([E, 'image', 'create', img, '--size', '128M',
                    '--boot-size', '64M'], check=True, stdout=subprocess.DEVNULL)
    disk_id = subprocess.run(['sfdisk', '--disk-id', img], capture_output=True,
                             text=True, check=True).stdout.strip()[2:]
    times = []
    for i in range(RUNS):
        t0 = time.monotonic()
        subprocess.run([E, 'provision', img, '--partition', '1', '--force',
                        '--root', 'PARTUUID=%s-02' % disk_id, '--kernel',
                        kernel], check=True, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - t0)
    status = subprocess.run([E, 'status', img, '--partition', '1'],
                            capture_output=True, text=True, check=True).stdout
    free, total = map(int, re.search(r'free:\s+(\d+) KiB of (\d+) KiB',
                                     status).groups())
    used_kib = total - free
    kernel_kib = (os.path.getsize(kernel) + 1023) // 1024
    print('earlyfs provisioning benchmark: %d runs, 64 MiB partition of an '
          'image file' % RUNS)
    print('provision time: median %.3f s (min %.3f, max %.3f; target <= 1 s)'
          % (statistics.median(times), min(times), max(times)))
    print('boot partition used: %d KiB, of which kernel %d KiB; without the '
          'kernel %d KiB = %.2f MiB (target <= 4 MiB; includes ext4 metadata)'
          % (used_kib, kernel_kib, used_kib - kernel_kib,
             (used_kib - kernel_kib) / 1024))
    initrds = sorted(glob.glob('/boot/initrd.img-*'))
    if initrds:
        for f in initrds:
            print('this machine\'s initramfs %s: %d KiB (%.1fx the boot '
                  'partition without its kernel)'
                  % (f, os.path.getsize(f) // 1024,
                     os.path.getsize(f) / 1024 / (used_kib - kernel_kib)))
    else:
        print('this machine has no /boot/initrd.img-* to compare with')
    work.cleanup()


if __name__ == '__main__':
    main()
