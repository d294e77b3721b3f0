"""Hardening (issue 10): nothing on a target runs, is followed or trusted;
nothing is left behind by a killed command; locks only root can take."""
import fcntl, hashlib, os, random, re, shutil, signal, stat, subprocess, time
from tests import harness
from tests.harness import test
from tests.cli.clilib import (EARLYFS, check, expect, image,
                              partition_mounted, provision, run, sha)
from tests.cli.test_edit import provisioned, tgt


def tree_state(path):
    """Every name, type, mode and content (or link target) under path."""
    out = []
    for top, dirs, files in os.walk(path):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(top, n)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                body = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                body = hashlib.sha256(open(p, 'rb').read()).hexdigest()
            else:
                body = ''
            out.append((os.path.relpath(p, path), oct(st.st_mode),
                        st.st_uid, body))
    st = os.lstat(path)
    return [('.', oct(st.st_mode), st.st_uid, '')] + out


def victim(work):
    """A host directory the partition's links point at."""
    v = work('victim')
    os.makedirs(v, exist_ok=True)
    os.chmod(v, 0o755)
    with open(os.path.join(v, 'secret'), 'w') as f:
        f.write('host data\n')
    os.chmod(os.path.join(v, 'secret'), 0o600)
    return v


def our_loops(img):
    return subprocess.run(['losetup', '-j', img], capture_output=True,
                          text=True).stdout.strip()


def our_mounts():
    with open('/proc/self/mountinfo') as f:
        return [line for line in f if '/earlyfs-' in line]


@test
def foreign_busybox_never_runs_on_the_host(work):
    """A partition whose bin/busybox is a script: no command runs it
    (check, add, show, fragments, rollback); the syntax check still works
    (the host's busybox), and the target is mounted nosuid,nodev,noexec."""
    img = provisioned(work)
    marker = work('ran')
    with partition_mounted(img, 1, work('m')) as m:
        bb = os.path.join(m, 'bin/busybox')
        os.unlink(bb)
        with open(bb, 'w') as f:
            f.write('#!/bin/sh\ntouch %s\nexit 0\n' % marker)
        os.chmod(bb, 0o755)
        with open(os.path.join(m, 'init.d/30-direct'), 'w') as f:
            f.write('echo direct\n')
    t = tgt(img)
    expect(run('check', *t), 0, '2 fragments')    # 30-direct checked too
    expect(run('add', '40-ok', '-', *t, input='echo ok\n'), 0, 'generation')
    p = run('add', '41-bad', '-', *t, input='if then\n')
    expect(p, 3, '41-bad', 'syntax error')
    expect(run('show', '40-ok', *t), 0, 'echo ok')
    expect(run('fragments', *t), 0, '40-ok')
    expect(run('rollback', *t), 0)
    check(not os.path.exists(marker), "the target's busybox ran on the host")
    # the editor runs where the command mounted the target: its options
    ed = work('editor.sh')
    with open(ed, 'w') as f:
        f.write('#!/bin/sh\ngrep " /tmp/earlyfs-edit" /proc/self/mountinfo'
                ' > %s\necho "echo edited" > "$1"\n' % work('mi'))
    os.chmod(ed, 0o755)
    env = dict(os.environ, EDITOR=ed, VISUAL=ed)
    p = subprocess.run([EARLYFS, 'edit', '40-ok'] + t, env=env,
                       capture_output=True, text=True)
    check(p.returncode == 0, 'edit: %s' % (p.stdout + p.stderr))
    mi = open(work('mi')).read()
    for opt in ('nosuid', 'nodev', 'noexec'):
        check(opt in mi.split(' - ')[0], 'target mounted without %s: %s'
              % (opt, mi))
    check(not os.path.exists(marker), "the target's busybox ran on the host")


def commands(t):
    """Every command that reads or writes the tree, with what it gets."""
    return [('check',), ('fragments',), ('show', '30-link'),
            ('add', '50-new', '-'), ('disable', '50-new'),
            ('mv', '50-new', '51-new'), ('rm', '51-new'), ('rollback',),
            ('generations',), ('once', 'rescue')]


