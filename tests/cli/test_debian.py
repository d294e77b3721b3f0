"""A real Debian 12 machine's life through earlyfs (issue 27), booted under
QEMU: GRUB + initramfs-tools as Debian installs them (tests/rootfs/
debian-grub.sh); the .deb installed with apt inside, a spare partition
provisioned, earlyfs booted from the machine's own GRUB, Debian's own
entry booted back, a second kernel package installed and purged with
dpkg, earlyfs removed and purged; the machine boots its old way.  Each
boot runs one step (run.sh, from a tar archive on the second disk) and
powers off; the console says what happened."""
import io, os, re, shutil, subprocess, tarfile
from tests import harness
from tests.harness import check, test
from tests.cli.test_package import built_deb


def machine():
    """The cached machine's directory: disk.img, generic.deb, partuuid,
    version."""
    p = subprocess.run([os.path.join(harness.TOP, 'tests', 'rootfs',
                                     'debian-grub.sh')],
                       capture_output=True, text=True)
    check(p.returncode == 0, 'cannot make the Debian machine: %s'
          % p.stderr[-3000:])
    return p.stdout.strip().splitlines()[-1]


class Machine:
    """One test's copy of the machine (a qcow2 overlay of the cached
    disk), booted once per step."""

    def __init__(self, work, uefi=False):
        self.work, self.uefi = work, uefi
        self.dir = machine()
        self.disk = work('disk.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b',
                        os.path.join(self.dir, 'disk.img'), '-F', 'raw',
                        self.disk], check=True)
        self.root = open(os.path.join(self.dir, 'partuuid')).read().strip()
        self.version = open(os.path.join(self.dir, 'version')).read().strip()
        self.n = 0
        if uefi:
            self.vars = work('vars.fd')
            shutil.copy(os.path.join(harness.OVMF_DIR, 'OVMF_VARS_4M.fd'),
                        self.vars)

    def boot(self, script, files=(), timeout=900):
        """Boots the machine with run.sh = script (and files, (name, path)
        pairs, beside it); returns what the console showed.  The step must
        end with rc=0."""
        self.n += 1
        tar = self.work('step%d.tar' % self.n)
        with tarfile.open(tar, 'w') as t:
            data = ('set -x\n' + script).encode()
            info = tarfile.TarInfo('run.sh')
            info.size, info.mode = len(data), 0o755
            t.addfile(info, io.BytesIO(data))
            for name, path in files:
                t.add(path, arcname=name)
        # whole sectors for a disk
        with open(tar, 'ab') as f:
            f.write(b'\0' * (-os.path.getsize(tar) % 512 + 512 * 64))
        argv = ['qemu-system-x86_64', '-m', '1024', '-display', 'none',
                '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
                '-drive', 'file=%s,format=qcow2,if=virtio' % self.disk,
                '-drive', 'file=%s,format=raw,if=virtio,readonly=on' % tar]
        if self.uefi:
            argv += ['-machine', 'q35', '-drive',
                     'if=pflash,format=raw,unit=0,readonly=on,file=' +
                     os.path.join(harness.OVMF_DIR, 'OVMF_CODE_4M.fd'),
                     '-drive', 'if=pflash,format=raw,unit=1,file=' +
                     self.vars]
        else:
            argv += ['-machine', 'pc']
        if harness.kvm_usable():
            argv += ['-enable-kvm', '-cpu', 'host']
        name = '%s-%d' % (self.work.name, self.n)
        os.makedirs(harness.LOG_DIR, exist_ok=True)
        with harness.Console(argv, os.path.join(harness.LOG_DIR,
                                                name + '.log'),
                             timeout) as c:
            try:
                c.expect(r'AGENT-DONE rc=(\d+)', timeout)
                c.wait_exit(60)
            except harness.BootFailure as e:
                check(False, 'step %d: %s:\n%s' % (self.n, e,
                                                   c.text()[-4000:]))
            c.assert_no_panic()
            out = c.text().replace('\r', '')
        rc = re.search(r'AGENT-DONE rc=(\d+)', out).group(1)
        check(rc == '0', 'step %d failed (rc=%s):\n%s'
              % (self.n, rc, out[-5000:]))
        return out


