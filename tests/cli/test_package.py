"""The Debian package (issue 27): make deb builds it, lintian passes it,
and in a Debian chroot dpkg installs it (changing nothing on /boot) and
purges it leaving no file."""
import contextlib, glob, os, subprocess
from tests import harness
from tests.harness import check, test

DEB = os.path.join(harness.BUILD, 'earlyfs_*_amd64.deb')


def built_deb():
    """The package of this tree, built once per run (make deb)."""
    debs = glob.glob(DEB)
    if not debs or not getattr(built_deb, 'made', False):
        for d in debs:
            os.unlink(d)
        p = subprocess.run(['make', '-s', '-C', harness.TOP, 'deb'],
                           capture_output=True, text=True)
        check(p.returncode == 0, 'make deb: %d\n%s' %
              (p.returncode, (p.stdout + p.stderr)[-3000:]))
        built_deb.made = True
        debs = glob.glob(DEB)
    check(len(debs) == 1, 'make deb left %s' % debs)
    return debs[0]


def debian_root():
    """The cached Debian 12 root (tests/rootfs/sysvinit.sh)."""
    p = subprocess.run([os.path.join(harness.TOP, 'tests', 'rootfs',
                                     'sysvinit.sh')],
                       capture_output=True, text=True)
    check(p.returncode == 0, 'cannot build the Debian root: %s' % p.stderr)
    return p.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def chroot_overlay(work, lower):
    """lower, writable through an overlay (its changes in work), with its
    own /dev, /proc and /run; no service starts (policy-rc.d)."""
    upper, wd, root = work('upper'), work('ovl-work'), work('root')
    for d in (upper, wd, root):
        os.makedirs(d)
    subprocess.run(['mount', '-t', 'overlay', 'overlay', '-o',
                    'lowerdir=%s,upperdir=%s,workdir=%s' % (lower, upper, wd),
                    root], check=True)
    mounts = []
    try:
        for fs, d in (('tmpfs', 'dev'), ('proc', 'proc'), ('tmpfs', 'run')):
            subprocess.run(['mount', '-t', fs, fs, os.path.join(root, d)],
                           check=True)
            mounts.append(os.path.join(root, d))
        subprocess.run(['mknod', '-m', '666', os.path.join(root, 'dev/null'),
                        'c', '1', '3'], check=True)
        harness.write(os.path.join(root, 'usr/sbin/policy-rc.d'),
                      '#!/bin/sh\nexit 101\n', 0o755)
        yield root
    finally:
        for m in reversed(mounts):
            subprocess.run(['umount', '-l', m])
        subprocess.run(['umount', '-l', root])


def paths(root):
    """Every path under root but what dpkg and apt keep of their own
    runs (their database, logs, caches) and the chroot's own mounts."""
    skip = ('var/lib/dpkg/', 'var/lib/apt/', 'var/log/', 'var/cache/',
            'dev/', 'proc/', 'run/', 'tmp/')
    out = set()
    for r, dirs, files in os.walk(root):
        for f in files + dirs:
            rel = os.path.relpath(os.path.join(r, f), root)
            if not (rel + '/').startswith(skip):
                out.add(rel)
    return out


@test
def deb_builds_and_lintian_passes(work):
    """make deb: the package, with every file the issue names, lintian
    clean with --fail-on error,warning."""
    deb = built_deb()
    files = subprocess.run(['dpkg-deb', '-c', deb], capture_output=True,
                           text=True, check=True).stdout
    for f in ('./usr/sbin/earlyfs', './usr/sbin/earlyfsd',
              './usr/lib/earlyfs/earlyfs-init',
              './usr/share/earlyfs/templates/extlinux.conf',
              './usr/share/earlyfs/init.d/50-mountroot',
              './etc/kernel/postinst.d/zz-earlyfs',
              './etc/kernel/prerm.d/zz-earlyfs',
              './etc/kernel/postrm.d/zz-earlyfs',
              './usr/lib/kernel/install.d/90-earlyfs.install',
              './etc/dpkg/dpkg.cfg.d/earlyfs',
              './lib/systemd/system/earlyfsd.service', './etc/init.d/earlyfsd',
              './usr/share/man/man8/earlyfs.8.gz',
              './usr/share/bash-completion/completions/earlyfs'):
        check(' ' + f + '\n' in files or ' ' + f + ' ' in files,
              'the package lacks %s' % f)
    info = subprocess.run(['dpkg-deb', '-f', deb, 'Depends', 'Provides'],
                          capture_output=True, text=True, check=True).stdout
    check('busybox-static' in info and 'extlinux' in info and
          'libfdisk1' in info and 'linux-initramfs-tool' not in info, info)
    # the package that lets initramfs-tools go, apart
    tool = os.path.join(os.path.dirname(deb),
                        'earlyfs-initramfs-tool_%s_all.deb' %
                        os.path.basename(deb).split('_')[1])
    info = subprocess.run(['dpkg-deb', '-f', tool, 'Provides', 'Conflicts',
                           'Depends'], capture_output=True, text=True,
                          check=True).stdout
    check(info.count('linux-initramfs-tool') == 2 and 'earlyfs (' in info,
          info)
    p = subprocess.run(['lintian', '--fail-on', 'error,warning', deb, tool],
                       capture_output=True, text=True)
    check(p.returncode == 0, 'lintian: %s' % p.stdout + p.stderr)


