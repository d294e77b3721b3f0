"""make bench, part 6 (issue 26): the boot loaders, side by side.

Debian's signed cloud kernel boots one disk layout (GPT: 1 the ESP, 2 the
earlyfs partition, 3 the root) to the same real root, earlyfs's module
stub as its initrd, through each loader:
  extlinux      BIOS: SeaBIOS, gptmbr.bin, extlinux
  systemd-boot  UEFI: OVMF, systemd-boot, the kernel and stub on the ESP
  grub          UEFI: OVMF, Debian's signed shim and GRUB, the kernel and
                stub read from the ext4 partition
and Debian's own path for the same kernel: the same shim and GRUB with
initramfs-tools' image (bench/distro-initrds.sh, cached).  efistub's entries
live in a machine's NVRAM (tests/cli/test_loaders.py boots them), not here.
Menus time out at once (loader.conf's timeout 0, grub.cfg's timeout=0,
extlinux's label typed at its prompt).

Measured per boot: firmware start to the real init (host wall clock from
QEMU's start to the real init's first line on the console) and the early
stage (guest clock: the kernel's 'Run ... as init process' to the real
init).  Medians of BENCH_RUNS_LOADERS (5) boots each, interleaved, under
plain TCG and under -icount shift=0.  And the ESP's bytes per kept kernel:
what each loader puts there for one kernel, against kernel +
initramfs-tools' image (what a BLS loader would carry for Debian)."""
import os, re, shutil, statistics, subprocess, time
from bench import boot as B
from bench.kernels import distro
from tests import harness
from tests.cli.clilib import run, partuuid

RUNS = int(os.environ.get('BENCH_RUNS_LOADERS', '5'))
MT = dict(os.environ, MTOOLS_SKIP_CHECK='1', MTOOLSRC='/dev/null')

VARIANTS = [
    ('extlinux', 'earlyfs, extlinux (BIOS)'),
    ('systemd-boot', 'earlyfs, systemd-boot (UEFI)'),
    ('grub', 'earlyfs, shim + GRUB (UEFI)'),
    ('debian', 'Debian: shim + GRUB + initramfs-tools'),
]


def esp_offset(disk):
    out = subprocess.run(['sfdisk', '-J', disk], capture_output=True,
                         text=True, check=True).stdout
    return int(re.search(r'"start":\s*(\d+)', out).group(1)) * 512


def mtools(disk, *args, stdin=None):
    return subprocess.run([args[0], '-i', '%s@@%d' % (disk, esp_offset(disk))]
                          + list(args[1:]), input=stdin, env=MT,
                          capture_output=True, check=True).stdout


def esp_sub(disk, path, pattern, repl):
    text = mtools(disk, 'mtype', '::' + path).decode()
    text = re.sub(pattern, repl, text, flags=re.M)
    mtools(disk, 'mcopy', '-o', '-', '::' + path, stdin=text.encode())
    return text


def build(work, name, loader, d, version):
    root = work('root')
    if not os.path.isdir(root):
        for sub in ('dev', 'proc', 'sys', 'run', 'tmp', 'boot', 'sbin',
                    'mnt', 'etc'):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        harness.busybox_tree(root)
        harness.write(os.path.join(root, 'sbin', 'init'), B.REAL_INIT,
                      0o755)
    disk = work(name + '.img')
    p = run('image', 'create', disk, '--size', '448M', '--esp-size', '128M',
            '--boot-size', '192M', '--root-from', root, '--force')
    harness.check(p.returncode == 0, p.out)
    kernel = work('vmlinuz-' + version)
    if not os.path.exists(kernel):
        shutil.copy(os.path.join(d, 'vmlinuz'), kernel)
        shutil.copy(os.path.join(d, 'config'), work('config-' + version))
    p = run('provision', disk, '--partition', 2, '--root',
            'PARTUUID=' + partuuid(disk, 3), '--kernel', kernel, '--modules',
            os.path.join(d, 'lib', 'modules', version), '--driver',
            'virtio_blk,virtio_pci', '--bootloader', loader,
            '--menu-timeout', '1', '--append', 'panic=1')
    harness.check(p.returncode == 0, p.out)
    return disk


def boot(work, disk, name, extra):
    uefi = name != 'extlinux'
    t0 = time.monotonic()
    with (harness.qemu_uefi(work, disk, extra=extra, timeout=300) if uefi
          else harness.qemu(work, disk, extra=extra, timeout=300)) as c:
        if not uefi:
            c.expect(r'boot:', timeout=120)
            c.send('earlyfs')
        run_line = c.expect(r'\[\s*([\d.]+)\] Run \S+ as init process', 240)
        real = c.expect(r'\[\s*([\d.]+)\] earlyfs-bench: real init', 120)
        wall = time.monotonic() - t0
        c.expect(r'BENCH-PEAK', 30)
        c.wait_exit(60)
    return {'wall_s': wall,
            'early_ms': (float(real.group(1)) - float(run_line.group(1)))
            * 1000, 'total_ms': float(real.group(1)) * 1000}


