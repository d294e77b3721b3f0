"""Golden outputs: what the CLI prints, compared byte for byte with the
files in tests/cli/golden/ (after scrubbing what differs between runs:
temporary paths, loop devices, PARTUUIDs, times, sizes).

To change an expected output on purpose, run
    EARLYFS_GOLDEN_UPDATE=1 python3 -m tests.cli.run golden
and review the diff of tests/cli/golden/ before committing it."""
import difflib, os, re
from tests import harness
from tests.harness import check, test
from tests.cli.clilib import image, provision, run

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
UPDATE = os.environ.get('EARLYFS_GOLDEN_UPDATE') == '1'


def scrub(text, work):
    """The same output from two runs, on two machines, scrubs the same."""
    text = text.replace(work(''), 'WORK/')
    text = text.replace(harness.kernel_image(), 'KERNEL')
    subs = [
        (r'/tmp/earlyfs-[a-z]+\.[0-9]+\.[A-Za-z0-9]{6}', 'TMPDIR'),
        (r'/dev/loop\d+', '/dev/loopN'),
        (r'PARTUUID=[0-9a-f-]+', 'PARTUUID=X'),
        (r'boot_partuuid=[0-9a-f-]+', 'boot_partuuid=X'),
        (r'\(\d+\.\d\d s\)', '(T s)'),
        (r'\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\dZ?', 'DATE'),
        (r'\d+ (KiB|MiB)', r'N \1'),
        (r'\b\d+\.\d+\S* \(KERNEL\)', 'VERSION (KERNEL)'),
        (r'UUID=[0-9a-f-]{36}', 'UUID=X'),
        (r'vmlinuz-[0-9][^ \n,)]*', 'vmlinuz-VERSION'),
        (r'version=\S+', 'version=VERSION'),
        (r'\(an image\): \d+\.\d+\S*', '(an image): VERSION'),
    ]
    for rx, to in subs:
        text = re.sub(rx, to, text)
    return text


def compare(name, p, work):
    got = 'exit %d\n--- stdout\n%s--- stderr\n%s' % (
        p.returncode, scrub(p.stdout, work), scrub(p.stderr, work))
    path = os.path.join(GOLDEN, name + '.out')
    if UPDATE:
        with open(path, 'w') as f:
            f.write(got)
        return
    with open(path) as f:
        want = f.read()
    diff = ''.join(difflib.unified_diff(
        want.splitlines(True), got.splitlines(True), path, 'got'))
    check(not diff, 'output of %s moved (EARLYFS_GOLDEN_UPDATE=1 to accept '
          'on purpose):\n%s' % (name, diff))


@test
def golden_cli_outputs(work):
    """One image, every command's normal output and the main errors."""
    img = image(work)
    t = ['--target', img, '--partition', '1']
    report = os.path.join(GOLDEN, 'report')
    compare('help', run('help'), work)
    compare('provision-dry-run', provision(img, 1, None, '--dry-run'), work)
    compare('provision', provision(img), work)
    compare('provision-refused', provision(img), work)
    compare('status', run('status', img, '--partition', '1'), work)
    compare('fragments', run('fragments', '--report', report, *t), work)
    compare('log', run('log', '--report', report), work)
    compare('check', run('check', *t), work)
    compare('add', run('add', '60-hello', '-', *t, '--no-daemon',
                       input='echo hello\n'), work)
    compare('add-existing', run('add', '60-hello', '/dev/null', *t), work)
    compare('show', run('show', '60-hello', *t), work)
    compare('disable', run('disable', '60-hello', *t), work)
    compare('mv', run('mv', '60-hello', '61-hello', *t), work)
    compare('rm-missing', run('rm', '99-none', *t), work)
    compare('bad-name', run('rm', 'hello', *t), work)
    compare('generations', run('generations', *t), work)
    compare('rollback', run('rollback', *t), work)
    compare('rollback-bad', run('rollback', 'x', *t), work)
    compare('not-a-boot-partition', run('fragments', '--boot', work('')),
            work)
    compare('unknown-command', run('frobnicate'), work)