def via(out):
    """Which way the boot went: 'earlyfs' (its runner was PID 1 first) or
    'debian' (GRUB's own entry, the initramfs)."""
    line = re.search(r'AGENT-START (.*)', out).group(1)
    return 'earlyfs' if 'init=/sbin/earlyfs-init' in line else 'debian'


PROVISION = """
apt-get install -y -qq --no-install-recommends ./earlyfs.deb
dpkg -s initramfs-tools | grep -q '^Status: install ok installed' &&
    echo INITRAMFS-TOOLS-KEPT
ls /boot > /run/boot-after
cmp /run/boot-before /run/boot-after && echo BOOT-UNCHANGED-BY-INSTALL
earlyfs provision /dev/vda2 --root PARTUUID=%(root)s \\
    --kernel /boot/vmlinuz-%(version)s
grep -c "^menuentry 'earlyfs" /boot/grub/grub.cfg
grep -q "^menuentry 'Debian GNU/Linux" /boot/grub/grub.cfg && echo OWN-ENTRY-KEPT
grep -A1 '^# earlyfs: its boot partition' /etc/fstab
mount /earlyfs
earlyfs check --json | grep -q '"problem_count": 0' && echo CHECK-CLEAN
earlyfs once earlyfs
"""


@test
def debian_bios_machine_life_through_earlyfs(work):
    """BIOS: install, provision, earlyfs booted once from the machine's
    GRUB; a kernel package installed (its hook adds it, with a module
    stub) and booted through earlyfs; Debian's own entry booted back; the
    kernel package purged (the default moves first), earlyfs boots on;
    earlyfs removed: the machine still boots through it; purged: it boots
    its old way, nothing of earlyfs in grub.cfg."""
    m = Machine(work)
    deb = built_deb()
    generic = os.path.join(m.dir, 'generic.deb')
    gv = subprocess.run(['dpkg-deb', '-f', generic, 'Package'],
                        capture_output=True, text=True,
                        check=True).stdout.strip()[len('linux-image-'):]
    # 1: Debian's own boot: the package, then the spare partition
    out = m.boot('ls /boot > /run/boot-before\n' +
                 PROVISION % {'root': m.root, 'version': m.version},
                 [('earlyfs.deb', deb)])
    check(via(out) == 'debian', 'the first boot was not Debian\'s own')
    for n in ('BOOT-UNCHANGED-BY-INSTALL', 'INITRAMFS-TOOLS-KEPT',
              'OWN-ENTRY-KEPT', 'CHECK-CLEAN',
              "loader     grub (this machine's)",
              'UUID=', 'takes entry earlyfs (grub-reboot'):
        check(n in out, '%r not in step 1:\n%s' % (n, out[-5000:]))
    # 2: earlyfs, once; the partition at /earlyfs, /boot the machine's;
    # a second kernel package
    out = m.boot("""
mountpoint -q /earlyfs && echo EARLYFS-MOUNTED
test -f /boot/grub/grub.cfg && echo OWN-BOOT-VISIBLE
earlyfs status --json | grep -q '"pivot": "ok"' && echo LAST-BOOT-OK
# (initramfs-tools' image of the generic kernel takes 8 minutes under
# emulation: not made here; bench/dpkg.py measures it)
INITRD=No dpkg -i ./generic.deb
earlyfs kernel list
earlyfs once earlyfs-%s
""" % gv, [('generic.deb', generic)])
    check(via(out) == 'earlyfs', 'once did not boot earlyfs:\n' + out[-3000:])
    for n in ('EARLYFS-MOUNTED', 'OWN-BOOT-VISIBLE', 'LAST-BOOT-OK',
              'earlyfs: the default label boots'):
        check(n in out, '%r not in step 2:\n%s' % (n, out[-5000:]))
    check(re.search(r'^%s\s+\d+\s+ok\s' % re.escape(gv), out, re.M),
          'the generic kernel was not added:\n' + out[-3000:])
    # 3: the generic kernel through earlyfs (its stub); then Debian's own
    out = m.boot("""
uname -r
grub-reboot 0
""")
    check(via(out) == 'earlyfs' and re.search(r'^%s$' % re.escape(gv), out,
                                              re.M),
          'earlyfs did not boot the generic kernel:\n' + out[-3000:])
    # 4: Debian's own entry; the generic kernel's package purged
    out = m.boot("""
uname -r
mountpoint -q /earlyfs && echo EARLYFS-MOUNTED-BY-FSTAB
dpkg --purge linux-image-%s
earlyfs kernel list
earlyfs check
earlyfs once earlyfs
""" % gv)
    check(via(out) == 'debian' and '0 problems' in out and
          'EARLYFS-MOUNTED-BY-FSTAB' in out,
          'Debian\'s own entry, the purge:\n' + out[-4000:])
    check(not re.search(r'^%s\s' % re.escape(gv), out.split(
        'earlyfs kernel list')[-1], re.M), 'the purged kernel is still '
          'listed:\n' + out[-3000:])
    # 5: earlyfs still boots; earlyfs removed while booted through it
    out = m.boot("""
uname -r
apt-get remove -y -qq earlyfs
grub-reboot earlyfs
""")
    check(via(out) == 'earlyfs' and m.version in out and
          'still boots' in out, 'after the purge of a kernel, or the '
          'removal:\n' + out[-4000:])
    # 6: removed, it still boots through earlyfs; then purged
    out = m.boot("""
apt-get purge -y -qq earlyfs
grep -c earlyfs /boot/grub/grub.cfg || echo NO-EARLYFS-IN-GRUB-CFG
grep -c earlyfs /etc/fstab || echo NO-EARLYFS-IN-FSTAB
ls /etc/grub.d /etc/kernel/*.d
""")
    check(via(out) == 'earlyfs' and 'NO-EARLYFS-IN-GRUB-CFG' in out and
          'NO-EARLYFS-IN-FSTAB' in out and
          '42_earlyfs' not in out.split('ls /etc/grub.d')[-1] and
          'zz-earlyfs' not in out.split('ls /etc/grub.d')[-1],
          'the removed package\'s boot, its purge:\n' + out[-4000:])
    # 7: the old way
    out = m.boot('grep -c earlyfs /boot/grub/grub.cfg || echo NONE\n')
    check(via(out) == 'debian' and 'NONE' in out,
          'the machine does not boot its old way:\n' + out[-3000:])


