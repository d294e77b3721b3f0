"""The boot loaders of UEFI machines: a GPT image with an ESP, provisioned
and changed with the CLI, booted under OVMF (q35, a private copy of the
firmware's variables per test).  Entries are picked as an admin picks them
at the menu: here by the loader's own default (loader.conf), which the
test sets on the ESP with mtools."""
import hashlib, os, re, shutil, subprocess
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
    """The ESP's files, in lower case (FAT's names have none: mtools
    lists a short name in upper case)."""
    return sorted(l[3:].lower() for l in mtools(img, 'mdir', '-/', '-b',
                                                '::/').splitlines()
                  if not l.endswith('/'))


def esp_read(img, path):
    return mtools(img, 'mtype', '::' + path)


def default_entry(img):
    """The default entry's file name now: with its boot counter
    (earlyfs+LEFT[-DONE].conf) until it is blessed (earlyfs.conf)."""
    names = [f.split('/')[-1] for f in esp_files(img)
             if re.fullmatch(r'loader/entries/earlyfs(\+\d+(-\d+)?)?\.conf',
                             f)]
    check(len(names) == 1, 'not one default entry: %s' % esp_files(img))
    return names[0]


def read_default(img):
    return esp_read(img, '/loader/entries/' + default_entry(img))


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
              'loader/loader.conf', 'loader/entries/earlyfs+3.conf',
              'loader/entries/earlyfs.rescue.conf',
              'loader/entries/earlyfs.previous.conf',
              'loader/entries/earlyfs-%s.conf' % v0,
              'earlyfs/earlyfs-vmlinuz-%s' % v0):
        check(f.lower() in files, '%s is not on the ESP: %s' % (f, files))
    entry = read_default(img)
    check('linux /earlyfs/earlyfs-vmlinuz-%s\n' % v0 in entry and
          'init=/sbin/earlyfs-init' in entry, entry)
    check('earlyfs.generation=previous' in
          esp_read(img, '/loader/entries/earlyfs.previous.conf'), 'previous')
    expect(run('check', *tgt(img)), 0, 'systemd-boot (4 entries): 0 '
           'problems')
    expect(run('status', img, '--partition', 2), 0,
           'loader:   systemd-boot, ESP partition 1',
           'entries:  earlyfs', 'earlyfs.rescue.conf',
           'earlyfs+3.conf (3 tries left)')
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
        c.shell('echo RESCUE-$((6*7))', 'RESCUE-42', 90)
        c.shell_poweroff()
        c.assert_no_panic()
        check('REALINIT' not in c.text(), 'rescue reached the real root')
    # a broken fragment: the default stops at the rescue shell, previous
    # boots the generation before it
    choose(img, 'earlyfs*')
    harness.write(work('broken'), 'echo "FRAG broken"\nexit 7\n')
    p = run('add', '20-broken', work('broken'), *tgt(img))
    expect(p, 0)
    gen = int(re.search(r'generation (\d+)', p.out).group(1))
    # only the default entry is written again (its tries for the new
    # generation); no kernel, no other entry
    check(re.findall(r'removed (\S+)', p.out) ==
          ['/loader/entries/earlyfs+2-1.conf'] and 'wrote' not in p.out,
          'an edit of a fragment wrote more to the ESP: %s' % p.out)
    check(default_entry(img) == 'earlyfs+3.conf', esp_files(img))
    work.name += '-broken'
    with harness.qemu_uefi(work, img) as c:
        c.expect(r'fragment 20-broken failed: exit status 7', 90)
        c.shell_poweroff()
    choose(img, 'earlyfs.previous.conf')
    work.name += '-previous'
    with harness.qemu_uefi(work, img) as c:
        c.expect(r'earlyfs.generation=previous: running generation %d'
                 % (gen - 1), 90)
        harness.reached_real_root(c)
        check('FRAG broken' not in c.text(), 'previous ran the broken one')
    expect(run('rm', '20-broken', *tgt(img)), 0)
    # a kernel added: its file and entry on the ESP; the default boots it
    choose(img, 'earlyfs*')
    v1 = newer(v0)
    expect(run('kernel', 'add', kernel_as(work, v1), *tgt(img)), 0,
           'the default label boots %s' % v1)
    files = esp_files(img)
    check('earlyfs/earlyfs-vmlinuz-%s' % v1 in files and
          'loader/entries/earlyfs-%s.conf' % v1 in files, files)
    check('vmlinuz-%s' % v1 in read_default(img),
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
          'earlyfs/earlyfs-vmlinuz-%s' % v1 not in files,
          'a removed kernel stays on the ESP: %s' % files)
    expect(run('check', *tgt(img)), 0, '0 problems')


BLESS_INIT = """#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
export EARLYFS_DATADIR=/earlyfs
echo "BLESS-INIT pid=$$ $(cat /proc/cmdline)"
earlyfs loader bless
earlyfs loader status
echo BLESS-DONE
poweroff -f
"""


