"""The test harness every Python suite imports (python3 -m tests.X.run): build ext4 images from trees, boot them under
user-mode-linux or QEMU, read the console, type into it."""
import contextlib, json, os, re, shutil, subprocess, sys, tempfile, threading, time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
BUILD = os.path.join(TOP, 'build')
BUSYBOX = '/bin/busybox'


class BootFailure(Exception):
    pass


def check(cond, what):
    """The one assertion of every Python suite: fails the test with what."""
    if not cond:
        raise BootFailure(what)


class Console:
    """A process whose stdout is the guest's console and stdin its keyboard."""

    def __init__(self, argv, log_path, hard_timeout, env=None):
        self.log_path = log_path
        self.out = b''
        self.pos = 0
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
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

    def shell(self, command, answer, timeout=60):
        """Runs command in busybox's shell on the console once its prompt
        is there, until answer shows: ash asks the terminal where its
        cursor is (ESC [6n), and what is typed first may be read as the
        reply."""
        self.expect(r'(/ |earlyfs)# ', timeout)
        self.send('')
        for _ in range(5):
            self.send(command)
            try:
                return self.expect(answer, 5)
            except BootFailure:
                continue
        raise BootFailure('the shell never answered %r' % command)

    def shell_poweroff(self, timeout=60):
        """The rescue shell powers the guest off."""
        self.shell('echo POWER-$((40+2)); poweroff -f', 'POWER-42', timeout)
        self.wait_exit()

    def wait_exit(self, timeout=30):
        end = min(time.monotonic() + timeout, self.deadline)
        while self.proc.poll() is None:
            if time.monotonic() > end:
                raise BootFailure('guest did not power off')
            time.sleep(0.05)
        self.reader.join(2)

    def close(self):
        # the whole session: a guest that powered off can leave helpers
        # behind (user-mode-linux's processes outlived their test)
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


BASE_FRAGMENTS = ('50-mountroot',)


