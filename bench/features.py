"""make bench, part 4 (issue 11): the boot partition space each feature
takes (binaries, libraries, fragments), and the early stage of boots with
the root on LUKS2 and on RAID1 (the images of tests/cli/test_features.py),
medians of BENCH_RUNS_FEATURES (5) under TCG.  The LUKS figure leaves out
42-luks itself, whose time is mostly the typing."""
import os, re, socket, statistics, subprocess
from tests import guest, harness
from tests.cli import test_features as T
from tests.cli import test_network as N
from tests.cli.clilib import image, partuuid, run

RUNS = int(os.environ.get('BENCH_RUNS_FEATURES', '5'))


def used_kib(img):
    out = run('status', img, '--partition', 1).out
    free, total = map(int, re.search(r'free:\s+(\d+) KiB of (\d+) KiB',
                                     out).groups())
    return total - free


def space(work):
    img = image(work)
    root = 'PARTUUID=' + partuuid(img, 2)
    T.expect(T.provision(img, root), 0)
    base = used_kib(img)
    harness.write(work('crypttab'), 'root /dev/vda2 none\n')
    harness.write(work('mdadm.conf'), 'ARRAY /dev/md0 UUID=0:0:0:0\n')
    key = N.client_key(work)
    conf = {'luks': ['--crypttab', work('crypttab')],
            'mdraid': ['--mdadm-conf', work('mdadm.conf')],
            'ssh': ['--authorized-keys', key + '.pub']}
    t = ('--target', img, '--partition', 1, '--force')
    sizes = {}
    for f in ('luks', 'mdraid', 'fsck', 'pause', 'network', 'ssh'):
        T.expect(run('feature', 'add', f, *t, *conf.get(f, [])), 0)
        sizes[f] = used_kib(img) - base
        T.expect(run('feature', 'rm', f, *(['network'] if f == 'ssh'
                                           else []), *t), 0)
    # together: the C library and other shared files count once
    for name, fs, group in (
            ('luks,mdraid,fsck', 'luks,mdraid,fsck', ('luks', 'mdraid')),
            ('all', 'luks,mdraid,fsck,pause,network,ssh',
             ('luks', 'mdraid', 'ssh'))):
        T.expect(run('feature', 'add', fs, *t,
                     *sum((conf[g] for g in group), [])), 0)
        sizes[name] = used_kib(img) - base
        T.expect(run('feature', 'rm', fs, *t), 0)
    return sizes


def report(text):
    rep = dict(re.findall(r'^REPORT (start_ms|total_ms) (\d+)', text, re.M))
    frags = dict(re.findall(r'^REPORT fragment (\S+) \S+ \S+ \d+ (\d+)',
                            text, re.M))
    return int(rep['total_ms']), {k: int(v) for k, v in frags.items()}


def boots(work, img, passphrase):
    totals, without = [], []
    for i in range(RUNS):
        with harness.qemu(work, img) as c:
            if passphrase:
                T.type_passphrase(c, passphrase)
            harness.reached_real_root(c)
            total, frags = report(c.text())
        totals.append(total)
        without.append(total - frags.get('42-luks', 0))
    return statistics.median(totals), statistics.median(without)


def main():
    work = harness.Workdir('bench-features')
    sizes = space(work)
    every, three = sizes.pop('all'), sizes.pop('luks,mdraid,fsck')
    print('feature space on the boot partition (KiB, each alone, its C '
          'library included, ext4 blocks counted; ssh includes network): ' +
          ', '.join('%s %d' % kv for kv in sizes.items()) +
          '; luks+mdraid+fsck together %d KiB = %.2f MiB (target < 8 MiB); '
          'all six %d KiB = %.2f MiB' % (three, three / 1024, every,
                                         every / 1024))
    w = harness.Workdir('bench-luks')
    img = T.disk(w, [40])
    guest.run(w, T.luks_script('/dev/vda2'), [img, w('root.ext4')])
    harness.write(w('crypttab'), 'root UUID=%s none\n' % T.LUKS_UUID)
    T.expect(T.provision(img, '/dev/mapper/root', '--with', 'luks',
                         '--crypttab', w('crypttab')), 0)
    luks = boots(w, img, T.PASS)
    w2 = harness.Workdir('bench-raid')
    img2 = T.disk(w2, [20, 20])
    out = guest.run(w2, T.RAID_SCRIPT + 'dd if=/dev/vdb of=/dev/md0 bs=1M '
                    '2>/dev/null\nsync\nmdadm --detail --scan\n'
                    'mdadm --stop /dev/md0\n', [img2, w2('root.ext4')])
    T.expect(T.provision(img2, '/dev/md0', '--with', 'mdraid',
                         '--mdadm-conf', T.mdadm_conf(w2, out)), 0)
    raid = boots(w2, img2, None)
    print('early stage (report total_ms), TCG, medians of %d: LUKS2 root '
          '%.0f ms (%.0f ms without 42-luks, which waits for the typing); '
          'RAID1 root %.0f ms' % (RUNS, luks[0], luks[1], raid[0]))
    w3 = harness.Workdir('bench-ssh')
    img3 = image(w3)
    key = N.client_key(w3)
    T.expect(run('provision', img3, '--partition', 1, '--root',
                 'PARTUUID=' + partuuid(img3, 2), '--kernel',
                 harness.kernel_image(), '--menu-timeout', '1', '--append',
                 'panic=1', '--with', 'network,ssh,pause', '--authorized-keys',
                 key + '.pub'), 0)
    totals, ready = [], []
    for i in range(RUNS):
        port = N.free_port()
        with harness.qemu(w3, img3, extra=N.netdev(port)) as c:
            # held at the pause: the port answers from the host with
            # dropbear's banner, then earlyfs-continue over SSH ends it
            c.expect(r'paused before the root is mounted', 90)
            with socket.create_connection(('127.0.0.1', port), 30) as s:
                s.settimeout(30)
                banner = s.recv(64)
            T.check(banner.startswith(b'SSH-2.0-dropbear'),
                    'no SSH banner: %r' % banner)
            p = N.ssh_run(w3, port, key, 'earlyfs-continue')
            T.check(p.returncode == 0, 'earlyfs-continue: %r' % p.stderr)
            harness.reached_real_root(c)
            text = c.text()
        start = int(re.search(r'^REPORT start_ms (\d+)', text, re.M).group(1))
        s0, d0 = map(int, re.search(r'^REPORT fragment 35-ssh ok 0 (\d+) '
                                    r'(\d+)', text, re.M).groups())
        total, frags = report(text)
        totals.append(total - frags['49-pause'])
        ready.append(s0 + d0 - start)
    print('network + ssh boot (DHCP, dropbear; held by a pause that '
          'earlyfs-continue ends over SSH), TCG, medians of %d: early stage '
          'without the pause %.0f ms; runner start to the SSH port listening '
          '%.0f ms' % (RUNS, statistics.median(totals),
                       statistics.median(ready)))
    for x in (work, w, w2, w3):
        x.cleanup()


if __name__ == '__main__':
    main()
