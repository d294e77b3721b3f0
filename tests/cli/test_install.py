"""earlyfs install: host binaries with their libraries and loader."""
import os, re, shutil, subprocess, tempfile
from tests.harness import test
from tests.cli.clilib import EARLYFS, check, expect, partition_mounted, run
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
        # libcryptsetup.so.12.x on Debian), in the set of installed files;
        # the path the loader looks up is a link into that set
        links = re.findall(r'^link (\S+) (\S+)$', manifest, re.M)
        lib = [x for x in links if 'libcryptsetup.so' in x[0]]
        inset = os.path.join(m, 'installed') + lib[0][0] if lib else ''
        check(lib and os.path.islink(inset) and
              os.readlink(inset) == lib[0][1], 'links: %s' % links)
        check(os.readlink(m + lib[0][0]) == '../../installed' + lib[0][0],
              'the tree\'s %s is not a link into the set' % lib[0][0])
        check(os.readlink(os.path.join(m, 'installed')) == 'installed.1',
              'the current set is not installed.1')
    expect(run('check', *t), 0, '0 problems')
    # a library removed from the tree: check names it and what needs it;
    # and the temp file an install killed mid-copy would leave beside it
    with partition_mounted(img, 1, work('m')) as m:
        libs = real_libs(m, 'libcryptsetup.so')
        check(len(libs) == 1 and '/installed.1/' in libs[0],
              'one libcryptsetup, in the set: %s' % libs)
        os.unlink(libs[0])
        leftover = m + os.path.dirname(libs[0][len(m) + 12:]) + \
            '/.libcryptsetup.so.12.tmpAbC123'
        os.symlink('../../installed/x', leftover)
    p = run('check', *t)
    expect(p, 1, 'needs libcryptsetup.so.12', 'missing from the boot '
           'partition', "run 'earlyfs install --refresh'")
    # --refresh copies it again (on a mounted partition: on an image only
    # what is named); a second one has nothing to do
    with partition_mounted(img, 1, work('m')) as m:
        expect(run('install', '--refresh', '--boot', m), 0,
               'refresh 1 installed binary')
        check(not os.path.lexists(leftover) and
              not [f for f in os.listdir(os.path.dirname(leftover))
                   if '.tmp' in f], 'temp files left after --refresh')
        check(os.readlink(os.path.join(m, 'installed')) == 'installed.2' and
              not os.path.exists(os.path.join(m, 'installed.1')),
              'the refresh did not switch to a new set')
        n = len(gens(['--boot', m]))
        expect(run('install', '--refresh', '--boot', m), 0, 'nothing changed')
        check(len(gens(['--boot', m])) == n,
              'a refresh with nothing to do made a generation')
    expect(run('check', *t), 0, '0 problems')
    # a second binary joins the first; both stay listed
    # (on an image the first is not named, so not copied again: its files
    # are carried into the new set as they were, and it still runs)
    expect(run('install', '/usr/sbin/e2fsck', *t), 0, 'install /usr/sbin/e2fsck')
    with partition_mounted(img, 1, work('m')) as m:
        for b in (host, '/usr/sbin/e2fsck'):
            p = subprocess.run(['chroot', m, b, '-V' if 'e2fsck' in b else
                                '--version'], capture_output=True, text=True)
            check(p.returncode == 0 and p.stdout + p.stderr,
                  'chroot %s: %r %r' % (b, p.stdout, p.stderr))
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
        # its binary line stays; a file line naming what the image's set
        # of installed files does not hold goes
        check('binary %s\n' % tool in manifest and
              'binary /usr/sbin/e2fsck\n' in manifest and
              'file %s 1 1\n' % tool not in manifest,
              'the image\'s lines: %s' % manifest)
    finally:
        shutil.rmtree(secret)


TOOL_C = r'''
#include <stdio.h>
const char *version(void);
int main(void) { puts(version()); return 0; }
'''
LIB_C = r'''
const char *version(void) { return "VERSION-%s"; }
'''


def host_tool(top, version):
    """A root-owned tool and its library on the host (bin/tool, its
    RUNPATH $ORIGIN/../lib/libv.so): version is in both."""
    for d in ('bin', 'lib'):
        os.makedirs(os.path.join(top, d), exist_ok=True)
    with open(os.path.join(top, 'lib.c'), 'w') as f:
        f.write(LIB_C % version)
    with open(os.path.join(top, 'tool.c'), 'w') as f:
        f.write(TOOL_C + '/* %s */\nconst char *tag = "TOOL-%s";\n'
                % (version, version))
    lib, tool = os.path.join(top, 'lib', 'libv.so'), os.path.join(top, 'bin',
                                                                  'tool')
    subprocess.run(['gcc', '-shared', '-fPIC', '-o', lib + '.new',
                    os.path.join(top, 'lib.c')], check=True)
    os.rename(lib + '.new', lib)
    subprocess.run(['gcc', '-o', tool + '.new', os.path.join(top, 'tool.c'),
                    '-L' + os.path.dirname(lib), '-lv',
                    '-Wl,-rpath,$ORIGIN/../lib'], check=True)
    os.rename(tool + '.new', tool)
    return tool, lib


