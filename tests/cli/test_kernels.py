"""Kernels (issue 13, first part): earlyfs kernel list | add | rm, their
labels, the Debian hook, and a boot of an older kernel's label.  A second
"version" of the test kernel is the same bzImage with the version string
of its header changed (what earlyfs reads): it boots the same."""
import os, re, struct, subprocess
from tests import guest, harness
from tests.harness import check, test
from tests.cli.clilib import (expect, image, part_sha, partuuid, run, STOCK,
                              STOCK_CLOUD, tree_digest)
from tests.cli.test_edit import gens

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


def stock(d=STOCK):
    return sorted(f for f in os.listdir(d) if f.startswith('vmlinuz-'))


def modules_of(d, version):
    return os.path.join(os.path.dirname(d), 'lib', 'modules', version)


def stub_modules(out):
    """The modules kernel add says the stub carries, in load order."""
    m = re.search(r'boots through its module stub \(\d+ KiB\): (.*)', out)
    check(m, 'no module stub made:\n' + out)
    return m.group(1).split()


def stub_members(work, img, version):
    """The stub's own list of the modules it loads (its /earlyfs-stub)."""
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        raw = subprocess.run(['zcat', os.path.join(m, 'stub-%s.img'
                                                   % version)],
                             capture_output=True, check=True).stdout
    files = subprocess.run(['cpio', '-t', '--quiet'], input=raw,
                           capture_output=True, check=True).stdout.decode()
    return [os.path.basename(f)[:-3] for f in files.split()
            if f.startswith('m/') and f.endswith('.ko')]


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
        files = sorted(f for f in os.listdir(m) if f.startswith(('vmlinuz', 'earlyfs-vmlinuz')))
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
    check(lab['earlyfs'] == lab['rescue'] == '/earlyfs-vmlinuz-' + v1, lab)
    check(lab['earlyfs-' + v0] == '/earlyfs-vmlinuz-' + v0, lab)
    check(lab['earlyfs-' + v1] == '/earlyfs-vmlinuz-' + v1, lab)
    check(lab['previous'] in ('/vmlinuz', '/earlyfs-vmlinuz-' + v0), lab)
    # a stock kernel (drivers as modules) fails the check: exit 4 with the
    # reason, kept out of every label, not copied; the default stays
    sk = stock()[-1]
    p = run('kernel', 'add', os.path.join(STOCK, sk), *t)
    expect(p, 4, 'kept out of the labels (the default still boots %s)' % v1,
           'CONFIG_')
    lab2, files2 = labels(work, img)
    check(lab2['earlyfs'] == '/earlyfs-vmlinuz-' + v1, lab2)
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
def full_kernel_list_keeps_the_pinned_default(work):
    """16 entries, the pinned default the oldest: adding a kernel (here
    a refused one) never evicts the default or its file; refusals age
    out, the newest few kept."""
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    v0 = real_version()
    v1 = newer(v0)
    expect(run('kernel', 'add', kernel_as(work, v1), *t), 0)
    expect(run('kernel', 'add', harness.kernel_image(), '--default', *t), 0,
           'the default label boots %s' % v0)
    with harness.partition_mounted(img, 1, work('m')) as m:
        path = os.path.join(m, 'etc/earlyfs.kernels')
        text = open(path).read()
        check(text.index('ok %s' % v0) < text.index('ok %s' % v1), text)
        with open(path, 'w') as f:
            f.write(text + ''.join('refused 5.10.%d-old too old\n' % i
                                   for i in range(14)))
    expect(run('kernel', 'list', *t), 0, '5.10.13-old')
    sk = stock()[-1]
    expect(run('kernel', 'add', os.path.join(STOCK, sk), *t), 4,
           'the default still boots %s' % v0)
    out = run('kernel', 'list', *t).out
    check(re.search(r'^%s .*\(default\)' % re.escape(v0), out, re.M), out)
    check(out.count('refused') == 4 and '5.10.13-old' in out and
          '5.10.10-old' not in out, 'refusals did not age out:\n' + out)
    lab, files = labels(work, img)
    check(lab['earlyfs'] == '/earlyfs-vmlinuz-' + v0 and 'earlyfs-vmlinuz-' + v0 in files,
          'the pinned default was evicted: %s %s' % (lab, files))


