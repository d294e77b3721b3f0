"""earlyfs install: host binaries with their libraries and loader."""
import os, re, shutil, subprocess, tempfile
from tests.harness import test
from tests.cli.clilib import check, expect, partition_mounted, run
from tests.cli.test_edit import gens, provisioned, tgt


def tree_files(m):
    """Every path of the tree but the generations: what a refusal must
    leave as it was."""
    out = set()
    for d, dirs, files in os.walk(m):
        dirs[:] = [x for x in dirs if x not in ('generations', 'lost+found')]
        for f in files + dirs:
            out.add(os.path.relpath(os.path.join(d, f), m))
    return out


def real_libs(m, name):
    """The regular files in the tree whose name starts with name."""
    hits = []
    for d, _, files in os.walk(m):
        for f in files:
            p = os.path.join(d, f)
            if f.startswith(name) and not os.path.islink(p):
                hits.append(p)
    return hits


@test
def install_copies_a_closure_that_runs_and_check_follows_it(work):
    img = provisioned(work)
    t = tgt(img)
    host = shutil.which('cryptsetup')
    check(host is not None, 'cryptsetup-bin is installed by make deps')
    expect(run('install', 'cryptsetup', *t), 0,
           'install %s (generation 2)' % host)
    with partition_mounted(img, 1, work('m')) as m:
        # the copy runs in a chroot of the tree: loader and libraries are
        # all there (the test runs it; earlyfs never runs target files)
        p = subprocess.run(['chroot', m, host, '--version'],
                           capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.startswith('cryptsetup 2'),
              'chroot cryptsetup --version: %r %r' % (p.stdout, p.stderr))
        manifest = open(os.path.join(m, 'etc/earlyfs.installed')).read()
        check('binary %s\n' % host in manifest, manifest)
        # links on the way are made as links (libcryptsetup.so.12 ->
        # libcryptsetup.so.12.x on Debian)
        links = re.findall(r'^link (\S+) (\S+)$', manifest, re.M)
        lib = [x for x in links if 'libcryptsetup.so' in x[0]]
        check(lib and os.path.islink(m + lib[0][0]) and
              os.readlink(m + lib[0][0]) == lib[0][1], 'links: %s' % links)
    expect(run('check', *t), 0, '0 problems')
    # a library removed from the tree: check names it and what needs it;
    # and the temp file an install killed mid-copy would leave beside it
    with partition_mounted(img, 1, work('m')) as m:
        libs = real_libs(m, 'libcryptsetup.so')
        check(len(libs) == 1, 'one libcryptsetup: %s' % libs)
        os.unlink(libs[0])
        leftover = os.path.join(os.path.dirname(libs[0]),
                                '.libcryptsetup.so.12.tmpAbC123')
        open(leftover, 'w').close()
    p = run('check', *t)
    expect(p, 1, 'needs libcryptsetup.so.12', 'missing from the boot '
           'partition', "run 'earlyfs install --refresh'")
    # --refresh copies it again (on a mounted partition: on an image only
    # what is named); a second one has nothing to do
    with partition_mounted(img, 1, work('m')) as m:
        expect(run('install', '--refresh', '--boot', m), 0,
               'refresh 1 installed binary')
        check(not os.path.exists(leftover) and
              not [f for f in os.listdir(os.path.dirname(libs[0]))
                   if '.tmp' in f], 'temp files left after --refresh')
        n = len(gens(['--boot', m]))
        expect(run('install', '--refresh', '--boot', m), 0, 'nothing changed')
        check(len(gens(['--boot', m])) == n,
              'a refresh with nothing to do made a generation')
    expect(run('check', *t), 0, '0 problems')
    # a second binary joins the first; both stay listed
    expect(run('install', '/usr/sbin/e2fsck', *t), 0, 'install /usr/sbin/e2fsck')
    with partition_mounted(img, 1, work('m')) as m:
        manifest = open(os.path.join(m, 'etc/earlyfs.installed')).read()
        check('binary %s\n' % host in manifest and
              'binary /usr/sbin/e2fsck\n' in manifest, manifest)
        # the host's copy is newer than the one installed (as after an
        # upgrade): check says so
        edited = re.sub(r'^(file %s \d+) \d+$' % re.escape(host),
                        r'\1 1', manifest, flags=re.M)
        check(edited != manifest, 'manifest has a file line for the binary')
        with open(os.path.join(m, 'etc/earlyfs.installed'), 'w') as f:
            f.write(edited)
    expect(run('check', *t), 1, "%s: the host's copy changed since it was "
           'installed' % host)