@test
def uefi_systemd_boot_counts_tries_blesses_and_falls_back(work):
    """systemd-boot's boot counting: the default entry of a new generation
    is written with 3 tries (earlyfs+3.conf); a boot that reaches the real
    root is blessed there by 'earlyfs loader bless' (the real root here is
    a system with earlyfs on it); a broken generation whose failure
    reboots (earlyfs.shell=reboot) uses its tries with nobody at the
    console, and the next boot falls back to 'previous' by itself; check
    says so; the next change gives the default its tries again."""
    from tests import guest
    guest.initramfs(work, 'true\n', earlyfs=True, uefi=True)
    tree = work('initramfs')
    os.makedirs(os.path.join(tree, 'boot'), exist_ok=True)
    harness.write(os.path.join(tree, 'bless-init'), BLESS_INIT, 0o755)
    img = work('disk.img')
    expect(run('image', 'create', img, '--size', '320M', '--boot-size',
               '64M', '--esp-size', '64M', '--root-from', tree), 0)
    expect(provision_uefi(img, '--append',
                          'earlyfs.shell=reboot earlyfs.init=/bless-init'),
           0)
    check(default_entry(img) == 'earlyfs+3.conf', esp_files(img))
    vars_file = work('vars.fd')

    def boot(suffix):
        name = work.name
        work.name = name + suffix
        try:
            with harness.qemu_uefi(work, img, vars_file=vars_file) as c:
                m = c.expect(r'BLESS-DONE|earlyfs.shell=reboot: restarting',
                             120)
                c.wait_exit(60)
                c.assert_no_panic()
                return c.text(), m.group(0) == 'BLESS-DONE'
        finally:
            work.name = name

    # a good boot: counted (the loader renamed it), then blessed
    out, up = boot('-good')
    check(up and 'blessed /loader/entries/earlyfs+2-1.conf' in out,
          'not blessed:\n' + out[-2500:])
    check(default_entry(img) == 'earlyfs.conf', esp_files(img))
    expect(run('check', *tgt(img)), 0, '0 problems')
    # a broken generation: three tries, each a reboot
    harness.write(work('broken'), 'echo "FRAG broken"\nexit 7\n')
    p = run('add', '20-broken', work('broken'), *tgt(img))
    expect(p, 0)
    gen = int(re.search(r'generation (\d+)', p.out).group(1))
    check(default_entry(img) == 'earlyfs+3.conf', 'a new generation got no '
          'tries: %s' % esp_files(img))
    for i in range(3):
        out, up = boot('-try%d' % i)
        check(not up and 'fragment 20-broken failed' in out,
              'try %d did not fail and restart:\n%s' % (i, out[-2500:]))
    check(default_entry(img) == 'earlyfs+0-3.conf', esp_files(img))
    expect(run('status', img, '--partition', 2), 0, 'earlyfs+0-3.conf '
           '(out of tries')
    expect(run('check', *tgt(img)), 1, 'earlyfs+0-3.conf failed its 3 '
           'tries', 'boots the next entry (previous)')
    # nobody at the console: the loader falls back to previous
    out, up = boot('-fallback')
    check(up and 'earlyfs.generation=previous: running generation %d'
          % (gen - 1) in out and 'FRAG broken' not in out,
          'no fallback to previous:\n' + out[-2500:])
    check('this boot was not counted' in out, 'previous was counted')
    # repaired: the change gives the default its tries again
    expect(run('rm', '20-broken', *tgt(img)), 0, 'removed /loader/entries/'
           'earlyfs+0-3.conf')
    check(default_entry(img) == 'earlyfs+3.conf', esp_files(img))
    out, up = boot('-repaired')
    check(up and 'earlyfs.generation=previous' not in out.split(
        'BLESS-INIT')[1].split('\n')[0] and 'blessed' in out,
          'the repaired default did not boot:\n' + out[-2500:])
    expect(run('check', *tgt(img)), 0, '0 problems')
    # boot_tries=0: no counting; a number out of range is a problem
    for tries, code in (('0', 0), ('12', 1)):
        with harness.partition_mounted(img, 2, work('m')) as m:
            conf = os.path.join(m, 'etc/earlyfs.conf')
            text = re.sub(r'(?m)^boot_tries=.*\n', '', open(conf).read())
            harness.write(conf, text + 'boot_tries=%s\n' % tries)
        if code == 0:
            expect(run('loader', 'sync', *tgt(img)), 0)
            check(default_entry(img) == 'earlyfs.conf', esp_files(img))
        expect(run('check', *tgt(img)), code,
               '0 problems' if code == 0 else 'boot_tries=12 is not a '
               'number of tries from 0 (no counting) to 9')


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
    mtools(img, 'mdel', '::/loader/entries/earlyfs+3.conf')
    with harness.partition_mounted(img, 2, work('m')) as m:
        open(os.path.join(m, '.loader-export-owed'), 'w').close()
    expect(run('add', '60-x', '/dev/null', *tgt(img)), 0,
           'writing the boot entries an interrupted change owed the ESP')
    check('loader/entries/earlyfs+3.conf' in esp_files(img), 'not written')
    expect(run('check', *tgt(img)), 0, '0 problems')
    # loader remove: earlyfs's files go, the loader stays
    expect(run('loader', 'remove', *tgt(img)), 0, "earlyfs's entries are "
           'gone')
    files = esp_files(img)
    check(not [f for f in files if 'earlyfs' in f], files)
    check('efi/boot/bootx64.efi' in files and 'loader/loader.conf' in files,
          files)
    expect(run('loader', 'sync', *tgt(img)), 0)
    expect(run('check', *tgt(img)), 0, '0 problems')