@test
def kernel_leftovers_are_reported_then_removed(work):
    """What a killed kernel add leaves (a multi-MB .earlyfs-vmlinuz-V.tmp) and a
    module stub whose kernel a package removed first: check names both;
    the next change's recovery removes them, and nothing else."""
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    v = '6.1.0-99-cloud-amd64'
    with harness.partition_mounted(img, 1, work('m')) as m:
        with open(os.path.join(m, '.earlyfs-vmlinuz-%s.tmp' % v), 'wb') as f:
            f.write(os.urandom(3 << 20))
        for name in ('stub-%s.img' % v, '.stub-%s.img.tmp' % v,
                     'stub-not a version.img', 'initrd.img-%s' % v):
            open(os.path.join(m, name), 'w').close()
        # a stub whose kernel is still there stays
        open(os.path.join(m, 'stub-%s.img' % real_version()), 'w').close()
    expect(run('check', *t), 1,
           '.earlyfs-vmlinuz-%s.tmp: left by an interrupted kernel add' % v,
           'stub-%s.img: a module stub whose kernel earlyfs-vmlinuz-%s is gone'
           % (v, v), '.stub-%s.img.tmp: left by' % v)
    expect(run('add', '60-x', '/dev/null', *t), 0,
           'removed stub-%s.img: its kernel earlyfs-vmlinuz-%s is gone' % (v, v))
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        left = sorted(os.listdir(m))
    for gone in ('.earlyfs-vmlinuz-%s.tmp' % v, 'stub-%s.img' % v,
                 '.stub-%s.img.tmp' % v):
        check(gone not in left, '%s is still there: %s' % (gone, left))
    for kept in ('stub-not a version.img', 'initrd.img-%s' % v,
                 'stub-%s.img' % real_version()):
        check(kept in left, '%s was removed' % kept)


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
        check(re.search(r'LABEL earlyfs\n\s*KERNEL /earlyfs-vmlinuz-%s\n' %
                        re.escape(v1), conf), 'default changed:\n' + conf)
        # not an earlyfs partition: nothing, quietly
        env['EARLYFS_BOOT'] = work()
        p = subprocess.run([HOOK, v1, kernel_as(work, v1)], env=env,
                           capture_output=True, text=True)
        check(p.returncode == 0 and not p.stdout + p.stderr, p.stderr)


def hook_dirs(work):
    """postinst.d, prerm.d and postrm.d, each with the hook as dpkg's
    kernel packages run it."""
    dirs = {}
    for d in ('postinst.d', 'prerm.d', 'postrm.d'):
        dirs[d] = work(d)
        os.makedirs(dirs[d])
        os.symlink(HOOK, os.path.join(dirs[d], 'zz-earlyfs'))
    return dirs


@test
def dpkg_kernel_life_on_the_boot_partition(work):
    """/boot is the partition: a kernel package's files land in it and go.
    earlyfs keeps its own name for each kernel (a link, not a second
    copy); a package's upgrade leaves it; the package's removal moves the
    default first (prerm), loudly; the only kernel that boots cannot be
    removed (prerm fails, the package stays); a package's files are never
    pruned; the partition still boots."""
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    v0, v1 = real_version(), newer(real_version())
    dirs = hook_dirs(work)
    env = dict(os.environ, PATH=harness.BUILD + ':' + os.environ['PATH'])

    def parts(d, version, image, params):
        return subprocess.run(
            ['run-parts', '--report', '--exit-on-error', '--arg=' + version,
             '--arg=' + image, dirs[d]], capture_output=True, text=True,
            env=dict(env, DEB_MAINT_PARAMS=params))

    with harness.partition_mounted(img, 1, work('m')) as m:
        env['EARLYFS_BOOT'] = m
        pkg = os.path.join(m, 'vmlinuz-' + v1)
        with open(kernel_as(work, v1), 'rb') as a, open(pkg, 'wb') as b:
            b.write(a.read())
        p = parts('postinst.d', v1, pkg, 'configure')
        check(p.returncode == 0 and 'the default label boots %s' % v1
              in p.stdout, p.stdout + p.stderr)
        ours = os.path.join(m, 'earlyfs-vmlinuz-' + v1)
        check(os.stat(ours).st_ino == os.stat(pkg).st_ino,
              'the package\'s kernel was copied, not linked')
        # an upgrade's postrm leaves it
        p = parts('postrm.d', v1, pkg, 'upgrade 1.1')
        check(p.returncode == 0 and os.path.exists(ours), p.stderr)
        # the package's removal: the default moves first, loudly
        p = parts('prerm.d', v1, pkg, 'remove')
        check(p.returncode == 0 and 'the default label boots %s' % v0
              in p.stderr, 'prerm: %d %s' % (p.returncode, p.stderr))
        os.unlink(pkg)          # what dpkg then removes
        p = parts('postrm.d', v1, pkg, 'remove')
        check(p.returncode == 0 and not p.stdout + p.stderr, p.stderr)
        # (its copy stays while 'previous' boots it: the generation
        # before had it as its default)
        p = subprocess.run([harness.BUILD + '/earlyfs', 'kernel', 'list',
                            '--boot', m], capture_output=True, text=True)
        check(v1 + ' ' not in p.stdout and v0 in p.stdout, p.stdout)
        # the only kernel that boots: its removal is refused
        p = parts('prerm.d', v0, os.path.join(m, 'vmlinuz-' + v0), 'remove')
        check(p.returncode != 0 and 'NOT removed' in p.stderr and
              'only kernel that boots' in p.stderr,
              'prerm: %d %s' % (p.returncode, p.stderr))
        # a package's files are never pruned by a change
        theirs = ['vmlinuz-9.9.9', 'config-9.9.9', 'System.map-9.9.9',
                  'initrd.img-9.9.9']
        for n in theirs:
            harness.write(os.path.join(m, n), 'x')
    expect(run('kernel', 'add', kernel_as(work, v1), *t), 0)
    expect(run('kernel', 'rm', v1, *t), 0)
    expect(run('kernel', 'list', *t), 0, v0)
    lab, files = labels(work, img)
    check(lab['earlyfs'] == '/earlyfs-vmlinuz-' + v0, lab)
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        left = os.listdir(m)
    check(all(n in left for n in theirs), 'a package\'s file was removed: '
          '%s' % left)
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /earlyfs-vmlinuz-%s\.\.\. ok' % re.escape(v0), 60)
        harness.reached_real_root(c)


