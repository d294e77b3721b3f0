"""earlyfs seal: a boot partition booted only as it was sealed, under
Secure Boot with the owner's key (OVMF's snakeoil code and variables: the
snakeoil certificate is the only one in db).  Debian's cloud kernel (its
disk drivers modules, locked down under Secure Boot) in signed unified
kernel images that systemd-boot, signed too, starts."""
import contextlib, glob, os, re, shutil, subprocess, time
from tests import guest, harness
from tests.harness import test
from tests.cli.clilib import check, expect, partuuid, run
from tests.cli.test_loaders import (MTOOLS_ENV, choose, esp_at, esp_files,
                                    esp_read, gpt_image, mtools)

SNAKEOIL = '/usr/share/ovmf/PkKek-1-snakeoil'


def keys(work):
    """The snakeoil pair, the key without its passphrase, root's 0600."""
    key, cert = work('db.key'), work('db.pem')
    subprocess.run(['openssl', 'rsa', '-in', SNAKEOIL + '.key', '-passin',
                    'pass:snakeoil', '-out', key], check=True,
                   capture_output=True)
    os.chmod(key, 0o600)
    shutil.copy(SNAKEOIL + '.pem', cert)
    return key, cert


@contextlib.contextmanager
def recorded_in(path):
    """Where earlyfs seal records its key (not the host's /etc)."""
    os.environ['EARLYFS_SEAL_CONF'] = path
    try:
        yield path
    finally:
        del os.environ['EARLYFS_SEAL_CONF']


def tgt(img):
    return ('--target', img, '--partition', 2)


def sealed_boot(work, img, vars_file):
    return harness.qemu_uefi(work, img, code='OVMF_CODE_4M.snakeoil.fd',
                             vars_template='OVMF_VARS_4M.snakeoil.fd',
                             secure=True, timeout=300, vars_file=vars_file)


def cloud_partition(work, esp='64M'):
    from tests.cli.test_kernels import STOCK_CLOUD, stock, modules_of
    img = gpt_image(work, esp=esp, size='320M', boot='96M')
    sk = stock(STOCK_CLOUD)[-1]
    expect(run('provision', img, '--partition', 2, '--root',
               'PARTUUID=' + partuuid(img, 3), '--kernel',
               os.path.join(STOCK_CLOUD, sk), '--modules',
               modules_of(STOCK_CLOUD, sk[8:]), '--driver',
               'virtio_blk,virtio_pci', '--bootloader', 'systemd-boot',
               '--menu-timeout', '1'), 0)
    return img


@test
def seal_refuses_a_key_others_can_read_and_writes_nothing(work):
    """The key's mode and owner are checked before anything is made, and
    a key with a passphrase is refused (a change seals again with nobody
    at a terminal); a missing --cert is a usage error."""
    img = cloud_partition(work)
    key, cert = keys(work)
    esp = esp_files(img)
    with recorded_in(work('seal.conf')):
        refusals(work, img, key, cert, esp)
    check(not os.path.exists(work('seal.conf')), 'a refused seal recorded')


@test
def seal_refuses_an_esp_too_small_with_its_bytes_unchanged(work):
    """Three images of the cloud kernel do not fit on a 16 MiB ESP that
    holds its plain entries: refused with the numbers before anything is
    written; the partition stays unsealed and its entries boot as before
    (the ESP's bytes unchanged)."""
    from tests.cli.test_loaders import esp_sha
    img = cloud_partition(work, esp='16M')
    key, cert = keys(work)
    before = esp_sha(img)
    with recorded_in(work('seal.conf')):
        expect(run('seal', '--key', key, '--cert', cert, *tgt(img)), 3,
               'KiB free and the sealed images need', 'nothing was written')
    check(esp_sha(img) == before, 'a refused seal wrote to the ESP')
    check(not os.path.exists(work('seal.conf')), 'a refused seal recorded')
    expect(run('check', *tgt(img)), 0, '0 problems')