@test
def links_out_of_the_partition_are_never_followed(work):
    """Links pointing at host files, per fragment, as init.d itself, as
    etc/earlyfs.conf, and under --boot DIR: after every command the host
    files are byte-identical, modes and owners included."""
    img = provisioned(work)
    v = victim(work)
    before = tree_state(v)
    t = tgt(img)
    # a fragment that is a link to a host file
    with partition_mounted(img, 1, work('m')) as m:
        os.symlink(os.path.join(v, 'secret'), os.path.join(m, 'init.d/30-link'))
    for c in commands(t):
        run(*(list(c) + t), input='echo new\n')
        check(tree_state(v) == before, '%s changed the host: %r'
              % (c[0], tree_state(v)))
    p = run('show', '30-link', *t)
    check(p.returncode != 0 and 'host data' not in p.out,
          'show followed the link: %s' % p.out)
    expect(run('check', *t), 1, '30-link: not a regular file')
    # a generation holds the link as a link
    with partition_mounted(img, 1, work('m')) as m:
        g = max(int(x) for x in os.listdir(os.path.join(m, 'generations'))
                if x.isdigit())
        gl = os.path.join(m, 'generations', str(g), 'init.d/30-link')
        check(os.path.islink(gl), 'generation %d holds no link 30-link' % g)
        # init.d itself a link to the host directory
        shutil.rmtree(os.path.join(m, 'init.d'))
        os.symlink(v, os.path.join(m, 'init.d'))
    for c in commands(t) + [('add', '60-x', '-'), ('rm', 'secret')]:
        run(*(list(c) + t), input='echo new\n')
        check(tree_state(v) == before, '%s (init.d a link) changed the '
              'host: %r' % (c[0], tree_state(v)))
    expect(run('add', '60-x', '-', *t, input='echo x\n'), 1,
           'Not a directory')
    expect(run('check', *t), 1, 'init.d: not a directory')
    # etc/earlyfs.conf a link to a host file: not a boot partition
    with partition_mounted(img, 1, work('m')) as m:
        os.unlink(os.path.join(m, 'init.d'))
        os.mkdir(os.path.join(m, 'init.d'))
        conf = os.path.join(m, 'etc/earlyfs.conf')
        os.unlink(conf)
        os.symlink(os.path.join(v, 'secret'), conf)
    expect(run('add', '60-x', '-', *t, input='echo x\n'), 1,
           'is not an earlyfs boot partition')
    check(tree_state(v) == before, 'earlyfs.conf link changed the host')
    # --boot DIR: the mounted partition, init.d a link to a 0755 host dir
    with partition_mounted(img, 1, work('m')) as m:
        conf = os.path.join(m, 'etc/earlyfs.conf')
        os.unlink(conf)
        with open(conf, 'w') as f:
            f.write('root=/dev/vda2\n')
        shutil.rmtree(os.path.join(m, 'init.d'))
        os.symlink(v, os.path.join(m, 'init.d'))
        for c in commands(t):
            run(*(list(c) + ['--boot', m, '--no-daemon']), input='echo n\n')
            check(tree_state(v) == before, '--boot %s changed the host: %r'
                  % (c[0], tree_state(v)))