def boot_tree(root, fragments=None, shipped=True, shell=True):
    """A boot partition tree like the one `earlyfs provision` stages, for the
    UML runner tests (unpartitioned images, no bootloader): FHS dirs,
    templates, busybox, earlyfs-init, and fragments {name: text or (text,
    mode)}."""
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
        # the base set provisioning copies (the others come with features:
        # src/admin/feature.c; test_cli checks provision stages this set)
        for name in BASE_FRAGMENTS:
            shutil.copy(os.path.join(TOP, 'init.d', name),
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


def mkfs(tree, image, size_mib, label='', uuid=None, journal=False):
    argv = ['mke2fs', '-q', '-F', '-t', 'ext4', '-d', tree]
    if not journal:
        argv += ['-O', '^has_journal']
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


_UML_USABLE = None


def uml_usable():
    """Whether user-mode-linux runs here: a static busybox init that says
    so, booted once per test run.  Some host kernels (seen: 6.18) kill
    UML's init with SIGSEGV at once, whatever it is."""
    global _UML_USABLE
    if _UML_USABLE is None:
        tmp = tempfile.mkdtemp(prefix='earlyfs-uml-probe-')
        try:
            tree = os.path.join(tmp, 't')
            os.makedirs(os.path.join(tree, 'bin'))
            shutil.copy(BUSYBOX, os.path.join(tree, 'bin', 'busybox'))
            write(os.path.join(tree, 'init'), '#!/bin/busybox sh\n'
                  '/bin/busybox echo UML-RUNS\n/bin/busybox poweroff -f\n',
                  0o755)
            mkfs(tree, os.path.join(tmp, 'i.img'), 8)
            p = subprocess.run(
                ['linux.uml', 'mem=64M', 'ubd0=' + os.path.join(tmp, 'i.img'),
                 'root=/dev/ubda', 'con0=fd:0,fd:1', 'con=null', 'init=/init'],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                env=dict(os.environ, TMPDIR=tmp))
            _UML_USABLE = b'UML-RUNS' in p.stdout
        except (OSError, subprocess.SubprocessError):
            _UML_USABLE = False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if not _UML_USABLE:
            print('note: user-mode-linux does not run on this host kernel; '
                  'the UML tests boot the test kernel in QEMU instead '
                  '(virtio disks shown under UML\'s names)', flush=True)
    return _UML_USABLE


class _AsUml(Console):
    """A QEMU console that reads and types like the UML one: its virtio
    disks vda, vdb appear as ubda, ubdb (one set of tests for both)."""
    def text(self):
        return re.sub(r'\bvd([a-d])', r'ubd\1', Console.text(self))

    def send(self, line):
        Console.send(self, re.sub(r'\bubd([a-d])', r'vd\1', line))


def uml(work, boot_img, root_img, cmdline, timeout=60):
    """Boots boot_img as the kernel's root (ubda) with root_img as ubdb:
    under user-mode-linux, else (uml_usable) the test kernel under QEMU."""
    os.makedirs(LOG_DIR, exist_ok=True)
    if not uml_usable():
        argv = ['qemu-system-x86_64', '-machine', 'pc', '-m', '256',
                '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
                '-no-reboot', '-kernel', kernel_image(), '-drive',
                'file=%s,format=raw,if=virtio' % boot_img]
        if root_img:
            argv += ['-drive', 'file=%s,format=raw,if=virtio' % root_img]
        argv += ['-append', ' '.join(
            ['console=ttyS0', 'root=/dev/vda', 'init=/sbin/earlyfs-init',
             'panic=-1'] + re.sub(r'\bubd([a-d])', r'vd\1', cmdline).split())]
        if kvm_usable():
            argv += ['-enable-kvm', '-cpu', 'host']
        return _AsUml(argv, os.path.join(LOG_DIR, work.name + '.log'),
                      timeout + 60)
    argv = ['linux.uml', 'mem=96M', 'ubd0=' + boot_img]
    if root_img:
        argv.append('ubd1=' + root_img)
    argv += ['root=/dev/ubda', 'con0=fd:0,fd:1', 'con=null',
             'init=/sbin/earlyfs-init'] + cmdline.split()
    # UML keeps its memory file in TMPDIR: one per boot, removed with work
    env_tmp = work('uml-tmp')
    os.makedirs(env_tmp, exist_ok=True)
    return Console(argv, os.path.join(LOG_DIR, work.name + '.log'), timeout,
                   env=dict(os.environ, TMPDIR=env_tmp))


def kernel_image():
    out = subprocess.run([os.path.join(TOP, 'tests', 'kernel', 'build.sh'),
                          '--print-path'], capture_output=True, text=True,
                         check=True).stdout.strip()
    if not os.path.exists(out):
        raise BootFailure('test kernel missing: run make kernel')
    return out


def kvm_usable():
    """KVM only where it can run a guest: /dev/kvm opens and the CPU has
    hardware virtualization (some machines show /dev/kvm without it, and
    their guests die with 'KVM internal error'); EARLYFS_ACCEL=tcg forces
    emulation."""
    if os.environ.get('EARLYFS_ACCEL') == 'tcg':
        return False
    try:
        os.close(os.open('/dev/kvm', os.O_RDWR))
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return False
    return bool(re.search(r'^flags\s*:.*\b(vmx|svm)\b', flags, re.M))


def drive(disk, iface, i=0):
    """QEMU's arguments for disk image number i on iface: 'virtio', 'ide',
    or 'nvme' (a controller of its own, one namespace: nvme<i>n1)."""
    if iface == 'nvme':
        return ['-drive', 'file=%s,format=raw,if=none,id=nvm%d' % (disk, i),
                '-device', 'nvme,drive=nvm%d,serial=earlyfs%d' % (i, i)]
    return ['-drive', 'file=%s,format=raw,if=%s' % (disk, iface)]


def qemu(work, disk, timeout=120, extra=(), iface='virtio'):
    """Full BIOS boot of a disk image (a virtio disk, iface='ide' or
    'nvme'): SeaBIOS, MBR, extlinux, kernel."""
    os.makedirs(LOG_DIR, exist_ok=True)
    argv = ['qemu-system-x86_64', '-machine', 'pc', '-m', '256',
            '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
            '-no-reboot'] + drive(disk, iface)
    argv += list(extra)
    if '-icount' not in extra and kvm_usable():
        argv += ['-enable-kvm', '-cpu', 'host']    # else TCG emulation
    return Console(argv, os.path.join(LOG_DIR, work.name + '.log'), timeout)


OVMF_DIR = '/usr/share/OVMF'


def qemu_uefi(work, disk, timeout=180, extra=(), iface='virtio',
              vars_file=None, code='OVMF_CODE_4M.fd',
              vars_template='OVMF_VARS_4M.fd', secure=False):
    """A UEFI boot of a disk image under OVMF (q35): the firmware's code
    read-only, its variables in a private copy (vars_file, made from
    vars_template when it does not exist yet, kept between boots of one
    test so that what the last boot set is there); secure: Secure Boot
    as OVMF's secboot code needs it (SMM, a secure flash)."""
    os.makedirs(LOG_DIR, exist_ok=True)
    vars_file = vars_file or work('ovmf-vars.fd')
    if not os.path.exists(vars_file):
        shutil.copy(os.path.join(OVMF_DIR, vars_template), vars_file)
    argv = ['qemu-system-x86_64', '-machine',
            'q35,smm=on' if secure else 'q35', '-m', '512',
            '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
            '-no-reboot']
    if secure:
        argv += ['-global', 'driver=cfi.pflash01,property=secure,value=on']
    argv += ['-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=' +
             os.path.join(OVMF_DIR, code),
             '-drive', 'if=pflash,format=raw,unit=1,file=' + vars_file]
    argv += drive(disk, iface) + list(extra)
    if '-icount' not in extra and kvm_usable():
        argv += ['-enable-kvm', '-cpu', 'host']
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


def partitions(img):
    """The table's label ('dos', 'gpt') and id, and (offset, size) in bytes
    of each partition, from sfdisk."""
    t = json.loads(subprocess.run(['sfdisk', '-J', img], capture_output=True,
                                  text=True, check=True).stdout)['partitiontable']
    return t, [(p['start'] * 512, p['size'] * 512) for p in t['partitions']]


@contextlib.contextmanager
def loop_attached(path, offset=0, size=0, readonly=False):
    """A loop device over path (or a range of it), detached afterwards.
    Partition nodes of loop devices do not appear here: map a partition by
    its offset and size instead."""
    argv = ['losetup', '--find', '--show']
    if offset or size:
        argv += ['--offset', str(offset), '--sizelimit', str(size)]
    if readonly:
        argv.append('--read-only')
    loop = subprocess.run(argv + [path], capture_output=True, text=True,
                          check=True).stdout.strip()
    try:
        yield loop
    finally:
        subprocess.run(['losetup', '-d', loop], check=True)


@contextlib.contextmanager
def partition_attached(img, n, readonly=False):
    off, size = partitions(img)[1][n - 1]
    with loop_attached(img, off, size, readonly) as loop:
        yield loop


@contextlib.contextmanager
def partition_mounted(img, n, mnt, options='rw'):
    """Partition n of img mounted on mnt (made if missing)."""
    os.makedirs(mnt, exist_ok=True)
    with partition_attached(img, n, readonly='ro' in options.split(',')) \
            as loop:
        subprocess.run(['mount', '-o', options, loop, mnt], check=True)
        try:
            yield mnt
        finally:
            subprocess.run(['umount', mnt], check=True)