@test
def seal_killed_mid_signing_leaves_its_scratch_to_the_next(work):
    """A seal killed (kill -9) while it makes and signs its images leaves
    its scratch directory (the images, tens of MB) in TMPDIR; the next
    seal removes it before making its own, seals, and leaves nothing."""
    from tests.cli.clilib import EARLYFS
    img = cloud_partition(work)
    key, cert = keys(work)
    tmp = work('tmp')
    os.makedirs(tmp)
    env = dict(os.environ, TMPDIR=tmp, EARLYFS_SEAL_CONF=work('seal.conf'))
    argv = [EARLYFS, 'seal', '--key', key, '--cert', cert] + [
        str(a) for a in tgt(img)]
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not [
            f for f in glob.glob(os.path.join(tmp, 'earlyfs-seal.*', '*'))]:
        time.sleep(0.01)
    p.kill()
    p.wait()
    left = glob.glob(os.path.join(tmp, 'earlyfs-seal.*'))
    check(left, 'the killed seal made no scratch directory: it was not '
          'killed mid-signing')
    q = subprocess.run(argv, env=env, capture_output=True, text=True)
    check(q.returncode == 0 and 'sealed: generation' in q.stdout,
          q.stdout + q.stderr)
    check(os.listdir(tmp) == [], 'left in TMPDIR: %s' % os.listdir(tmp))


def refusals(work, img, key, cert, esp):
    os.chmod(key, 0o640)
    expect(run('seal', '--key', key, '--cert', cert, *tgt(img)), 3,
           'mode 0640', 'chmod 600')
    os.chmod(key, 0o600)
    os.chown(key, 65534, 0)
    expect(run('seal', '--key', key, '--cert', cert, *tgt(img)), 3,
           'owner uid 65534', 'chown root')
    os.chown(key, 0, 0)
    # a passphrase nobody is there to give when a change seals again
    locked = work('locked.key')
    shutil.copy(SNAKEOIL + '.key', locked)
    os.chmod(locked, 0o600)
    expect(run('seal', '--key', locked, '--cert', cert, *tgt(img)), 3,
           'is encrypted', 'openssl pkey')
    expect(run('seal', '--key', key, *tgt(img)), 2, 'no key is recorded',
           '--cert CERT')
    expect(run('seal', '--key', work('none'), '--cert', cert, *tgt(img)), 2,
           'No such file')
    check(esp_files(img) == esp, 'a refused seal changed the ESP: %s'
          % esp_files(img))
    check(run('loader', 'status', *tgt(img)).out.count('sealed') == 0, 'said sealed')


def live_tamper(work, img):
    """Someone with the disk changes the live fragments (what an unsealed
    'earlyfs add' would run): a fragment changed, one added."""
    with harness.partition_mounted(img, 2, work('m')) as m:
        with open(os.path.join(m, 'init.d', '50-hello'), 'a') as f:
            f.write('echo TAMPERED-FRAGMENT-RAN\n')
        with open(os.path.join(m, 'init.d', '05-evil'), 'w') as f:
            f.write('#!/bin/sh\necho EVIL-RAN\n')
        os.chmod(os.path.join(m, 'init.d', '05-evil'), 0o755)


def tamper(work, img, gen):
    """And what runs: the sealed generation's fragment changed, a fragment
    added to it, a trojan busybox that runs the real one, a mode and an
    owner changed."""
    with harness.partition_mounted(img, 2, work('m')) as m:
        d = os.path.join(m, 'generations', str(gen), 'init.d')
        with open(os.path.join(d, '50-hello'), 'a') as f:
            f.write('echo TAMPERED-FRAGMENT-RAN\n')
        with open(os.path.join(d, '05-evil'), 'w') as f:
            f.write('#!/bin/sh\necho EVIL-RAN\n')
        os.chmod(os.path.join(d, '05-evil'), 0o755)
        bb = os.path.join(m, 'bin', 'busybox')
        os.rename(bb, bb + '.real')
        with open(bb, 'w') as f:
            f.write('#!/bin/busybox.real sh\necho TROJAN-RAN\n'
                    'exec /bin/busybox.real "$@"\n')
        os.chmod(bb, 0o755)
        os.chmod(os.path.join(m, 'etc', 'earlyfs.conf'), 0o666)
        os.chown(os.path.join(m, 'etc'), 1000, 0)