def main():
    work = harness.Workdir('bench-loaders')
    d, version = distro()
    disks = {}
    for name, _ in VARIANTS[:3]:
        disks[name] = build(work, name, name, d, version)
    # no boot counting: every boot takes the same entry (nothing blesses
    # it here)
    with harness.partition_mounted(disks['systemd-boot'], 2, work('m')) as m:
        with open(os.path.join(m, 'etc/earlyfs.conf'), 'a') as f:
            f.write('boot_tries=0\n')
    p = run('loader', 'sync', '--target', disks['systemd-boot'],
            '--partition', 2)
    harness.check(p.returncode == 0, p.out)
    # menus: no wait
    esp_sub(disks['systemd-boot'], '/loader/loader.conf', r'^timeout .*$',
            'timeout 0')
    esp_sub(disks['grub'], '/EFI/BOOT/grub.cfg', r'^set timeout=.*$',
            'set timeout=0')
    # Debian's path: the same GRUB, the kernel with initramfs-tools' image
    disks['debian'] = work('debian.img')
    shutil.copy(disks['grub'], disks['debian'])
    with harness.partition_mounted(disks['debian'], 2, work('m')) as m:
        shutil.copy(os.path.join(d, 'initrd-tools.img'),
                    os.path.join(m, 'initrd-tools.img'))
    entry = ("menuentry 'Debian (initramfs-tools)' --id debian {\n"
             "\tlinux /vmlinuz-%s root=PARTUUID=%s ro console=tty0 "
             "console=ttyS0,115200 panic=1\n\tinitrd /initrd-tools.img\n}\n"
             % (version, partuuid(disks['debian'], 3)))
    text = esp_sub(disks['debian'], '/EFI/BOOT/grub.cfg',
                   r'^set default=earlyfs$', 'set default=debian')
    mtools(disks['debian'], 'mcopy', '-o', '-', '::/EFI/BOOT/grub.cfg',
           stdin=(text + entry).encode())
    # the ESP's bytes per kernel
    kernel = os.path.getsize(os.path.join(d, 'vmlinuz'))
    itools = os.path.getsize(os.path.join(d, 'initrd-tools.img'))
    # what earlyfs wrote to the ESP, as its manifest says
    esp = {}
    for name in ('systemd-boot', 'grub'):
        manifest = mtools(disks[name], 'mtype', '::/earlyfs/manifest').decode()
        esp[name] = sum(int(m.group(1)) for m in re.finditer(
            r'^/earlyfs/(?:vmlinuz|stub)-\S+ (\d+) ', manifest, re.M))
    print('%s: the ESP\'s bytes for one kernel (KiB):' % version)
    print('  %-40s %8d' % ('systemd-boot: kernel + earlyfs stub',
                           esp['systemd-boot'] // 1024))
    print('  %-40s %8d' % ('grub: none (read from the ext4 partition)',
                           esp['grub'] // 1024))
    print('  %-40s %8d' % ('kernel + initramfs-tools image', (kernel + itools)
                           // 1024))
    print('  systemd-boot over the kernel: %d KiB (goal <= 1024); '
          'initramfs-tools over it: %d KiB' % (
              (esp['systemd-boot'] - kernel) // 1024, itools // 1024))
    for label, extra in (('TCG', ()), ('-icount shift=0', B.ICOUNT)):
        results = {k: [] for k, _ in VARIANTS}
        for i in range(RUNS):
            for name, _ in VARIANTS:
                work.name = 'bench-loaders-%s' % name
                results[name].append(boot(work, disks[name], name, extra))
        print('%s, medians of %d boots:' % (label, RUNS))
        print('  %-42s %12s %10s %10s' % ('', 'firmware to', 'early', 'total'))
        print('  %-42s %12s %10s %10s' % ('', 'real init s', 'stage ms',
                                          'kernel ms'))
        med = {k: {m: statistics.median(r[m] for r in v)
                   for m in ('wall_s', 'early_ms', 'total_ms')}
               for k, v in results.items()}
        for name, desc in VARIANTS:
            m = med[name]
            print('  %-42s %12.2f %10.1f %10.1f' % (
                desc, m['wall_s'], m['early_ms'], m['total_ms']))
        ext = med['extlinux']['early_ms']
        print('  early stage over extlinux\'s: systemd-boot %+.1f ms, grub '
              '%+.1f ms (goal <= 1 ms); Debian\'s / earlyfs-grub: %.1fx '
              'early, %.2fx firmware to real init' % (
                  med['systemd-boot']['early_ms'] - ext,
                  med['grub']['early_ms'] - ext,
                  med['debian']['early_ms'] / med['grub']['early_ms'],
                  med['debian']['wall_s'] / med['grub']['wall_s']))
    work.cleanup()


if __name__ == '__main__':
    main()
