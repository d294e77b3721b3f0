"""Boot-test harness: build ext4 images from trees, boot them under
user-mode-linux or QEMU, read the console, type into it."""
import os, re, shutil, subprocess, sys, tempfile, threading, time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD = os.path.join(TOP, 'build')
BUSYBOX = '/bin/busybox'


class BootFailure(Exception):
    pass


class Console:
    """A process whose stdout is the guest's console and stdin its keyboard."""

    def __init__(self, argv, log_path, hard_timeout):
        self.log_path = log_path
        self.out = b''
        self.pos = 0
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.started = time.monotonic()
        self.deadline = self.started + hard_timeout
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                break
            with self.lock:
                self.out += chunk

    def text(self):
        with self.lock:
            return self.out.decode('utf-8', 'replace')

    def expect(self, pattern, timeout=30):
        """Waits for a regex after the last match; returns the match."""
        rx = re.compile(pattern)
        end = min(time.monotonic() + timeout, self.deadline)
        while True:
            text = self.text()
            m = rx.search(text, self.pos)
            if m:
                self.pos = m.end()
                return m
            if time.monotonic() > end or (self.proc.poll() is not None
                                          and not self.reader.is_alive()):
                raise BootFailure('console never showed %r' % pattern)
            time.sleep(0.05)

    def send(self, line):
        self.proc.stdin.write(line.encode() + b'\n')
        self.proc.stdin.flush()

    def wait_exit(self, timeout=30):
        end = min(time.monotonic() + timeout, self.deadline)
        while self.proc.poll() is None:
            if time.monotonic() > end:
                raise BootFailure('guest did not power off')
            time.sleep(0.05)
        self.reader.join(2)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.reader.join(2)
        with open(self.log_path, 'w') as f:
            f.write(self.text())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def assert_no_panic(self):
        if 'Kernel panic' in self.text():
            raise BootFailure('the kernel panicked')


def sh(*argv, **kw):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)


def busybox_tree(root):
    """bin/busybox with a link per applet."""
    os.makedirs(os.path.join(root, 'bin'), exist_ok=True)
    shutil.copy(BUSYBOX, os.path.join(root, 'bin', 'busybox'))
    applets = subprocess.run([BUSYBOX, '--list'], capture_output=True,
                             text=True, check=True).stdout.split()
    for a in applets:
        if a != 'busybox':
            os.symlink('busybox', os.path.join(root, 'bin', a))


def write(path, content, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(content)
    os.chmod(path, mode)


def boot_tree(root, fragments=None, shipped=True, shell=True):
    """A boot partition tree as provisioning makes it (until `earlyfs
    provision` exists): FHS dirs, templates, busybox, earlyfs-init, and
    fragments {name: text or (text, mode)}."""
    for d in ('dev', 'etc', 'mnt', 'proc', 'run', 'sys', 'tmp', 'var',
              'sbin', 'init.d', 'boot', 'root', 'lib'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, 'root'), 0o700)
    os.symlink('/run', os.path.join(root, 'var', 'run'))
    os.symlink('/tmp', os.path.join(root, 'var', 'tmp'))
    for t in ('fstab', 'inittab', 'passwd', 'group'):
        shutil.copy(os.path.join(TOP, 'templates', t),
                    os.path.join(root, 'etc', t))
    busybox_tree(root)
    if not shell:
        os.unlink(os.path.join(root, 'bin', 'sh'))
    os.symlink('../bin/busybox', os.path.join(root, 'sbin', 'init'))
    shutil.copy(os.path.join(BUILD, 'earlyfs-init'),
                os.path.join(root, 'sbin', 'earlyfs-init'))
    if shipped:
        src = os.path.join(TOP, 'init.d')
        for name in sorted(os.listdir(src)):
            if re.fullmatch(r'\d\d-[A-Za-z0-9_-]+(\.sh)?', name):
                shutil.copy(os.path.join(src, name),
                            os.path.join(root, 'init.d', name))
    for name, body in (fragments or {}).items():
        text, mode = body if isinstance(body, tuple) else (body, 0o644)
        write(os.path.join(root, 'init.d', name), text, mode)