def generation_of(out):
    return int(re.search(r'sealed: generation (\d+),', out).group(1))


@test
def sealed_partition_boots_under_secure_boot_and_refuses_every_change(work):
    """Sealed with the snakeoil key: the loader and the images are signed,
    no type 1 entry or unsigned kernel is left on the ESP, the editor is
    off; the boot verifies the partition and reaches the real root (the
    kernel locked down).  Without the key a fragment can be added: the
    sealed generation boots on, the new fragment said and not run; a
    change of anything else is refused.  With the key a change seals
    again: the fragments run, and the previous image still boots its
    generation.  Live fragments changed offline are said and not run; the
    sealed generation's fragment, a trojan busybox, a new fragment in it,
    a mode or an owner changed: the boot is refused, each difference said,
    nothing of it ran.  An image whose signature is removed is refused by
    the firmware."""
    img = cloud_partition(work)
    key, cert = keys(work)
    with recorded_in(work('seal.conf')):
        sealed_life(work, img, key, cert)


def no_run(out, *marks):
    for ran in marks:
        check(ran not in out, '%s ran' % ran)
    check('Kernel panic' not in out, 'a panic')


def sealed_life(work, img, key, cert):
    p = run('seal', '--key', key, '--cert', cert, *tgt(img))
    expect(p, 0, 'sealed: generation 1,', '/EFI/Linux/earlyfs.efi')
    files = esp_files(img)
    check('efi/linux/earlyfs.efi' in files and
          'efi/linux/earlyfs.rescue.efi' in files, files)
    check(not [f for f in files if f.startswith('loader/entries/') or
               'vmlinuz' in f], 'unsealed entries left: %s' % files)
    conf = esp_read(img, '/loader/loader.conf')
    check('editor no' in conf and 'default earlyfs.efi' in conf, conf)
    check('key=%s\n' % key in open(work('seal.conf')).read(),
          'the key was not recorded')
    expect(run('loader', 'status', *tgt(img)), 0, 'sealed:   the signed images')
    vars_file = work('vars.fd')
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'Kernel is locked down from EFI Secure Boot', 240)
        c.expect(r'seal: the boot partition is as sealed \(\d+ ms\)', 60)
        harness.reached_real_root(c)
    # no key here: a fragment, yes, the sealed generation boots on
    os.rename(work('seal.conf'), work('seal.conf.away'))
    expect(run('add', '50-hello', '-', *tgt(img),
               input='#!/bin/sh\necho HELLO-FROM-SEALED\n'), 0,
           'not sealed again', 'boots generation 1, the one sealed')
    gens = run('generations', *tgt(img)).out
    expect(run('install', '/usr/bin/true', *tgt(img)), 3,
           'is sealed and no key is recorded here',
           'outside the fragments', 'earlyfs seal --key')
    check(run('generations', *tgt(img)).out == gens, 'a refused change '
          'was recorded')
    p = run('check', *tgt(img))
    check(p.returncode != 0 and 'generation 2 is not sealed: the sealed '
          'images run generation 1' in p.out, p.out)
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'init\.d/50-hello: added since the generation that runs '
                 r'was sealed; not run', 240)
        c.expect(r'running generation 1 as it was sealed', 30)
        harness.reached_real_root(c)
        no_run(c.text(), 'HELLO-FROM-SEALED')
    # the key back: a change seals again, the fragments run
    os.rename(work('seal.conf.away'), work('seal.conf'))
    p = run('add', '60-more', '-', *tgt(img),
            input='#!/bin/sh\necho MORE-FROM-SEALED\n')
    expect(p, 0, 'sealed: generation', 'earlyfs.previous.efi (generation')
    gen = generation_of(p.out)
    expect(run('check', *tgt(img)), 0, '0 problems')
    check('efi/linux/earlyfs.previous.efi' in esp_files(img),
          'no previous image: %s' % esp_files(img))
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'seal: the boot partition is as sealed', 240)
        c.expect(r'HELLO-FROM-SEALED', 60)
        c.expect(r'MORE-FROM-SEALED', 60)
        harness.reached_real_root(c)
    # the previous image: the generation before, sealed for it
    choose(img, 'earlyfs.previous.efi')
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'seal: the boot partition is as sealed', 240)
        c.expect(r'running generation %d\'s fragments and fstab' % (gen - 1),
                 60)
        c.expect(r'HELLO-FROM-SEALED', 60)
        harness.reached_real_root(c)
        no_run(c.text(), 'MORE-FROM-SEALED')
    choose(img, 'earlyfs.efi')
    live_tamper(work, img)
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'seal: init\.d/05-evil: added since', 240)
        c.expect(r'seal: init\.d/50-hello: changed since', 30)
        harness.reached_real_root(c)
        no_run(c.text(), 'TAMPERED-FRAGMENT-RAN', 'EVIL-RAN')
    tamper(work, img, gen)
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'seal: stopped', 240)
        out = c.text()
    g = r'generations/%d/init\.d' % gen
    for what in (r'seal: %s/50-hello: sealed .f 0755 0 0 \d+:[0-9a-f]{64} '
                 r'%s/50-hello., found .f 0755 0 0 \d+:[0-9a-f]{64} ' % (g, g),
                 r'seal: %s/05-evil: not sealed' % g,
                 r'seal: bin/busybox: sealed .f 0755 0 0 \d+:[0-9a-f]{64} '
                 r'bin/busybox., found .f 0755 0 0 \d+:',
                 r'seal: bin/busybox\.real: not sealed',
                 r'seal: etc/earlyfs\.conf: sealed .f 0644 .*, found .f 0666 ',
                 r'seal: etc: sealed .d 0755 0 0 - etc., found .d 0755 1000 0 ',
                 r'not what was sealed \(6 differences\): nothing on it runs'):
        check(re.search(what, out), 'the console does not say %r' % what)
    no_run(out, 'TAMPERED-FRAGMENT-RAN', 'TROJAN-RAN', 'EVIL-RAN',
           'REALINIT', 'HELLO-FROM-SEALED')
    # an image that is not signed: the firmware's db says no
    uki = work('earlyfs.efi')
    off, _ = esp_at(img)
    subprocess.run(['mcopy', '-i', '%s@@%d' % (img, off),
                    '::/EFI/Linux/earlyfs.efi', uki], check=True,
                   env=MTOOLS_ENV)
    subprocess.run(['sbattach', '--remove', uki], check=True,
                   capture_output=True)
    p = subprocess.run(['sbverify', '--list', uki], capture_output=True,
                       text=True)
    check('No signature table' in p.stdout + p.stderr, p.stdout + p.stderr)
    mtools(img, 'mcopy', '-o', uki, '::/EFI/Linux/earlyfs.efi')
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'Access Denied|Security Violation', 240)
        out = c.text()
    check('Linux version' not in out, 'the unsigned image was started')