@test
def an_unprivileged_user_cannot_stall_edits_and_a_wait_is_bounded(work):
    """nobody holding a flock on the partition's root (the old lock) does
    not stop an edit; root's lock held elsewhere makes a command wait a
    bounded time, then name the holder."""
    img = provisioned(work)
    os.chmod(os.path.dirname(work('m')), 0o755)     # nobody may reach m
    with partition_mounted(img, 1, work('m')) as m:
        holder = subprocess.Popen(['setpriv', '--reuid=nobody',
                                   '--regid=nogroup', '--clear-groups',
                                   'flock', m, 'sleep', '60'],
                                  start_new_session=True)
        try:
            time.sleep(0.3)
            check(holder.poll() is None, 'nobody could not hold the flock')
            t0 = time.monotonic()
            expect(run('add', '70-a', '-', '--boot', m, '--no-daemon',
                       input='echo a\n'), 0, 'generation')
            check(time.monotonic() - t0 < 20, 'the edit waited for nobody')
        finally:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait()
        st = os.stat(m)
        lock = '/run/earlyfs-locks/fs-%x-%x' % (st.st_dev, st.st_ino)
        check(os.path.exists(lock), 'no lock file %s' % lock)
        ls = os.lstat('/run/earlyfs-locks')
        check(ls.st_uid == 0 and stat.S_IMODE(ls.st_mode) == 0o700,
              'lock directory mode %o' % stat.S_IMODE(ls.st_mode))
        with open(lock) as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            env = dict(os.environ, EARLYFS_LOCK_TIMEOUT='1')
            t0 = time.monotonic()
            p = subprocess.run([EARLYFS, 'add', '71-b', '-', '--boot', m,
                                '--no-daemon'], input='echo b\n', env=env,
                               capture_output=True, text=True)
            took = time.monotonic() - t0
            check(p.returncode == 3, 'exit %d: %s' % (p.returncode,
                                                     p.stdout + p.stderr))
            check('is locked by process %d' % os.getpid() in p.stderr,
                  'holder not named: %s' % p.stderr)
            check(0.9 < took < 10, 'waited %.1f s for a 1 s limit' % took)
        check(not os.path.exists(os.path.join(m, 'init.d/71-b')),
              'a refused edit wrote')


