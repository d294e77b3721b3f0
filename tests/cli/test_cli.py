"""The CLI on image files and loop devices: refusals leave every byte as it
was; a provisioned partition is sound and the rest of the disk untouched."""
import os, re, stat, subprocess
from tests import harness
from tests.harness import test
from tests.cli.clilib import (STOCK, check, expect, image, loop_attached, part_sha,
                    partition_attached, partition_mounted, partitions,
                    partuuid, provision, run, sha)


@test
def cli_refuses_whole_disk(work):
    img = image(work)
    before = sha(img)
    with loop_attached(img) as loop:
        p = run('provision', loop, '--root', 'PARTUUID=' + partuuid(img, 2))
    expect(p, 3, 'is a whole disk; give a partition')
    check(sha(img) == before, 'image changed')


@test
def cli_refuses_mounted_partition(work):
    img = image(work)
    with partition_mounted(img, 2, work('m'), 'ro,noload'):
        before = sha(img)
        p = run('provision', img, '--partition', 2, '--force', '--root',
                'PARTUUID=' + partuuid(img, 1))
        after = sha(img)
    expect(p, 3, 'is mounted at %s' % work('m'))
    check(after == before, 'image changed')


@test
def cli_refuses_partition_mapped_by_a_loop(work):
    img = image(work)
    with partition_attached(img, 1) as loop:
        before = sha(img)
        p = provision(img)
        after = sha(img)
    expect(p, 3, 'partition 1 of', 'is in use: %s maps it' % loop)
    check(after == before, 'image changed')


@test
def cli_refuses_swap(work):
    img = image(work)
    off, size = partitions(img)[1][0]

    def outside_swap_pages():
        # the kernel may page out to an active swap area at any time (this
        # host reclaims proactively): compare all but its pages, keeping
        # the swap header, which a wipe or mke2fs would overwrite
        return (sha(img, 0, off + 4096), sha(img, off + size))
    with partition_attached(img, 1) as loop:
        subprocess.run(['mkswap', loop], check=True, capture_output=True)
        subprocess.run(['swapon', loop], check=True)
        try:
            before = outside_swap_pages()
            p = provision(img, 1, None, '--force')
            after = outside_swap_pages()
        finally:
            subprocess.run(['swapoff', loop], check=True)
    expect(p, 3, 'is in use as swap')
    check(after == before, 'image changed outside the swap pages')


@test
def cli_refuses_existing_filesystem_without_force(work):
    img = image(work)
    before = sha(img)
    p = run('provision', img, '--partition', 2, '--root',
            'PARTUUID=' + partuuid(img, 1), '--kernel', harness.kernel_image())
    expect(p, 3, 'it holds a file system or signature of type ext4',
           'LABEL=root', 'UUID=', 'use --force to overwrite')
    check(sha(img) == before, 'image changed')


@test
def cli_refuses_too_small_a_partition(work):
    img = image(work, size='64M', boot='4M')
    before = sha(img)
    p = provision(img)
    expect(p, 3, 'partition 1 is 4 MiB; earlyfs needs at least')
    check(re.search(r'needs at least \d+ MiB', p.out), p.out)
    check(sha(img) == before, 'image changed')


@test
def cli_refuses_tables_extlinux_cannot_boot(work):
    img = work('logical.img')
    subprocess.run(['truncate', '-s', '96M', img], check=True)
    subprocess.run(['sfdisk', '-q', img], check=True, text=True,
                   input='label: dos\n,16M,L\n,,E\n,40M,L\n')
    before = sha(img)
    expect(provision(img, 5, 'PARTUUID=' + partuuid(img, 1)), 3,
           'partition 5 of', 'is a logical partition; syslinux\'s mbr.bin '
           'boots primary partitions (1-4) only')
    check(sha(img) == before, 'image changed')
    raw = work('raw.img')
    subprocess.run(['truncate', '-s', '64M', raw], check=True)
    expect(provision(raw, 1, 'PARTUUID=12345678-02'), 3,
           'has no partition table')
    expect(provision(img, 9, 'PARTUUID=' + partuuid(img, 1)), 3,
           'has no partition 9')


