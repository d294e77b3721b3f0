"""Who may include whom (docs/architecture.md, "Rooms"): python3 -m
tests.layering.  Each rule is one check, over every file; a failure names
the file, the line and the rule."""
import os, re, sys
from tests import harness

SRC = os.path.join(harness.TOP, 'src')
# src/admin's rooms, lowest first: a file may include its own room's
# headers and those of the rooms before it, never one after.
ROOMS = ['base', 'target', 'loader', 'change', 'features', 'kernel', 'view',
         '']
# the one file that may include each library's headers
WRAPPERS = {'blkid/': 'admin/target/blkid.c',
            'libfdisk/': 'admin/target/fdisk.c',
            'ext2fs/': 'admin/target/fs.c'}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def sources():
    for d, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith(('.c', '.h')):
                p = os.path.join(d, f)
                yield os.path.relpath(p, SRC), open(p).read()


def includes(text):
    for m in INCLUDE.finditer(text):
        yield text.count('\n', 0, m.start()) + 1, m.group(1), m.group(2)


def room(rel):
    """The room of a file or header path under src/admin ('' the top)."""
    parts = rel.split('/')
    return parts[0] if len(parts) > 1 else ''


def main():
    admin_headers = {os.path.relpath(os.path.join(d, f),
                                     os.path.join(SRC, 'admin'))
                     for d, _, fs in os.walk(os.path.join(SRC, 'admin'))
                     for f in fs if f.endswith('.h')}
    bare = {os.path.basename(h) for h in admin_headers}
    failures, checks = [], 0
    edges = {}
    for rel, text in sources():
        top = rel.split('/')[0]
        for line, kind, name in includes(text):
            checks += 1
            where = '%s:%d: #include %s' % (rel, line, name)
            if top in ('init', 'lib') and kind == '"' and (
                    name in admin_headers or name in bare):
                failures.append('%s: src/%s includes no admin header'
                                % (where, top))
            for prefix, owner in WRAPPERS.items():
                if kind == '<' and name.startswith(prefix) and rel != owner:
                    failures.append('%s: only %s includes <%s...>'
                                    % (where, owner, prefix))
            if top not in ('admin', 'cli', 'daemon') or kind != '"':
                continue
            if name in bare and name not in admin_headers:
                failures.append('%s: an admin header is named with its '
                                'room (room/name.h)' % where)
                continue
            if name not in admin_headers:
                continue        # src/lib's
            if top == 'admin':
                mine = room(os.path.relpath(rel, 'admin'))
                theirs = room(name)
                if ROOMS.index(theirs) > ROOMS.index(mine):
                    failures.append('%s: room %s may not include room %s '
                                    '(order: %s)' % (
                                        where, mine or 'top', theirs or 'top',
                                        ' < '.join(r or 'top'
                                                   for r in ROOMS)))
                # a file's own header counts as the file (a .c file is its
                # header's includes too)
                edges.setdefault(rel[len('admin/'):-2], set()).add(name[:-2])
    for a, deps in sorted(edges.items()):
        for b in sorted(deps):
            checks += 1
            if b != a and a in edges.get(b, ()) and a < b:
                failures.append('admin/%s and admin/%s include each other\'s '
                                'headers: a circle' % (a, b))
    for f in failures:
        print('FAIL ' + f)
    passed = checks - len(failures)
    print('layering: %d passed, %d failed' % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