@test
def kill_9_of_target_commands_leaves_nothing_behind(work):
    """25 kill -9s at random points of --target commands: after each the
    next command works with no manual step; no loop device, mount or
    temporary directory is left at the end."""
    img = provisioned(work)
    t = tgt(img)
    rnd = random.Random(int(os.environ.get('EARLYFS_SEED', '10')))
    tmp = work('tmp')
    os.makedirs(tmp)
    env = dict(os.environ, TMPDIR=tmp)
    cmds = [['add', '--replace', '20-a', '-'], ['check'], ['rollback'],
            ['generations'], ['disable', '20-a'], ['enable', '20-a']]
    for i in range(25):
        c = rnd.choice(cmds)
        p = subprocess.Popen([EARLYFS] + c + t, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        try:
            p.stdin.write(b'echo round %d\n' % i)
            p.stdin.close()
        except BrokenPipeError:
            pass
        time.sleep(rnd.uniform(0, 0.4))
        p.send_signal(signal.SIGKILL)
        p.wait()
        q = subprocess.run([EARLYFS, 'fragments'] + t, env=env,
                           capture_output=True, text=True)
        check(q.returncode == 0, 'round %d (%s): the next command failed: %s'
              % (i, c[0], q.stdout + q.stderr))
    check(our_loops(img) == '', 'loop devices left: %s' % our_loops(img))
    check(our_mounts() == [], 'mounts left: %s' % our_mounts())
    check(os.listdir(tmp) == [], 'left in TMPDIR: %s' % os.listdir(tmp))
    expect(run('check', *t), 0, '0 problems')


@test
def image_create_refuses_an_image_in_use(work):
    """image create --force on an attached (and on a mounted) image is
    refused and the image is left as it was."""
    img = image(work, root_tree=False)
    before = sha(img)
    with harness.loop_attached(img) as loop:
        expect(run('image', 'create', img, '--size', '96M', '--boot-size',
                   '48M', '--force'), 3, 'is in use', loop)
    check(sha(img) == before, 'the image changed')
    with harness.partition_attached(img, 1) as loop:
        os.makedirs(work('m'), exist_ok=True)
        subprocess.run(['mkfs.ext4', '-q', loop], check=True)
        subprocess.run(['mount', loop, work('m')], check=True)
        try:
            expect(run('image', 'create', img, '--size', '64M',
                       '--boot-size', '32M', '--force'),
                   3, 'is mounted at ' + work('m'))
        finally:
            subprocess.run(['umount', work('m')], check=True)
    check(os.path.getsize(img) == 96 << 20 and sha(img) != '',
          'the image was truncated')
    expect(run('image', 'create', img, '--size', '64M', '--boot-size', '32M',
               '--force'), 0, 'created')


def daemon_at(work, m, sock):
    log = open(work('earlyfsd.log'), 'a')
    d = subprocess.Popen([os.path.join(harness.BUILD, 'earlyfsd'),
                          '--foreground', '--boot', m, '--socket', sock],
                         stdout=log, stderr=log)
    for _ in range(500):
        if os.path.exists(sock) or d.poll() is not None:
            break
        time.sleep(0.01)
    return d


@test
def earlyfsd_never_changes_a_directory_it_did_not_create(work):
    """A socket in an existing root directory leaves its mode and group
    alone; a directory others can write is refused; one it creates is
    0700."""
    img = provisioned(work)
    with partition_mounted(img, 1, work('m')) as m:
        shared = work('shared')
        os.makedirs(shared)
        os.chmod(shared, 0o755)
        d = daemon_at(work, m, os.path.join(shared, 'e.sock'))
        try:
            check(d.poll() is None, 'earlyfsd did not start: %s'
                  % open(work('earlyfsd.log')).read())
            check(stat.S_IMODE(os.stat(shared).st_mode) == 0o755,
                  'earlyfsd changed %s to %o' % (shared, os.stat(
                      shared).st_mode))
            expect(run('fragments', '--boot', m, '--socket',
                       os.path.join(shared, 'e.sock')), 0)
        finally:
            d.kill()
            d.wait()
        os.chmod(shared, 0o1777)
        d = daemon_at(work, m, os.path.join(shared, 'f.sock'))
        try:
            check(d.wait(timeout=20) != 0, 'earlyfsd served from a 1777 '
                  'directory')
        finally:
            if d.poll() is None:
                d.kill()
                d.wait()
        check(stat.S_IMODE(os.stat(shared).st_mode) == 0o1777,
              'earlyfsd changed a 1777 directory')
        d = daemon_at(work, m, work('own', 'e.sock'))
        d.kill()
        d.wait()
        check(stat.S_IMODE(os.stat(work('own')).st_mode) == 0o700,
              'its own directory is %o' % os.stat(work('own')).st_mode)


@test
def check_kernel_never_puts_the_path_in_a_command(work):
    """A kernel whose file name is shell code: nothing runs, and the
    configuration is still read from the image (IKCONFIG)."""
    d = work('k')
    os.makedirs(d)
    name = os.path.join(d, "bz'$(touch ran)'")
    shutil.copy(harness.kernel_image(), name)
    p = subprocess.run([EARLYFS, 'check-kernel', name, '--driver',
                        'virtio_blk'], cwd=d, capture_output=True, text=True)
    check(p.returncode == 0 and 'config from the image itself (IKCONFIG)'
          in p.stdout, 'check-kernel: %s' % (p.stdout + p.stderr))
    check(not os.path.exists(os.path.join(d, 'ran')),
          'the kernel path ran as a command')


def mount_opts(m):
    with open('/proc/self/mountinfo') as f:
        for line in f:
            w = line.split()
            if w[4] == m:
                return w[5].split(',')
    return []


@test
def a_refused_change_writes_nothing_and_changes_no_mount(work):
    """On a read-only /boot with no generation yet, and with direct edits
    not recorded yet: every refusal (validation, name, missing fragment,
    existing fragment, label) leaves the tree as it was and the mount
    read-only."""
    img = provisioned(work)
    with partition_mounted(img, 1, work('m')) as m:
        shutil.rmtree(os.path.join(m, 'generations'))
    refusals = [('add', '40-bad', '-'), ('add', 'bad name', '-'),
                ('rm', '41-none'), ('enable', '41-none'),
                ('mv', '41-none', '42-x'), ('rollback',),
                ('once', 'nosuchlabel')]
    m = work('m')
    with harness.partition_attached(img, 1) as loop:
        # a writable device mounted read-only, as /boot is
        subprocess.run(['mount', '-o', 'ro', loop, m], check=True)
        try:
            before = tree_state(m)
            for c in refusals:
                p = run(*(list(c) + ['--boot', m, '--no-daemon']),
                        input='if then\n')
                check(p.returncode != 0, '%s was not refused: %s'
                      % (c, p.out))
                check('ro' in mount_opts(m), '%s left %s read-write'
                      % (c, m))
                check(tree_state(m) == before, '%s wrote to the partition'
                      % (c,))
        finally:
            subprocess.run(['umount', m], check=True)
    # generations exist, direct edits do not become one on a refusal
    expect(run('add', '40-ok', '-', *tgt(img), input='echo ok\n'), 0)
    with partition_mounted(img, 1, work('m')) as m:
        with open(os.path.join(m, 'init.d/40-ok'), 'a') as f:
            f.write('echo direct\n')
        subprocess.run(['mount', '-o', 'remount,ro', m], check=True)
        before = tree_state(m)
        for c in refusals:
            if c[0] == 'rollback':
                continue    # to the generation before the direct edit: legal
            p = run(*(list(c) + ['--boot', m, '--no-daemon']),
                    input='if then\n')
            check(p.returncode != 0, '%s was not refused: %s' % (c, p.out))
            check(tree_state(m) == before and 'ro' in mount_opts(m),
                  '%s wrote, or remounted' % (c,))


@test
def previous_boots_the_newest_valid_generation(work):
    """An invalid direct edit recorded (forced) before a change never
    becomes the target of 'previous'."""
    img = provisioned(work)
    t = tgt(img)
    expect(run('add', '40-ok', '-', *t, input='echo ok\n'), 0)
    with partition_mounted(img, 1, work('m')) as m:
        with open(os.path.join(m, 'init.d/45-broken'), 'w') as f:
            f.write('if then\n')
    p = run('add', '50-next', '-', *t, input='echo next\n')
    expect(p, 0, 'direct edit of init.d/45-broken (not valid')
    g = [int(x) for x in __import__('re').findall(r'generation (\d+)\)',
                                                   p.out)]
    check(len(g) == 2, 'two generations expected: %s' % p.out)
    with partition_mounted(img, 1, work('m')) as m:
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
    listing = run('generations', *t).out
    check('earlyfs.generation=previous' in conf and
          re.search(r'^\s*%d .*\[previous\]' % (g[0] - 1), listing,
                    re.M),
          'previous does not boot generation %d (the last valid one):\n%s'
          % (g[0] - 1, listing))


@test
def an_interrupted_apply_is_finished_by_the_next_change(work):
    """mv killed after its commit point: both names in init.d, the
    generation not marked applied; the next change completes it first."""
    img = provisioned(work)
    t = tgt(img)
    expect(run('add', '20-a', '-', *t, input='echo a\n'), 0)
    p = run('mv', '20-a', '21-a', *t)
    expect(p, 0)
    n = int(__import__('re').search(r'generation (\d+)\)', p.out).group(1))
    with partition_mounted(img, 1, work('m')) as m:
        os.unlink(os.path.join(m, 'generations/%d/applied' % n))
        with open(os.path.join(m, 'init.d/20-a'), 'w') as f:
            f.write('echo a\n')
    expect(run('add', '30-b', '-', *t, input='echo b\n'), 0,
           'finished generation %d' % n)
    with partition_mounted(img, 1, work('m')) as m:
        names = sorted(os.listdir(os.path.join(m, 'init.d')))
    check('20-a' not in names and '21-a' in names and '30-b' in names,
          'init.d after the finished apply: %s' % names)


@test
def limits_are_generous_and_named(work):
    """An fstab of 65 entries passes; one past the runner's limit is named
    with the limit; an admin's own extlinux label survives a change; a
    stale pruned generation that cannot be removed never blocks pruning."""
    img = provisioned(work)
    t = tgt(img)
    with partition_mounted(img, 1, work('m')) as m:
        fstab = os.path.join(m, 'etc/fstab')
        base = open(fstab).read()
        with open(fstab, 'w') as f:
            f.write(base + ''.join('tmpfs /run/t%d tmpfs defaults 0 0\n' % i
                                   for i in range(65)))
        with open(os.path.join(m, 'extlinux/extlinux.conf'), 'a') as f:
            f.write('\nLABEL mine\n  KERNEL /vmlinuz-mine\n'
                    '  APPEND root=/dev/sda9\n')
        shutil.copy(os.path.join(m, [x for x in os.listdir(m)
                                     if x.startswith('vmlinuz')][0]),
                    os.path.join(m, 'vmlinuz-mine'))
    expect(run('check', *t), 0, '0 problems')
    expect(run('add', '60-x', '-', *t, input='echo x\n'), 0)
    with partition_mounted(img, 1, work('m')) as m:
        conf = open(os.path.join(m, 'extlinux/extlinux.conf')).read()
        check('LABEL mine' in conf and 'root=/dev/sda9' in conf,
              "the admin's label did not survive:\n%s" % conf)
        with open(os.path.join(m, 'etc/fstab'), 'w') as f:
            f.write(base + ''.join('tmpfs /run/t%d tmpfs defaults 0 0\n' % i
                                   for i in range(257)))
    expect(run('check', *t), 1, 'etc/fstab: more than 256 entries')
    with partition_mounted(img, 1, work('m')) as m:
        with open(os.path.join(m, 'etc/fstab'), 'w') as f:
            f.write(base)
        with open(os.path.join(m, 'etc/earlyfs.conf'), 'a') as f:
            f.write('keep_generations=2\n')
        stale = os.path.join(m, 'generations/.old-1')
        os.makedirs(stale)
        with open(os.path.join(stale, 'stuck'), 'w') as f:
            f.write('x')
        subprocess.run(['chattr', '+i', os.path.join(stale, 'stuck')],
                       check=True)
        try:
            for i in range(5):
                p = run('add', '--replace', '61-y', '-', '--boot', m,
                        '--no-daemon', input='echo %d\n' % i)
                expect(p, 0)
            check('cannot remove' in p.out and '.old-1' in p.out,
                  'the stuck leftover is not named: %s' % p.out)
            gens = [x for x in os.listdir(os.path.join(m, 'generations'))
                    if x.isdigit()]
            check(len(gens) <= 3, 'pruning stopped: %s' % sorted(gens))
        finally:
            subprocess.run(['chattr', '-i', os.path.join(stale, 'stuck')])


@test
def what_is_read_from_a_partition_is_bounded_and_shown_safely(work):
    """A fragment name holding terminal escapes is shown with '?'; a FIFO
    as etc/fstab or as a fragment is reported, never read (no hang); an
    oversized earlyfs.conf or fstab is named with its limit."""
    img = provisioned(work)
    t = tgt(img)
    esc = '10-x\x1b]0;pwned\x07'
    with partition_mounted(img, 1, work('m')) as m:
        with open(os.path.join(m, 'init.d', esc), 'w') as f:
            f.write('echo x\n')
        os.mkfifo(os.path.join(m, 'init.d/20-fifo'))
        fstab = os.path.join(m, 'etc/fstab')
        os.rename(fstab, fstab + '.keep')
        os.mkfifo(fstab)
    for c in (['fragments'], ['check']):
        p = subprocess.run([EARLYFS] + c + t, capture_output=True,
                           timeout=60)
        out = p.stdout + p.stderr
        check(b'\x1b' not in out and b'\x07' not in out,
              '%s sent the escape to the terminal: %r' % (c[0], out))
    p = run('check', *t)
    expect(p, 1, 'init.d/20-fifo: not a regular file',
           'etc/fstab: not a regular file', '10-x?]0;pwned?')
    with partition_mounted(img, 1, work('m')) as m:
        fstab = os.path.join(m, 'etc/fstab')
        os.unlink(fstab)
        os.unlink(os.path.join(m, 'init.d/20-fifo'))
        os.unlink(os.path.join(m, 'init.d', esc))
        with open(fstab, 'w') as f:
            f.write('# x\n' * 20000)
    expect(run('check', *t), 1, 'etc/fstab: larger than 64 KiB')
