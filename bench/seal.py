"""make bench, part 8 (issue 28): sealing.

1. What verification costs at boot: one disk (GPT: the ESP, the earlyfs
   partition, the root), Debian's cloud kernel with earlyfs's module stub,
   booted through systemd-boot unsealed (plain OVMF, a type 1 entry) and
   sealed (OVMF with Secure Boot and the snakeoil key, the signed image).
   The early stage is the guest clock from the kernel's 'Run /init as init
   process' (the stub) to the real init; the seal's own time is what
   earlyfs-init says it took ("as sealed (N ms)").  Medians of
   BENCH_RUNS_SEAL (5) boots each, interleaved, under -icount shift=0.
2. Reseal after a one-fragment edit: 'earlyfs add' on the sealed image (the
   change, then the images made and signed again), against the same edit
   unsealed, and against what a machine with an initramfs does to get a
   new signed image: initramfs-tools' mkinitramfs (in the Debian machine of
   tests/rootfs/debian-grub.sh, chroot'ed, the cloud kernel's modules),
   then the same objcopy and sbsign.  Host wall clock, medians of
   BENCH_RUNS_SEAL runs.
3. The same verification natively, no emulation: earlyfs-init's own
   seal_scan() (bench/sealscan.c, the static library) over the sealed
   disk's partition mounted read-only, in the default image's scope, with
   the page cache dropped first (cold) and then again (warm).  Host wall
   clock, medians of BENCH_RUNS_SEAL runs."""
import contextlib, os, re, shutil, statistics, subprocess, time
from bench import boot as B
from bench.loaders import esp_sub
from tests import harness
from tests.cli.clilib import run, partuuid
from tests.cli.test_kernels import STOCK_CLOUD, stock, modules_of
from tests.cli.test_seal import keys

RUNS = int(os.environ.get('BENCH_RUNS_SEAL', '5'))
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(work):
    root = work('root')
    for sub in ('dev', 'proc', 'sys', 'run', 'tmp', 'boot', 'sbin', 'mnt',
                'etc'):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    harness.busybox_tree(root)
    harness.write(os.path.join(root, 'sbin', 'init'), B.REAL_INIT, 0o755)
    disk = work('unsealed.img')
    p = run('image', 'create', disk, '--size', '320M', '--esp-size', '64M',
            '--boot-size', '96M', '--root-from', root, '--force')
    harness.check(p.returncode == 0, p.out)
    sk = stock(STOCK_CLOUD)[-1]
    p = run('provision', disk, '--partition', 2, '--root',
            'PARTUUID=' + partuuid(disk, 3), '--kernel',
            os.path.join(STOCK_CLOUD, sk), '--modules',
            modules_of(STOCK_CLOUD, sk[8:]), '--driver',
            'virtio_blk,virtio_pci', '--bootloader', 'systemd-boot',
            '--menu-timeout', '1', '--append', 'panic=1')
    harness.check(p.returncode == 0, p.out)
    # no boot counting: every boot takes the same entry
    with harness.partition_mounted(disk, 2, work('m')) as m:
        with open(os.path.join(m, 'etc/earlyfs.conf'), 'a') as f:
            f.write('boot_tries=0\n')
    p = run('loader', 'sync', '--target', disk, '--partition', 2)
    harness.check(p.returncode == 0, p.out)
    esp_sub(disk, '/loader/loader.conf', r'^timeout .*$', 'timeout 0')
    sealed = work('sealed.img')
    shutil.copy(disk, sealed)
    key, cert = keys(work)
    p = run('seal', '--key', key, '--cert', cert, '--target', sealed,
            '--partition', 2)
    harness.check(p.returncode == 0, p.out)
    esp_sub(sealed, '/loader/loader.conf', r'^timeout .*$', 'timeout 0')
    return disk, sealed, key, cert, sk[8:]