def exported_boot(c, fragment_mark):
    """The runner ran from the archive: the fragment, the real root, no
    boot partition behind it (nothing at /boot), the report."""
    c.expect(fragment_mark, 240)
    c.expect(r'REALINIT pid=1 root=real-root', 60)
    c.expect(r'REPORT pivot ok')
    c.expect(r'REALINIT-DONE')
    c.wait_exit()
    c.assert_no_panic()
    check('BOOT-AT-SLASH-BOOT' not in c.text(), 'a boot partition was used')


@test
def export_cpio_and_uki_boot_without_the_partition(work):
    """earlyfs export: the partition's tree as an initramfs archive (0600,
    /init the runner) boots the test kernel to the real root on a disk
    whose boot partition is wiped; the same in a unified kernel image
    signed with the snakeoil key boots under Secure Boot as the firmware's
    only loader; Debian's cloud kernel, its disk drivers modules, boots
    its archive with its module stub in front.  A call with neither or
    both of --cpio and --uki is refused."""
    from tests.cli.clilib import image, provision
    img = image(work)
    expect(provision(img), 0)
    expect(run('add', '50-hello', '-', '--target', img, '--partition', 1,
               input='#!/bin/sh\necho EXPORTED-FRAGMENT-RAN\n'), 0)
    cpio = work('early.cpio')
    expect(run('export', '--target', img, '--partition', 1), 2,
           '--cpio FILE or --uki FILE')
    expect(run('export', '--cpio', cpio, '--uki', work('x.efi'), '--target',
               img, '--partition', 1), 2, '--cpio FILE or --uki FILE')
    p = run('export', '--cpio', cpio, '--target', img, '--partition', 1)
    expect(p, 0, 'exported:', 'a newc archive')
    check(os.stat(cpio).st_mode & 0o777 == 0o600, 'the archive is not 0600')
    cmdline = re.search(r'the command line: (.*)$', p.out, re.M).group(1)
    check('root=PARTUUID' not in cmdline.replace('earlyfs.root=', '') and
          'init=' not in cmdline and 'earlyfs.root=' in cmdline, cmdline)
    listing = subprocess.run(['cpio', '-t', '--quiet'], stdin=open(cpio, 'rb'),
                             capture_output=True, text=True).stdout.split()
    check('init' in listing and 'init.d/50-hello' in listing and
          'sbin/earlyfs-init' in listing and not [
              f for f in listing if 'vmlinuz' in f or f.startswith('extlinux')],
          listing)
    # the partition wiped: the archive alone is the early userspace
    off, size = harness.partitions(img)[1][0]
    with open(img, 'r+b') as f:
        f.seek(off)
        f.write(b'\0' * (1 << 20))
    with harness.qemu(work, img, extra=[
            '-kernel', harness.kernel_image(), '-initrd', cpio,
            '-append', cmdline + ' console=ttyS0']) as c:
        exported_boot(c, r'EXPORTED-FRAGMENT-RAN')
    # a unified kernel image, signed, on an ESP of its own
    os.makedirs(work('uefi'))
    img = gpt_image(lambda *p: work('uefi', *p))
    expect(run('provision', img, '--partition', 2, '--root',
               'PARTUUID=' + partuuid(img, 3), '--kernel',
               harness.kernel_image(), '--menu-timeout', '1'), 0)
    expect(run('add', '50-hello', '-', *tgt(img),
               input='#!/bin/sh\necho EXPORTED-UKI-RAN\n'), 0)
    key, cert = keys(work)
    uki = work('early.efi')
    with recorded_in(work('seal.conf')):
        expect(run('export', '--uki', uki, *tgt(img)), 2,
               'give --key KEY --cert CERT')
        p = run('export', '--uki', uki, '--key', key, '--cert', cert,
                *tgt(img))
    expect(p, 0, 'exported:', 'signed with')
    v = subprocess.run(['sbverify', '--cert', cert, uki], capture_output=True,
                       text=True)
    check(v.returncode == 0, v.stdout + v.stderr)
    mtools(img, 'mcopy', '-o', uki, '::/EFI/BOOT/BOOTX64.EFI')
    off, size = harness.partitions(img)[1][1]
    with open(img, 'r+b') as f:
        f.seek(off)
        f.write(b'\0' * (1 << 20))
    with sealed_boot(work, img, work('vars.fd')) as c:
        exported_boot(c, r'EXPORTED-UKI-RAN')
    # a stock kernel, whose disk drivers are modules: its stub in front
    from tests.cli.test_kernels import STOCK_CLOUD, stock
    os.makedirs(work('cloud'))
    img = cloud_partition(lambda *p: work('cloud', *p))
    expect(run('add', '50-hello', '-', *tgt(img),
               input='#!/bin/sh\necho EXPORTED-CLOUD-RAN\n'), 0)
    cpio = work('cloud.cpio')
    p = run('export', '--cpio', cpio, *tgt(img))
    expect(p, 0, "behind the kernel's module stub")
    cmdline = re.search(r'the command line: (.*)$', p.out, re.M).group(1)
    off, size = harness.partitions(img)[1][1]
    with open(img, 'r+b') as f:
        f.seek(off)
        f.write(b'\0' * (1 << 20))
    with harness.qemu(work, img, timeout=300, extra=[
            '-kernel', os.path.join(STOCK_CLOUD, stock(STOCK_CLOUD)[-1]),
            '-initrd', cpio, '-append', cmdline + ' console=ttyS0']) as c:
        exported_boot(c, r'EXPORTED-CLOUD-RAN')
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/vda3', c.text()),
          'the root was not found through the stub\'s modules')