@test
def remount_holds_the_partition_writable_for_dpkg(work):
    """remount rw / ro around a package manager's run: read-write until
    ro; a change in between does not make it read-only under dpkg; ro
    leaves a partition the admin mounted read-write as it is."""
    img = provisioned(work)

    def ro(m):
        return bool(os.statvfs(m).f_flag & os.ST_RDONLY)
    with harness.partition_mounted(img, 1, work('m')) as m:
        # as the running system has it: read-only, on a writable device
        subprocess.run(['mount', '-o', 'remount,ro', m], check=True)
        b = ('--boot', m)
        expect(run('remount', 'rw', *b), 0, 'read-write until')
        check(not ro(m), 'still read-only')
        expect(run('add', '60-x', '/dev/null', *b), 0)
        check(not ro(m), 'a change made it read-only under dpkg')
        expect(run('remount', 'ro', *b), 0, 'read-only again')
        check(ro(m), 'still read-write')
        expect(run('remount', 'ro', *b), 0, 'was not made read-write')
        expect(run('remount', 'sideways', *b), 2, 'give rw or ro')
    with harness.partition_mounted(img, 1, work('m')) as m:
        b = ('--boot', m)
        expect(run('remount', 'rw', *b), 0, 'read-write already')
        expect(run('remount', 'ro', *b), 0, 'was not made read-write')
        check(not ro(m), 'the admin\'s read-write mount was made read-only')
    expect(run('remount', 'rw', '--target', img, '--partition', 1), 2,
           'not a --target')
    # dpkg's hooks: two shell commands that parse
    cfg = open(os.path.join(harness.TOP, 'bootloader',
                            'earlyfs-dpkg.cfg')).read()
    cmds = re.findall(r'^(pre|post)-invoke="([^"]*)"$', cfg, re.M)
    check([c[0] for c in cmds] == ['pre', 'post'], cfg)
    for _, c in cmds:
        p = subprocess.run(['sh', '-n', '-c', c], capture_output=True,
                           text=True)
        check(p.returncode == 0 and 'remount' in c, c + p.stderr)


@test
def qemu_default_and_older_kernel_labels_boot(work):
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    v0 = real_version()
    v1 = newer(v0)
    expect(run('kernel', 'add', kernel_as(work, v1), *t), 0)
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /earlyfs-vmlinuz-%s\.\.\. ok' % re.escape(v1), 60)
        harness.reached_real_root(c)
    expect(run('once', 'earlyfs-' + v0, *t), 0)
    work.name += '-older'
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /earlyfs-vmlinuz-%s\.\.\. ok' % re.escape(v0), 60)
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
    check(lab['earlyfs'] == '/earlyfs-vmlinuz-' + version, lab)
    check(lab['previous'] == '/earlyfs-vmlinuz-' + real_version(), lab)
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        size = os.path.getsize(os.path.join(m, 'stub-%s.img' % version))
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
    check(size <= 1 << 20, 'the stub is %d bytes (target <= 1 MiB)' % size)
    check(re.search(r'LABEL earlyfs\n\s*KERNEL /earlyfs-vmlinuz-%s\n\s*INITRD '
                    r'/stub-%s\.img\n' % (re.escape(version),
                                          re.escape(version)), conf), conf)
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /stub-%s\.img' % re.escape(version), 60)
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT fragment 50-mountroot ok', out), out[-2000:])
    check('Linux version %s' % version.split('-')[0] in out or
          version in out, 'not the stock kernel')
    # the next change's 'previous' label boots the stub kernel with its
    # stub (it had no INITRD, and waited forever for its root device)
    expect(run('add', '60-after', '/dev/null', *t), 0)
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
    check(re.search(r'LABEL previous\n.*\n\s*KERNEL /earlyfs-vmlinuz-%s\n\s*INITRD '
                    r'/stub-%s\.img\n' % (re.escape(version),
                                          re.escape(version)), conf), conf)
    expect(run('check', *t), 0, '0 problems')
    expect(run('once', 'previous', *t), 0)
    work.name += '-previous'
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /stub-%s\.img' % re.escape(version), 60)
        harness.reached_real_root(c)
        out = c.text()
    check('60-after' not in out, 'previous ran the newer generation')
    # an INITRD that is not there: check says so
    with harness.partition_mounted(img, 1, work('m')) as m:
        os.rename(os.path.join(m, 'stub-%s.img' % version),
                  os.path.join(m, 'stub-moved.img'))
    expect(run('check', *t), 1, 'label previous: initrd /stub-%s.img is '
           'not on the boot partition' % version)
    with harness.partition_mounted(img, 1, work('m')) as m:
        os.rename(os.path.join(m, 'stub-moved.img'),
                  os.path.join(m, 'stub-%s.img' % version))
    # a kernel newer than its stub: check says the stub may not match
    with harness.partition_mounted(img, 1, work('m')) as m:
        k = os.path.join(m, 'earlyfs-vmlinuz-' + version)
        os.utime(k, (os.path.getmtime(k) + 3600,) * 2)
    expect(run('check', *t), 1, 'its module stub stub-%s.img is older '
           'than the kernel' % version)