@test
def provision_picks_and_refuses_loaders(work):
    """auto: systemd-boot for a GPT image with an ESP, extlinux without;
    systemd-boot without an ESP, an ESP that is not one, or a partition
    number that is the boot partition: refused before anything is
    written; so is extlinux over another loader's MBR code."""
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
    # another loader's code in the MBR (GRUB's boot.img): extlinux does
    # not replace it unless --force; --no-mbr leaves it
    img = work('grubmbr.img')
    expect(run('image', 'create', img, '--size', '96M'), 0)
    with open('/usr/lib/grub/i386-pc/boot.img', 'rb') as f:
        grub = f.read(440)
    with open(img, 'r+b') as f:
        f.write(grub)
    before = hashlib.sha256(open(img, 'rb').read()).hexdigest()
    prov = ('provision', img, '--partition', 1, '--root', 'PARTUUID=' +
            partuuid(img, 2), '--kernel', harness.kernel_image())
    expect(run(*prov), 3, "holds GRUB's boot code", '--no-mbr', '--force',
           'nothing was written')
    check(hashlib.sha256(open(img, 'rb').read()).hexdigest() == before,
          'a refused provision wrote to the image')
    expect(run(*prov, '--no-mbr'), 0)
    check(open(img, 'rb').read(440) == grub, '--no-mbr changed the MBR')
    expect(run(*prov, '--force'), 0, "mbr        GRUB's boot code there, "
           "to be replaced (--force)")
    check(open(img, 'rb').read(440) != grub, 'the MBR was not replaced')
    p = run(*prov, '--force')
    expect(p, 0)
    check("mbr        syslinux's code there" in p.out,
          'syslinux\'s own code was taken for another\'s: %s' % p.out)


def grub_once_round(work, img, boot):
    """once rescue: the next boot takes it (busybox's shell), the one
    after is the default again (next_entry was consumed); once previous
    boots the generation before."""
    expect(run('once', 'rescue', *tgt_of(img)), 0, "grubenv's next_entry")
    expect(run('loader', 'status', *tgt_of(img)), 0,
           'the next boot takes rescue (once)')
    name = work.name
    work.name = name + '-rescue'
    with boot(work, img) as c:
        c.expect(r"Booting `earlyfs rescue shell", 90)
        c.shell_poweroff()
        check('REALINIT' not in c.text(), 'rescue reached the real root')
    work.name = name + '-after'
    with boot(work, img) as c:
        c.expect(r"Booting `earlyfs \(", 90)
        harness.reached_real_root(c)
    p = run('add', '60-after', '-', *tgt_of(img), input='echo AFTER\n')
    expect(p, 0)
    gen = int(re.search(r'generation (\d+)', p.out).group(1))
    expect(run('once', 'previous', *tgt_of(img)), 0)
    work.name = name + '-previous'
    with boot(work, img) as c:
        c.expect(r'earlyfs.generation=previous: running generation %d'
                 % (gen - 1), 90)
        harness.reached_real_root(c)
        check('AFTER' not in c.text(), 'previous ran the newer generation')
    work.name = name


PART = {}


def tgt_of(img):
    return ('--target', img, '--partition', PART.get(img, 2))


@test
def grub_on_uefi_and_bios_boots_with_once_and_previous(work):
    """GRUB on UEFI (Debian's signed shim and GRUB on the ESP, grub.cfg
    beside them) and on BIOS (a core image in the gap before the first
    partition of a DOS disk, grub.cfg in /grub of the boot partition):
    each reads the kernels from the ext4 boot partition (no copy on the
    ESP), boots the default, takes 'once' from grubenv (a file: it works
    on images) and consumes it, and boots 'previous'."""
    img = gpt_image(work)
    PART[img] = 2
    expect(provision_uefi(img, '--bootloader', 'grub'), 0,
           "Debian's signed shim and GRUB")
    files = esp_files(img)
    check('efi/boot/grub.cfg' in files and 'efi/boot/grubx64.efi' in files
          and not [f for f in files if 'vmlinuz' in f],
          'GRUB on the ESP, no kernel copied: %s' % files)
    cfg = esp_read(img, '/EFI/BOOT/grub.cfg')
    check(re.search(r'search --no-floppy --fs-uuid --set=root \S+\n', cfg)
          and "--id previous" in cfg, cfg)
    expect(run('check', *tgt_of(img)), 0, 'grub (4 entries): 0 problems')
    grub_once_round(work, img, harness.qemu_uefi)
    # check says when Secure Boot would refuse a kernel here
    with harness.partition_mounted(img, 2, work('m')) as m:
        conf = os.path.join(m, 'etc/earlyfs.conf')
        text = open(conf).read()
        harness.write(conf, text + 'secure_boot=yes\n')
        expect(run('check', '--boot', m, '--no-daemon'), 1,
               'not signed: with Secure Boot on')
        harness.write(conf, text)
    # BIOS: a DOS disk, no ESP
    bios = work('bios.img')
    harness.root_tree(work('root-bios'))
    expect(run('image', 'create', bios, '--size', '160M', '--root-from',
               work('root-bios')), 0)
    PART[bios] = 1
    p = run('provision', bios, '--partition', 1, '--root', 'PARTUUID=' +
            partuuid(bios, 2), '--kernel', harness.kernel_image(),
            '--menu-timeout', '1', '--bootloader', 'grub')
    expect(p, 0, 'loader     grub (BIOS)', 'core image in sectors 1-')
    check('  mbr ' not in p.out, 'syslinux MBR written for GRUB')
    with harness.partition_mounted(bios, 1, work('m'), 'ro') as m:
        check(os.path.exists(os.path.join(m, 'grub/grub.cfg')) and
              not os.path.exists(os.path.join(m, 'extlinux')),
              'grub.cfg, no extlinux')
    work.name += '-bios'
    grub_once_round(work, bios, harness.qemu)
    expect(run('check', *tgt_of(bios)), 0, '0 problems')


