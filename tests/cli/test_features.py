"""Features (issue 11) in QEMU full boots of images made in the test: root
on LUKS2, on RAID1 (whole and degraded), LUKS on RAID1, fsck, pause."""
import os, re, subprocess, time
from tests import guest, harness
from tests.harness import check, qemu, test
from tests.cli.clilib import expect, partition_attached, run, tree_digest

PASS = 'correct horse 42'
WRONG = 'wrong battery 17'
LUKS_UUID = '5a1c3e2f-7b6d-4e8a-9c0b-1d2e3f405162'


def disk(work, sizes, extra=''):
    """A DOS disk: partition 1 (48 MiB, bootable) for earlyfs, then one
    partition per size (MiB); and root.ext4, the test root's file system
    (its init also runs extra)."""
    img = work('disk.img')
    with open(img, 'wb') as f:
        f.truncate((50 + sum(sizes)) << 20)
    table = 'label: dos\nstart=2048, size=48M, type=83, bootable\n' + ''.join(
        'size=%dM, type=83\n' % s for s in sizes)
    subprocess.run(['sfdisk', '-q', img], input=table, text=True,
                   check=True)
    harness.root_tree(work('root'), extra=extra)
    harness.mkfs(work('root'), work('root.ext4'), 16)
    return img


def provision(img, root, *extra):
    return run('provision', img, '--partition', 1, '--root', root,
               '--kernel', harness.kernel_image(), '--menu-timeout', '1',
               '--append', 'panic=1', *extra)


def luks_script(dev):
    return ('printf %%s "%s" > /tmp/p\n'
            'cryptsetup luksFormat --type luks2 --batch-mode --uuid %s %s '
            '--key-file /tmp/p %s\n'
            'cryptsetup open --key-file /tmp/p %s root\n'
            'dd if=/dev/vdb of=/dev/mapper/root bs=1M 2>/dev/null\n'
            'sync\ncryptsetup close root\n'
            % (PASS, LUKS_UUID, ' '.join(guest.FAST_KDF), dev, dev))


RAID_SCRIPT = ('mdadm --create /dev/md0 --run --assume-clean --level=1 '
               '--raid-devices=2 --metadata=1.2 /dev/vda2 /dev/vda3\n')


def mdadm_conf(work, text):
    m = re.search(r'^ARRAY /dev/\S+ .*UUID=\S+', text, re.M)
    check(m, 'the guest printed no ARRAY line')
    conf = work('mdadm.conf')
    harness.write(conf, 'DEVICE partitions\n' + m.group(0).strip() + '\n')
    return conf


def type_passphrase(c, passphrase):
    c.expect(r'Enter passphrase for /dev/\S+:', 90)
    time.sleep(0.3)
    c.send(passphrase)


def partition_bytes(img, n):
    _, parts = harness.partitions(img)
    off, size = parts[n - 1]
    with open(img, 'rb') as f:
        f.seek(off)
        return f.read(size)


@test
def qemu_luks_root_wrong_then_right_passphrase(work):
    img = disk(work, [40])
    guest.run(work, luks_script('/dev/vda2'), [img, work('root.ext4')])
    harness.write(work('crypttab'), '# test\nroot UUID=%s none luks,tries=3\n'
                  % LUKS_UUID)
    expect(provision(img, '/dev/mapper/root', '--with', 'luks',
                     '--crypttab', work('crypttab')), 0,
           'made at boot by the luks feature', 'features   luks')
    with qemu(work, img) as c:
        c.expect(r'Run /sbin/earlyfs-init as init process', 60)
        c.expect(r'earlyfs: unlocking root \(UUID=%s\)' % LUKS_UUID)
        type_passphrase(c, WRONG)
        c.expect(r'No key available with this passphrase')
        type_passphrase(c, PASS)
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/mapper/root', out),
          'root not mounted from /dev/mapper/root')
    check(re.search(r'REPORT fragment 42-luks ok 0', out), '42-luks not ok')
    for secret in (PASS, WRONG):
        check(secret not in out, 'a passphrase shows on the console')
        check(secret.encode() not in partition_bytes(img, 1),
              'a passphrase is on the boot partition')
    # the key file rule: refused with the reason, nothing written
    harness.write(work('keyed'), 'root UUID=%s /etc/root.key luks\n'
                  % LUKS_UUID)
    before = tree_digest(work, img)
    expect(run('feature', 'add', 'luks', '--crypttab', work('keyed'),
               '--target', img, '--partition', 1), 3,
           'is not encrypted', 'nothing written')
    # the same file spelled as a device: /dev/.. is the partition's root
    harness.write(work('dotted'), 'root UUID=%s /dev/../etc/root.key luks\n'
                  % LUKS_UUID)
    expect(run('feature', 'add', 'luks', '--crypttab', work('dotted'),
               '--target', img, '--partition', 1), 3,
           "no '.', '..' or '//'", 'nothing written')
    expect(run('feature', 'rm', 'luks', '--target', img, '--partition', 1),
           3, 'the root /dev/mapper/root is a LUKS volume')
    check(tree_digest(work, img) == before, 'a refusal wrote')


