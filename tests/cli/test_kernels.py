"""Kernels (issue 13, first part): earlyfs kernel list | add | rm, their
labels, the Debian hook, and a boot of an older kernel's label.  A second
"version" of the test kernel is the same bzImage with the version string
of its header changed (what earlyfs reads): it boots the same."""
import os, re, struct, subprocess
from tests import harness
from tests.harness import check, test
from tests.cli.clilib import expect, image, part_sha, partuuid, run, STOCK

HOOK = os.path.join(harness.TOP, 'bootloader', 'earlyfs-kernel-hook')


def kernel_as(work, version):
    """The test kernel with its header's version string set to version
    (the same length as the real one)."""
    with open(harness.kernel_image(), 'rb') as f:
        b = bytearray(f.read())
    off = struct.unpack_from('<H', b, 0x20E)[0] + 0x200
    old = bytes(b[off:off + 64]).split(b' ')[0]
    check(len(version) == len(old), 'version %s vs %s' % (version, old))
    b[off:off + len(old)] = version.encode()
    path = work('vmlinuz-' + version)
    with open(path, 'wb') as f:
        f.write(b)
    return path


def real_version():
    with open(harness.kernel_image(), 'rb') as f:
        b = f.read()
    off = struct.unpack_from('<H', b, 0x20E)[0] + 0x200
    return b[off:off + 64].split(b' ')[0].decode()


def newer(v, step=1):
    head, last = v.rsplit('.', 1)
    return '%s.%d' % (head, int(last) + step)


def stock():
    return sorted(f for f in os.listdir(STOCK) if f.startswith('vmlinuz-'))


def provisioned(work):
    img = image(work)
    expect(run('provision', img, '--partition', 1, '--root',
               'PARTUUID=' + partuuid(img, 2), '--kernel',
               harness.kernel_image(), '--menu-timeout', '1', '--append',
               'panic=1'), 0)
    return img


def labels(work, img):
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
        files = sorted(f for f in os.listdir(m) if f.startswith('vmlinuz'))
    return dict(re.findall(r'^LABEL (\S+)\n(?:\s*#.*\n)?\s*KERNEL (\S+)',
                           conf, re.M)), files


@test
def kernel_add_rm_labels_and_refusals(work):
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    v0 = real_version()
    v1, v2 = newer(v0), newer(v0, 2)
    expect(run('kernel', 'list', *t), 0, v0, '(default) earlyfs, rescue')
    # a newer kernel becomes the default; both have a label
    expect(run('kernel', 'add', kernel_as(work, v1), *t), 0,
           'the default label boots %s; kept: %s, %s' % (v1, v1, v0))
    lab, files = labels(work, img)
    check(lab['earlyfs'] == lab['rescue'] == '/vmlinuz-' + v1, lab)
    check(lab['earlyfs-' + v0] == '/vmlinuz-' + v0, lab)
    check(lab['earlyfs-' + v1] == '/vmlinuz-' + v1, lab)
    check(lab['previous'] in ('/vmlinuz', '/vmlinuz-' + v0), lab)
    # a stock kernel (drivers as modules) fails the check: exit 4 with the
    # reason, kept out of every label, not copied; the default stays
    sk = stock()[-1]
    p = run('kernel', 'add', os.path.join(STOCK, sk), *t)
    expect(p, 4, 'kept out of the labels (the default still boots %s)' % v1,
           'CONFIG_')
    lab2, files2 = labels(work, img)
    check(lab2['earlyfs'] == '/vmlinuz-' + v1, lab2)
    check(sk not in files2, 'the refused kernel was copied')
    expect(run('kernel', 'list', *t), 0, 'refused', sk[8:])
    # a third: the newest two stay, the oldest file goes once no label
    # (not even 'previous') boots it
    expect(run('kernel', 'add', kernel_as(work, v2), *t), 0,
           '%s no longer kept' % v0)
    expect(run('kernel', 'list', *t), 0, v2, v1)
    check(v0 not in run('kernel', 'list', *t).out.split('refused')[0],
          'the oldest is still listed')
    # rm of the default falls back to the newest left
    expect(run('kernel', 'rm', v2, *t), 0,
           'the default label boots %s; kept: %s' % (v1, v1))
    expect(run('kernel', 'rm', v1, *t), 3, 'only kernel that boots',
           'nothing written')
    expect(run('kernel', 'rm', 'no.such', *t), 2, 'no kernel no.such')
    expect(run('check', *t), 0, '0 problems')
    # no room: refused before anything is written
    with harness.partition_mounted(img, 1, work('m')) as m:
        st = os.statvfs(m)
        with open(os.path.join(m, 'filler'), 'wb') as f:
            f.truncate(0)
            left = st.f_bavail * st.f_frsize - (1 << 20)
            f.write(b'\0' * max(left, 0))
    before = part_sha(img, 1)
    expect(run('kernel', 'add', kernel_as(work, v2), *t), 3,
           'not enough space', 'nothing written')
    check(part_sha(img, 1) == before, 'the refusal changed the partition')


