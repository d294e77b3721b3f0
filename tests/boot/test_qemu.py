"""Full BIOS boots under QEMU: SeaBIOS, syslinux MBR, extlinux, kernel."""
import re
from harness import (BootFailure, boot_tree, make_disk, qemu,
                     reached_real_root, root_tree, test)


def check(cond, what):
    if not cond:
        raise BootFailure(what)


@test
def qemu_bios_extlinux_boot_reaches_real_root(work):
    boot_tree(work('boot'), {'10-hello': 'echo "FRAG hello from $EARLYFS_ROOT"\n'})
    root_tree(work('root'))
    disk = make_disk(work, work('boot'), work('root'))
    with qemu(work, disk) as c:
        c.expect(r'SYSLINUX|EXTLINUX')
        c.expect(r'Run /sbin/earlyfs-init as init process')
        c.expect(r'FRAG hello from PARTUUID=1234abcd-02')
        reached_real_root(c)
        out = c.text()
    check(re.search(r'REPORT root fragment \d+ ext4 /dev/vda2', out),
          'root not mounted from vda2 by 50-mountroot')
    check(re.search(r'REPORT fragment 10-hello ok 0', out), 'report')
    check(len(re.findall(r'earlyfs: switched to the real root in \d+ ms '
                         r'\(4 fragments\)', out)) == 1,
          'the runner\'s closing line is not shown exactly once')
