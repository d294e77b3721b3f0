"""Network and SSH remote unlock (issue 12) in QEMU full boots.  QEMU's
user networking with restrict=on: the guest reaches nothing; the one way
in is a port forward bound to 127.0.0.1, to the guest's port 22.  The
guest's address comes from QEMU's own DHCP server, or from ip=."""
import os, re, shutil, socket, subprocess, tempfile, time
from tests import guest, harness
from tests.harness import check, test, Console
from tests.cli import test_features as F
from tests.cli.clilib import expect, run

# what the test root's init prints after the pivot: IPv4 addresses other
# than loopback's, and the names of every process
NET_REPORT = r'''mount -t sysfs sys /sys
echo "NET4=[$(ip -4 -o addr show | grep -v ' lo ' | sed 's/.* inet \([^ ]*\).*/\1/' | tr '\n' ' ')]"
echo "PROCS=[$(cat /proc/[0-9]*/comm 2>/dev/null | sort -u | tr '\n' ' ')]"
'''


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def netdev(port, guest_addr='', guest_port=22):
    return ['-netdev', 'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-%s:%d'
            % (port, guest_addr, guest_port),
            '-device', 'virtio-net-pci,netdev=n0']


def client_key(work, name='id'):
    key = work(name)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C',
                    'earlyfs-test', '-f', key], check=True)
    return key


def ssh_argv(work, port, key, *cmd, tty=False):
    return (['ssh', '-p', str(port), '-i', key, '-o', 'IdentitiesOnly=yes',
             '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new',
             '-o', 'UserKnownHostsFile=' + work('known_hosts'),
             '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR']
            + (['-tt'] if tty else []) + ['root@127.0.0.1'] + list(cmd))


def ssh_console(work, port, key, *cmd):
    """An interactive session (a remote terminal) read like a console."""
    return Console(ssh_argv(work, port, key, *cmd, tty=True),
                   os.path.join(harness.LOG_DIR, work.name + '-ssh.log'), 120)


def ssh_run(work, port, key, *cmd, input=''):
    return subprocess.run(ssh_argv(work, port, key, *cmd), input=input,
                          capture_output=True, text=True, timeout=120)


def host_key_line(work, img, keyfile):
    """'TYPE BASE64' of a host key on the boot partition."""
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        out = subprocess.run(['dropbearkey', '-y', '-f',
                              os.path.join(m, 'etc/dropbear', keyfile)],
                             capture_output=True, text=True, check=True)
    return re.search(r'^(ssh-\S+|ecdsa-\S+) (\S+)', out.stdout, re.M).group(0)


def seen_key(work):
    with open(work('known_hosts')) as f:
        return f.read()


def luks_disk(work):
    img = F.disk(work, [40], NET_REPORT)
    guest.run(work, F.luks_script('/dev/vda2'), [img, work('root.ext4')])
    harness.write(work('crypttab'), 'root UUID=%s none luks,tries=3\n'
                  % F.LUKS_UUID)
    return img