EFITOOLS = ('/usr/bin/cert-to-efi-sig-list', '/usr/bin/sign-efi-sig-list',
            '/usr/bin/sbverify')
GLOBAL = '8be4df61-93ca-11d2-aa0d-00e098032b8c'
STUB = '/usr/lib/systemd/boot/efi/linuxx64.efi.stub'
SDBOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi'
DB = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f'


def der(pem):
    return subprocess.run(['openssl', 'x509', '-in', pem, '-outform', 'der'],
                          check=True, capture_output=True).stdout


def distribution_db(work):
    """db's file for efivarfs holding a certificate that stands for the
    vendor's or the distribution's (a test's own): the attributes, then
    an update signed with its own key (setup mode checks no signature of
    db's) of one signature list.  Its certificate's DER."""
    pem, key = work('dist.pem'), work('dist.key')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                    '-nodes', '-keyout', key, '-out', pem, '-days', '30',
                    '-subj', '/CN=Stand-in Distribution CA'],
                   check=True, capture_output=True)
    subprocess.run(['cert-to-efi-sig-list', pem, work('dist.esl')],
                   check=True, capture_output=True)
    subprocess.run(['sign-efi-sig-list', '-k', key, '-c', pem, 'db',
                    work('dist.esl'), work('dist.auth')], check=True,
                   capture_output=True)
    with open(work('dist.var'), 'wb') as f:
        f.write(b'\x27\0\0\0' + open(work('dist.auth'), 'rb').read())
    return work('dist.var'), der(pem)


