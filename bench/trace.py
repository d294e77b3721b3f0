"""make bench-trace: where earlyfs-init's time goes, system call by system
call.  Boots the bench's disk (bench/boot.py) with the test kernel plus
tracepoints (bench/trace-kernel.sh) under -icount shift=0, the fragments
skipped unless arguments say otherwise (python3 -m bench.trace LABEL...),
and prints what the tracepoints saw between earlyfs-init's exec and the
real init's: each system call's count and time, the longest calls, the
block reads issued, page faults, and the time between calls (user space).
Times count instructions (1 ns each) and include the tracing's own cost
(the traced runner takes about 1.7 times as long): read them as shares."""
import collections, os, re, subprocess, sys
from bench import boot
from tests import harness
from tests.harness import Workdir, qemu

EVENTS = ','.join(('raw_syscalls:sys_enter', 'raw_syscalls:sys_exit',
                   'sched:sched_process_exec', 'block:block_rq_issue',
                   'block:block_rq_complete', 'exceptions:page_fault_user',
                   'exceptions:page_fault_kernel'))

# The bench's real init, which also stops tracing and prints the buffer.
REAL_INIT = boot.REAL_INIT.replace('poweroff -f', '''mount -t tracefs nodev /tmp
echo 0 > /tmp/tracing_on
echo TRACE-BEGIN
cat /tmp/trace
echo TRACE-END
poweroff -f''')

UNISTD = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h'


def syscall_names():
    names = {}
    with open(UNISTD) as f:
        for line in f:
            m = re.match(r'#define __NR_(\w+) (\d+)', line)
            if m:
                names[int(m.group(2))] = m.group(1)
    return names


EVENT = re.compile(r'\s*(.+?)-(\d+)\s+\[\d+\] \S+\s+([\d.]+): (\w+): (.*)')


def parse(text):
    """[(pid, us, event, rest)] of the trace the real init printed."""
    body = text.split('TRACE-BEGIN', 1)[1].split('TRACE-END', 1)[0]
    out = []
    for line in body.splitlines():
        m = EVENT.match(line)
        if m:
            out.append((int(m.group(2)), float(m.group(3)) * 1e6,
                        m.group(4), m.group(5)))
    return out


def window(events):
    """The events from earlyfs-init's exec to the real init's."""
    start = next(i for i, e in enumerate(events)
                 if e[2] == 'sched_process_exec' and 'earlyfs-init' in e[3])
    end = next(i for i in range(start + 1, len(events))
               if events[i][2] == 'sched_process_exec' and events[i][0] == 1)
    return events[start:end + 1]


def report(events, names):
    t0, t1 = events[0][1], events[-1][1]
    calls = collections.defaultdict(lambda: [0, 0.0])
    longest, reads, issued = [], [], {}
    enter, last_exit, user, faults = None, t0, 0.0, 0
    for pid, t, kind, rest in events:
        if kind == 'sys_enter' and pid == 1:
            m = re.match(r'NR (\d+) \((.*)\)', rest)
            nr = int(m.group(1))
            enter = (t, names.get(nr, str(nr)), m.group(2))
            user += t - last_exit
        elif kind == 'sys_exit' and pid == 1 and enter:
            d = t - enter[0]
            calls[enter[1]][0] += 1
            calls[enter[1]][1] += d
            longest.append((d, enter[0] - t0, enter[1], enter[2],
                            rest.rsplit('=', 1)[-1].strip()))
            enter, last_exit = None, t
        elif kind == 'block_rq_issue':
            m = re.search(r'(\d+) \+ (\d+)', rest)
            if m:
                issued[m.group(1)] = (t, int(m.group(2)))
        elif kind == 'block_rq_complete':
            m = re.search(r'(\d+) \+ (\d+)', rest)
            if m and m.group(1) in issued:
                ti, n = issued.pop(m.group(1))
                reads.append((ti - t0, t - ti, int(m.group(1)), n))
        elif kind.startswith('page_fault') and pid == 1:
            faults += 1
    total = t1 - t0
    in_calls = sum(d for _, d in calls.values())
    print('earlyfs-init from its exec to the real init\'s: %.0f us traced; '
          '%d system calls %.0f us, between them (user space, faults) '
          '%.0f us; %d page faults; %d block requests, %.0f us from issue '
          'to completion' % (total, sum(n for n, _ in calls.values()),
                             in_calls, user, faults, len(reads),
                             sum(w for _, w, _, _ in reads)))
    print('  %-16s %5s %9s' % ('system call', 'count', 'time'))
    for name, (n, d) in sorted(calls.items(), key=lambda x: -x[1][1]):
        print('  %-16s %5d %6.0f us' % (name, n, d))
    print('the 12 longest calls (at: us from the exec; the arguments as '
          'raw numbers):')
    for d, at, name, args, ret in sorted(longest, reverse=True)[:12]:
        print('  %6.0f us at %5.0f  %-10s (%s) = %s' % (d, at, name,
                                                         args[:48], ret))
    print('block requests (sector + count, from the start of the disk):')
    for at, w, sector, n in reads:
        print('  at %5.0f us: %9d + %-4d %5.0f us' % (at, sector, n, w))


def main():
    labels = sys.argv[1:] or ['earlyfs earlyfs.skip=40,50,69']
    kernel = subprocess.run([os.path.join(harness.TOP, 'bench',
                                          'trace-kernel.sh')],
                            stdout=subprocess.PIPE,
                            text=True, check=True).stdout.strip()
    work = Workdir('bench-trace')
    disk = boot.build(work, kernel=kernel, real_init=REAL_INIT)
    names = syscall_names()
    for label in labels:
        with qemu(work, disk, extra=boot.ICOUNT) as c:
            c.expect(r'boot:', timeout=60)
            c.send('%s trace_event=%s trace_buf_size=8M' % (label, EVENTS))
            c.expect(r'TRACE-END', 300)
            c.wait_exit(60)
            text = c.text()
        print('label: %s' % label)
        report(window(parse(text)), names)
    work.cleanup()


if __name__ == '__main__':
    main()