@test
def qemu_raid1_root_whole_then_degraded(work):
    img = disk(work, [20, 20])
    out = guest.run(work, RAID_SCRIPT +
                    'dd if=/dev/vdb of=/dev/md0 bs=1M 2>/dev/null\nsync\n'
                    'mdadm --detail --scan\nmdadm --stop /dev/md0\n',
                    [img, work('root.ext4')])
    conf = mdadm_conf(work, out)
    expect(provision(img, '/dev/md0', '--with', 'mdraid', '--mdadm-conf',
                     conf), 0, 'made at boot by the mdraid feature')
    with qemu(work, img) as c:
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/md0', out),
          'root not mounted from /dev/md0')
    check('degraded' not in out, 'a whole array reported degraded')
    # one member gone: its superblock (and more) zeroed
    _, parts = harness.partitions(img)
    off, _ = parts[2]
    with open(img, 'r+b') as f:
        f.seek(off)
        f.write(bytes(2 << 20))
    work.name += '-degraded'
    with qemu(work, img) as c:
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT note 20-mdraid md0 is degraded: 1 of 2 '
                    r'devices missing', out), 'degraded array not reported')


@test
def qemu_luks_on_raid1_root(work):
    img = disk(work, [40, 40])
    out = guest.run(work, RAID_SCRIPT + luks_script('/dev/md0') +
                    'mdadm --detail --scan\nmdadm --stop /dev/md0\n',
                    [img, work('root.ext4')])
    conf = mdadm_conf(work, out)
    harness.write(work('crypttab'), 'root /dev/md0 none\n')
    expect(provision(img, '/dev/mapper/root', '--with', 'mdraid,luks',
                     '--mdadm-conf', conf, '--crypttab', work('crypttab')),
           0)
    with qemu(work, img) as c:
        type_passphrase(c, PASS)
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT fragment 20-mdraid ok 0', out), '20-mdraid')
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/mapper/root', out),
          'root not mounted from /dev/mapper/root')


@test
def qemu_raid1_on_luks_with_mdadm_conf_from_the_host(work):
    """RAID1 built on two LUKS volumes; etc/mdadm.conf made by 'feature
    add mdraid' from the arrays of the machine it runs on (the image guest,
    which has the array assembled): two passphrases, then the array."""
    img = disk(work, [40, 40])
    uuids = (LUKS_UUID, LUKS_UUID[:-1] + '3')
    harness.write(work('crypttab'), ''.join(
        'm%d UUID=%s none\n' % (i, u) for i, u in enumerate(uuids)))
    # no such array here: refused before anything is written
    before = partition_bytes(img, 1)
    expect(provision(img, '/dev/md0', '--with', 'mdraid,luks',
                     '--crypttab', work('crypttab')), 2,
           'the root needs the array /dev/md0', '--mdadm-conf FILE')
    check(partition_bytes(img, 1) == before, 'the refusal wrote')
    expect(provision(img, '/dev/md0', '--with', 'luks', '--crypttab',
                     work('crypttab'), '--force'), 0)
    script = 'printf %%s "%s" > /tmp/p\n' % PASS
    for i, (dev, u) in enumerate(zip(('/dev/vda2', '/dev/vda3'), uuids)):
        script += ('cryptsetup luksFormat --type luks2 --batch-mode --uuid '
                   '%s %s --key-file /tmp/p %s\n'
                   'cryptsetup open --key-file /tmp/p %s m%d\n'
                   % (u, ' '.join(guest.FAST_KDF), dev, dev, i))
    script += ('mdadm --create /dev/md0 --run --assume-clean --level=1 '
               '--raid-devices=2 --metadata=1.2 /dev/mapper/m0 '
               '/dev/mapper/m1\n'
               'dd if=/dev/vdb of=/dev/md0 bs=1M 2>/dev/null\n'
               'mkdir /b\nmount /dev/vda1 /b\n'
               'earlyfs feature add mdraid --boot /b\n'
               'echo "CONF<<$(cat /b/etc/mdadm.conf)>>"\n'
               'umount /b\nmdadm --stop /dev/md0\n'
               'cryptsetup close m0\ncryptsetup close m1\n')
    out = guest.run(work, script, [img, work('root.ext4')], earlyfs=True)
    conf = re.search(r'CONF<<(.*?)>>', out, re.S)
    check(conf, 'no mdadm.conf written:\n' + out[-2000:])
    check(re.search(r'^ARRAY /dev/md0 metadata=1.2 UUID=[0-9a-f:]{35}'
                    r'.* devices=/dev/mapper/m[01],/dev/mapper/m[01]$',
                    conf.group(1), re.M), 'mdadm.conf: ' + conf.group(1))
    # such a line written by hand without the DEVICE line: refused
    harness.write(work('bad.conf'), re.sub(r'(?m)^DEVICE.*\n', '',
                                           conf.group(1).replace('\r', '')))
    before = tree_digest(work, img)
    expect(run('feature', 'add', 'mdraid', '--mdadm-conf', work('bad.conf'),
               '--target', img, '--partition', 1), 3,
           "add 'DEVICE partitions containers /dev/mapper/*'",
           'nothing written')
    check(tree_digest(work, img) == before, 'the refusal wrote')
    with qemu(work, img) as c:
        for _ in uuids:
            type_passphrase(c, PASS)
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT fragment 20-mdraid ok 0', out), '20-mdraid')
    check(re.search(r'REPORT fragment 42-luks ok 0', out), '42-luks')
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/md0', out),
          'root not mounted from /dev/md0')