@test
def deb_install_and_purge_in_a_chroot_leave_nothing(work):
    """apt install of the .deb in a Debian chroot (its dependencies from
    Debian's registry first): the CLI runs, the hooks are in place, /boot
    is untouched; earlyfs-initramfs-tool installs beside it; apt purge of
    both: no file of them left."""
    deb = built_deb()
    lower = debian_root()
    with chroot_overlay(work, lower) as root:
        boot_before = sorted(os.listdir(os.path.join(root, 'boot')))
        tool = glob.glob(os.path.join(os.path.dirname(deb),
                                      'earlyfs-initramfs-tool_*_all.deb'))[0]
        for src, dst in ((deb, 'earlyfs.deb'), (tool, 'tool.deb')):
            with open(src, 'rb') as a, \
                    open(os.path.join(root, 'tmp', dst), 'wb') as b:
                b.write(a.read())

        def chroot(*cmd):
            return subprocess.run(['chroot', root] + list(cmd),
                                  capture_output=True, text=True,
                                  env={'PATH': '/usr/sbin:/usr/bin:/sbin:'
                                       '/bin', 'LC_ALL': 'C',
                                       'DEBIAN_FRONTEND': 'noninteractive'})
        # what the package depends on, from Debian's registry, first
        harness.write(os.path.join(root, 'etc/resolv.conf'),
                      open('/etc/resolv.conf').read())
        p = chroot('apt-get', 'update', '-qq')
        check(p.returncode == 0, 'apt-get update: %s' % p.stderr)
        deps = subprocess.run(['dpkg-deb', '-f', deb, 'Depends'],
                              capture_output=True, text=True).stdout
        names = [d.split()[0] for d in deps.replace('|', ',').split(',')
                 if d.strip()]
        p = chroot('apt-get', 'install', '-y', '-qq',
                   '--no-install-recommends', *names)
        check(p.returncode == 0, 'apt-get install %s: %s' % (names, p.stderr))
        before = paths(root)
        p = chroot('apt-get', 'install', '-y', '-qq',
                   '--no-install-recommends', '/tmp/earlyfs.deb')
        check(p.returncode == 0, 'apt-get install earlyfs: %s%s'
              % (p.stdout, p.stderr))
        p = chroot('earlyfs', '--version')
        check(p.returncode == 0 and '0.' in p.stdout + p.stderr,
              'earlyfs --version: %s' % p.stderr)
        p = chroot('earlyfs', 'status')
        check(p.returncode != 0 and '/boot' in p.stdout + p.stderr,
              'status of a /boot that is not earlyfs: %s' % p.stderr)
        check(os.path.exists(os.path.join(root, 'etc/kernel/prerm.d/'
                                          'zz-earlyfs')), 'no prerm.d hook')
        check(glob.glob(os.path.join(root, 'etc/rc2.d/S*earlyfsd')),
              'the init script is not enabled')
        check(sorted(os.listdir(os.path.join(root, 'boot'))) == boot_before,
              'installing changed /boot')
        # a kernel hook run on a /boot that is not earlyfs's: nothing
        p = chroot('run-parts', '--report', '--exit-on-error', '--arg=6.1.0-1',
                   '--arg=/boot/vmlinuz-6.1.0-1', '/etc/kernel/postinst.d')
        check(p.returncode == 0, 'postinst.d: %s' % p.stderr)
        p = chroot('apt-get', 'install', '-y', '-qq', '/tmp/tool.deb')
        check(p.returncode == 0, 'apt-get install earlyfs-initramfs-tool: '
              '%s%s' % (p.stdout, p.stderr))
        p = chroot('apt-get', 'purge', '-y', '-qq', 'earlyfs',
                   'earlyfs-initramfs-tool')
        check(p.returncode == 0, 'apt-get purge: %s%s' % (p.stdout, p.stderr))
        left = paths(root) - before
        check(not left, 'purge left: %s' % sorted(left))
