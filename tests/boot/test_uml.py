"""Runner behaviour under user-mode-linux: boot image as ubda, root as ubdb."""
import re
import subprocess
from tests.harness import (BootFailure, boot_tree, check, mkfs,
                           reached_real_root, root_tree, test, uml)

ROOT_UUID = '0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e'


def images(work, fragments=None, shipped=True, shell=True, root=True,
           label='', extra_init=''):
    boot_tree(work('boot'), fragments, shipped=shipped, shell=shell)
    mkfs(work('boot'), work('boot.img'), 16)
    if not root:
        return work('boot.img'), None
    root_tree(work('root'), extra=extra_init)
    mkfs(work('root'), work('root.img'), 16, label=label, uuid=ROOT_UUID)
    return work('boot.img'), work('root.img')


@test
def uml_fragments_run_once_in_order_and_pass_state(work):
    frags = {
        '10-first': 'echo "FRAG 10"\necho "STATE=from-10" >> "$EARLYFS_ENV"\n',
        '20-second.sh': 'echo "FRAG 20 STATE=$STATE"\n',
        '30-exec': ('#!/bin/sh\necho "FRAG 30 exec STATE=$STATE"\n', 0o755),
        '05-early': 'echo "FRAG 05"\n',
        'README': 'echo SHOULD-NOT-RUN README\n',
        '.40-hidden': 'echo SHOULD-NOT-RUN hidden\n',
        '41-backup~': 'echo SHOULD-NOT-RUN backup\n',
        '42-off.disabled': 'echo SHOULD-NOT-RUN disabled\n',
        '43-pkg.dpkg-old': 'echo SHOULD-NOT-RUN dpkg\n',
        '4-short': 'echo SHOULD-NOT-RUN badname\n',
    }
    boot, root = images(work, frags)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb') as c:
        reached_real_root(c)
        out = c.text()
    seq = re.findall(r'^FRAG (\d\d)', out, re.M)
    check(seq == ['05', '10', '20', '30'], 'order/once: %r' % seq)
    check('FRAG 20 STATE=from-10' in out, 'state not passed to 20')
    check('FRAG 30 exec STATE=from-10' in out, 'state not passed to 30')
    check('SHOULD-NOT-RUN' not in out, 'an ignored file ran')
    check('4-short: not a fragment name' in out, 'bad name not reported')
    for name in ('05-early', '10-first', '20-second.sh', '50-mountroot'):
        check(re.search(r'REPORT fragment %s ok 0 \d+ \d+' % name, out),
              'report lacks %s' % name)
    check('DEV-MOVED' in out, '/dev was not moved into the real root')


@test
def uml_failing_fragment_opens_shell_and_exit_continues(work):
    frags = {'20-fail': 'echo "about to fail"\nexit 3\n',
             '30-after': 'echo "FRAG 30 ran"\n'}
    boot, root = images(work, frags)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb') as c:
        c.expect(r'fragment 20-fail failed: exit status 3')
        c.expect(r"type 'exit' to continue the boot")
        c.send('echo "IN-RESCUE-SHELL $EARLYFS_FRAGMENT"')
        c.expect(r'IN-RESCUE-SHELL 20-fail')
        c.send('exit')
        c.expect(r'FRAG 30 ran')
        reached_real_root(c)
        check(re.search(r'REPORT fragment 20-fail failed 3 ', c.text()),
              'report lacks the failure')


@test
def uml_signal_is_reported(work):
    frags = {'20-killed': 'kill -SEGV $$\n',
             '21-optional': '# earlyfs: optional\nexit 1\n'}
    boot, root = images(work, frags)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb') as c:
        c.expect(r'fragment 20-killed failed: killed by signal 11')
        c.send('exit')
        c.expect(r'21-optional: exit status 1 after \d+ ms; optional, '
                 r'continuing')
        reached_real_root(c)