@test
def install_refusals_name_the_problem_and_write_nothing(work):
    img = provisioned(work)
    t = tgt(img)
    with partition_mounted(img, 1, work('m')) as m:
        before = tree_files(m)
    n = len(gens(t))
    script = work('tool.sh')
    with open(script, 'w') as f:
        f.write('#!/bin/sh\necho hi\n')
    os.chmod(script, 0o755)
    loose = work('true')
    shutil.copy('/bin/true', loose)
    os.chmod(loose, 0o777)
    expect(run('install', script, *t), 3, 'not an ELF file')
    expect(run('install', 'no-such-tool-here', *t), 2, 'not found in')
    expect(run('install', loose, *t), 3, 'writable by others')
    expect(run('install', *t), 2, 'give the binaries to install, or --refresh')
    expect(run('install', '--refresh', *t), 2, 'nothing to install')
    # a manifest names host files: on a mounted partition only plain
    # absolute paths, and only root-owned ELF files, are read
    for bad, why in (('../../etc/shadow', 'not a plain absolute path'),
                     ('/etc/shadow', 'not an ELF file')):
        with partition_mounted(img, 1, work('m')) as m:
            with open(os.path.join(m, 'etc/earlyfs.installed'), 'w') as f:
                f.write('binary %s\n' % bad)
            expect(run('install', '--refresh', '--boot', m),
                   1 if 'plain' in why else 3, why)
        # on an image, not at all
        expect(run('install', '--refresh', *t), 2, 'only what you name')
    with partition_mounted(img, 1, work('m')) as m:
        os.unlink(os.path.join(m, 'etc/earlyfs.installed'))
        after = tree_files(m)
    check(after == before, 'a refusal wrote %s' % sorted(after ^ before))
    check(len(gens(t)) == n, 'a refusal made a generation')


@test
def install_on_an_image_never_copies_what_its_manifest_names(work):
    """An image's etc/earlyfs.installed is data: a root-only binary under
    a 0700 directory of this host that it names is not copied into the
    image by feature add, install or install --refresh on --target; its
    lines are kept; what the admin names is copied."""
    img = provisioned(work)
    t = tgt(img)
    secret = tempfile.mkdtemp(prefix='earlyfs-secret-', dir='/root')
    try:
        os.chmod(secret, 0o700)
        tool = os.path.join(secret, 'root-only-tool')
        shutil.copy('/bin/true', tool)
        os.chmod(tool, 0o700)
        with partition_mounted(img, 1, work('m')) as m:
            with open(os.path.join(m, 'etc/earlyfs.installed'), 'w') as f:
                f.write('# from elsewhere\nbinary %s\nfile %s 1 1\n'
                        % (tool, tool))
        expect(run('feature', 'add', 'pause', *t), 0,
               '1 binary listed in the image', 'not copied from this host')
        expect(run('install', '--refresh', *t), 2, 'only what you name')
        expect(run('install', '/usr/sbin/e2fsck', *t), 0,
               'install /usr/sbin/e2fsck', 'not copied from this host')
        with partition_mounted(img, 1, work('m')) as m:
            check(not os.path.exists(m + tool) and
                  not real_libs(m, 'root-only-tool'),
                  'a host file the image named was copied into it')
            check(os.path.exists(m + '/usr/sbin/e2fsck'), 'e2fsck missing')
            manifest = open(os.path.join(m, 'etc/earlyfs.installed')).read()
        check('binary %s\n' % tool in manifest and
              'binary /usr/sbin/e2fsck\n' in manifest and
              'file %s 1 1\n' % tool in manifest,
              'the image\'s lines are not kept: %s' % manifest)
    finally:
        shutil.rmtree(secret)
