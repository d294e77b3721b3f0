"""The boot loaders of UEFI machines: a GPT image with an ESP, provisioned
and changed with the CLI, booted under OVMF (q35, a private copy of the
firmware's variables per test).  Entries are picked as an admin picks them
at the menu: here by the loader's own default (loader.conf), which the
test sets on the ESP with mtools."""
import hashlib, os, re, subprocess
from tests import harness
from tests.harness import test
from tests.cli.clilib import check, expect, partuuid, run
from tests.cli.test_kernels import kernel_as, newer, real_version

MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK='1', MTOOLSRC='/dev/null')


def gpt_image(work, esp='64M', size='256M', boot='64M'):
    img = work('disk.img')
    harness.root_tree(work('root'))
    expect(run('image', 'create', img, '--size', size, '--boot-size', boot,
               '--esp-size', esp, '--root-from', work('root')), 0,
           'partition 1 the ESP')
    return img


def provision_uefi(img, *extra):
    return run('provision', img, '--partition', 2, '--root',
               'PARTUUID=' + partuuid(img, 3), '--kernel',
               harness.kernel_image(), '--menu-timeout', '1', *extra)


def esp_at(img):
    out = subprocess.run(['sfdisk', '-J', img], capture_output=True,
                         text=True, check=True).stdout
    start = int(re.search(r'"start":\s*(\d+)', out).group(1))
    size = int(re.search(r'"size":\s*(\d+)', out).group(1))
    return start * 512, size * 512


def mtools(img, tool, *args, check_ok=True, stdin=None):
    off, _ = esp_at(img)
    p = subprocess.run([tool, '-i', '%s@@%d' % (img, off)] + list(args),
                       capture_output=True, env=MTOOLS_ENV, input=stdin)
    if check_ok:
        check(p.returncode == 0, '%s %s: %s' % (tool, args, p.stderr))
    return p.stdout.decode(errors='replace')


def esp_files(img):
    return sorted(l[3:] for l in mtools(img, 'mdir', '-/', '-b', '::/')
                  .splitlines() if not l.endswith('/'))


def esp_read(img, path):
    return mtools(img, 'mtype', '::' + path)


def choose(img, entry):
    """The entry the next boots take, as loader.conf's default."""
    conf = esp_read(img, '/loader/loader.conf')
    conf = re.sub(r'(?m)^default .*$', 'default ' + entry, conf)
    mtools(img, 'mcopy', '-o', '-', '::/loader/loader.conf',
           stdin=conf.encode())


def esp_sha(img):
    off, size = esp_at(img)
    h = hashlib.sha256()
    with open(img, 'rb') as f:
        f.seek(off)
        h.update(f.read(size))
    return h.hexdigest()


T = ('--target',)


def tgt(img):
    return ('--target', img, '--partition', 2)