@test
def uml_hanging_fragment_is_killed_at_its_timeout(work):
    frags = {
        '20-hang': '# earlyfs: optional timeout=2\necho HANG-START\n'
                   'sleep 1000 &\nsleep 1000\n',
        '30-hang-cmdline': 'echo HANG2-START\nsleep 1000\n',
        '40-after': 'echo "FRAG 40 ran"\n',
    }
    boot, root = images(work, frags)
    with uml(work, boot, root,
             'earlyfs.root=/dev/ubdb earlyfs.timeout=30:1') as c:
        c.expect(r'HANG-START')
        c.expect(r'20-hang: still running after 2 s, killing it')
        c.expect(r'20-hang: timed out after 2 s and was killed after '
                 r'(\d+) ms; optional, continuing')
        c.expect(r'30-hang-cmdline: still running after 1 s')
        c.expect(r'fragment 30-hang-cmdline failed: timed out after 1 s')
        c.send('exit')
        c.expect(r'FRAG 40 ran')
        reached_real_root(c)
        out = c.text()
    m = re.search(r'REPORT fragment 20-hang timeout 2 \d+ (\d+)', out)
    check(m and 2000 <= int(m.group(1)) < 4500, 'duration: %r' % (m and m.group(0)))


@test
def uml_break_and_skip(work):
    frags = {'10-a': 'echo "FRAG 10"\n', '20-b': 'echo "FRAG 20"\n',
             '30-c': 'echo "FRAG 30"\n'}
    boot, root = images(work, frags)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb earlyfs.break=20,pivot '
             'earlyfs.skip=30') as c:
        c.expect(r'FRAG 10')
        c.expect(r'rescue shell: break before 20-b \(earlyfs.break\)')
        check('FRAG 20' not in c.text(), '20 ran before the break')
        c.send('echo "SHELL-AT-BREAK"')
        c.expect(r'SHELL-AT-BREAK')
        c.send('exit')
        c.expect(r'FRAG 20')
        c.expect(r'30-c: skipped \(earlyfs.skip\)')
        c.expect(r'rescue shell: break before the pivot')
        c.send('mountpoint /mnt && echo "ROOT-MOUNTED-AT-BREAK"')
        c.expect(r'ROOT-MOUNTED-AT-BREAK')
        c.send('exit')
        reached_real_root(c)
        check('FRAG 30' not in c.text(), 'skipped fragment ran')
        check(re.search(r'REPORT fragment 30-c skipped', c.text()),
              'skip not in report')


@test
def uml_root_by_uuid_and_label(work):
    # no shipped 50-mountroot: the runner mounts the root itself
    boot, root = images(work, label='realroot', shipped=False)
    with uml(work, boot, root, 'earlyfs.root=UUID=%s' % ROOT_UUID.upper()) as c:
        reached_real_root(c)
        check(re.search(r'REPORT root runner \d+ ext4 /dev/ubdb', c.text()),
              'root line')
    with uml(work, boot, root, 'earlyfs.root=LABEL=realroot rw earlyfs.debug') as c:
        c.expect(r'earlyfs: \[\d+ ms\] mounted root /dev/ubdb \(ext4, rw\)')
        reached_real_root(c)
        check(re.search(r'REPORT root runner \d+ ext4 /dev/ubdb', c.text()),
              'root line')


@test
def uml_wrong_root_gives_message_and_shell_never_panic(work):
    boot, root = images(work)
    with uml(work, boot, root, 'earlyfs.root=UUID=deadbeef-0000-4000-8000-'
             '000000000000 earlyfs.rootwait=2') as c:
        c.expect(r'waiting up to 2 s for root device UUID=deadbeef')
        c.expect(r'root device UUID=deadbeef-0000-4000-8000-000000000000 did '
                 r'not appear within 2 s \(earlyfs.rootwait\); block '
                 r'devices: .*ubdb')
        c.expect(r'fragment 50-mountroot failed: exit status 1')
        c.send('echo "SHELL-AFTER-ROOTWAIT"')
        c.expect(r'SHELL-AFTER-ROOTWAIT')
        c.send('exit')
        # the runner tries once more, then a shell again: mount by hand
        c.expect(r'the real root is not mounted; mount it on /mnt')
        c.send('mount -o ro /dev/ubdb /mnt; exit')
        reached_real_root(c)
        check(re.search(r'REPORT root fragment \d+ ext4 /dev/ubdb', c.text()),
              'hand-mounted root not described')


