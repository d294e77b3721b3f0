"""Helpers for CLI tests: run earlyfs, make images, checksum regions."""
import hashlib, os, subprocess
from tests import harness
from tests.harness import (BootFailure, check, loop_attached,  # noqa: F401
                           partition_attached,
                     partition_mounted, partitions)

EARLYFS = os.path.join(harness.BUILD, 'earlyfs')
# Debian's generic kernel (drivers, ext4 and crc32c as modules) and its
# cloud kernel (drivers as modules, ext4 built in), unpacked by make deps
STOCK = os.path.join(os.environ.get('EARLYFS_CACHE', '/var/cache/earlyfs'),
                     'stock-kernel', 'boot')
STOCK_CLOUD = os.path.join(os.path.dirname(os.path.dirname(STOCK)),
                           'stock-kernel-cloud', 'boot')


def run(*args, input=None):
    p = subprocess.run([EARLYFS] + [str(a) for a in args],
                       capture_output=True, text=True,
                       input=input if input is not None else '')
    p.out = p.stdout + p.stderr
    return p


def expect(p, code, *needles):
    check(p.returncode == code, 'exit %d, want %d:\n%s'
          % (p.returncode, code, p.out))
    for n in needles:
        check(n in p.out, 'output lacks %r:\n%s' % (n, p.out))


def sha(path, offset=0, size=None):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        f.seek(offset)
        left = size if size is not None else os.path.getsize(path) - offset
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def part_sha(img, n):
    _, parts = partitions(img)
    off, size = parts[n - 1]
    return sha(img, off, size)


def partuuid(img, n):
    t, _ = partitions(img)
    if t['label'] == 'dos':
        return '%s-%02x' % (t['id'][2:].lower(), n)
    return t['partitions'][n - 1]['uuid'].lower()


def image(work, name='disk.img', size='96M', boot='48M', table='dos',
          root_tree=True):
    img = work(name)
    args = ['image', 'create', img, '--size', size, '--boot-size', boot,
            '--table', table]
    if root_tree:
        harness.root_tree(work('root'))
        args += ['--root-from', work('root')]
    expect(run(*args), 0, 'created')
    return img


def provision(img, part=1, root=None, *extra):
    root = root or 'PARTUUID=' + partuuid(img, 2)
    return run('provision', img, '--partition', part, '--root', root,
               '--kernel', harness.kernel_image(), '--menu-timeout', '1',
               '--append', 'panic=1', *extra)


def tree_digest(work, img):
    """Every file of the boot partition with its bytes (a refusal must
    leave them as they were; mounting alone changes the superblock)."""
    out = {}
    with harness.partition_mounted(img, 1, work('m'), 'ro') as m:
        for d, dirs, files in os.walk(m):
            for f in files:
                p = os.path.join(d, f)
                if not os.path.islink(p):
                    with open(p, 'rb') as fh:
                        out[os.path.relpath(p, m)] = hashlib.sha256(
                            fh.read()).hexdigest()
    return out