@test
def stock_kernel_stubs_carry_feature_modules_not_built_ins(work):
    """A stub carries what the kernel has as modules among its disk
    drivers, ext4 and the installed features' needs (luks, mdraid), and
    nothing the kernel has built in: Debian's generic kernel (ext4 a
    module) and its cloud kernel (ext4 built in: that kernel once passed
    the check with its disk drivers unchecked, and got no stub)."""
    # two stock kernels and the features' tools: more than 48 MiB
    img = image(work, size='128M', boot='64M')
    harness.write(work('crypttab'), 'root /dev/md0 none\n')
    harness.write(work('mdadm.conf'), 'ARRAY /dev/md0 metadata=1.2 UUID='
                  '0123abcd:4567ef01:89abcdef:01234567\n')
    expect(run('provision', img, '--partition', 1, '--root',
               '/dev/mapper/root', '--with', 'mdraid,luks', '--mdadm-conf',
               work('mdadm.conf'), '--crypttab', work('crypttab'),
               '--kernel', harness.kernel_image(), '--menu-timeout', '1'), 0)
    t = ('--target', img, '--partition', 1)
    features = ('dm_mod', 'dm_crypt', 'xts', 'algif_skcipher', 'md_mod',
                'raid1')
    for d, ext4 in ((STOCK, True), (STOCK_CLOUD, False)):
        sk = stock(d)[-1]
        v = sk[8:]
        p = run('kernel', 'add', os.path.join(d, sk), '--modules',
                modules_of(d, v), '--driver', 'virtio_blk,virtio_pci', *t)
        expect(p, 0)
        mods = stub_modules(p.out)
        for m in features + ('virtio_blk', 'virtio_pci', 'virtio_ring'):
            check(m in mods, '%s: %s not in the stub: %s' % (v, m, mods))
        # CRYPTO_AES=y in both: its module is not carried
        check('aes_generic' not in mods, mods)
        check(('ext4' in mods) == ext4 and ('jbd2' in mods) == ext4,
              '%s: ext4 %s: %s' % (v, 'a module' if ext4 else 'built in',
                                    mods))
        check(mods.index('virtio_ring') < mods.index('virtio_blk') and
              mods.index('md_mod') < mods.index('raid1'),
              'dependencies after their users: %s' % mods)
        check(sorted(stub_members(work, img, v)) == sorted(mods),
              'the stub holds %s, not %s' % (stub_members(work, img, v),
                                             mods))
    # modules as Ubuntu and Arch (zstd) or Fedora (xz) ship them: read
    # through the host's decompressor, carried plain
    sk = stock(STOCK_CLOUD)[-1]
    v = sk[8:]
    tree = work('packed')
    stub_tree(tree, v)
    for i, ko in enumerate(subprocess.run(
            ['find', tree, '-name', '*.ko'], capture_output=True, text=True,
            check=True).stdout.split()):
        subprocess.run(['zstd', '-q', '--rm', ko] if i % 2 else
                       ['xz', ko], check=True)
    p = run('kernel', 'add', os.path.join(STOCK_CLOUD, sk), '--modules', tree,
            '--driver', 'virtio_blk,virtio_pci', *t)
    expect(p, 0)
    packed = stub_modules(p.out)
    check(sorted(packed) == sorted(mods), 'from compressed modules %s, '
          'from plain ones %s' % (packed, mods))
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        raw = subprocess.run(['zcat', os.path.join(m, 'stub-%s.img' % v)],
                             capture_output=True, check=True).stdout
    check(raw.count(b'\x7fELF\x02\x01') >= len(mods) + 1,
          'the stub does not hold the modules as ELF files')
    # a driver outside kernel/ (DKMS and vendors: extra/, updates/) is
    # found as depmod finds it, updates/ first
    tree = work('vendor')
    stub_tree(tree, v)
    os.makedirs(os.path.join(tree, 'extra'))
    os.makedirs(os.path.join(tree, 'updates', 'dkms'))
    os.rename(os.path.join(tree, 'kernel/drivers/block/virtio_blk.ko'),
              os.path.join(tree, 'extra/virtio_blk.ko'))
    with open(os.path.join(tree, 'extra/virtio_blk.ko'), 'rb') as f:
        vendor = f.read() + b'\0' * 16      # told apart by its length
    with open(os.path.join(tree, 'updates/dkms/virtio_blk.ko'), 'wb') as f:
        f.write(vendor)
    p = run('kernel', 'add', os.path.join(STOCK_CLOUD, sk), '--modules', tree,
            '--driver', 'virtio_blk,virtio_pci', *t)
    expect(p, 0)
    check(sorted(stub_modules(p.out)) == sorted(mods), p.out)
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        raw = subprocess.run(['zcat', os.path.join(m, 'stub-%s.img' % v)],
                             capture_output=True, check=True).stdout
    os.makedirs(work('unpacked'))
    subprocess.run(['cpio', '-i', '-d', '--quiet'], input=raw,
                   cwd=work('unpacked'), check=True)
    with open(work('unpacked', 'm', 'virtio_blk.ko'), 'rb') as f:
        check(f.read() == vendor, 'not the updates/ virtio_blk')
    # named and not in the tree: said
    p = run('kernel', 'add', os.path.join(STOCK_CLOUD, sk), '--modules', tree,
            '--driver', 'virtio_blk,no_such_driver', *t)
    expect(p, 4, 'no_such_driver: no such module')
    # another kernel's tree (its modules' vermagic): refused, not a stub
    # that would not load
    gk = stock()[-1]
    p = run('kernel', 'add', os.path.join(STOCK_CLOUD, sk), '--modules',
            modules_of(STOCK, gk[8:]), '--driver', 'virtio_blk,virtio_pci',
            *t)
    expect(p, 4, 'is built for kernel %s, not %s' % (gk[8:], v))
    # the disk not known (an image) and no module tree: refused, said
    sk = stock(STOCK_CLOUD)[-1]
    p = run('kernel', 'add', os.path.join(STOCK_CLOUD, sk), *t)
    expect(p, 4, 'is not known here (an image)',
           'no kernel modules under /lib/modules/%s' % sk[8:])