@test
def secure_boot_with_debians_chain_boots_the_signed_cloud_kernel(work):
    """--secure-boot: Debian's signed shim and GRUB on the ESP, the signed
    cloud kernel with its module stub; an unsigned kernel is refused
    before anything is written (provision and kernel add).  Booted with
    Secure Boot enforced (OVMF's secboot code, Microsoft's keys): the
    kernel says Secure Boot is on and it is locked down, the stub's signed
    modules load, the real root is reached."""
    from tests.cli.test_kernels import STOCK_CLOUD, stock, modules_of
    img = gpt_image(work, size='320M', boot='96M')
    before = hashlib.sha256(open(img, 'rb').read()).hexdigest()
    p = provision_uefi(img, '--secure-boot')
    expect(p, 3, 'is not signed', 'shim and GRUB refuse to boot it')
    check(hashlib.sha256(open(img, 'rb').read()).hexdigest() == before,
          'a refused provision wrote to the image')
    expect(provision_uefi(img, '--secure-boot', '--bootloader',
                          'systemd-boot', '--dry-run'), 2,
           'give --bootloader grub')
    sk = stock(STOCK_CLOUD)[-1]
    v = sk[8:]
    p = run('provision', img, '--partition', 2, '--root',
            'PARTUUID=' + partuuid(img, 3), '--kernel',
            os.path.join(STOCK_CLOUD, sk), '--modules',
            modules_of(STOCK_CLOUD, v), '--driver', 'virtio_blk,virtio_pci',
            '--secure-boot', '--menu-timeout', '1')
    expect(p, 0, 'Secure Boot: the kernel is signed by CN=Debian Secure '
           'Boot CA', 'boots through its module stub')
    expect(run('check', *tgt(img)), 0, '0 problems')
    gens = run('generations', *tgt(img)).out
    expect(run('kernel', 'add', harness.kernel_image(), *tgt(img)), 3,
           'is not signed')
    check(run('generations', *tgt(img)).out == gens, 'a generation was '
          'recorded for a refused kernel')
    with harness.qemu_uefi(work, img, code='OVMF_CODE_4M.secboot.fd',
                           vars_template='OVMF_VARS_4M.ms.fd', secure=True,
                           timeout=300) as c:
        c.expect(r'Kernel is locked down from EFI Secure Boot', 240)
        c.expect(r'secureboot: Secure boot enabled', 30)
        harness.reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/vda3', out),
          'the root was not found through the stub\'s virtio modules')
    check('Linux version %s' % v.split('-')[0] in out, 'not the cloud kernel')


EFISTUB_GUEST = '''
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
earlyfs provision /dev/vda2 --root PARTUUID=%(root)s --kernel /earlyfs/bzImage \\
    --config /earlyfs/config --bootloader efistub --menu-timeout 1 --default
mkdir -p /boot
mount -t ext4 /dev/vda2 /boot
echo LIST1; efibootmgr -v
earlyfs check --no-daemon
EARLYFS_BOOT=/boot /earlyfs/kernel-hook %(v1)s /earlyfs/vmlinuz-%(v1)s
echo LIST2; efibootmgr -v
earlyfs loader status --no-daemon
mkdir -p /cloud
mount -t ext4 -o ro /dev/vdb /cloud
earlyfs kernel add /cloud/boot/vmlinuz-%(cloud)s --modules \
    /cloud/lib/modules/%(cloud)s --driver virtio_blk,virtio_pci --default
echo LIST3; efibootmgr -v
earlyfs once earlyfs --no-daemon
earlyfs loader status --no-daemon
earlyfs check --no-daemon
umount /boot
'''


