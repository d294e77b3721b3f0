"""--json (issue 27): one document per view (docs/json.md), the same facts
as the text, exit codes unchanged, what a partition holds escaped."""
import json, os, re, subprocess
from tests import harness
from tests.harness import check, test
from tests.cli.clilib import expect, image, run
from tests.cli.test_golden import provision
from tests.cli.test_kernels import kernel_as, newer, real_version

VIEWS = ('status', 'fragments', 'generations', 'log', 'kernel list',
         'feature list', 'check')


def doc(p, command, code=0):
    """p's stdout as the document of command; p exited with code."""
    check(p.returncode == code, '%s --json: exit %d, want %d:\n%s'
          % (command, p.returncode, code, p.out))
    try:
        d = json.loads(p.stdout)
    except ValueError as e:
        check(False, '%s --json is not JSON (%s):\n%s' % (command, e,
                                                          p.stdout))
    check(d.get('earlyfs_json') == 1 and d.get('command') == command,
          '%s: header %r' % (command, {k: d.get(k) for k in
                                      ('earlyfs_json', 'command')}))
    return d


@test
def json_views_say_what_the_text_says(work):
    img = image(work)
    expect(provision(img), 0)
    t = ('--target', img, '--partition', 1)
    v0, v1 = real_version(), newer(real_version())
    expect(run('add', '60-hello', '-', *t, input='echo hello\n'), 0)
    expect(run('disable', '60-hello', *t), 0)
    expect(run('kernel', 'add', kernel_as(work, v1), *t), 0)
    # status
    d = doc(run('status', img, '--partition', 1, '--json'), 'status')
    check(d['conf']['kernel'] == 'earlyfs-vmlinuz-' + v1 and
          d['loader']['name'] == 'extlinux' and
          sorted(d['kernels']) == sorted(['earlyfs-vmlinuz-' + v0,
                                          'earlyfs-vmlinuz-' + v1]) and
          {'name': '60-hello', 'enabled': False} in d['fragments'] and
          [l['name'] for l in d['labels'] if l['default']] == ['earlyfs'] and
          0 < d['free_kib'] < d['size_kib'], d)
    # fragments, against the text
    report = os.path.join(harness.TOP, 'tests/cli/golden/report')
    text = run('fragments', '--report', report, *t).stdout
    d = doc(run('fragments', '--report', report, '--json', *t), 'fragments')
    names = [f['name'] for f in d['fragments']]
    check(names == re.findall(r'^(\d\d-\S+)', text, re.M), (names, text))
    f = {f['name']: f for f in d['fragments']}
    check(f['60-hello']['state'] == 'disabled' and
          f['60-hello']['bytes'] == 11 and f['60-hello']['last_boot'] is None
          and f['50-mountroot']['last_boot']['status'] == 'skipped' and
          d['report_error'] is None, d)
    # generations: current last, previous before it
    d = doc(run('generations', '--json', *t), 'generations')
    g = d['generations']
    check(len(g) == len(re.findall(r'^\s+\d+  ', run('generations', *t)
                                   .stdout, re.M)) and
          g[-1]['current'] and g[-2]['previous'] and
          'kernel add' in g[-1]['change'] and
          re.match(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', g[-1]['when']), g)
    # kernel list: the default, its entries, the file
    d = doc(run('kernel', 'list', '--json', *t), 'kernel list')
    k = {k['version']: k for k in d['kernels']}
    check(k[v1]['default'] and not k[v0]['default'] and
          k[v1]['check'] == 'ok' and k[v1]['file'] == 'earlyfs-vmlinuz-' + v1
          and 'earlyfs' in k[v1]['entries'] and
          'earlyfs-' + v0 in k[v0]['entries'] and k[v1]['bytes'] > 1 << 20, d)
    # feature list
    d = doc(run('feature', 'list', '--json', *t), 'feature list')
    check({f['name'] for f in d['features']} >=
          {'luks', 'mdraid', 'fsck', 'network', 'ssh'} and
          not any(f['installed'] for f in d['features']), d)
    # check: no problems, exit 0
    d = doc(run('check', '--json', *t), 'check')
    check(d['problems'] == [] and d['problem_count'] == 0 and
          d['fragments'] >= 1, d)
    # log, from the report
    d = doc(run('log', '--report', report, '--json'), 'log')
    check([f['name'] for f in d['fragments']] ==
          ['40-printk', '50-mountroot', '69-printk'] and
          d['root'] == {'device': '/dev/vda2', 'fstype': 'ext4',
                        'how': 'runner', 'ms': 41} and
          d['pivot']['init'] == '/sbin/init' and
          {'pid': 302, 'comm': 'dropbear', 'when': 'pivot', 'kept': True}
          in d['processes'] and d['generation'] is None, d)


@test
def json_problems_errors_and_what_a_partition_holds(work):
    """check with problems: exit 1 and each problem a string; a view's
    failure: its exit code, nothing on stdout; --json where it means
    nothing: usage; a report's bytes (quotes, escapes, not UTF-8) come out
    as valid JSON."""
    img = image(work)
    expect(provision(img), 0)
    t = ('--target', img, '--partition', 1)
    with harness.partition_mounted(img, 1, work('m')) as m:
        harness.write(os.path.join(m, 'init.d/70-bad'), 'if then fi\n')
    text = run('check', *t)
    d = doc(run('check', '--json', *t), 'check', 1)
    lines = [l for l in text.stdout.splitlines() if '70-bad' in l]
    check(d['problem_count'] == len(d['problems']) >= 1 and lines and
          all(l in d['problems'] for l in lines), (d, text.stdout))
    # failures keep their codes and say nothing on stdout
    p = run('log', '--report', work('none'), '--json')
    check(p.returncode == 1 and p.stdout == '' and 'no boot report' in
          p.stderr, p.out)
    for args in (('add', '61-x', '/dev/null'), ('kernel', 'rm', 'x'),
                 ('feature', 'add', 'fsck'), ('once', 'rescue')):
        p = run(*args, '--json', *t)
        check(p.returncode == 2 and p.stdout == '' and '--json' in p.stderr,
              '%s: %s' % (args, p.out))
    # a report's text is data
    harness.write(work('report'), '\n'.join([
        'earlyfs-report 1', 'start_ms 5', 'generation 3',
        'fragment 40-printk ok 0 6 1 required',
        'note 40-printk say "hi" \\ there',
        'root runner 1 ext4 /dev/vda2', 'pivot ok 9 /sbin/init',
        'total_ms 4', 'peak_kib 1', '']))
    with open(work('report'), 'rb') as f:
        raw = f.read().replace(b'say "hi"', b'say "hi" \xff\x1b[1m')
    with open(work('report'), 'wb') as f:
        f.write(raw)
    p = run('log', '--report', work('report'), '--json')
    d = doc(p, 'log')
    check(d['generation'] == 3 and d['notes'] and
          d['notes'][0]['text'].startswith('say "hi" \ufffd\x1b[1m') and
          '\\u001b' in p.stdout, p.stdout)


@test
def ansible_playbook_provisions_and_adds_idempotently(work):
    """docs/ansible-earlyfs.yml on an image: the first run provisions and
    adds the fragment; the second changes nothing; a changed content is
    replaced; the fragment is there as written."""
    img = image(work)
    play = os.path.join(harness.TOP, 'docs', 'ansible-earlyfs.yml')
    env = dict(os.environ, PATH=harness.BUILD + ':' + os.environ['PATH'],
               ANSIBLE_LOCAL_TEMP=work('ans-local'),
               ANSIBLE_REMOTE_TEMP=work('ans-remote'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0')
    from tests.cli.clilib import partuuid

    def play_run(*extra):
        p = subprocess.run(
            ['ansible-playbook', '-i', 'localhost,', '-c', 'local', play,
             '-e', 'earlyfs_target=' + img, '-e', 'earlyfs_partition=1',
             '-e', 'earlyfs_root=PARTUUID=' + partuuid(img, 2),
             '-e', 'earlyfs_kernel=' + harness.kernel_image()] + list(extra),
            capture_output=True, text=True, env=env)
        m = re.search(r'ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+'
                      r'failed=(\d+)', p.stdout)
        check(p.returncode == 0 and m, 'ansible-playbook: %d\n%s%s'
              % (p.returncode, p.stdout[-3000:], p.stderr[-2000:]))
        return int(m.group(2)), p.stdout
    changed, out = play_run()
    check(changed == 2, 'first run: %d changed (want provision and add):\n'
          '%s' % (changed, out))
    t = ('--target', img, '--partition', 1)
    p = run('show', '60-motd', *t)
    check(p.returncode == 0 and 'early userspace on localhost' in p.stdout,
          p.out)
    gens = len(json.loads(run('generations', '--json', *t).stdout)
               ['generations'])
    changed, out = play_run()
    check(changed == 0, 'second run changed %d:\n%s' % (changed, out))
    check(len(json.loads(run('generations', '--json', *t).stdout)
              ['generations']) == gens, 'the second run made a generation')
    changed, out = play_run('-e', json.dumps(
        {'earlyfs_fragment_content': 'echo v2\n'}))
    check(changed == 1 and run('show', '60-motd', *t).stdout == 'echo v2\n',
          'a new content was not replaced:\n%s' % out)