def boot(work, disk, sealed):
    kw = dict(code='OVMF_CODE_4M.snakeoil.fd',
              vars_template='OVMF_VARS_4M.snakeoil.fd', secure=True,
              vars_file=work('vars-sealed.fd')) if sealed else \
        dict(vars_file=work('vars.fd'))
    with harness.qemu_uefi(work, disk, extra=B.ICOUNT, timeout=400,
                           **kw) as c:
        run_line = c.expect(r'\[\s*([\d.]+)\] Run /init as init process',
                            300)
        seal_ms = None
        if sealed:
            seal_ms = float(c.expect(r'as sealed \((\d+) ms\)', 120)
                            .group(1))
        real = c.expect(r'\[\s*([\d.]+)\] earlyfs-bench: real init', 120)
        c.expect(r'BENCH-PEAK', 30)
        c.wait_exit(60)
    return {'early_ms': (float(real.group(1)) - float(run_line.group(1)))
            * 1000, 'seal_ms': seal_ms}


def timed(argv, **kw):
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    harness.check(p.returncode == 0, '%s: %s' % (argv[:3], p.stdout[-500:]
                                                 + p.stderr[-1500:]))
    return time.monotonic() - t0


@contextlib.contextmanager
def debian_root(work):
    """The Debian machine's root, read-only under a tmpfs overlay, with
    its own proc, sys and dev (tmpfs): mkinitramfs runs there."""
    p = subprocess.run(['sh', os.path.join(TOP, 'tests/rootfs/debian-grub.sh')],
                       capture_output=True, text=True)
    harness.check(p.returncode == 0, 'debian-grub.sh: ' + p.stderr[-2000:])
    d = p.stdout.strip().splitlines()[-1]
    low, up, top = work('low'), work('up'), work('top')
    for x in (low, up, top):
        os.makedirs(x, exist_ok=True)
    mounts = []
    try:
        with harness.partition_mounted(os.path.join(d, 'disk.img'), 3, low,
                                       'ro'):
            subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', up], check=True)
            mounts.append(up)
            os.makedirs(os.path.join(up, 'u'))
            os.makedirs(os.path.join(up, 'w'))
            subprocess.run(['mount', '-t', 'overlay', 'overlay', '-o',
                            'lowerdir=%s,upperdir=%s/u,workdir=%s/w'
                            % (low, up, up), top], check=True)
            mounts.append(top)
            for fs, at in (('proc', 'proc'), ('sysfs', 'sys'),
                           ('tmpfs', 'dev'), ('tmpfs', 'tmp')):
                subprocess.run(['mount', '-t', fs, fs,
                                os.path.join(top, at)], check=True)
                mounts.append(os.path.join(top, at))
            subprocess.run(['mknod', '-m', '666', os.path.join(top, 'dev/null'),
                            'c', '1', '3'], check=True)
            version = open(os.path.join(d, 'version')).read().strip()
            yield top, version
            for m in reversed(mounts):
                subprocess.run(['umount', m], check=True)
            mounts = []
    finally:
        for m in reversed(mounts):
            subprocess.run(['umount', '-l', m])


def native(work, sealed):
    scan = os.path.join(harness.BUILD, 'bench', 'sealscan')
    cold, warm = [], []
    with harness.partition_mounted(sealed, 2, work('native'), 'ro') as m:
        gen = max(int(g) for g in os.listdir(os.path.join(m, 'generations'))
                  if g.isdigit())
        for i in range(RUNS):
            for into in (cold, warm):
                if into is cold:
                    subprocess.run(['sync'], check=True)
                    with open('/proc/sys/vm/drop_caches', 'w') as f:
                        f.write('3\n')
                p = subprocess.run([scan, m, str(gen)], capture_output=True,
                                   text=True)
                harness.check(p.returncode == 0, p.stderr)
                ms, files, size = p.stdout.split()
                into.append(float(ms))
    print('the same verification natively (this host, no emulation), '
          'generation %d\'s scope: %s files, %.1f MB hashed, medians of %d:'
          % (gen, files, int(size) / 1e6, RUNS))
    print('  page cache dropped first  %7.1f ms' % statistics.median(cold))
    print('  page cache warm           %7.1f ms' % statistics.median(warm))


