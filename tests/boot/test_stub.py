"""earlyfs-init as the /init of a module stub (src/init/stub.c), booted
under QEMU from a stub made here: what it says when the boot partition
is not there."""
import os, re, subprocess
from tests import harness
from tests.harness import check, test


def stub_image(work):
    """A stub with no modules: earlyfs-init as /init and an empty list."""
    tree = work('stub')
    os.makedirs(tree)
    subprocess.run(['cp', os.path.join(harness.BUILD, 'earlyfs-init'),
                    os.path.join(tree, 'init')], check=True)
    open(os.path.join(tree, 'earlyfs-stub'), 'w').close()
    names = subprocess.run(['find', '.', '-mindepth', '1'], cwd=tree,
                           capture_output=True, text=True,
                           check=True).stdout
    with open(work('stub.cpio'), 'wb') as f:
        subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet'], cwd=tree,
                       input=names.encode(), stdout=f, check=True)
    return work('stub.cpio')


@test
def qemu_stub_says_the_boot_partition_is_missing(work):
    """root= names no device: the stub waits, says which and that it
    looks again (each line once, printable), and the kernel never
    panics.  It printed an uninitialized buffer there before."""
    blank = work('blank.img')
    with open(blank, 'wb') as f:
        f.truncate(8 << 20)
    argv = ['qemu-system-x86_64', '-machine', 'pc', '-m', '256',
            '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
            '-no-reboot', '-kernel', harness.kernel_image(),
            '-initrd', stub_image(work), '-drive',
            'file=%s,format=raw,if=virtio' % blank, '-append',
            'console=ttyS0 panic=1 root=PARTUUID=0badf00d-01 '
            'init=/sbin/earlyfs-init']
    if harness.kvm_usable():
        argv += ['-enable-kvm', '-cpu', 'host']
    os.makedirs(harness.LOG_DIR, exist_ok=True)
    with harness.Console(argv, os.path.join(harness.LOG_DIR,
                                            work.name + '.log'), 150) as c:
        c.expect(r'waiting up to 30 s for boot partition '
                 r'PARTUUID=0badf00d-01', 60)
        c.expect(r'boot partition PARTUUID=0badf00d-01 did not appear '
                 r'within 30 s', 60)
        m = c.expect(r'stub: (.*)\r?\n', 10)
        check(m.group(1).rstrip('\r') == 'the boot partition '
              'PARTUUID=0badf00d-01 was not found; looking again in 5 s',
              'the stub said: %r' % m.group(1))
        c.expect(r'waiting up to 30 s for boot partition', 30)
        c.assert_no_panic()
        out = c.text()
    said = [line for line in out.splitlines() if 'stub:' in line]
    check(said and all(line.rstrip('\r').isprintable() for line in said),
          'what the stub said: %r' % said)
