"""Disk images the host kernel cannot make (it has no device-mapper and no
md): a QEMU guest of the test kernel runs a shell script with the host's
cryptsetup and mdadm (and their libraries) from a throwaway initramfs, on
the disks given, and powers off.  Only the test's own files are attached."""
import os, re, shutil, subprocess
from tests import harness

TOOLS = ('/usr/sbin/cryptsetup', '/usr/sbin/mdadm')
# Tests only: PBKDF2 with the fewest iterations LUKS2 accepts, so that
# opening a volume takes milliseconds under TCG emulation.  A real volume
# keeps cryptsetup's default (argon2id, about a second of work).
FAST_KDF = ['--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000']

INIT = '''#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
export EARLYFS_DATADIR=/earlyfs
mkdir -p /run/cryptsetup /tmp
if sh -e /script; then echo GUEST-OK; else echo "GUEST-FAILED $?"; fi
poweroff -f
'''


def _libraries(binary):
    out = subprocess.run(['ldd', binary], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r'(/\S+) \(0x', out)


def _copy(root, path, src=None):
    dst = os.path.join(root, path.lstrip('/'))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy(os.path.realpath(src or path), dst)


# What a UEFI guest runs earlyfs's EFI loaders with: efibootmgr, mtools
# (the ESP with no mount), and the kernel the guest provisions with.
UEFI_TOOLS = ('/usr/bin/efibootmgr', '/usr/bin/mtools', '/usr/sbin/mke2fs')
MTOOLS_LINKS = ('mcopy', 'mdir', 'mren', 'mdel', 'mmd', 'mrd', 'mtype',
                'minfo')


def initramfs(work, script, earlyfs=False, uefi=False, files=(), tools=()):
    """An uncompressed newc cpio: busybox, TOOLS with their libraries, the
    script as /script; with earlyfs, also this tree's earlyfs CLI (as
    /usr/sbin/earlyfs, its data and earlyfs-init in EARLYFS_DATADIR=/earlyfs),
    the host's gzip, and the host's ld.so.conf, which its closure
    resolution reads; tools: more host binaries, with their libraries."""
    root = work('initramfs')
    shutil.rmtree(root, ignore_errors=True)     # a test's second guest
    harness.busybox_tree(root)
    for d in ('proc', 'sys', 'dev', 'run', 'tmp', 'sbin', 'etc'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for d in ('lib', 'lib32', 'lib64', 'libx32'):    # the host's merged /usr
        if os.path.islink('/' + d):
            target = os.readlink('/' + d)
            os.makedirs(os.path.join(root, target.lstrip('/')),
                        exist_ok=True)
            os.symlink(target, os.path.join(root, d))
    # the CLI's kernel add compresses a module stub with the host's gzip
    extra = ('/usr/bin/gzip',) if earlyfs else ()
    extra += (UEFI_TOOLS if uefi else ()) + tuple(tools)
    linked = TOOLS + extra + ((os.path.join(harness.BUILD, 'earlyfs'),)
                              if earlyfs else ())
    for b in linked:
        for path in tuple(_libraries(b)):
            _copy(root, path)
    for b in TOOLS + extra:
        _copy(root, b)
    if earlyfs:
        _copy(root, '/usr/sbin/earlyfs',
              os.path.join(harness.BUILD, 'earlyfs'))
        for d in ('templates', 'init.d'):
            shutil.copytree(os.path.join(harness.TOP, d),
                            os.path.join(root, 'earlyfs', d))
        _copy(root, '/earlyfs/earlyfs-init',
              os.path.join(harness.BUILD, 'earlyfs-init'))
        conf = ['/etc/ld.so.conf'] + [
            os.path.join('/etc/ld.so.conf.d', f)
            for f in os.listdir('/etc/ld.so.conf.d')]
        for f in conf:
            _copy(root, f)
    if uefi:
        for link in MTOOLS_LINKS:
            os.symlink('mtools', os.path.join(root, 'usr/bin', link))
        _copy(root, '/earlyfs/bzImage', harness.kernel_image())
        _copy(root, '/earlyfs/config', os.path.join(
            os.path.dirname(harness.kernel_image()), 'config'))
        _copy(root, '/etc/mke2fs.conf')
        # mtools converts FAT's names through iconv (code page 850)
        gconv = '/usr/lib/x86_64-linux-gnu/gconv'
        for f in ('gconv-modules', 'gconv-modules.cache', 'IBM850.so',
                  'UNICODE.so', 'UTF-16.so'):
            if os.path.exists(os.path.join(gconv, f)):
                _copy(root, os.path.join(gconv, f))
        _copy(root, '/earlyfs/kernel-hook',
              os.path.join(harness.TOP, 'bootloader', 'earlyfs-kernel-hook'))
    for dst, src in files:
        _copy(root, dst, src)
    harness.write(os.path.join(root, 'init'), INIT, 0o755)
    harness.write(os.path.join(root, 'script'), script, 0o644)
    cpio = work('initramfs.cpio')
    files = subprocess.run(['find', '.'], cwd=root, capture_output=True,
                           check=True).stdout
    with open(cpio, 'wb') as f:
        subprocess.run(['cpio', '--quiet', '-o', '-H', 'newc'], cwd=root,
                       input=files, stdout=f, check=True)
    return cpio


def _guest(work, cpio, disks, iface, timeout, boot, kernel=None):
    """Boots the test kernel (or kernel) with cpio as its initramfs and
    disks (the first through boot(work, disk, extra), the others after
    it); the console text once the script said it succeeded, else
    BootFailure."""
    argv = ['-kernel', kernel or harness.kernel_image(), '-initrd', cpio,
            '-append', 'console=ttyS0 rdinit=/init panic=-1 quiet']
    for i, d in enumerate(disks[1:], 1):
        argv += harness.drive(d, iface, i)
    name = work.name
    work.name = name + '-guest'
    try:
        with boot(work, disks[0], argv) as c:
            m = c.expect(r'GUEST-(OK|FAILED \d+)', timeout)
            if m.group(1) != 'OK':
                raise harness.BootFailure('guest: %s' % m.group(0))
            c.wait_exit(60)
            return c.text()
    finally:
        work.name = name


def run(work, script, disks, timeout=300, earlyfs=False, iface='virtio',
        extra=()):
    """Runs script in the guest with disks as vda, vdb, ... (iface='ide':
    sda, sdb, ...; 'nvme': nvme0n1, nvme1n1, ...) and QEMU's extra
    arguments; returns the console text (raises BootFailure unless the
    script succeeded)."""
    return _guest(work, initramfs(work, script, earlyfs), disks, iface,
                  timeout, lambda w, d, argv: harness.qemu(
                      w, d, timeout, extra=argv + list(extra), iface=iface))


def run_uefi(work, script, disks, vars_file, timeout=300, files=(),
             tools=(), kernel=None, **firmware):
    """Runs script as a running UEFI machine would: OVMF (vars_file, kept
    for the boots after) starts the test kernel with the initramfs, whose
    script has efivarfs, earlyfs, efibootmgr and mtools; disks as vda,
    vdb...; tools: more host binaries; kernel: another than the test
    kernel (one signed for Secure Boot); firmware: qemu_uefi's code,
    vars_template, secure.  Returns the console text (BootFailure unless
    it succeeded)."""
    cpio = initramfs(work, script, earlyfs=True, uefi=True, files=files,
                     tools=tools)
    return _guest(work, cpio, disks, 'virtio', timeout,
                  lambda w, d, argv: harness.qemu_uefi(
                      w, d, timeout, extra=argv, vars_file=vars_file,
                      **firmware), kernel)