@test
def qemu_ssh_remote_unlock(work):
    """LUKS root: a login shows the prompt; a wrong passphrase typed there
    counts on the console too; the console's answer ends the session's
    prompt; a key not authorized is refused; the host key is the
    partition's own; after the pivot no address, no udhcpc or dropbear.
    Then, nobody at the console: earlyfs-unlock < FILE (wrong), and a key
    whose command= is earlyfs-unlock (right)."""
    img = luks_disk(work)
    key, other = client_key(work), client_key(work, 'other')
    expect(F.provision(img, '/dev/mapper/root', '--with', 'luks,ssh',
                       '--crypttab', work('crypttab'), '--authorized-keys',
                       key + '.pub'), 0, 'features   luks network ssh',
           'ssh host key ed25519')
    port = free_port()
    with harness.qemu(work, img, extra=netdev(port)) as c:
        # restrict=on: QEMU's DHCP names no router
        c.expect(r'earlyfs: network: eth0 10\.0\.2\.15/24 \(DHCP\)', 90)
        c.expect(r'earlyfs: ssh: listening on port 22')
        c.expect(r'Enter passphrase for /dev/vda2:')
        p = ssh_run(work, port, other, 'true')
        check(p.returncode == 255 and 'ermission denied' in p.stderr,
              'a key not in authorized_keys got in: %r' % p.stderr)
        with ssh_console(work, port, key) as s:
            s.expect(r'Enter passphrase for /dev/vda2:', 30)
            s.send(F.WRONG)
            s.expect(r'wrong passphrase for root \(1 of 3 tries\)')
            s.expect(r'Enter passphrase for /dev/vda2:')
            c.expect(r'wrong passphrase for root \(1 of 3 tries\)')
            # the console answers this time: the session's prompt ends
            F.type_passphrase(c, F.PASS)
            s.expect(r'answered on the console')
            s.expect(r'opened /dev/vda2 \(UUID=\S+\) as /dev/mapper/root'
                     r'\r?\n', 30)
            harness.reached_real_root(c)
            out = c.text()
            session = s.text()
    check(F.PASS not in out + session and F.WRONG not in out + session,
          'a passphrase was echoed')
    check('No key available with this passphrase' in out,
          "cryptsetup's refusal of the wrong one is not on the console")
    check(re.search(r'REPORT fragment 42-luks ok', out), '42-luks')
    check('NET4=[]' in out, 'an IPv4 address survived the pivot: %s'
          % re.search(r'NET4=.*', out).group(0))
    procs = re.search(r'PROCS=\[(.*)\]', out).group(1).split()
    check('udhcpc' not in procs and 'dropbear' not in procs,
          'left running after the pivot: %s' % procs)
    check(host_key_line(work, img, 'dropbear_ed25519_host_key') in
          seen_key(work), 'the client saw another host key')
    for secret in (F.PASS, F.WRONG):
        check(secret.encode() not in F.partition_bytes(img, 1),
              'a passphrase is on the boot partition')
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        for rel, mode in (('root/.ssh', 0o700),
                          ('root/.ssh/authorized_keys', 0o600),
                          ('etc/dropbear', 0o700),
                          ('etc/dropbear/dropbear_ed25519_host_key', 0o600)):
            got = os.stat(os.path.join(m, rel)).st_mode & 0o7777
            check(got == mode, '%s is %o, not %o' % (rel, got, mode))
    # a second key that may only unlock (a forced command), added as a
    # change that keeps the host keys (the client would refuse new ones)
    harness.write(work('keys'), open(key + '.pub').read() +
                  'command="earlyfs-unlock",no-pty ' +
                  open(other + '.pub').read())
    expect(run('feature', 'add', 'ssh', '--authorized-keys', work('keys'),
               '--target', img, '--partition', 1), 0)
    # earlyfs-unlock with the passphrase on standard input, no terminal
    work.name += '-2'
    with harness.qemu(work, img, extra=netdev(port)) as c:
        c.expect(r'Enter passphrase for /dev/vda2:', 90)
        p = ssh_run(work, port, key, 'earlyfs-unlock', input=F.WRONG + '\n')
        check(p.returncode == 1 and 'wrong passphrase' in p.stderr,
              'earlyfs-unlock of a wrong one: %d %r' % (p.returncode,
                                                        p.stderr))
        p = ssh_run(work, port, other, 'sh', '-c', 'echo escaped',
                    input=F.PASS + '\n')
        check(p.returncode == 0 and 'opened /dev/vda2' in p.stdout and
              'escaped' not in p.stdout, 'the unlock-only key: %d %r %r'
              % (p.returncode, p.stdout, p.stderr))
        c.expect(r'as /dev/mapper/root, answered over SSH')
        harness.reached_real_root(c)
        check(re.search(r'wrong passphrase for root \(1 of 3 tries\)',
                        c.text()), 'the wrong one did not count')


@test
def ssh_refuses_writable_authorized_keys(work):
    """A world- or group-writable authorized_keys (or directory on its
    path), one another user owns (or a directory on its path), or one
    with no key, is refused at provisioning: nothing
    written."""
    from tests.cli.clilib import image, part_sha, partuuid
    img = image(work)
    key = client_key(work)
    before = part_sha(img, 1)
    root = 'PARTUUID=' + partuuid(img, 2)
    os.chmod(key + '.pub', 0o666)
    expect(run('provision', img, '--partition', 1, '--root', root,
               '--with', 'ssh', '--authorized-keys', key + '.pub'), 3,
           'is world-writable', 'nothing written')
    os.chmod(key + '.pub', 0o644)
    os.makedirs(work('open'))
    os.chmod(work('open'), 0o775)
    harness.write(work('open', 'keys'), open(key + '.pub').read())
    expect(run('provision', img, '--partition', 1, '--root', root,
               '--with', 'ssh', '--authorized-keys', work('open', 'keys')),
           3, 'is group-writable')
    # another user's file, even 0644 in a sticky /tmp, and even through
    # root's own link; root's file in another user's directory
    theirs = tempfile.mkdtemp(prefix='earlyfs-keys-', dir='/tmp')
    try:
        os.chmod(theirs, 0o755)
        planted = os.path.join('/tmp', os.path.basename(theirs) + '.pub')
        harness.write(planted, open(key + '.pub').read())
        os.chown(planted, 65534, 65534)
        os.symlink(planted, work('link.pub'))
        for given in (planted, work('link.pub')):
            expect(run('provision', img, '--partition', 1, '--root', root,
                       '--with', 'ssh', '--authorized-keys', given), 3,
                   '%s belongs to uid 65534' % planted, 'nothing written')
        harness.write(os.path.join(theirs, 'keys'), open(key + '.pub').read())
        os.chown(theirs, 65534, 65534)
        expect(run('provision', img, '--partition', 1, '--root', root,
                   '--with', 'ssh', '--authorized-keys',
                   os.path.join(theirs, 'keys')), 3,
               '%s belongs to uid 65534' % theirs, 'nothing written')
    finally:
        shutil.rmtree(theirs)
        os.unlink(planted)
    harness.write(work('bad'), 'not a key at all\n')
    expect(run('provision', img, '--partition', 1, '--root', root,
               '--with', 'ssh', '--authorized-keys', work('bad')), 3,
           'bad:1: no public key')
    expect(run('provision', img, '--partition', 1, '--root', root,
               '--with', 'ssh'), 2, '--authorized-keys')
    check(part_sha(img, 1) == before, 'a refusal wrote to the partition')