def debugfs(img, *requests):
    with partition_attached(img, 2) as loop:
        for r in requests:
            subprocess.run(['debugfs', '-w', '-R', r, loop], check=True,
                           capture_output=True)


@test
def qemu_fsck_fixes_errors_or_stops_in_rescue(work):
    from tests.cli.clilib import image, partuuid
    img = image(work)
    root = 'PARTUUID=' + partuuid(img, 2)
    expect(run('provision', img, '--partition', 1, '--root', root,
               '--kernel', harness.kernel_image(), '--menu-timeout', '1',
               '--append', 'panic=1 earlyfs.fsck=1', '--with', 'fsck'), 0)
    # a wrong link count, and the file system marked not clean
    debugfs(img, 'sif /etc/root-marker links_count 5', 'ssv state 0')
    with qemu(work, img) as c:
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT note 45-fsck e2fsck fixed errors on /dev/vda2',
                    out), 'the fix is not in the report')
    # the root directory's inode cleared: e2fsck -p cannot fix that
    debugfs(img, 'clri <2>', 'ssv state 0')
    work.name += '-unfixable'
    with qemu(work, img) as c:
        c.expect(r'UNEXPECTED INCONSISTENCY', 90)
        c.expect(r'fragment 45-fsck failed: exit status 4')
        c.expect(r"type 'exit' to continue the boot")
        c.send('echo "RESCUE-$((6*7))"')
        c.expect(r'RESCUE-42')
        c.send('poweroff -f')
        c.wait_exit()
        c.assert_no_panic()
        check('REALINIT' not in c.text(), 'booted past an unfixed root')


@test
def qemu_pause_waits_for_enter(work):
    from tests.cli.clilib import image, partuuid
    img = image(work)
    expect(provision(img, 'PARTUUID=' + partuuid(img, 2), '--with',
                     'pause'), 0)
    with qemu(work, img) as c:
        c.expect(r'paused before the root is mounted; press Enter', 60)
        time.sleep(3)
        check('REALINIT' not in c.text(), 'the boot did not wait')
        c.send('')
        harness.reached_real_root(c)
        check(re.search(r'REPORT fragment 49-pause ok 0', c.text()),
              '49-pause not in the report')


@test
def feature_rm_removes_only_what_the_host_closure_names(work):
    """feature rm drops its binaries' files, found from the host's closure:
    a manifest line naming another file of the partition (the manifest is
    data) removes nothing; the refusal to remove an absent feature writes
    nothing."""
    from tests.cli.clilib import image, partuuid
    img = image(work)
    expect(provision(img, 'PARTUUID=' + partuuid(img, 2), '--with', 'fsck'),
           0)
    t = ('--target', img, '--partition', 1)
    with harness.partition_mounted(img, 1, work('m')) as m:
        check(os.path.exists(os.path.join(m, 'usr/sbin/e2fsck')) or
              os.path.exists(os.path.join(m, 'sbin/e2fsck')), 'no e2fsck')
        with open(os.path.join(m, 'etc/earlyfs.installed'), 'a') as f:
            f.write('file /etc/earlyfs.conf 1 1\nlink /sbin/earlyfs-init x\n')
    expect(run('feature', 'rm', 'pause', *t), 2, 'not installed')
    expect(run('feature', 'rm', 'fsck', *t), 0, 'no longer needed')
    with harness.partition_mounted(img, 1, work('m')) as m:
        for keep in ('etc/earlyfs.conf', 'sbin/earlyfs-init', 'bin/busybox'):
            check(os.path.exists(os.path.join(m, keep)), '%s removed' % keep)
        for gone in ('usr/sbin/e2fsck', 'sbin/e2fsck', 'init.d/45-fsck'):
            check(not os.path.exists(os.path.join(m, gone)),
                  '%s left' % gone)
        check('fsck' not in open(os.path.join(m, 'etc/earlyfs.features'))
              .read().split(), 'still listed')
    expect(run('check', *t), 0, '0 problems')