@test
def uml_missing_real_init_gives_shell(work):
    boot, root = images(work)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb '
             'earlyfs.init=/sbin/not-there') as c:
        c.expect(r'the real init /sbin/not-there is missing or not executable '
                 r'in the real root \(/dev/ubdb\): No such file or directory')
        c.expect(r"type 'exit' to continue")
        c.send('echo "SHELL-NO-INIT"')
        c.expect(r'SHELL-NO-INIT')
        c.send('poweroff -f')
        c.wait_exit()
        c.assert_no_panic()


@test
def uml_no_shell_waits_instead_of_panic(work):
    boot, root = images(work, shell=False, shipped=False)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb '
             'earlyfs.init=/sbin/not-there') as c:
        c.expect(r'no shell at /bin/sh')
        c.expect(r'the boot stops here')
        try:
            c.expect(r'Kernel panic', timeout=3)
        except BootFailure:
            pass
        check(c.proc.poll() is None, 'the guest ended')
        c.assert_no_panic()


@test
def uml_orphans_and_background_children_are_reaped(work):
    frags = {
        '10-spawn': 'sleep 1 &\n(sleep 1 &)\nsh -c "sleep 1 & exit 0"\n'
                    'echo "SPAWNED"\n',
        '20-check': 'sleep 3\necho "FRAG-ZOMBIES=$(grep -l \'^State:.*Z\' '
                    '/proc/[0-9]*/status 2>/dev/null | wc -l)"\n',
    }
    boot, root = images(work, frags)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb') as c:
        c.expect(r'SPAWNED')
        c.expect(r'FRAG-ZOMBIES=0\b')
        reached_real_root(c)
        check(re.search(r'^ZOMBIES=0\b', c.text(), re.M), 'zombies after pivot')


@test
def uml_shell_never_continues_past_failure(work):
    frags = {'20-fail': 'exit 4\n', '30-after': 'echo "FRAG 30 ran"\n'}
    boot, root = images(work, frags)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb earlyfs.shell=never') as c:
        c.expect(r'fragment 20-fail failed: exit status 4')
        c.expect(r'earlyfs.shell=never: continuing the boot')
        c.expect(r'FRAG 30 ran')
        reached_real_root(c)


@test
def uml_bad_command_line_values_are_named_and_defaults_kept(work):
    boot, root = images(work)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb earlyfs.rootwait=soon '
             'earlyfs.shell=maybe earlyfs.colour=blue') as c:
        c.expect(r'earlyfs.rootwait=soon: not a number of seconds')
        c.expect(r'earlyfs.shell=maybe: takes on-failure, never or reboot')
        c.expect(r'earlyfs.colour=blue: unknown key')
        reached_real_root(c)


def generation_images(work, more=None):
    """Current fragments and fstab, and generation 3's, which differ (and
    what more(boot tree) adds)."""
    # the /proc mounts each saw: one, with the options of its fstab (the
    # runner keeps the /proc it read the command line from only when the
    # fstab asks for that very mount)
    procs = ('echo "PROCS $(grep -c \' /proc \' /proc/self/mountinfo) '
             '$(grep \' /proc \' /proc/self/mountinfo | grep -o '
             'hidepid=[a-z0-9]*)"\n')
    frags = {'10-which': 'echo "FRAG current"\n' + procs}
    boot_tree(work('boot'), frags)
    from tests.harness import write
    g = work('boot') + '/generations/3'
    write(g + '/init.d/10-which', 'echo "FRAG generation-3 $(cat /run/gen3/'
          'mark 2>/dev/null || echo no-fstab)"\n' + procs)
    write(g + '/init.d/50-mountroot', '/sbin/earlyfs-init mount-root\n')
    with open(work('boot') + '/etc/fstab') as f:
        fstab = f.read()
    check('/proc\tproc\tnodev,noexec,nosuid\t' in fstab, fstab)
    fstab = fstab.replace('/proc\tproc\tnodev,noexec,nosuid\t',
                          '/proc\tproc\tnodev,noexec,nosuid,hidepid=2\t')
    write(g + '/etc/fstab', fstab + 'tmpfs /run/gen3 tmpfs mode=0755 0 0\n')
    write(g + '/init.d/05-mark', 'echo gen3-fstab > /run/gen3/mark\n')
    if more:
        more(work('boot'))
    mkfs(work('boot'), work('boot.img'), 16)
    root_tree(work('root'))
    mkfs(work('root'), work('root.img'), 16, uuid=ROOT_UUID)
    return work('boot.img'), work('root.img')