@test
def qemu_static_ip_system_host_keys_and_continue(work):
    """ip= with a static address no DHCP server would give, the system's
    host keys (here a directory made like /etc/ssh), earlyfs-continue
    ending a pause over SSH, --ssh-port; earlyfs.net.keep keeps the
    address; then earlyfs.ssh=off starts no server and earlyfs.net=MAC
    picks a second card."""
    from tests.cli.clilib import image, partuuid
    img = image(work, root_tree=False)
    harness.root_tree(work('root'), extra=NET_REPORT)
    harness.mkfs(work('root'), work('root.ext4'), 16)
    _, parts = harness.partitions(img)
    with open(work('root.ext4'), 'rb') as src, open(img, 'r+b') as dst:
        dst.seek(parts[1][0])
        dst.write(src.read())
    os.makedirs(work('etc-ssh'))
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
                    work('etc-ssh', 'ssh_host_ed25519_key')], check=True)
    key = client_key(work)
    expect(run('provision', img, '--partition', 1, '--root',
               'PARTUUID=' + partuuid(img, 2), '--kernel',
               harness.kernel_image(), '--menu-timeout', '1', '--append',
               'panic=1 ip=10.0.2.20::10.0.2.2:255.255.255.0:early:eth0:off '
               'earlyfs.net.keep', '--with', 'ssh,pause',
               '--authorized-keys', key + '.pub', '--ssh-host-keys',
               work('etc-ssh'), '--ssh-port', '2222'), 0,
           'warning: the host keys of')
    port = free_port()
    with harness.qemu(work, img, extra=netdev(port, '10.0.2.20', 2222)) as c:
        c.expect(r'earlyfs: network: eth0 10\.0\.2\.20/24 via 10\.0\.2\.2 '
                 r'\(ip=\)', 90)
        c.expect(r'earlyfs: ssh: listening on port 2222')
        c.expect(r'paused before the root is mounted')
        p = ssh_run(work, port, key, 'earlyfs-continue')
        check(p.returncode == 0, 'earlyfs-continue: %d %r'
              % (p.returncode, p.stderr))
        c.expect(r'continuing after the pause \(earlyfs-continue over SSH\)')
        harness.reached_real_root(c)
        out = c.text()
    check('NET4=[10.0.2.20/24 ]' in out, 'earlyfs.net.keep: %s'
          % re.search(r'NET4=.*', out).group(0))
    check('udhcpc' not in out, 'udhcpc ran with a static ip=')
    with open(work('etc-ssh', 'ssh_host_ed25519_key.pub')) as f:
        system = ' '.join(f.read().split()[:2])
    check(system in seen_key(work), 'the client did not see the system key')
    # earlyfs.ssh=off, once (the partition's extlinux.conf edited here)
    with harness.partition_mounted(img, 1, work('m')) as m:
        conf = os.path.join(m, 'extlinux/extlinux.conf')
        text = open(conf).read().replace(
            'earlyfs.net.keep', 'earlyfs.ssh=off earlyfs.net=52:54:00:AB:CD:02')
        open(conf, 'w').write(text)
    work.name += '-off'
    # a second card: earlyfs.net=MAC picks it over ip='s eth0
    second = ['-netdev', 'user,id=n1,restrict=on', '-device',
              'virtio-net-pci,netdev=n1,mac=52:54:00:ab:cd:02']
    with harness.qemu(work, img, extra=netdev(port, '10.0.2.20', 2222) +
                      second) as c:
        c.expect(r'earlyfs: network: eth1 10\.0\.2\.20/24 via 10\.0\.2\.2 '
                 r'\(ip=\)', 90)
        c.expect(r'earlyfs: ssh: off for this boot')
        c.expect(r'paused before the root is mounted; press Enter on the '
                 r'console to continue')
        c.send('')
        harness.reached_real_root(c)
        check('NET4=[]' in c.text(), 'the address stayed without keep')
    # a direct edit that breaks authorized_keys: check names the line
    expect(run('check', '--target', img, '--partition', 1), 0, '0 problems')
    with harness.partition_mounted(img, 1, work('m')) as m:
        with open(os.path.join(m, 'root/.ssh/authorized_keys'), 'a') as f:
            f.write('ssh-ed25519\n')
    expect(run('check', '--target', img, '--partition', 1), 1,
           'root/.ssh/authorized_keys:2: no public key')