def dumped(out, name):
    """The bytes of a variable the guest printed with od between
    NAME-BEGIN and NAME-END (the 4 bytes of attributes left out)."""
    text = out[out.index(name + '-BEGIN') + len(name) + 6:
               out.index(name + '-END')]
    return bytes(int(h, 16) for h in text.split())[4:]


@test
def enroll_puts_the_key_in_a_firmware_in_setup_mode_and_it_boots_sealed(work):
    """earlyfs enroll on the machine (a UEFI guest of OVMF's Secure Boot
    code with empty variables: setup mode, nothing enforced): db, which
    already holds another certificate, gets the snakeoil one appended, KEK
    too, PK is set, the firmware leaves setup mode; a second run is
    refused and says how (the firmware's setup screen, or shim's MOK).
    The machine booted again (Secure Boot on, the test kernel signed with
    the key): seal with another key is refused, since the firmware would
    not start its images; seal and check with the enrolled one pass.  The
    next boot of the same variables enforces Secure Boot: the sealed
    partition boots, its kernel locked down.  Refused before anything is
    written: a partition not sealed, a partition sealed with another key,
    a key others can read."""
    img = cloud_partition(work)
    key, cert = keys(work)
    with recorded_in(work('seal.conf')):
        expect(run('enroll', '--key', key, '--cert', cert, *tgt(img)), 3,
               'the boot partition is not sealed', 'earlyfs seal')
        # sealed with another key: its loader would not start
        other = work('other')
        os.makedirs(other)
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                        '-nodes', '-keyout', os.path.join(other, 'k'),
                        '-out', os.path.join(other, 'c'), '-days', '30',
                        '-subj', '/CN=Another Owner'], check=True,
                       capture_output=True)
        os.chmod(os.path.join(other, 'k'), 0o600)
        expect(run('seal', '--key', os.path.join(other, 'k'), '--cert',
                   os.path.join(other, 'c'), *tgt(img)), 0, 'sealed:')
        expect(run('enroll', '--key', key, '--cert', cert, *tgt(img)), 3,
               '/EFI/BOOT/BOOTX64.EFI on the ESP is not signed with %s'
               % cert)
        expect(run('seal', '--key', key, '--cert', cert, *tgt(img)), 0,
               'sealed:')
        os.chmod(key, 0o640)
        expect(run('enroll', *tgt(img)), 3, 'chmod 600')
        os.chmod(key, 0o600)
    dist, dist_der = distribution_db(work)
    vars_file = work('vars.fd')
    firmware = dict(code='OVMF_CODE_4M.secboot.fd',
                    vars_template='OVMF_VARS_4M.fd', secure=True)
    efivars = '/sys/firmware/efi/efivars/'
    dump = ''.join('echo %s-BEGIN; od -An -tx1 -v %s%s-%s; echo %s-END\n'
                   % (n, efivars, n, g, n)
                   for n, g in (('db', DB), ('KEK', GLOBAL), ('PK', GLOBAL)))
    mode = 'tail -c1 %sSetupMode-%s | od -An -tu1' % (efivars, GLOBAL)
    out = guest.run_uefi(work, '''set -e
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
echo "SETUP-MODE-BEFORE $(%s)"
cat /dist.var > %sdb-%s
mkdir -p /boot
mount -t ext4 /dev/vda2 /boot
earlyfs enroll --key /db.key --cert /db.pem
echo "SETUP-MODE-AFTER $(%s)"
%sset +e
earlyfs enroll --key /db.key --cert /db.pem
echo "SECOND-RUN $?"
set -e
umount /boot
''' % (mode, efivars, DB, mode, dump), [img], vars_file,
        files=(('/db.key', key), ('/db.pem', cert), ('/dist.var', dist)),
        tools=EFITOOLS, **firmware)
    check(re.search(r'SETUP-MODE-BEFORE\s+1\b', out), 'not in setup mode '
          'before:\n' + out[-2000:])
    for said in ('db: /db.pem appended (1 kept)',
                 'KEK: /db.pem appended (0 kept)', 'PK: /db.pem',
                 'enrolled: /db.pem in db, KEK and PK'):
        check(said in out, 'enroll did not say %r:\n%s' % (said, out[-3000:]))
    check('db holds only this certificate' not in out,
          'warned of an empty db that held another certificate')
    check(re.search(r'SETUP-MODE-AFTER\s+0\b', out), 'still in setup mode')
    # what the firmware holds now: db both certificates, KEK and PK ours
    ours = der(cert)
    db = dumped(out, 'db')
    check(dist_der in db and ours in db, 'db does not hold both')
    check(ours in dumped(out, 'KEK'), 'KEK does not hold the certificate')
    pk = dumped(out, 'PK')
    check(ours in pk and len(pk) == 28 + 16 + len(ours),
          'PK is not the one certificate (%d bytes)' % len(pk))
    check('SECOND-RUN 3' in out and 'not in setup mode' in out and
          'mokutil --import' in out, 'a second enroll was not refused:\n' +
          out[-2000:])
    # the running machine, Secure Boot on now (the test kernel signed with
    # the key): seal checks the firmware trusts the certificate, check too
    other = os.path.join(work('other'), 'k'), os.path.join(work('other'), 'c')
    kernel = work('bzImage.signed')
    subprocess.run(['sbsign', '--key', key, '--cert', cert, '--output',
                    kernel, harness.kernel_image()], check=True,
                   capture_output=True)
    out = guest.run_uefi(work, '''set -e
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
mkdir -p /boot
mount -t ext4 /dev/vda2 /boot
echo "SECURE-BOOT $(tail -c1 %sSecureBoot-%s | od -An -tu1)"
set +e
EARLYFS_SEAL_CONF=/other.conf earlyfs seal --key /other.key --cert /other.pem
echo "OTHER-SEAL $?"
set -e
EARLYFS_SEAL_CONF=/seal.conf earlyfs seal --key /db.key --cert /db.pem
EARLYFS_SEAL_CONF=/seal.conf earlyfs check
umount /boot
''' % (efivars, GLOBAL), [img], vars_file, kernel=kernel,
        files=(('/db.key', key), ('/db.pem', cert), ('/other.key', other[0]),
               ('/other.pem', other[1]), (STUB, STUB), (SDBOOT, SDBOOT)),
        tools=('/usr/bin/objcopy', '/usr/bin/sbsign'), **firmware)
    check(re.search(r'SECURE-BOOT\s+1\b', out), 'Secure Boot is not on:\n'
          + out[-2000:])
    check('OTHER-SEAL 3' in out and 'does not trust /other.pem' in out,
          'a seal with a key the firmware does not trust was not refused:\n'
          + out[-2000:])
    check("the firmware's db holds /db.pem" in out and
          re.search(r'^sealed: generation', out, re.M) and
          '0 problems' in out, 'seal or check on the running machine:\n' +
          out[-2000:])
    with harness.qemu_uefi(work, img, timeout=300, vars_file=vars_file,
                           **firmware) as c:
        c.expect(r'Kernel is locked down from EFI Secure Boot', 240)
        c.expect(r'seal: the boot partition is as sealed \(\d+ ms\)', 60)
        harness.reached_real_root(c)