@test
def uml_generation_runs_that_generations_fragments_and_fstab(work):
    boot, root = generation_images(work)
    with uml(work, boot, root,
             'earlyfs.root=/dev/ubdb earlyfs.generation=3') as c:
        reached_real_root(c)
        out = c.text()
    check('FRAG generation-3 gen3-fstab' in out,
          "generation 3's fragments or fstab did not run")
    check('FRAG current' not in out, 'the current fragments ran too')
    check(re.search(r'PROCS 1 hidepid=(2|invisible)\r?$', out, re.M),
          "/proc is not generation 3's alone: " +
          str(re.findall(r'PROCS.*', out)))
    check(re.search(r'REPORT generation 3\r?$', out, re.M),
          'the report does not name generation 3')
    check(re.search(r'REPORT fragment 05-mark ok', out), 'report: 05-mark')


@test
def uml_previous_generation_is_found_by_the_runner(work):
    """earlyfs.generation=previous: the newest valid, applied generation
    older than the newest (3: 4 was forced past problems, 5 is the
    newest), found at boot, so that a loader's entry need not change
    with every edit."""
    from tests.harness import write

    def more(boot):
        write(boot + '/generations/3/applied', '')
        write(boot + '/generations/3/info', 'valid=1\ndescription=x\n')
        for n, valid in ((4, 0), (5, 1)):
            g = '%s/generations/%d' % (boot, n)
            write(g + '/init.d/10-which', 'echo "FRAG generation-%d"\n' % n)
            write(g + '/init.d/50-mountroot',
                  '/sbin/earlyfs-init mount-root\n')
            write(g + '/applied', '')
            write(g + '/info', 'valid=%d\ndescription=x\n' % valid)
    boot, root = generation_images(work, more)
    with uml(work, boot, root,
             'earlyfs.root=/dev/ubdb earlyfs.generation=previous') as c:
        reached_real_root(c)
        out = c.text()
    check('earlyfs.generation=previous: running generation 3' in out,
          'previous is not generation 3')
    check('FRAG generation-3 gen3-fstab' in out, 'generation 3 did not run')
    for other in ('FRAG current', 'FRAG generation-4', 'FRAG generation-5'):
        check(other not in out, other + ' ran')
    check(re.search(r'REPORT generation 3\r?$', out, re.M),
          'the report does not name generation 3')


@test
def uml_missing_generation_is_named_and_current_fragments_run(work):
    boot, root = generation_images(work)
    with uml(work, boot, root,
             'earlyfs.root=/dev/ubdb earlyfs.generation=9') as c:
        reached_real_root(c)
        out = c.text()
    check('earlyfs.generation=9: /generations/9/init.d is missing' in out,
          'the missing generation is not named')
    check('FRAG current' in out, 'the current fragments did not run')
    check('FRAG generation-3' not in out, 'generation 3 ran')
    check(re.search(r'REPORT generation 0\r?$', out, re.M), 'report generation')
    check(re.search(r'PROCS 1 \r?$', out, re.M), 'the shipped fstab\'s /proc: '
          + str(re.findall(r'PROCS.*', out)))