@test
def debian_hook_adds_and_never_fails_dpkg(work):
    """postinst.d run the way dpkg runs it (run-parts, VERSION IMAGE):
    it adds the kernel; a kernel that fails the check exits 0 with the
    reason on stderr and the default unchanged."""
    img = provisioned(work)
    v1 = newer(real_version())
    hooks = work('postinst.d')
    os.makedirs(hooks)
    os.symlink(HOOK, os.path.join(hooks, 'zz-earlyfs'))
    env = dict(os.environ, PATH=harness.BUILD + ':' + os.environ['PATH'])
    with harness.partition_mounted(img, 1, work('m')) as m:
        env['EARLYFS_BOOT'] = m
        p = subprocess.run(['run-parts', '--report', '--exit-on-error',
                            '--arg=' + v1, '--arg=' + kernel_as(work, v1),
                            hooks], capture_output=True, text=True, env=env)
        check(p.returncode == 0, 'hook: %d %s' % (p.returncode, p.stderr))
        check('the default label boots %s' % v1 in p.stdout, p.stdout)
        sk = stock()[-1]
        p = subprocess.run(['run-parts', '--report', '--exit-on-error',
                            '--arg=' + sk[8:], '--arg=' +
                            os.path.join(STOCK, sk), hooks],
                           capture_output=True, text=True, env=env)
        check(p.returncode == 0, 'a refusal failed dpkg: %d' % p.returncode)
        check('refused' in p.stderr and 'CONFIG_' in p.stderr, p.stderr)
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
        check(re.search(r'LABEL earlyfs\n\s*KERNEL /vmlinuz-%s\n' %
                        re.escape(v1), conf), 'default changed:\n' + conf)
        # not an earlyfs partition: nothing, quietly
        env['EARLYFS_BOOT'] = work()
        p = subprocess.run([HOOK, v1, kernel_as(work, v1)], env=env,
                           capture_output=True, text=True)
        check(p.returncode == 0 and not p.stdout + p.stderr, p.stderr)


@test
def qemu_default_and_older_kernel_labels_boot(work):
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    v0 = real_version()
    v1 = newer(v0)
    expect(run('kernel', 'add', kernel_as(work, v1), *t), 0)
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /vmlinuz-%s\.\.\. ok' % re.escape(v1), 60)
        harness.reached_real_root(c)
    expect(run('once', 'earlyfs-' + v0, *t), 0)
    work.name += '-older'
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /vmlinuz-%s\.\.\. ok' % re.escape(v0), 60)
        harness.reached_real_root(c)


@test
def qemu_stock_kernel_boots_through_its_module_stub(work):
    """Debian's stock kernel (disk and file system drivers as modules):
    kernel add builds its module stub from its module tree and the disk
    drivers; the boot loads them, mounts the partition, runs a fragment
    and pivots into the real root.  'previous' still boots the kernel
    before."""
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    sk = stock()[-1]
    version = sk[8:]
    moddir = os.path.join(os.path.dirname(STOCK), 'lib', 'modules', version)
    expect(run('kernel', 'add', os.path.join(STOCK, sk), '--modules', moddir,
               '--driver', 'virtio_blk,virtio_pci', '--default', *t), 0,
           '%s boots through its module stub' % version)
    lab, files = labels(work, img)
    check(lab['earlyfs'] == '/vmlinuz-' + version, lab)
    check(lab['previous'] == '/vmlinuz-' + real_version(), lab)
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        size = os.path.getsize(os.path.join(m, 'stub-%s.img' % version))
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
    check(size <= 1 << 20, 'the stub is %d bytes (target <= 1 MiB)' % size)
    check(re.search(r'LABEL earlyfs\n\s*KERNEL /vmlinuz-%s\n\s*INITRD '
                    r'/stub-%s\.img\n' % (re.escape(version),
                                          re.escape(version)), conf), conf)
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /stub-%s\.img' % re.escape(version), 60)
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT fragment 50-mountroot ok', out), out[-2000:])
    check('Linux version %s' % version.split('-')[0] in out or
          version in out, 'not the stock kernel')
    # a kernel newer than its stub: check says the stub may not match
    expect(run('check', *t), 0, '0 problems')
    with harness.partition_mounted(img, 1, work('m')) as m:
        k = os.path.join(m, 'vmlinuz-' + version)
        os.utime(k, (os.path.getmtime(k) + 3600,) * 2)
    expect(run('check', *t), 1, 'its module stub stub-%s.img is older '
           'than the kernel' % version)