REAL_INIT = r'''#!/bin/sh
# The test real root's init: report what the tests check, then power off.
mount -t proc proc /proc
echo "REALINIT pid=$$ root=$(cat /etc/root-marker)"
[ -x /boot/sbin/earlyfs-init ] && echo "BOOT-AT-SLASH-BOOT"
[ -d /boot/init.d ] && echo "BOOT-INITD-VISIBLE"
grep -q ' /dev ' /proc/self/mountinfo && echo "DEV-MOVED"
sed 's/^/REPORT /' /run/earlyfs/report
echo "ZOMBIES=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
%s
echo "REALINIT-DONE"
poweroff -f
'''


def reached_real_root(c):
    """The test root's init ran as PID 1 after a pivot, saw the boot
    partition at /boot and the report, and powered off; no panic."""
    c.expect(r'REALINIT pid=1 root=real-root', 60)
    c.expect(r'BOOT-AT-SLASH-BOOT')
    c.expect(r'REPORT pivot ok')
    c.expect(r'REALINIT-DONE')
    c.wait_exit()
    c.assert_no_panic()


def root_tree(root, marker='real-root', extra=''):
    for d in ('dev', 'etc', 'proc', 'sys', 'run', 'tmp', 'boot', 'sbin', 'mnt'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    busybox_tree(root)
    write(os.path.join(root, 'etc', 'root-marker'), marker + '\n')
    write(os.path.join(root, 'sbin', 'init'), REAL_INIT % extra, 0o755)


# syslinux 6.04 cannot read ext4 with the 64bit feature (mke2fs's default),
# and the bootloader replays no journal.
BOOT_FEATURES = '^has_journal,^64bit'


def mkfs(tree, image, size_mib, label='', uuid=None, journal=False):
    argv = ['mke2fs', '-q', '-F', '-t', 'ext4', '-d', tree]
    if not journal:
        argv += ['-O', BOOT_FEATURES]
    if label:
        argv += ['-L', label]
    if uuid:
        argv += ['-U', uuid]
    env = dict(os.environ, E2FSPROGS_FAKE_TIME='1700000000')
    subprocess.run(argv + [image, '%dM' % size_mib], check=True,
                   stdout=subprocess.DEVNULL, env=env)


class Workdir:
    def __init__(self, name):
        base = os.environ.get('EARLYFS_TEST_TMP', '/tmp')
        self.path = tempfile.mkdtemp(prefix='earlyfs-%s-' % name, dir=base)
        self.name = name

    def __call__(self, *parts):
        return os.path.join(self.path, *parts)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


LOG_DIR = os.path.join(BUILD, 'test-logs')


def uml(work, boot_img, root_img, cmdline, timeout=60):
    """Boots boot_img as the kernel's root (ubda) with root_img as ubdb."""
    os.makedirs(LOG_DIR, exist_ok=True)
    argv = ['linux.uml', 'mem=96M', 'ubd0=' + boot_img]
    if root_img:
        argv.append('ubd1=' + root_img)
    argv += ['root=/dev/ubda', 'con0=fd:0,fd:1', 'con=null',
             'init=/sbin/earlyfs-init'] + cmdline.split()
    env_tmp = work('uml-tmp')
    os.makedirs(env_tmp, exist_ok=True)
    os.environ['TMPDIR'] = env_tmp
    return Console(argv, os.path.join(LOG_DIR, work.name + '.log'), timeout)


def kernel_image():
    out = subprocess.run([os.path.join(TOP, 'tests', 'kernel', 'build.sh'),
                          '--print-path'], capture_output=True, text=True,
                         check=True).stdout.strip()
    if not os.path.exists(out):
        raise BootFailure('test kernel missing: run make kernel')
    return out


def qemu(work, disk, timeout=120, extra=()):
    """Full BIOS boot of a disk image: SeaBIOS, MBR, extlinux, kernel."""
    os.makedirs(LOG_DIR, exist_ok=True)
    argv = ['qemu-system-x86_64', '-machine', 'pc', '-m', '256',
            '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
            '-no-reboot', '-drive', 'file=%s,format=raw,if=virtio' % disk]
    argv += list(extra)
    return Console(argv, os.path.join(LOG_DIR, work.name + '.log'), timeout)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run_tests(tests, selected=None):
    passed = failed = 0
    for fn in tests:
        if selected and not any(s in fn.__name__ for s in selected):
            continue
        work = Workdir(fn.__name__)
        t0 = time.monotonic()
        try:
            fn(work)
        except Exception as e:  # a failing test shows its console log
            failed += 1
            print('FAIL %s (%.1fs): %s' % (fn.__name__,
                                          time.monotonic() - t0, e))
            log = os.path.join(LOG_DIR, work.name + '.log')
            if os.path.exists(log):
                print('---- console log %s (last 60 lines) ----' % log)
                with open(log, errors='replace') as f:
                    print(''.join(f.readlines()[-60:]), end='')
                print('---- end of console log ----')
        else:
            passed += 1
            print('ok   %s (%.1fs)' % (fn.__name__, time.monotonic() - t0))
            work.cleanup()
        sys.stdout.flush()
    return passed, failed


def render_template(name, **values):
    with open(os.path.join(TOP, 'templates', name)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace('@%s@' % k.upper(), str(v))
    if '@' in re.sub(r'#.*', '', text):
        raise BootFailure('unfilled placeholder in %s' % name)
    return text


DISK_ID = '1234abcd'


def make_disk(work, boot, root, append='', root_spec=None, table='dos',
              timeout=1, boot_mib=24, root_mib=16):
    """A partitioned disk as a BIOS boots it: MBR code, a bootable ext4 boot
    partition with extlinux and the test kernel, a root partition.  Until
    `earlyfs provision` exists this is done by hand, as the recipe does."""
    kernel = kernel_image()
    os.symlink('vmlinuz-test', os.path.join(boot, 'vmlinuz'))
    if table == 'dos':
        boot_id, root_id = DISK_ID + '-01', DISK_ID + '-02'
        script = ('label: dos\nlabel-id: 0x%s\n'
                  'start=2048, size=%dM, type=83, bootable\n'
                  'size=%dM, type=83\n' % (DISK_ID, boot_mib, root_mib))
    else:
        boot_id = '3f2504e0-4f89-41d3-9a0c-0305e82c3301'
        root_id = '3f2504e0-4f89-41d3-9a0c-0305e82c3302'
        script = ('label: gpt\nstart=2048, size=%dM, uuid=%s, '
                  'attrs="LegacyBIOSBootable"\nsize=%dM, uuid=%s\n'
                  % (boot_mib, boot_id, root_mib, root_id))
    os.makedirs(os.path.join(boot, 'extlinux'), exist_ok=True)
    write(os.path.join(boot, 'extlinux', 'extlinux.conf'),
          render_template('extlinux.conf', timeout=timeout,
                          boot_partuuid=boot_id,
                          root=root_spec or 'PARTUUID=' + root_id,
                          console='console=ttyS0 panic=1', append=append))
    disk = work('disk.img')
    total = 1 + boot_mib + root_mib + 1
    subprocess.run(['truncate', '-s', '%dM' % total, disk], check=True)
    subprocess.run(['sfdisk', '-q', disk], input=script, text=True,
                   check=True, stdout=subprocess.DEVNULL)
    mkfs(boot, work('p1.img'), boot_mib, label='earlyboot')
    mkfs(root, work('p2.img'), root_mib, label='realroot', journal=True)
    sh('dd', 'if=' + work('p1.img'), 'of=' + disk, 'bs=1M', 'seek=1',
       'conv=notrunc,fsync', 'status=none')
    sh('dd', 'if=' + work('p2.img'), 'of=' + disk, 'bs=1M',
       'seek=%d' % (1 + boot_mib), 'conv=notrunc,fsync', 'status=none')
    os.unlink(work('p1.img'))
    os.unlink(work('p2.img'))
    mnt = work('mnt')
    os.makedirs(mnt)
    loop = subprocess.run(['losetup', '--find', '--show', '--offset',
                           str(1024 * 1024), '--sizelimit',
                           str(boot_mib * 1024 * 1024), disk],
                          capture_output=True, text=True,
                          check=True).stdout.strip()
    try:
        sh('mount', loop, mnt)
        try:
            # syslinux cannot read files with holes, which mke2fs -d makes
            sh('cp', '--sparse=never', kernel,
               os.path.join(mnt, 'vmlinuz-test'))
            sh('extlinux', '--install', os.path.join(mnt, 'extlinux'),
               stderr=subprocess.DEVNULL)
        finally:
            sh('umount', mnt)
    finally:
        sh('losetup', '-d', loop)
    mbr = '/usr/lib/syslinux/mbr/%s' % ('mbr.bin' if table == 'dos'
                                        else 'gptmbr.bin')
    sh('dd', 'if=' + mbr, 'of=' + disk, 'bs=440', 'count=1',
       'conv=notrunc,fsync', 'status=none')
    return disk
