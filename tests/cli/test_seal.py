"""earlyfs seal: a boot partition booted only as it was sealed, under
Secure Boot with the owner's key (OVMF's snakeoil code and variables: the
snakeoil certificate is the only one in db).  Debian's cloud kernel (its
disk drivers modules, locked down under Secure Boot) in signed unified
kernel images that systemd-boot, signed too, starts."""
import contextlib, os, re, shutil, subprocess
from tests import harness
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


def cloud_partition(work):
    from tests.cli.test_kernels import STOCK_CLOUD, stock, modules_of
    img = gpt_image(work, size='320M', boot='96M')
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
    """The key's mode and owner are checked before anything is made; a
    partition that boots through extlinux is refused with the way out;
    a missing --cert is a usage error."""
    img = cloud_partition(work)
    key, cert = keys(work)
    esp = esp_files(img)
    with recorded_in(work('seal.conf')):
        refusals(work, img, key, cert, esp)
    check(not os.path.exists(work('seal.conf')), 'a refused seal recorded')


def refusals(work, img, key, cert, esp):
    os.chmod(key, 0o640)
    expect(run('seal', '--key', key, '--cert', cert, *tgt(img)), 3,
           'mode 0640', 'chmod 600')
    os.chmod(key, 0o600)
    os.chown(key, 65534, 0)
    expect(run('seal', '--key', key, '--cert', cert, *tgt(img)), 3,
           'owner uid 65534', 'chown root')
    os.chown(key, 0, 0)
    expect(run('seal', '--key', key, *tgt(img)), 2, 'no key is recorded',
           '--cert CERT')
    expect(run('seal', '--key', work('none'), '--cert', cert, *tgt(img)), 2,
           'No such file')
    check(esp_files(img) == esp, 'a refused seal changed the ESP: %s'
          % esp_files(img))
    check(run('loader', 'status', *tgt(img)).out.count('sealed') == 0, 'said sealed')


def tamper(work, img):
    """What someone with the disk for a few minutes does: a fragment
    changed, a trojan busybox that runs the real one, a new fragment, a
    mode and an owner changed."""
    with harness.partition_mounted(img, 2, work('m')) as m:
        frag = sorted(f for f in os.listdir(os.path.join(m, 'init.d')))[0]
        with open(os.path.join(m, 'init.d', frag), 'a') as f:
            f.write('echo TAMPERED-FRAGMENT-RAN\n')
        bb = os.path.join(m, 'bin', 'busybox')
        os.rename(bb, bb + '.real')
        with open(bb, 'w') as f:
            f.write('#!/bin/busybox.real sh\necho TROJAN-RAN\n'
                    'exec /bin/busybox.real "$@"\n')
        os.chmod(bb, 0o755)
        with open(os.path.join(m, 'init.d', '05-evil'), 'w') as f:
            f.write('#!/bin/sh\necho EVIL-RAN\n')
        os.chmod(os.path.join(m, 'init.d', '05-evil'), 0o755)
        os.chmod(os.path.join(m, 'etc', 'fstab'), 0o666)
        os.chown(os.path.join(m, 'etc'), 1000, 0)
    return frag


@test
def sealed_partition_boots_under_secure_boot_and_refuses_every_change(work):
    """Sealed with the snakeoil key: the loader and the images are signed,
    no type 1 entry or unsigned kernel is left on the ESP, the editor is
    off; the boot verifies the partition and reaches the real root (the
    kernel locked down).  Without a recorded key a change is refused; with
    it a fragment added is sealed again and runs, and the previous image
    (sealed for generation 1) still boots, without it.  Changed
    offline (a fragment, a trojan busybox, a new fragment, a mode, an
    owner) the partition is refused: each difference said, nothing of it
    ran, no real root.  An image whose signature is removed is refused by
    the firmware."""
    img = cloud_partition(work)
    key, cert = keys(work)
    with recorded_in(work('seal.conf')):
        sealed_life(work, img, key, cert)