@test
def running_uefi_machine_boots_through_efistub_entries(work):
    """A running UEFI machine (OVMF starts the test kernel, whose
    initramfs has earlyfs, efibootmgr and mtools): provision --bootloader
    efistub copies the kernel to the ESP and makes one Boot#### per entry
    (all in BootOrder after the machine's own, the default first only
    with --default: it adds, it does not take over); a kernel added
    through the Debian hook gets its file and entry and the default's is
    made again (at its place in BootOrder: --default put it first, and
    nothing else of earlyfs's is there); Debian's cloud kernel added as the default boots with its
    module stub (initrd= on its command line); once sets BootNext; the
    firmware then starts the kernel's EFI stub from the ESP with its
    command line, to the real root, and BootNext is gone after.  On an
    image efistub is refused (no NVRAM)."""
    from tests.cli.test_kernels import STOCK_CLOUD, stock
    img = gpt_image(work)
    expect(provision_uefi(img, '--bootloader', 'efistub', '--dry-run'), 3,
           'an image has none')
    v1 = newer(real_version())
    cloud = stock(STOCK_CLOUD)[-1][8:]
    vars_file = work('vars.fd')
    harness.mkfs(os.path.dirname(STOCK_CLOUD), work('cloud.img'), 160)
    out = guest_run(work, EFISTUB_GUEST % {'root': partuuid(img, 3),
                                            'v1': v1, 'cloud': cloud},
                    [img, work('cloud.img')], vars_file,
                    files=[('/earlyfs/vmlinuz-' + v1, kernel_as(work, v1)),
                           ('/earlyfs/config-' + v1, os.path.join(
                               os.path.dirname(harness.kernel_image()),
                               'config'))])
    first = out.split('LIST1')[1].split('LIST2')[0]
    check(re.search(r'Boot[0-9A-F]{4}\* earlyfs \(', first) and
          re.search(r'Boot[0-9A-F]{4}\* earlyfs rescue shell', first),
          'no Boot#### entries: %s' % first)
    check(re.search(r'earlyfs \(.*\\earlyfs\\earlyfs-vmlinuz-', first, re.S),
          'the entry does not start the kernel on the ESP')
    # --default: the default entry first in BootOrder, and only it
    # (and every other of earlyfs's after the machine's own: EDK2 takes
    # a number BootOrder does not name for an entry of its own)
    def default_first(listing):
        order = re.search(r'BootOrder: (\S+)', listing).group(1).split(',')
        num = re.search(r'Boot([0-9A-F]{4})\* earlyfs \(', listing).group(1)
        ours = re.findall(r'Boot([0-9A-F]{4})\* earlyfs', listing)
        rest = [o for o in order[1:] if o not in ours]
        return (order[0] == num and set(ours) <= set(order) and
                order[1:] == rest + [o for o in order[1:] if o in ours]), \
            order
    ok, order = default_first(first)
    check(ok, 'BootOrder %s: not earlyfs first, or its others not last: %s'
          % (order, first))
    second = out.split('LIST2')[1].split('LIST3')[0]
    ok, order = default_first(second)
    check(ok, 'the remade default entry lost its place in BootOrder %s: %s'
          % (order, second))
    check(re.search(r'earlyfs with kernel %s' % re.escape(v1), second) and
          re.search(r'earlyfs \(%s\).*vmlinuz-%s' % (re.escape(v1),
                                                     re.escape(v1)),
                    second, re.S),
          'the hook\'s kernel has no entry: %s' % second)
    check(re.search(r'the next boot takes Boot[0-9A-F]{4} \(once\)', out),
          'once did not set BootNext')
    check(out.count('0 problems') == 2, 'check found problems:\n' + out)
    third = out.split('LIST3')[1]
    check(re.search(r'earlyfs \(%s\).*vmlinuz-%s.*i.n.i.t.r.d.=.\\.e.a.r.l'
                    % (re.escape(cloud), re.escape(cloud)), third, re.S),
          'the cloud kernel\'s entry has no initrd=: %s' % third)
    files = esp_files(img)
    check('earlyfs/earlyfs-vmlinuz-%s' % v1 in files and
          'earlyfs/stub-%s.img' % cloud in files, files)
    with harness.qemu_uefi(work, img, vars_file=vars_file) as c:
        harness.reached_real_root(c)
        text = c.text()
    check('init=/sbin/earlyfs-init' in text, 'not earlyfs\'s entry')
    check('Linux version %s' % cloud.split('-')[0] in text and
          re.search(r'REPORT root fragment \d+ ext4 /dev/vda3', text),
          'the cloud kernel did not find the root through its stub')
    out = guest_run(work, 'mount -t efivarfs efivarfs '
                    '/sys/firmware/efi/efivars\nefibootmgr\n', [img],
                    vars_file)
    check('BootNext' not in out, 'BootNext was not consumed: %s' % out)
    # rescue and previous, each chosen once from the machine
    once = ('mount -t efivarfs efivarfs /sys/firmware/efi/efivars\n'
            'mkdir -p /boot\nmount -t ext4 /dev/vda2 /boot\n'
            'earlyfs once %s --no-daemon\numount /boot\n')
    # an entry lost from the NVRAM: check names it, once makes it again
    out = guest_run(work, (once % 'rescue').replace(
        'earlyfs once', 'n=$(efibootmgr | sed -n "s/^Boot\\([0-9A-F]*\\)'
        '\\* earlyfs rescue.*/\\1/p")\nefibootmgr -b $n -B >/dev/null\n'
        'earlyfs check --no-daemon || echo CHECK-FAILED\nearlyfs once'),
        [img], vars_file)
    check('CHECK-FAILED' in out and ('no Boot#### of earlyfs boots rescue'
                                     in out or 'is not earlyfs\'s entry '
                                     'rescue' in out),
          'check did not see the lost entry:\n' + out[-2000:])
    check(re.search(r'earlyfs: Boot[0-9A-F]{4}: earlyfs rescue shell', out),
          'once did not make the entry again:\n' + out[-2000:])
    rescue_boot(work, img, vars_file)
    gens = guest_run(work, (once % 'previous').replace(
        'umount', 'earlyfs generations --no-daemon\numount'), [img],
        vars_file)
    text = previous_boot(work, img, vars_file, gens,
                         harness.reached_real_root)
    check('\\earlyfs\\earlyfs-vmlinuz-%s\n' % v1 in text.replace('\r', ''),
          'previous did not boot the kernel of the generation before')