@test
def uefi_systemd_boot_boots_default_rescue_previous_and_kernels(work):
    """systemd-boot on a GPT image: provision picks it (auto), installs it
    as the firmware's removable-media loader, exports one entry per menu
    entry with the kernel beside it; the default boots to the real root,
    rescue gives busybox's shell, previous boots the generation before a
    broken one, and a kernel added then removed comes and goes on the ESP
    with its entry."""
    img = gpt_image(work)
    p = provision_uefi(img)
    expect(p, 0, 'loader     systemd-boot, ESP partition 1 of',
           'generation 1, its entries on the ESP')
    files = esp_files(img)
    v0 = real_version()
    for f in ('EFI/BOOT/BOOTX64.EFI', 'EFI/systemd/systemd-bootx64.efi',
              'loader/loader.conf', 'loader/entries/earlyfs.conf',
              'loader/entries/earlyfs.rescue.conf',
              'loader/entries/earlyfs.previous.conf',
              'loader/entries/earlyfs-%s.conf' % v0,
              'earlyfs/vmlinuz-%s' % v0):
        check(f in files, '%s is not on the ESP: %s' % (f, files))
    entry = esp_read(img, '/loader/entries/earlyfs.conf')
    check('linux /earlyfs/vmlinuz-%s\n' % v0 in entry and
          'init=/sbin/earlyfs-init' in entry, entry)
    check('earlyfs.generation=previous' in
          esp_read(img, '/loader/entries/earlyfs.previous.conf'), 'previous')
    expect(run('check', *tgt(img)), 0, 'systemd-boot (4 entries on the '
           'ESP): 0 problems')
    expect(run('status', img, '--partition', 2), 0,
           'loader:   systemd-boot, ESP partition 1',
           'entries:  earlyfs.conf, earlyfs.rescue.conf')
    # once: an EFI variable, which an image does not have
    expect(run('once', 'rescue', *tgt(img)), 3, 'LoaderEntryOneShot',
           'an image has none')
    # the default entry
    with harness.qemu_uefi(work, img) as c:
        harness.reached_real_root(c)
        out = c.text()
    check('init=/sbin/earlyfs-init' in out, 'not the earlyfs entry')
    # rescue: busybox init's shell
    choose(img, 'earlyfs.rescue.conf')
    work.name += '-rescue'
    with harness.qemu_uefi(work, img) as c:
        c.expect(r'#', 90)
        # ash asks the terminal where its cursor is: the first line
        # typed may answer that; the second is read as a command
        c.send('')
        for _ in range(3):
            c.send('echo RESCUE-$((6*7))')
            try:
                c.expect('RESCUE-42', 10)
                break
            except harness.BootFailure:
                continue
        check('RESCUE-42' in c.text(), 'the rescue shell ran nothing')
        c.send('poweroff -f')
        c.wait_exit()
        c.assert_no_panic()
        check('REALINIT' not in c.text(), 'rescue reached the real root')
    # a broken fragment: the default stops at the rescue shell, previous
    # boots the generation before it
    choose(img, 'earlyfs.conf')
    harness.write(work('broken'), 'echo "FRAG broken"\nexit 7\n')
    p = run('add', '20-broken', work('broken'), *tgt(img))
    expect(p, 0)
    gen = int(re.search(r'generation (\d+)', p.out).group(1))
    check(not re.search(r'removed|wrote', p.out), 'an edit of a fragment '
          'wrote to the ESP: %s' % p.out)
    work.name += '-broken'
    with harness.qemu_uefi(work, img) as c:
        c.expect(r'fragment 20-broken failed: exit status 7', 90)
        c.expect(r'#', 30)
        c.send('poweroff -f')
        c.wait_exit()
    choose(img, 'earlyfs.previous.conf')
    work.name += '-previous'
    with harness.qemu_uefi(work, img) as c:
        c.expect(r'earlyfs.generation=previous: running generation %d'
                 % (gen - 1), 90)
        harness.reached_real_root(c)
        check('FRAG broken' not in c.text(), 'previous ran the broken one')
    expect(run('rm', '20-broken', *tgt(img)), 0)
    # a kernel added: its file and entry on the ESP; the default boots it
    choose(img, 'earlyfs.conf')
    v1 = newer(v0)
    expect(run('kernel', 'add', kernel_as(work, v1), *tgt(img)), 0,
           'the default label boots %s' % v1)
    files = esp_files(img)
    check('earlyfs/vmlinuz-%s' % v1 in files and
          'loader/entries/earlyfs-%s.conf' % v1 in files, files)
    check('vmlinuz-%s' % v1 in esp_read(img, '/loader/entries/earlyfs.conf'),
          'the default entry does not boot the new kernel')
    # previous boots the kernel before (its generation's default)
    check('vmlinuz-%s' % v0 in
          esp_read(img, '/loader/entries/earlyfs.previous.conf'),
          'previous does not boot the kernel before')
    work.name += '-v1'
    with harness.qemu_uefi(work, img) as c:
        harness.reached_real_root(c)
    # removed: the entry and its file go from the ESP
    expect(run('kernel', 'rm', v1, *tgt(img)), 0)
    expect(run('add', '60-after', '/dev/null', *tgt(img)), 0)
    files = esp_files(img)
    check('loader/entries/earlyfs-%s.conf' % v1 not in files and
          'earlyfs/vmlinuz-%s' % v1 not in files,
          'a removed kernel stays on the ESP: %s' % files)
    expect(run('check', *tgt(img)), 0, '0 problems')