@test
def cli_refuses_a_kernel_with_modular_drivers(work):
    img = image(work)
    before = sha(img)
    stock = [f for f in os.listdir(STOCK) if f.startswith('vmlinuz-')]
    check(stock, 'no stock kernel in %s: run make deps' % STOCK)
    p = run('provision', img, '--partition', 1, '--root',
            'PARTUUID=' + partuuid(img, 2), '--kernel',
            os.path.join(STOCK, stock[0]), '--driver', 'virtio_blk')
    expect(p, 4, 'cannot mount the boot partition without an initramfs',
           'CONFIG_EXT4_FS=m', 'CONFIG_VIRTIO_BLK=m (disk driver virtio_blk)',
           'Build these in (=y)')
    check(sha(img) == before, 'image changed')


@test
def cli_check_kernel(work):
    import shutil
    # the image alone, so the config must come from IKCONFIG
    os.makedirs(work('k'))
    shutil.copy(harness.kernel_image(), work('k', 'bzImage'))
    expect(run('check-kernel', work('k', 'bzImage'), '--driver',
               'virtio_blk,ata_piix,ahci,sd'), 0,
           'config from the image itself (IKCONFIG)',
           'ok      CONFIG_VIRTIO_BLK', 'ok      CONFIG_ATA_PIIX',
           'can mount an earlyfs boot partition by itself')
    stock = [f for f in os.listdir(STOCK) if f.startswith('vmlinuz-')][0]
    expect(run('check-kernel', os.path.join(STOCK, stock), '--driver',
               'virtio_blk,ata_piix,ahci'), 4,
           'config from %s/config-' % STOCK, 'CONFIG_VIRTIO_BLK=m',
           'CONFIG_ATA_PIIX=m', 'CONFIG_SATA_AHCI=m')
    expect(run('check-kernel', '/etc/passwd'), 2, 'is not a bzImage kernel')


@test
def cli_dry_run_writes_nothing(work):
    img = image(work)
    before = sha(img)
    p = provision(img, 1, None, '--dry-run')
    expect(p, 0, 'dry run: nothing is written', 'would: wipe',
           'would: mbr        mbr.bin to ' + img)
    check(sha(img) == before, 'image changed')


@test
def cli_usage_errors(work):
    img = image(work)
    before = sha(img)
    expect(run('provision', img), 2, 'is an image file: give --partition N')
    expect(run('provision', img, '--partition', 1, '--root', 'sda2'), 2,
           '--root sda2: expected /dev/NAME, UUID=')
    expect(run('provision', img, '--bogus'), 2, 'Try \'earlyfs help\'')
    expect(run('provision', work('missing.img'), '--partition', 1), 2,
           'No such file or directory')
    expect(run('frobnicate'), 2, "unknown command 'frobnicate'")
    expect(provision(img, 1, 'PARTUUID=0badc0de-07'), 3,
           'matches no partition of')
    expect(run('image', 'create', img, '--size', '256M'), 3,
           'exists; use --force to replace it')
    expect(run('image', 'create', work('x.img'), '--size', 'lots'), 2,
           '--size lots')
    check(sha(img) == before, 'image changed')


@test
def cli_provisioned_partition_is_sound(work):
    img = image(work)
    root_before = part_sha(img, 2)
    with open(img, 'rb') as f:
        sector0 = f.read(512)
    p = provision(img)
    expect(p, 0, 'is an earlyfs boot partition')
    for stepname in ('target', 'contents', 'root', 'kernel', 'stage', 'mkfs',
                     'loader', 'record', 'mbr', 'bootflag', 'flush'):
        check(re.search(r'^  %s +.*\(\d+\.\d\d s\)$' % stepname, p.stdout,
                        re.M), 'no timed step %s:\n%s' % (stepname, p.stdout))
    check(part_sha(img, 2) == root_before, 'the root partition changed')
    with open(img, 'rb') as f:
        new0 = f.read(512)
    with open('/usr/lib/syslinux/mbr/mbr.bin', 'rb') as f:
        check(new0[:440] == f.read()[:440], 'MBR code is not mbr.bin')
    check(new0[440:] == sector0[440:], 'disk signature or table changed')

    _, parts = partitions(img)
    off, size = parts[0]
    with open(img, 'rb') as f, open(work('p1.img'), 'wb') as o:
        f.seek(off)
        o.write(f.read(size))
    fsck = subprocess.run(['e2fsck', '-fn', work('p1.img')],
                          capture_output=True, text=True)
    check(fsck.returncode == 0, 'e2fsck -fn:\n' + fsck.stdout + fsck.stderr)
    dump = subprocess.run(['dumpe2fs', '-h', work('p1.img')],
                          capture_output=True, text=True).stdout
    feats = re.search(r'Filesystem features:\s*(.*)', dump).group(1).split()
    check('has_journal' not in feats and '64bit' not in feats,
          'features: %s' % feats)
    check(re.search(r'Filesystem volume name:\s*earlyfs$', dump, re.M),
          'label')

    m = work('m')
    os.makedirs(m)
    with loop_attached(work('p1.img'), readonly=True) as loop:
        subprocess.run(['mount', '-o', 'ro', loop, m], check=True)
        try:
            kname = inspect_tree(img, m)
        finally:
            subprocess.run(['umount', m], check=True)
    s = run('status', img, '--partition', 1)
    expect(s, 0, 'earlyfs boot partition (label earlyfs)',
           'labels:   earlyfs (default), rescue',
           'fragments: 50-mountroot', kname)