@test
def qemu_cloud_kernel_on_an_image_boots_through_a_generic_stub(work):
    """Debian's cloud kernel added to an image with no --driver: the disk
    is not known, so its default stub carries the drivers a VM or a PC
    boots from that the kernel has as modules (it hung at 'Waiting for
    root device' with no stub before); it boots from a virtio disk and
    from an IDE one.  The generic kernel's stub is measured too."""
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    sizes = {}
    for d in (STOCK, STOCK_CLOUD):
        sk = stock(d)[-1]
        v = sk[8:]
        p = run('kernel', 'add', os.path.join(d, sk), '--modules',
                modules_of(d, v), '--default', *t)
        expect(p, 0, 'is not known here (an image)',
               '%s boots through its module stub' % v)
        mods = stub_modules(p.out)
        for m in ('virtio_pci', 'virtio_blk', 'virtio_scsi', 'ata_piix',
                  'sd_mod'):
            check(m in mods, '%s: %s not in the generic stub: %s'
                  % (v, m, mods))
        with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
            sizes[d] = os.path.getsize(os.path.join(m, 'stub-%s.img' % v))
            # its configuration kept beside it, for later feature checks
            check(open(os.path.join(m, 'earlyfs-config-' + v)).read() ==
                  open(os.path.join(d, 'config-' + v)).read(),
                  'earlyfs-config-%s not kept on the partition' % v)
        if d == STOCK:
            expect(run('kernel', 'rm', v, *t), 0)
    print('generic stubs: generic kernel %d KiB, cloud kernel %d KiB'
          % (sizes[STOCK] // 1024, sizes[STOCK_CLOUD] // 1024))
    check(sizes[STOCK_CLOUD] <= 1 << 20, 'the cloud kernel\'s generic stub '
          'is %d bytes (target <= 1 MiB)' % sizes[STOCK_CLOUD])
    for iface in ('virtio', 'ide'):
        work.name = work.name.split('+')[0] + '+' + iface
        with harness.qemu(work, img, iface=iface) as c:
            c.expect(r'Loading /stub-%s\.img' % re.escape(v), 60)
            harness.reached_real_root(c)
            check(v in c.text(), 'not the cloud kernel')


# modalias discovery: the cloud kernel's disk modules and what a module
# tree needs around them (no modules.alias: as the package unpacks)
STUB_TREE = ('kernel/drivers/block', 'kernel/drivers/virtio',
             'kernel/drivers/scsi', 'kernel/drivers/ata',
             'kernel/drivers/cdrom', 'kernel/drivers/md',
             'kernel/drivers/net', 'kernel/net/core', 'kernel/lib',
             'kernel/crypto', 'modules.builtin', 'modules.builtin.modinfo',
             'modules.order')


def stub_tree(tree, v):
    """The part of the cloud kernel v's module tree STUB_TREE names, copied
    to tree."""
    for part in STUB_TREE:
        dst = os.path.join(tree, part)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        subprocess.run(['cp', '-a', os.path.join(modules_of(STOCK_CLOUD, v),
                                                 part), dst], check=True)


NIC = ['-netdev', 'user,id=n0,restrict=on', '-device',
       'virtio-net-pci,netdev=n0']


def network_machine(work, subs=('',)):
    """For a guest that runs kernel add: an image provisioned with the
    test kernel and the network feature, and a disk (stock.ext4) holding
    Debian's cloud kernel, its config and, under each of subs, the part of
    its module tree STUB_TREE names.  Returns (image, file name, version)."""
    img = image(work)
    expect(run('provision', img, '--partition', 1, '--root',
               'PARTUUID=' + partuuid(img, 2), '--kernel',
               harness.kernel_image(), '--menu-timeout', '1', '--append',
               'panic=1', '--with', 'network'), 0)
    sk = stock(STOCK_CLOUD)[-1]
    v = sk[8:]
    tree = work('stock')
    os.makedirs(tree)
    for f in (sk, 'config-' + v):
        subprocess.run(['cp', os.path.join(STOCK_CLOUD, f), tree], check=True)
    for sub in subs:
        stub_tree(os.path.join(tree, sub, 'lib', 'modules', v), v)
    return img, sk, v


def boots_with_a_lease(work, img, iface, v):
    """The image boots kernel v through its stub, from a disk on iface,
    with the network feature's DHCP lease on the way to the real root."""
    with harness.qemu(work, img, iface=iface, extra=NIC) as c:
        c.expect(r'Loading /stub-%s\.img' % re.escape(v), 60)
        c.expect(r'earlyfs: network: eth0 10\.0\.2\.15/24 \(DHCP\)', 90)
        harness.reached_real_root(c)
        text = c.text()
    check(v in text, 'not the cloud kernel')


@test
def qemu_stub_from_the_devices_modaliases(work):
    """kernel add on a running machine, no --driver: the stub's modules
    come from the modaliases of the devices under /boot, matched against
    the new kernel's modules' aliases, as dracut's host-only mode finds
    them.  The machine is a guest of the test kernel with an IDE disk:
    sd and ata_piix are built in there, so sysfs shows no module, and the
    SCSI disk driver's name (sd) is not its module's (sd_mod).  The
    network feature is installed: the stub carries the interface's driver
    too (virtio_net, built in there).  The stub it makes for Debian's
    cloud kernel then boots that kernel from the same IDE disk, with a
    DHCP lease on the way, to the real root."""
    # 'scan': as the package unpacks it; 'dep': after depmod (as dpkg
    # leaves it when the hook runs), with one more alias line to show that
    # modules.alias is what is read there
    # 'extra': the IDE driver where DKMS and vendors put theirs (it was
    # left out, and the boot waited forever); 'gone': modules.alias names
    # a module for the disk that no file is (refused, and said)
    img, sk, v = network_machine(work, ('scan', 'dep', 'extra', 'gone'))
    tree = work('stock')
    for sub in ('dep', 'gone'):
        subprocess.run(['depmod', '-b', os.path.join(tree, sub), v],
                       check=True)
    with open(os.path.join(tree, 'dep', 'lib', 'modules', v,
                           'modules.alias'), 'a') as f:
        f.write('alias scsi:t-0x00* sr_mod\n')
    extra = os.path.join(tree, 'extra', 'lib', 'modules', v)
    os.makedirs(os.path.join(extra, 'extra'))
    os.rename(os.path.join(extra, 'kernel/drivers/ata/ata_piix.ko'),
              os.path.join(extra, 'extra/ata_piix.ko'))
    gone = os.path.join(tree, 'gone', 'lib', 'modules', v)
    with open(os.path.join(gone, 'modules.alias')) as f:
        aliases = f.read()
    with open(os.path.join(gone, 'modules.alias'), 'w') as f:
        f.write(aliases.replace(' ata_piix\n', ' ata_piix_gone\n')
                .replace(' ata_generic\n', ' ata_generic_gone\n'))
    harness.mkfs(tree, work('stock.ext4'), 160)
    add = ('earlyfs kernel add /s/%s --modules /s/%%s/lib/modules/%s '
           '--default --boot /b\n' % (sk, v))
    # both IDE modules gone: refused; ata_generic back: a warning
    out = guest.run(work, 'mkdir /b /s\nmount /dev/sda1 /b\n'
                    'mount /dev/sdb /s\n' +
                    (add % 'gone').rstrip() + ' || echo "GONE-EXIT $?"\n' +
                    'sed -i s/ata_generic_gone/ata_generic/ /s/gone/lib/'
                    'modules/%s/modules.alias\n' % v + add % 'gone' +
                    add % 'extra' + add % 'scan' +
                    add % 'dep' + 'umount /b\n', [img, work('stock.ext4')],
                    earlyfs=True, iface='ide', extra=NIC)
    check(re.search(r'needs module ata_\w+_gone, which the kernel\'s '
                    r'aliases name but no file under \S+ is', out) and
          'GONE-EXIT 4' in out, 'a missing module was not named:\n' +
          out[-3000:])
    check(re.search(r'warning: the kernel\'s aliases name module '
                    r'ata_piix_gone for this machine\'s device', out),
          'no warning for a missing module:\n' + out[-3000:])
    lists = re.findall(r'boots through its module stub \(\d+ KiB\): (.*)',
                       out)
    check(len(lists) == 4, 'four stubs made:\n' + out[-3000:])
    extra_mods, mods, dep = (x.split() for x in lists[1:])
    check(sorted(extra_mods) == sorted(mods),
          'from extra/: %s; from kernel/: %s' % (extra_mods, mods))
    for m in ('sd_mod', 'ata_piix', 'libata', 'scsi_mod', 'virtio_net',
              'virtio_pci'):
        check(m in mods, '%s not in the stub: %s' % (m, mods))
    check('ext4' not in mods and 'virtio_blk' not in mods,
          'ext4 is built into %s and no disk is virtio: %s' % (v, mods))
    check(sorted(dep) == sorted(mods + ['sr_mod', 'cdrom']),
          'from modules.alias: %s; from the modules: %s' % (dep, mods))
    boots_with_a_lease(work, img, 'ide', v)


@test
def qemu_stub_for_network_interfaces_only(work):
    """A kernel that boots without a stub (Debian's cloud kernel has NVMe
    and ext4 built in) but whose network interface driver is a module
    (virtio_net): with the network feature installed, kernel add on the
    running machine makes a stub of the interfaces' modules alone, and the
    cloud kernel then gets its DHCP lease from the NVMe disk.  Without that
    stub the feature would find no interface (a remote unlock would never
    be reachable)."""
    img, sk, v = network_machine(work)
    harness.mkfs(work('stock'), work('stock.ext4'), 96)
    out = guest.run(work, 'mkdir /b /s\nmount /dev/nvme0n1p1 /b\n'
                    'mount -o ro /dev/nvme1n1 /s\n'
                    'earlyfs kernel add /s/%s --modules /s/lib/modules/%s '
                    '--default --boot /b\numount /b\n' % (sk, v),
                    [img, work('stock.ext4')], earlyfs=True, iface='nvme',
                    extra=NIC)
    m = re.search(r'boots through its module stub \(\d+ KiB\): (.*) \(its '
                  r'disk drivers are built in', out)
    check(m, 'no stub for the interfaces:\n' + out[-3000:])
    got = m.group(1).split()
    check('virtio_net' in got and 'virtio_pci' in got, got)
    check(not {'nvme', 'nvme_core', 'ext4', 'virtio_blk'} & set(got),
          'a built-in or disk module in the stub: %s' % got)
    boots_with_a_lease(work, img, 'nvme', v)


@test
def feature_added_after_a_stub_kernel_remakes_its_stub(work):
    """A feature whose needs are modules of a kept kernel remakes that
    kernel's module stub with them, in the same generation (it was refused,
    with the way, before): Debian's cloud kernel (nvme and ext4 built in,
    no stub) gains one with luks' dm_crypt, and its labels load it; the
    generic kernel's stub is made again with mdraid's md_mod and raid1.
    Without a kernel's module tree here: refused with the way, nothing
    written."""
    img = provisioned(work)
    t = ('--target', img, '--partition', 1)
    sc = stock(STOCK_CLOUD)[-1]
    vc = sc[8:]
    cdir = modules_of(STOCK_CLOUD, vc)
    p = run('kernel', 'add', os.path.join(STOCK_CLOUD, sc), '--modules', cdir,
            '--driver', 'nvme', '--default', *t)
    expect(p, 0)
    check('stub' not in p.out, 'nvme and ext4 are built into the cloud '
          'kernel: no stub: ' + p.out)
    harness.write(work('crypttab'), 'root /dev/nvme0n1p3 none luks\n')
    before = tree_digest(work, img)
    expect(run('feature', 'add', 'luks', '--crypttab', work('crypttab'), *t),
           4, 'kernel %s cannot boot with these features' % vc,
           'no kernel modules under /lib/modules/%s' % vc, '--modules DIR',
           'nothing written')
    check(tree_digest(work, img) == before, 'the refusal wrote')
    n = len(gens(t))
    p = run('feature', 'add', 'luks', '--crypttab', work('crypttab'),
            '--modules', cdir, '--driver', 'nvme', *t)
    expect(p, 0, "%s's module stub is made with what these features need"
           % vc)
    check('dm_crypt' in stub_modules(p.out), p.out)
    check(len(gens(t)) == n + 1, 'not one generation')
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
        kept = open(os.path.join(m, 'etc/earlyfs.kernels')).read()
    check(re.search(r'LABEL earlyfs\n\s*KERNEL /earlyfs-vmlinuz-%s\n\s*INITRD '
                    r'/stub-%s\.img\n' % (re.escape(vc), re.escape(vc)),
                    conf), conf)
    check('ok %s stub' % vc in kept, kept)
    check(sorted(stub_members(work, img, vc)) ==
          sorted(stub_modules(p.out)), 'the stub on the partition is not '
          'the one made')
    expect(run('check', *t), 0, '0 problems')
    # the same again: the stub it would make is the one there (the same
    # bytes): not made again
    p = run('feature', 'add', 'luks', '--crypttab', work('crypttab'),
            '--modules', cdir, '--driver', 'nvme', *t)
    expect(p, 0)
    check('module stub is made' not in p.out, p.out)
    # the generic kernel, with its stub: mdraid's modules join it
    sk = stock()[-1]
    v = sk[8:]
    moddir = modules_of(STOCK, v)
    p = run('kernel', 'add', os.path.join(STOCK, sk), '--modules', moddir,
            '--driver', 'virtio_blk,virtio_pci', '--default', *t)
    expect(p, 0)
    check('md_mod' not in stub_modules(p.out), p.out)
    harness.write(work('mdadm.conf'), 'ARRAY /dev/md0 metadata=1.2 UUID='
                  '0123abcd:4567ef01:89abcdef:01234567\n')
    p = run('feature', 'add', 'mdraid', '--mdadm-conf', work('mdadm.conf'),
            '--modules', moddir, '--driver', 'virtio_blk,virtio_pci', *t)
    expect(p, 0, "%s's module stub is made again" % v)
    check(sorted(stub_members(work, img, v)) ==
          sorted(stub_modules(p.out)) and 'raid1' in stub_members(work, img, v),
          'the generic kernel\'s stub lacks raid1: %s' % p.out)
    expect(run('check', *t), 0, '0 problems')


@test
def qemu_provision_with_a_stock_kernel_boots_or_is_refused(work):
    """provision --kernel with Debian's cloud kernel on an image decides
    as kernel add does: without its module tree it is refused before
    anything is written; with it, the partition gets the generic module
    stub, its labels load it, and it boots."""
    img = image(work)
    sk = stock(STOCK_CLOUD)[-1]
    v = sk[8:]
    args = ('provision', img, '--partition', 1, '--root',
            'PARTUUID=' + partuuid(img, 2), '--kernel',
            os.path.join(STOCK_CLOUD, sk), '--menu-timeout', '1',
            '--append', 'panic=1')
    before = part_sha(img, 1)
    expect(run(*args), 4, 'no kernel modules under /lib/modules/%s' % v)
    check(part_sha(img, 1) == before, 'a refused provision wrote')
    expect(run(*(args + ('--modules', modules_of(STOCK_CLOUD, v)))), 0,
           '%s boots through its module stub' % v)
    lab, files = labels(work, img)
    check(lab['earlyfs'] == lab['rescue'] == '/earlyfs-vmlinuz-' + v, lab)
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
        kept = open(os.path.join(m, 'etc/earlyfs.kernels')).read()
        check(os.path.exists(os.path.join(m, 'earlyfs-config-' + v)),
              'the kernel\'s configuration is not kept beside it')
    check(conf.count('INITRD /stub-%s.img' % v) == 3, conf)   # previous too
    check('ok %s stub' % v in kept, kept)
    t = ('--target', img, '--partition', 1)
    expect(run('check', *t), 0, '0 problems')
    with harness.qemu(work, img) as c:
        c.expect(r'Loading /stub-%s\.img' % re.escape(v), 60)
        harness.reached_real_root(c)
