"""make bench, part 4 (issue 11): the boot partition space each feature
takes (binaries, libraries, fragments), and the early stage of boots with
the root on LUKS2 and on RAID1 (the images of tests/cli/test_features.py),
medians of BENCH_RUNS_FEATURES (5) under TCG.  The LUKS figure leaves out
42-luks itself, whose time is mostly the typing."""
import os, re, statistics, subprocess
from tests import guest, harness
from tests.cli import test_features as T
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
    sizes = {}
    for f, extra in (('luks', ['--crypttab', work('crypttab')]),
                     ('mdraid', ['--mdadm-conf', work('mdadm.conf')]),
                     ('fsck', []), ('pause', [])):
        T.expect(run('feature', 'add', f, '--target', img, '--partition', 1,
                     '--force', *extra), 0)
        sizes[f] = used_kib(img) - base
        T.expect(run('feature', 'rm', f, '--target', img, '--partition', 1,
                     '--force'), 0)
    # together: the C library and other shared files count once
    T.expect(run('feature', 'add', 'luks,mdraid,fsck,pause', '--target', img,
                 '--partition', 1, '--force', '--crypttab', work('crypttab'),
                 '--mdadm-conf', work('mdadm.conf')), 0)
    sizes['all'] = used_kib(img) - base
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
    every = sizes.pop('all')
    print('feature space on the boot partition (KiB, each alone, its C '
          'library included, ext4 blocks counted): ' +
          ', '.join('%s %d' % kv for kv in sizes.items()) +
          '; all four together %d KiB = %.2f MiB (target < 8 MiB)' %
          (every, every / 1024))
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
    for x in (work, w, w2):
        x.cleanup()


if __name__ == '__main__':
    main()