def sealed_life(work, img, key, cert):
    p = run('seal', '--key', key, '--cert', cert, *tgt(img))
    expect(p, 0, 'sealed:', '/EFI/Linux/earlyfs.efi')
    files = esp_files(img)
    check('efi/linux/earlyfs.efi' in files and
          'efi/linux/earlyfs.rescue.efi' in files, files)
    check(not [f for f in files if f.startswith('loader/entries/') or
               'vmlinuz' in f], 'unsealed entries left: %s' % files)
    conf = esp_read(img, '/loader/loader.conf')
    check('editor no' in conf and 'default earlyfs.efi' in conf, conf)
    vars_file = work('vars.fd')
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'Kernel is locked down from EFI Secure Boot', 240)
        c.expect(r'seal: the boot partition is as sealed \(\d+ ms\)', 60)
        harness.reached_real_root(c)
    check('key=%s\n' % key in open(work('seal.conf')).read(),
          'the key was not recorded')
    expect(run('loader', 'status', *tgt(img)), 0, 'sealed:   the signed images')
    # no key recorded here: a change is refused, nothing written
    os.rename(work('seal.conf'), work('seal.conf.away'))
    gens = run('generations', *tgt(img)).out
    expect(run('add', '50-hello', '-', *tgt(img), input='#!/bin/sh\n'), 3,
           'is sealed and no key is recorded here', 'earlyfs seal --key')
    check(run('generations', *tgt(img)).out == gens, 'a refused change '
          'was recorded')
    os.rename(work('seal.conf.away'), work('seal.conf'))
    # a new fragment: sealed again with the recorded key, it runs
    expect(run('add', '50-hello', '-', *tgt(img),
               input='#!/bin/sh\necho HELLO-FROM-SEALED\n'), 0,
           'sealed: ')
    check('efi/linux/earlyfs.previous.efi' in esp_files(img),
          'no previous image: %s' % esp_files(img))
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'seal: the boot partition is as sealed', 240)
        c.expect(r'HELLO-FROM-SEALED', 60)
        harness.reached_real_root(c)
    # the previous image: generation 1, sealed for it, still boots
    choose(img, 'earlyfs.previous.efi')
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'seal: the boot partition is as sealed', 240)
        c.expect(r'running generation 1\'s fragments and fstab', 60)
        harness.reached_real_root(c)
        out = c.text()
    check('HELLO-FROM-SEALED' not in out, 'the previous image ran the '
          'fragment added after it')
    choose(img, 'earlyfs.efi')
    frag = tamper(work, img)
    with sealed_boot(work, img, vars_file) as c:
        c.expect(r'seal: stopped', 240)
        out = c.text()
    for what in (r'seal: init\.d/%s: sealed .f 0755 0 0 \d+:[0-9a-f]{64} '
                 r'init\.d/%s., found .f 0755 0 0 \d+:[0-9a-f]{64} '
                 % (re.escape(frag), re.escape(frag)),
                 r'seal: bin/busybox: sealed .f 0755 0 0 \d+:[0-9a-f]{64} '
                 r'bin/busybox., found .f 0755 0 0 \d+:',
                 r'seal: bin/busybox\.real: not sealed',
                 r'seal: init\.d/05-evil: not sealed',
                 r'seal: etc/fstab: sealed .f 0644 .*, found .f 0666 ',
                 r'seal: etc: sealed .d 0755 0 0 - etc., found .d 0755 1000 0 ',
                 r'not what was sealed \(6 differences\): nothing on it runs'):
        check(re.search(what, out), 'the console does not say %r' % what)
    for ran in ('TAMPERED-FRAGMENT-RAN', 'TROJAN-RAN', 'EVIL-RAN',
                'REALINIT', 'HELLO-FROM-SEALED'):
        check(ran not in out, '%s: something of the changed partition ran'
              % ran)
    check('Kernel panic' not in out, 'a panic')
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