@test
def uefi_esp_too_small_is_refused_with_its_bytes_unchanged(work):
    """An ESP with no room for a new kernel: kernel add is refused before
    anything is written, on the ESP (byte for byte) and on the boot
    partition (no generation); a deleted entry is found by check and
    written again by loader sync; an export an interrupted change owed is
    written by the next command; loader remove takes earlyfs's files off
    the ESP and leaves systemd-boot there."""
    img = gpt_image(work, esp='16M')
    expect(provision_uefi(img), 0)
    off, size = esp_at(img)
    free = int(re.search(r'([\d ]+) bytes free', mtools(
        img, 'mdir', '::/')).group(1).replace(' ', ''))
    filler = max(free - (1500 << 10), 0)    # less than the kernel's size
    mtools(img, 'mcopy', '-', '::/filler', stdin=b'\0' * filler)
    before = esp_sha(img)
    gens = run('generations', *tgt(img)).out
    v1 = newer(real_version())
    p = run('kernel', 'add', kernel_as(work, v1), *tgt(img))
    expect(p, 3, 'the ESP (partition 1 of', 'KiB free and the boot entries '
           'need', 'nothing was changed')
    check(esp_sha(img) == before, 'the ESP changed')
    check(run('generations', *tgt(img)).out == gens, 'a generation was '
          'recorded')
    mtools(img, 'mdel', '::/filler')
    # an entry gone from the ESP: check names it, loader sync writes it
    mtools(img, 'mdel', '::/loader/entries/earlyfs.rescue.conf')
    expect(run('check', *tgt(img)), 1, '/loader/entries/earlyfs.rescue.conf '
           'is missing', "'earlyfs loader sync' writes it")
    expect(run('loader', 'sync', *tgt(img)), 0, 'the ESP holds the boot '
           'entries')
    expect(run('check', *tgt(img)), 0, '0 problems')
    # an export owed by a change that was killed: the next command does it
    mtools(img, 'mdel', '::/loader/entries/earlyfs.conf')
    with harness.partition_mounted(img, 2, work('m')) as m:
        open(os.path.join(m, '.loader-export-owed'), 'w').close()
    expect(run('add', '60-x', '/dev/null', *tgt(img)), 0,
           'writing the boot entries an interrupted change owed the ESP')
    check('loader/entries/earlyfs.conf' in esp_files(img), 'not written')
    expect(run('check', *tgt(img)), 0, '0 problems')
    # loader remove: earlyfs's files go, the loader stays
    expect(run('loader', 'remove', *tgt(img)), 0, "earlyfs's entries are "
           'gone')
    files = esp_files(img)
    check(not [f for f in files if 'earlyfs' in f], files)
    check('EFI/BOOT/BOOTX64.EFI' in files and 'loader/loader.conf' in files,
          files)
    expect(run('loader', 'sync', *tgt(img)), 0)
    expect(run('check', *tgt(img)), 0, '0 problems')


@test
def provision_picks_and_refuses_loaders(work):
    """auto: systemd-boot for a GPT image with an ESP, extlinux without;
    systemd-boot without an ESP, an ESP that is not one, or a partition
    number that is the boot partition: refused before anything is
    written."""
    img = work('plain.img')
    expect(run('image', 'create', img, '--size', '96M', '--table', 'gpt'),
           0)
    p = run('provision', img, '--partition', 1, '--root', 'PARTUUID=' +
            partuuid(img, 2), '--kernel', harness.kernel_image(),
            '--bootloader', 'systemd-boot', '--dry-run')
    expect(p, 3, 'boots from an EFI System Partition and', 'has none')
    expect(run('provision', img, '--partition', 1, '--root', 'PARTUUID=' +
               partuuid(img, 2), '--kernel', harness.kernel_image(),
               '--dry-run'), 0, 'loader     extlinux')
    expect(run('provision', img, '--partition', 1, '--root', 'PARTUUID=' +
               partuuid(img, 2), '--kernel', harness.kernel_image(),
               '--bootloader', 'lilo', '--dry-run'), 2,
           '--bootloader lilo: one of auto, extlinux, systemd-boot')
    img = gpt_image(work)
    expect(provision_uefi(img, '--esp', '3', '--dry-run'), 3,
           'partition 3 of', 'is not an EFI System Partition')
    expect(provision_uefi(img, '--esp', '2', '--dry-run'), 3)
    expect(provision_uefi(img, '--bootloader', 'extlinux', '--esp', '1',
                          '--dry-run'), 2, '--esp goes with a loader on the '
           'ESP')
    expect(run('image', 'create', work('dos.img'), '--size', '96M',
               '--esp-size', '32M', '--table', 'dos'), 2,
           '--esp-size goes with a GPT table')