# A machine that boots a GRUB of its own, made as Debian's grub-install
# and update-grub leave one: the host's grub-mkconfig, its /etc/grub.d and
# tools in the root file system (vda3), Debian's signed shim and GRUB on
# the ESP with the grub.cfg that sends GRUB to the root's /boot/grub.
GRUB_HOST_TOOLS = ('/usr/sbin/grub-mkconfig', '/usr/sbin/update-grub',
                   '/usr/sbin/grub-probe', '/usr/bin/grub-editenv',
                   '/usr/sbin/grub-reboot', '/usr/bin/grub-mkrelpath',
                   '/usr/bin/grub-script-check')
GRUB_DEFAULTS = """GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX=""
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
"""
GRUB_INIT = """#!/bin/sh
mount -t proc proc /proc
echo "GRUB-REALINIT pid=$$ $(cat /proc/cmdline)"
poweroff -f
"""
# the running machine: its root in a chroot of the UEFI guest
GRUB_MACHINE = """mount -t efivarfs efivarfs /sys/firmware/efi/efivars
mkdir -p /mnt
mount -t ext4 /dev/vda3 /mnt
mount -t proc proc /mnt/proc
mount -t sysfs sys /mnt/sys
mount -t devtmpfs dev /mnt/dev
mount -t tmpfs run /mnt/run
mount -t efivarfs efivarfs /mnt/sys/firmware/efi/efivars
for f in /earlyfs/vmlinuz-* /earlyfs/config-*; do
    [ -e "$f" ] && cp "$f" /mnt/earlyfs/
done
cat > /mnt/run/script <<'MACHINE'
set -e
export EARLYFS_DATADIR=/earlyfs PATH=/usr/sbin:/usr/bin:/sbin:/bin
%s
MACHINE
chroot /mnt /bin/sh /run/script
umount /mnt/sys/firmware/efi/efivars /mnt/run /mnt/dev /mnt/sys /mnt/proc
umount /mnt
"""