def installed_versions(work, img, tool, lib):
    """Which version the partition boots: the tool's and the library's,
    as the booted system resolves their paths."""
    out = []
    with partition_mounted(img, 1, work('m'), 'ro') as m:
        for path in (tool, lib):
            p = m + path
            seen = set()
            while os.path.islink(p) and p not in seen:    # inside m only
                seen.add(p)
                t = os.readlink(p)
                p = os.path.normpath(os.path.join(os.path.dirname(p), t)
                                     if not t.startswith('/') else m + t)
            data = open(p, 'rb').read() if os.path.isfile(p) else b''
            found = re.findall(rb'(?:TOOL|VERSION)-([AB])', data)
            out.append(found[0].decode() if found else None)
    return out


@test
def install_is_whole_at_every_kill(work):
    """A new version of a binary and its library, installed over the old
    one, is killed at each rename it makes (strace's fault injection): the
    partition boots the old pair or the new pair, never one of each; the
    next command finishes or cleans up."""
    img = provisioned(work)
    t = tgt(img)
    top = tempfile.mkdtemp(prefix='earlyfs-tool-', dir='/tmp')
    try:
        tool, lib = host_tool(top, 'A')
        expect(run('install', tool, *t), 0, 'install %s' % tool)
        check(installed_versions(work, img, tool, lib) == ['A', 'A'],
              'version A not installed')
        # how many renames and links an uninterrupted install makes (each
        # call counts on its own: when=K kills at the K-th of any), then a
        # kill at each, from a set and from a partition from before sets
        # (the files at their paths; taken into a set as they are)
        want = 'A'
        for before in (None, from_before):
            host_tool(top, 'B' if want == 'A' else 'A')
            if before:
                before(work, img)
            n = calls_made(tool, t)
            for k in range(1, n + 1):
                if before:
                    before(work, img)
                host_tool(top, want)
                killed_then_finished(work, img, t, tool, lib, want, k, n)
                want = 'B' if want == 'A' else 'A'
            expect(run('check', *t), 0, '0 problems')
        with partition_mounted(img, 1, work('m'), 'ro') as m:
            sets = [f for f in os.listdir(m) if f.startswith('installed')]
        check(len(sets) == 2, 'sets left: %s' % sets)
    finally:
        shutil.rmtree(top)


CALLS = 'rename,renameat,renameat2,symlinkat,linkat'


def calls_made(tool, t):
    """The most calls of one kind of CALLS an install makes."""
    p = subprocess.run(['strace', '-f', '-c', '-e', 'trace=' + CALLS,
                        EARLYFS, 'install', tool] + t, capture_output=True,
                       text=True)
    n = max([int(m.group(1)) for m in re.finditer(
        r'^\s*\S+\s+\S+\s+\S+\s+(\d+)\s+(?:\d+\s+)?(?:rename|symlink|'
        r'link)', p.stderr, re.M)] or [0])
    check(p.returncode == 0 and n >= 1, 'calls counted: %d\n%s'
          % (n, p.stderr))
    return n


def killed_then_finished(work, img, t, tool, lib, want, k, n):
    """An install of version want killed at its k-th call of a kind: the
    old pair or the new one boots; the next install finishes it."""
    have = installed_versions(work, img, tool, lib)
    subprocess.run(['strace', '-f', '-o', '/dev/null', '-e',
                    'inject=%s:signal=KILL:when=%d' % (CALLS, k), EARLYFS,
                    'install', tool] + t, capture_output=True)
    got = installed_versions(work, img, tool, lib)
    check(got in (have, [want, want]),
          'killed at call %d of %d: the partition boots the tool %s with '
          'the library %s' % (k, n, got[0], got[1]))
    p = run('install', tool, *t)
    check(p.returncode == 0, 'after the kill at %d of %d: %s' % (k, n, p.out))
    check(installed_versions(work, img, tool, lib) == [want, want],
          'after the kill at %d, install did not finish' % k)


def from_before(work, img):
    """The partition as an earlier earlyfs left it: each installed path a
    copy of its file (or link), no set."""
    with partition_mounted(img, 1, work('m')) as m:
        cur = os.path.join(m, os.readlink(os.path.join(m, 'installed')))
        for d, dirs, files in os.walk(cur):
            for f in files:
                src = os.path.join(d, f)
                dst = m + src[len(cur):]
                if os.path.islink(dst) and not os.path.isdir(dst):
                    os.unlink(dst)
                    if os.path.islink(src):
                        os.symlink(os.readlink(src), dst)
                    else:
                        shutil.copy2(src, dst)
        os.unlink(os.path.join(m, 'installed'))
        shutil.rmtree(cur)