def inspect_tree(img, m):
    """The mounted provisioned partition: tree, modes, links, contents.
    Returns the kernel's file name."""
    for d in ('bin', 'sbin', 'dev', 'etc', 'lib', 'mnt', 'proc', 'run',
              'sys', 'tmp', 'var', 'boot', 'init.d', 'extlinux'):
        check(os.path.isdir(os.path.join(m, d)), 'no /%s' % d)
    check(stat.S_IMODE(os.stat(os.path.join(m, 'root')).st_mode) == 0o700,
          '/root not 0700')
    check(os.readlink(os.path.join(m, 'var/run')) == '/run', 'var/run')
    check(os.readlink(os.path.join(m, 'var/tmp')) == '/tmp', 'var/tmp')
    check(os.readlink(os.path.join(m, 'sbin/init')) == '../bin/busybox',
          'sbin/init')
    check(os.readlink(os.path.join(m, 'bin/sh')) == 'busybox', 'bin/sh')
    check(os.access(os.path.join(m, 'sbin/earlyfs-init'), os.X_OK),
          'earlyfs-init')
    for t in ('fstab', 'inittab', 'passwd', 'group', 'shells'):
        with open(os.path.join(harness.TOP, 'templates', t)) as a, \
                open(os.path.join(m, 'etc', t)) as b:
            check(a.read() == b.read(), 'etc/%s differs' % t)
    # root's login shell (SSH sessions) is earlyfs-init by another name
    check(re.search(r'^root:x:0:0:.*:/sbin/earlyfs-shell$',
                    open(os.path.join(m, 'etc/passwd')).read(), re.M),
          'root shell')
    for name in ('earlyfs-shell', 'earlyfs-unlock', 'earlyfs-continue'):
        check(os.readlink(os.path.join(m, 'sbin', name)) == 'earlyfs-init',
              'sbin/' + name)
    check(os.readlink(os.path.join(m, 'etc/resolv.conf')) ==
          '/run/resolv.conf', 'etc/resolv.conf')
    # the base set, which the UML tests' trees copy; features add the rest
    check(tuple(sorted(os.listdir(os.path.join(m, 'init.d')))) ==
          harness.BASE_FRAGMENTS, 'fragments')
    conf = open(os.path.join(m, 'etc/earlyfs.conf')).read()
    check('root=PARTUUID=%s\n' % partuuid(img, 2) in conf, conf)
    kname = os.readlink(os.path.join(m, 'vmlinuz'))
    kst = os.stat(os.path.join(m, kname))
    check(kst.st_blocks * 512 >= kst.st_size, 'the kernel has holes')
    check(sha(os.path.join(m, kname)) == sha(harness.kernel_image()),
          'kernel differs')
    check(os.path.exists(os.path.join(m, 'extlinux/ldlinux.sys')),
          'no ldlinux.sys')
    ext = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
    labels = re.findall(r'^LABEL (\S+)\n\tKERNEL (\S+)\n\tAPPEND (.*)$',
                        ext, re.M)
    check([l[0] for l in labels] == ['earlyfs', 'rescue'], ext)
    for name, kernel, append in labels:
        check(os.path.exists(os.path.join(m, kernel.lstrip('/'))),
              '%s: %s missing' % (name, kernel))
        check('root=PARTUUID=%s ' % partuuid(img, 1) in append, append)
    check('init=/sbin/earlyfs-init' in labels[0][2], 'default init=')
    check('init=' not in labels[1][2], 'rescue has init=')
    return kname