@test
def debian_uefi_machine_through_earlyfs_and_back(work):
    """UEFI (GRUB at the ESP's removable path): install, provision,
    earlyfs booted once from the machine's GRUB, purge, the old way."""
    m = Machine(work, uefi=True)
    deb = built_deb()
    out = m.boot('ls /boot > /run/boot-before\n' +
                 PROVISION % {'root': m.root, 'version': m.version},
                 [('earlyfs.deb', deb)])
    check(via(out) == 'debian' and 'OWN-ENTRY-KEPT' in out and
          'CHECK-CLEAN' in out, 'step 1:\n' + out[-4000:])
    out = m.boot("""
mountpoint -q /earlyfs && echo EARLYFS-MOUNTED
apt-get purge -y -qq earlyfs
grep -c earlyfs /boot/grub/grub.cfg || echo NO-EARLYFS-IN-GRUB-CFG
""")
    check(via(out) == 'earlyfs' and 'EARLYFS-MOUNTED' in out and
          'NO-EARLYFS-IN-GRUB-CFG' in out, 'step 2:\n' + out[-4000:])
    out = m.boot('echo OLD-WAY\n')
    check(via(out) == 'debian', 'step 3:\n' + out[-3000:])


@test
def debian_machine_booting_through_earlyfs_alone_under_dpkg(work):
    """The partition is the machine's /boot (extlinux in the MBR, in place
    of GRUB's): earlyfs-initramfs-tool lets initramfs-tools go; dpkg -i of
    a kernel package writes into the read-only partition through dpkg's
    hooks (read-write for the run, read-only after), the hook keeps the
    kernel as a link, not a copy, and it boots; dpkg --purge moves the
    default first; the last kernel's purge is refused and the package
    stays; the machine boots."""
    m = Machine(work)
    deb = built_deb()
    tool = os.path.join(os.path.dirname(deb),
                        'earlyfs-initramfs-tool_%s_all.deb'
                        % os.path.basename(deb).split('_')[1])
    generic = os.path.join(m.dir, 'generic.deb')
    gv = subprocess.run(['dpkg-deb', '-f', generic, 'Package'],
                        capture_output=True, text=True,
                        check=True).stdout.strip()[len('linux-image-'):]
    out = m.boot("""
apt-get install -y -qq --no-install-recommends ./earlyfs.deb ./tool.deb
dpkg -s initramfs-tools 2>/dev/null | grep -q 'ok installed' || echo INITRAMFS-TOOLS-GONE
earlyfs provision /dev/vda2 --bootloader extlinux --force \\
    --root PARTUUID=%s --kernel /boot/vmlinuz-%s
""" % (m.root, m.version), [('earlyfs.deb', deb), ('tool.deb', tool)])
    check('INITRAMFS-TOOLS-GONE' in out and 'loader     extlinux' in out,
          'step 1:\n' + out[-4000:])
    ro = "findmnt -no OPTIONS /boot | grep -q '^ro' && echo BOOT-RO-%s\n"
    out = m.boot(ro % 'BEFORE' + """
dpkg -i ./generic.deb
""" + ro % 'AFTER' + """
[ "$(stat -c %%i /boot/vmlinuz-%(gv)s)" = \\
  "$(stat -c %%i /boot/earlyfs-vmlinuz-%(gv)s)" ] && echo LINKED
ls /boot/initrd.img-* 2>/dev/null || echo NO-INITRD
earlyfs once earlyfs-%(gv)s
""" % {'gv': gv}, [('generic.deb', generic)])
    check(via(out) == 'earlyfs', 'extlinux did not boot earlyfs')
    for n in ('BOOT-RO-BEFORE', 'BOOT-RO-AFTER', 'LINKED', 'NO-INITRD',
              'the default label boots'):
        check(n in out, '%r not in step 2:\n%s' % (n, out[-5000:]))
    out = m.boot("""
uname -r
earlyfs once earlyfs-%s
""" % m.version)
    check(re.search(r'^%s$' % re.escape(gv), out, re.M),
          'the generic kernel did not boot:\n' + out[-3000:])
    out = m.boot("""
uname -r
dpkg --purge linux-image-%(gv)s
""" % {'gv': gv} + ro % 'AFTER-PURGE' + """
earlyfs check
dpkg --purge linux-image-cloud-amd64
dpkg --purge linux-image-%(v0)s || echo PURGE-REFUSED
dpkg -s linux-image-%(v0)s | grep -q 'ok installed' && echo CLOUD-KEPT
""" % {'v0': m.version})
    check(re.search(r'^%s$' % re.escape(m.version), out, re.M) and
          'BOOT-RO-AFTER-PURGE' in out and '0 problems' in out and
          'PURGE-REFUSED' in out and 'CLOUD-KEPT' in out and
          'only kernel that boots' in out, 'step 4:\n' + out[-5000:])
    out = m.boot('uname -r\n')
    check(via(out) == 'earlyfs' and m.version in out,
          'step 5:\n' + out[-3000:])