@test
def running_machine_with_its_own_grub_gets_earlyfs_entries(work):
    """A running machine that boots a GRUB of its own (UEFI, Debian's
    signed shim and GRUB, grub.cfg made by update-grub from /etc/grub.d):
    provision (auto) picks that GRUB and adds, it does not take over: a
    script /etc/grub.d/42_earlyfs, update-grub run, the distribution's
    entries kept; GRUB reads the kernel from the ext4 partition itself;
    once (grub-reboot) boots earlyfs's entry to the real root, then
    rescue, then previous (the kernel before one added); a kernel added
    appears in grub.cfg; check finds a grub.cfg update-grub has not made;
    loader remove leaves the machine's own entries."""
    from tests import guest
    guest.initramfs(work, 'true\n', earlyfs=True, uefi=True)
    tree = work('initramfs')
    for b in GRUB_HOST_TOOLS:
        for path in guest._libraries(b) if open(b, 'rb').read(4) == \
                b'\x7fELF' else ():
            guest._copy(tree, path)
        guest._copy(tree, b)
    for lib in ('/usr/share/grub/grub-mkconfig_lib',):
        guest._copy(tree, lib)
    shutil.copytree('/etc/grub.d', os.path.join(tree, 'etc/grub.d'))
    # an entry of the machine's own, as an admin adds one
    with open(os.path.join(tree, 'etc/grub.d/40_custom'), 'a') as f:
        f.write("menuentry 'The machine's own' --id own {\n\ttrue\n}\n"
                .replace("machine's", 'machine'))
    harness.write(os.path.join(tree, 'etc/default/grub'), GRUB_DEFAULTS)
    for d in ('boot/grub', 'boot/efi'):
        os.makedirs(os.path.join(tree, d), exist_ok=True)
    harness.write(os.path.join(tree, 'grub-init'), GRUB_INIT, 0o755)
    img = work('disk.img')
    expect(run('image', 'create', img, '--size', '384M', '--boot-size',
               '64M', '--esp-size', '64M', '--root-from', tree), 0)
    off3 = int(re.findall(r'"start":\s*(\d+)', subprocess.run(
        ['sfdisk', '-J', img], capture_output=True, text=True,
        check=True).stdout)[2]) * 512
    root_uuid = subprocess.run(['blkid', '-p', '-O', str(off3), '-o',
                                'value', '-s', 'UUID', img],
                               capture_output=True, text=True,
                               check=True).stdout.strip()
    # what grub-install leaves on the ESP (removable path)
    mtools(img, 'mmd', '::/EFI', '::/EFI/BOOT')
    for src, dst in (('/usr/lib/shim/shimx64.efi.signed', 'BOOTX64.EFI'),
                     ('/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed',
                      'grubx64.efi')):
        mtools(img, 'mcopy', src, '::/EFI/BOOT/' + dst)
    mtools(img, 'mcopy', '-', '::/EFI/BOOT/grub.cfg', stdin=(
        'search --no-floppy --fs-uuid --set=root %s\n'
        'set prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n'
        % root_uuid).encode())
    vars_file = work('vars.fd')
    root = partuuid(img, 3)
    out = guest_run(work, GRUB_MACHINE % (
        'grub-editenv /boot/grub/grubenv create\nupdate-grub\n'
        'cp /boot/grub/grub.cfg /run/before.cfg\n'
        'earlyfs provision /dev/vda2 --root PARTUUID=%s --kernel '
        '/earlyfs/bzImage --config /earlyfs/config --menu-timeout 1 '
        '--append earlyfs.init=/grub-init\n'
        'echo CFG1; grep -E "^(menuentry|### BEGIN)" /boot/grub/grub.cfg\n'
        'earlyfs check --target /dev/vda2 --no-daemon\n'
        'earlyfs once earlyfs --target /dev/vda2 --no-daemon\n'
        'earlyfs loader status --target /dev/vda2 --no-daemon\n' % root),
        [img], vars_file)
    check(re.search(r'loader\s+grub \(this machine\'s\)', out),
          'provision did not pick the machine\'s GRUB:\n' + out[-3000:])
    cfg = out.split('CFG1')[1]
    check("### BEGIN /etc/grub.d/42_earlyfs ###" in cfg and
          "menuentry 'earlyfs (" in cfg and
          "menuentry 'The machine own' --id own" in cfg and
          "### BEGIN /etc/grub.d/00_header ###" in cfg,
          'grub.cfg lacks earlyfs\'s entries or the rest:\n' + cfg[:3000])
    expect_in = ('0 problems', "the next boot takes earlyfs (once)")
    for n in expect_in:
        check(n in out, '%r not in:\n%s' % (n, out[-3000:]))
    esp = esp_files(img)
    check(not [f for f in esp if 'earlyfs' in f],
          'the machine\'s GRUB mode wrote to the ESP: %s' % esp)
    # once: GRUB boots earlyfs's entry, the kernel from the ext4 partition
    name = work.name
    work.name = name + '-earlyfs'
    with harness.qemu_uefi(work, img, vars_file=vars_file) as c:
        c.expect(r'GRUB-REALINIT pid=1 .*init=/sbin/earlyfs-init', 120)
        c.wait_exit(60)
        c.assert_no_panic()
    work.name = name
    # a kernel added: its entry in grub.cfg; check sees a stale grub.cfg
    v1 = newer(real_version())
    out = guest_run(work, GRUB_MACHINE % (
        'earlyfs kernel add /earlyfs/vmlinuz-%s --target /dev/vda2 '
        '--no-daemon\n'
        'echo CFG2; grep -E "^menuentry" /boot/grub/grub.cfg\n'
        'sed -i "/42_earlyfs/,/END .etc.grub.d.42_earlyfs/d" '
        '/boot/grub/grub.cfg\n'
        'earlyfs check --target /dev/vda2 --no-daemon || echo CHECK-FAILED\n'
        'earlyfs loader sync --target /dev/vda2 --no-daemon\n'
        'earlyfs check --target /dev/vda2 --no-daemon\n'
        'earlyfs once rescue --target /dev/vda2 --no-daemon\n' % v1),
        [img], vars_file,
        files=[('/earlyfs/vmlinuz-' + v1, kernel_as(work, v1)),
               ('/earlyfs/config-' + v1, os.path.join(
                   os.path.dirname(harness.kernel_image()), 'config'))])
    check("--id earlyfs-%s {" % v1 in out.split('CFG2')[1] or
          "with kernel %s'" % v1 in out.split('CFG2')[1],
          'the added kernel has no entry:\n' + out[-3000:])
    check('CHECK-FAILED' in out and 'update-grub has not run since' in out,
          'check did not see grub.cfg without earlyfs\'s entries:\n'
          + out[-3000:])
    check('update-grub wrote /boot/grub/grub.cfg' in out.split(
        'CHECK-FAILED')[1], 'sync did not run update-grub')
    rescue_boot(work, img, vars_file, 'GRUB-REALINIT')
    # previous: the generation before the kernel was added, its kernel
    out = guest_run(work, GRUB_MACHINE % (
        'earlyfs once previous --target /dev/vda2 --no-daemon\n'
        'earlyfs generations --target /dev/vda2 --no-daemon\n'), [img],
        vars_file)

    def old_kernel(c):
        c.expect(r'GRUB-REALINIT pid=1 BOOT_IMAGE=/earlyfs-vmlinuz-%s '
                 % re.escape(real_version()), 60)
        c.wait_exit(60)
    previous_boot(work, img, vars_file, out, old_kernel)
    # loader remove: the script goes, grub.cfg is as update-grub makes it
    # without earlyfs
    out = guest_run(work, GRUB_MACHINE % (
        'earlyfs loader remove --target /dev/vda2 --no-daemon\n'
        'test ! -e /etc/grub.d/42_earlyfs\n'
        'echo MENU; grep -c earlyfs /boot/grub/grub.cfg || true\n'
        'grep "^menuentry" /boot/grub/grub.cfg\n'), [img], vars_file)
    check(re.search(r'MENU\s+0\s', out), 'earlyfs is still in grub.cfg:\n'
          + out[-2000:])
    check("menuentry 'The machine own' --id own" in out.split('MENU')[1],
          'the machine\'s own entry went with earlyfs\'s:\n' + out[-2000:])


def rescue_boot(work, img, vars_file, not_seen='REALINIT'):
    """The next boot under OVMF gives busybox init's shell (the rescue
    entry), not the real root."""
    name = work.name
    work.name = name + '-rescue'
    try:
        with harness.qemu_uefi(work, img, vars_file=vars_file) as c:
            c.shell('echo RESCUE-$((6*7))', 'RESCUE-42', 120)
            c.shell_poweroff()
            check(not_seen not in c.text(), 'rescue reached the real root')
    finally:
        work.name = name