@test
def cli_force_reprovisions_and_status_sees_unfinished(work):
    img = image(work)
    expect(provision(img), 0)
    expect(provision(img), 3, 'type ext4 (LABEL=earlyfs')
    expect(provision(img, 1, None, '--force'), 0, 'overwriting ext4')
    # a partition with a file system but no record: not an earlyfs one
    expect(run('status', img, '--partition', 2), 1,
           'no etc/earlyfs.conf: not an earlyfs boot partition')


@test
def cli_make_install_layout_provisions(work):
    """make install puts the CLI, earlyfs-init, templates, fragments and man
    pages where the installed earlyfs finds them (EARLYFS_DATADIR stands in
    for the compiled-in DATADIR, since DESTDIR moves the tree)."""
    dest = work('dest')
    subprocess.run(['make', '-s', '-C', harness.TOP, 'install',
                    'DESTDIR=' + dest], check=True, capture_output=True)
    data = os.path.join(dest, 'usr/share/earlyfs')
    for rel in ('earlyfs-init', 'templates/extlinux.conf', 'templates/fstab',
                'init.d/50-mountroot'):
        check(os.path.exists(os.path.join(data, rel)), 'no %s' % rel)
    for rel in ('usr/local/share/man/man8/earlyfs.8',
                'usr/local/share/man/man8/earlyfsd.8',
                'usr/local/share/man/man5/earlyfs-fragments.5',
                'usr/local/sbin/earlyfsd', 'etc/init.d/earlyfsd'):
        check(os.path.exists(os.path.join(dest, rel)), 'no %s' % rel)
    with open(os.path.join(dest, 'lib/systemd/system/earlyfsd.service')) as f:
        check('ExecStart=/usr/local/sbin/earlyfsd --foreground' in f.read(),
              'unit: ExecStart')
    img = image(work)
    before = sha(img)
    env = dict(os.environ, EARLYFS_DATADIR=data)
    p = subprocess.run([os.path.join(dest, 'usr/local/sbin/earlyfs'),
                        'provision', img, '--partition', '1', '--root',
                        'PARTUUID=' + partuuid(img, 2), '--kernel',
                        harness.kernel_image(), '--dry-run'],
                       capture_output=True, text=True, env=env)
    p.out = p.stdout + p.stderr
    expect(p, 0, 'would: wipe', '-i 32768')
    check(sha(img) == before, 'image changed')
    for rel in ('etc/kernel/prerm.d/zz-earlyfs', 'etc/dpkg/dpkg.cfg.d/earlyfs',
                'usr/local/share/bash-completion/completions/earlyfs'):
        check(os.path.exists(os.path.join(dest, rel)), 'no %s' % rel)
    # make uninstall, with the same variables, leaves no file
    subprocess.run(['make', '-s', '-C', harness.TOP, 'uninstall',
                    'DESTDIR=' + dest], check=True, capture_output=True)
    left = [os.path.join(r, f) for r, _, fs in os.walk(dest) for f in fs]
    check(not left, 'make uninstall left: %s' % left)


@test
def image_create_esp_on_a_large_image(work):
    """The ESP's FAT is sized by the partition, not the image file: a
    64 MiB ESP on an 8 GiB (sparse) image is made (mkfs.fat alone picks
    FAT32 from the file's size, and refuses), FAT16, and mtools reads it."""
    img = work('big.img')
    p = run('image', 'create', img, '--size', '8G', '--esp-size', '64M')
    expect(p, 0, 'partition 1 the ESP (64 MiB, FAT)')
    off = int(re.findall(r'"start":\s*(\d+)', subprocess.run(
        ['sfdisk', '-J', img], capture_output=True, text=True,
        check=True).stdout)[0]) * 512
    p = subprocess.run(['minfo', '-i', '%s@@%d' % (img, off), '::'],
                       capture_output=True, text=True)
    check(p.returncode == 0 and 'FAT16' in p.stdout, p.stdout + p.stderr)