def main():
    work = harness.Workdir('bench-seal')
    os.environ['EARLYFS_SEAL_CONF'] = work('seal.conf')
    unsealed, sealed, key, cert, version = build(work)
    res = {False: [], True: []}
    for i in range(RUNS):
        for s, disk in ((False, unsealed), (True, sealed)):
            work.name = 'bench-seal-%s' % ('sealed' if s else 'unsealed')
            res[s].append(boot(work, disk, s))
    med = {s: statistics.median(r['early_ms'] for r in v)
           for s, v in res.items()}
    seal_ms = statistics.median(r['seal_ms'] for r in res[True])
    print('%s, -icount shift=0, medians of %d boots each:' % (version, RUNS))
    print('  early stage, unsealed (systemd-boot, type 1)  %8.1f ms'
          % med[False])
    print('  early stage, sealed (signed image)           %8.1f ms'
          % med[True])
    print('  sealed over unsealed: %+.1f ms (goal <= +5 ms); the '
          'verification itself (earlyfs-init\'s own clock): %.0f ms'
          % (med[True] - med[False], seal_ms))
    native(work, sealed)
    # the reseal after a one-fragment edit
    t = {'sealed': [], 'unsealed': [], 'seal': [], 'mkinitramfs': []}
    for i in range(RUNS):
        frag = '#!/bin/sh\necho edit %d\n' % i
        for name, disk in (('unsealed', unsealed), ('sealed', sealed)):
            t[name].append(timed([os.path.join(harness.BUILD, 'earlyfs'),
                                  'add', '--replace', '60-edit', '-',
                                  '--target', disk, '--partition', '2'],
                                 input=frag))
        t['seal'].append(timed([os.path.join(harness.BUILD, 'earlyfs'),
                                'seal', '--target', sealed, '--partition',
                                '2']))
    with debian_root(work) as (top, dv):
        for i in range(RUNS):
            t0 = time.monotonic()
            timed(['chroot', top, 'mkinitramfs', '-o', '/tmp/initrd.img',
                   dv])
            shutil.copy(os.path.join(top, 'tmp/initrd.img'),
                        work('initrd.img'))
            shutil.copy(os.path.join(top, 'boot/vmlinuz-' + dv),
                        work('vmlinuz'))
            with open(work('cmdline'), 'w') as f:
                f.write('root=/dev/vda3 ro console=ttyS0')
            at, args = 0x20000, []
            for sec, f in (('.cmdline', 'cmdline'), ('.initrd', 'initrd.img'),
                           ('.linux', 'vmlinuz')):
                args += ['--add-section', '%s=%s' % (sec, work(f)),
                         '--change-section-vma', '%s=0x%x' % (sec, at)]
                at = (at + os.path.getsize(work(f)) + 0xfff) & ~0xfff
            timed(['objcopy'] + args + [
                '/usr/lib/systemd/boot/efi/linuxx64.efi.stub',
                work('debian.unsigned.efi')])
            timed(['sbsign', '--key', key, '--cert', cert, '--output',
                   work('debian.efi'), work('debian.unsigned.efi')])
            t['mkinitramfs'].append(time.monotonic() - t0)
    m = {k: statistics.median(v) for k, v in t.items()}
    print('one fragment changed, host wall clock, medians of %d runs:' % RUNS)
    print('  earlyfs add, unsealed (the change, the ESP\'s entries)  %7.2f s'
          % m['unsealed'])
    print('  earlyfs add, sealed (the change, 3 images signed)      %7.2f s'
          % m['sealed'])
    print('  earlyfs seal alone                                     %7.2f s'
          % m['seal'])
    print('  mkinitramfs (%s) + objcopy + sbsign %7.2f s'
          % (dv, m['mkinitramfs']))
    print('  reseal after an edit: %.2f s (goal <= 2 s); %.1fx faster than '
          'a UKI rebuilt with initramfs-tools (which makes one image, '
          'earlyfs three)' % (m['sealed'], m['mkinitramfs'] / m['sealed']))
    work.cleanup()


if __name__ == '__main__':
    main()