@test
def uml_unapplied_generation_runs_instead_of_a_half_applied_tree(work):
    """A change killed after its commit point, mid-apply: the live init.d
    holds the old and the new name of a renamed fragment.  The runner runs
    the recorded generation (complete) and the report names it; once it is
    marked applied, the live tree runs again."""
    boot, root = generation_images(work)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb') as c:
        reached_real_root(c)
        out = c.text()
    check('generation 3 was recorded but not applied' in out,
          'the unfinished apply is not named')
    check('FRAG generation-3 gen3-fstab' in out, 'generation 3 did not run')
    check('FRAG current' not in out, 'the half-applied live tree ran')
    check(re.search(r'REPORT generation 3\r?$', out, re.M),
          'the report does not name generation 3')
    subprocess.run(['debugfs', '-w', '-R', 'write /dev/null '
                    'generations/3/applied', boot], check=True,
                   capture_output=True)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb') as c:
        reached_real_root(c)
        out = c.text()
    check('FRAG current' in out and 'FRAG generation-3' not in out,
          'an applied generation ran instead of the live tree')
    check(re.search(r'REPORT generation 0\r?$', out, re.M),
          'report generation')


@test
def uml_pause_on_the_command_line_waits_once(work):
    """earlyfs.pause with no pause feature: the runner waits for Enter
    once, before 50-mountroot, and a fragment that paused (EARLYFS_PAUSED)
    makes it not wait again."""
    frags = {'10-a': 'echo "FRAG 10"\n', '60-b': 'echo "FRAG 60"\n'}
    boot, root = images(work, frags)
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb earlyfs.pause') as c:
        c.expect(r'FRAG 10')
        c.expect(r'paused before the root is mounted; press Enter')
        import time
        time.sleep(2)
        check('FRAG 60' not in c.text(), 'did not wait')
        c.send('')
        c.expect(r'continuing after the pause')
        c.expect(r'FRAG 60')
        reached_real_root(c)
    check(len(re.findall(r'paused before the root', c.text())) == 1,
          'paused more than once')


@test
def uml_boot_partition_stays_where_earlyfs_boot_says(work):
    """earlyfs.boot=/earlyfs (a machine that keeps its own /boot): the
    partition is at /earlyfs after the pivot and the real root's /boot is
    its own; a root (read-only) without /earlyfs still boots, saying so;
    a bad value is named and /boot kept."""
    boot, root = images(work, extra_init=(
        '[ -x /earlyfs/sbin/earlyfs-init ] && echo "BOOT-AT-EARLYFS"\n'
        '[ -e /boot/own-boot ] && echo "OWN-BOOT-KEPT"\n'))
    subprocess.run(['debugfs', '-w', '-R', 'write /dev/null boot/own-boot',
                    root], check=True, capture_output=True)
    args = 'earlyfs.root=/dev/ubdb earlyfs.boot=/earlyfs'
    with uml(work, boot, root, args) as c:
        c.expect(r'the real root has no /earlyfs and it cannot be made', 60)
        c.expect(r'REALINIT-DONE', 60)
        c.wait_exit()
        c.assert_no_panic()
        out = c.text()
    check('REPORT pivot ok' in out and 'BOOT-AT' not in out, out[-2000:])
    subprocess.run(['debugfs', '-w', '-R', 'mkdir earlyfs', root],
                   check=True, capture_output=True)
    work.name += '-made'
    with uml(work, boot, root, args) as c:
        c.expect(r'REALINIT pid=1 root=real-root', 60)
        c.expect(r'REALINIT-DONE')
        c.wait_exit()
        c.assert_no_panic()
        out = c.text()
    check('BOOT-AT-EARLYFS' in out and 'OWN-BOOT-KEPT' in out and
          'BOOT-AT-SLASH-BOOT' not in out and 'REPORT pivot ok' in out,
          'the partition is not at /earlyfs:\n' + out[-2000:])
    work.name += '-bad'
    with uml(work, boot, root, 'earlyfs.root=/dev/ubdb earlyfs.boot=../x'
             ) as c:
        reached_real_root(c)
        out = c.text()
    check('earlyfs.boot=../x' in out and 'using /boot' in out,
          'the bad value was not named:\n' + out[-2000:])