@test
def seal_on_the_running_machine_reads_the_partition_without_its_esp(work):
    """A running machine (a UEFI guest of the disk) with its ESP mounted on
    the boot partition's efi/, as Debian mounts /boot/efi: seal reads the
    partition alone (efi/ is its empty directory there, as the sealed boot
    sees it: the ESP's files are not in the manifest) and writes the
    images through the ESP's mount, and says that Secure Boot is off
    there; the sealed boot verifies the partition and reaches the real
    root."""
    img = cloud_partition(work)
    key, cert = keys(work)
    out = guest.run_uefi(work, '''set -e
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
mkdir -p /boot
mount -t ext4 /dev/vda2 /boot
mkdir -p /boot/efi
mount -t vfat /dev/vda1 /boot/efi
echo on-the-esp > /boot/efi/stray
EARLYFS_SEAL_CONF=/seal.conf earlyfs seal --key /db.key --cert /db.pem
ls /boot/efi/EFI/Linux
umount /boot/efi
umount /boot
''', [img], work('vars.fd'), files=(('/db.key', key), ('/db.pem', cert),
                                    (STUB, STUB), (SDBOOT, SDBOOT)),
        tools=('/usr/bin/objcopy', '/usr/bin/sbsign'))
    check(re.search(r'sealed: generation \d+, .* on /boot/efi, signed with '
                    r'/db\.pem', out), 'not sealed:\n' + out[-2000:])
    check('Secure Boot is off on this machine' in out,
          'seal did not say Secure Boot is off:\n' + out[-2000:])
    check('efi/linux/earlyfs.efi' in esp_files(img), esp_files(img))
    with sealed_boot(work, img, work('sealed-vars.fd')) as c:
        c.expect(r'seal: the boot partition is as sealed \(\d+ ms\)', 240)
        harness.reached_real_root(c)