def previous_boot(work, img, vars_file, generations, then):
    """The next boot under OVMF runs the generation 'earlyfs generations'
    (its output) marks [previous], then then(console); the console's
    text."""
    prev = re.search(r'^\s*(\d+) .*\[previous\]', generations,
                     re.M).group(1)
    name = work.name
    work.name = name + '-previous'
    try:
        with harness.qemu_uefi(work, img, vars_file=vars_file) as c:
            c.expect(r'earlyfs.generation=previous: running generation %s'
                     % prev, 120)
            then(c)
            return c.text()
    finally:
        work.name = name


def guest_run(work, script, disks, vars_file, files=()):
    from tests import guest
    return guest.run_uefi(work, 'set -e\n' + script, disks, vars_file,
                          files=files)


@test
def running_uefi_machine_takes_systemd_boots_one_shot_entry(work):
    """once on a running machine that boots through systemd-boot: the EFI
    variable LoaderEntryOneShot, set from the machine itself (here a UEFI
    guest of the same disk and firmware variables); the next boot takes
    the rescue entry, the one after is the default again."""
    img = gpt_image(work)
    expect(provision_uefi(img), 0)
    vars_file = work('vars.fd')
    out = guest_run(work, 'mount -t efivarfs efivarfs '
                    '/sys/firmware/efi/efivars\n'
                    'mkdir -p /boot\nmount -t ext4 /dev/vda2 /boot\n'
                    'earlyfs once earlyfs\n'
                    'earlyfs once rescue\nearlyfs loader status\n'
                    'umount /boot\n', [img], vars_file)
    # the default entry by its name now (its boot counter in it)
    check('takes entry earlyfs (earlyfs+3.conf)' in out,
          'once did not name the counted entry:\n' + out[-1500:])
    check('LoaderEntryOneShot' not in out and
          'the next boot takes earlyfs.rescue.conf (once)' in out,
          'once did not set the one-shot entry:\n' + out[-1500:])
    rescue_boot(work, img, vars_file)
    name = work.name
    work.name = name + '-after'
    with harness.qemu_uefi(work, img, vars_file=vars_file) as c:
        harness.reached_real_root(c)


@test
def uefi_systemd_boot_boots_the_cloud_kernel_through_its_stub(work):
    """Debian's cloud kernel (disk drivers as modules) added to a
    systemd-boot partition: its module stub goes to the ESP beside it, the
    default entry loads it as its initrd, the real root is reached; the
    ESP holds no more than the kernel and its stub for it."""
    from tests.cli.test_kernels import STOCK_CLOUD, stock, modules_of
    img = gpt_image(work, size='320M', boot='96M')
    expect(provision_uefi(img), 0)
    sk = stock(STOCK_CLOUD)[-1]
    v = sk[8:]
    expect(run('kernel', 'add', os.path.join(STOCK_CLOUD, sk), '--modules',
               modules_of(STOCK_CLOUD, v), '--driver',
               'virtio_blk,virtio_pci', '--default', *tgt(img)), 0,
           'boots through its module stub')
    entry = read_default(img)
    check('linux /earlyfs/earlyfs-vmlinuz-%s\n' % v in entry and
          'initrd /earlyfs/stub-%s.img\n' % v in entry, entry)
    manifest = esp_read(img, '/earlyfs/manifest')
    size = sum(int(m.group(1)) for m in re.finditer(
        r'^/earlyfs/(?:earlyfs-vmlinuz|stub)-%s\S* (\d+) ' % re.escape(v), manifest,
        re.M))
    kernel = os.path.getsize(os.path.join(STOCK_CLOUD, sk))
    check(kernel < size <= kernel + (1 << 20),
          'the ESP holds %d bytes for a %d-byte kernel' % (size, kernel))
    with harness.qemu_uefi(work, img) as c:
        harness.reached_real_root(c)
        out = c.text()
    check('Linux version %s' % v.split('-')[0] in out and
          re.search(r'REPORT root fragment \d+ ext4 /dev/vda3', out),
          'not the cloud kernel through its stub')


@test
def grub_refuses_a_boot_uuid_that_is_not_one(work):
    """boot_uuid= of etc/earlyfs.conf goes into grub.cfg (and, for a
    machine's own GRUB, a script update-grub runs and /etc/fstab): a value
    that is not a UUID is taken as none, said, and nothing is written."""
    img = gpt_image(work)
    PART[img] = 2
    expect(provision_uefi(img, '--bootloader', 'grub'), 0)
    before = esp_read(img, '/EFI/BOOT/grub.cfg')
    with harness.partition_mounted(img, 2, work('m')) as m:
        conf = os.path.join(m, 'etc/earlyfs.conf')
        text = re.sub(r'boot_uuid=\S+', 'boot_uuid=x /etc ext4 rw 0 0 #',
                      open(conf).read())
        harness.write(conf, text)
    expect(run('loader', 'sync', *tgt_of(img)), 1, 'has no boot_uuid= (a '
           'UUID')
    check(esp_read(img, '/EFI/BOOT/grub.cfg') == before,
          'grub.cfg was written from a bad boot_uuid')
