"""make bench, part 3: commit latency of a one-fragment edit on an
image-backed loop device, fsyncs included: through earlyfsd (socket round
trip, and the CLI process) and in-process (the CLI with --no-daemon); then
in-process on a slow disk and a fast one (the partition mounted -o sync;
its image on tmpfs), and what one in-process edit asks of the kernel
(strace -c: directory reads, opens, stats, fsyncs: the same on any
machine)."""
import os, re, socket, statistics, subprocess, sys, tempfile, time
from tests import harness

EDITS = int(os.environ.get('BENCH_EDITS', '200'))
E = os.path.join(harness.BUILD, 'earlyfs')
D = os.path.join(harness.BUILD, 'earlyfsd')


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def line(what, xs):
    print('%-34s p50 %6.2f ms  p99 %6.2f ms  (min %.2f, max %.2f; %d edits)'
          % (what, statistics.median(xs), pct(xs, 99), min(xs), max(xs),
             len(xs)))


def socket_edit(sock, name, body):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b'earlyfs/1 put %s\n' % name.encode() + body)
    s.shutdown(socket.SHUT_WR)
    out = b''
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    s.close()
    if not out.startswith(b'ok\n'):
        raise SystemExit('edit failed: %r' % out)


def main():
    work = harness.Workdir('bench-commit')
    img = work('disk.img')
    subprocess.run([E, 'image', 'create', img, '--size', '128M',
                    '--boot-size', '64M'], check=True, stdout=subprocess.DEVNULL)
    disk_id = subprocess.run(['sfdisk', '--disk-id', img], capture_output=True,
                             text=True, check=True).stdout.strip()[2:]
    subprocess.run([E, 'provision', img, '--partition', '1', '--root',
                    'PARTUUID=%s-02' % disk_id, '--kernel',
                    harness.kernel_image()], check=True,
                   stdout=subprocess.DEVNULL)
    sock = work('run/earlyfsd.sock')
    with harness.partition_mounted(img, 1, work('m')) as m:
        d = subprocess.Popen([D, '--foreground', '--boot', m, '--socket',
                              sock], stderr=subprocess.DEVNULL)
        while not os.path.exists(sock):
            time.sleep(0.01)
        via_socket, via_cli, in_proc = [], [], []
        try:
            for i in range(EDITS):
                body = b'echo "bench %d"\n' % i
                t0 = time.perf_counter()
                socket_edit(sock, '60-bench', body)
                via_socket.append((time.perf_counter() - t0) * 1000)
            for i in range(EDITS):
                t0 = time.perf_counter()
                subprocess.run([E, 'add', '--replace', '61-bench', '-',
                                '--boot', m, '--socket', sock], check=True,
                               input=b'echo "cli %d"\n' % i,
                               stdout=subprocess.DEVNULL)
                via_cli.append((time.perf_counter() - t0) * 1000)
        finally:
            d.terminate()
            d.wait()
        for i in range(EDITS):
            t0 = time.perf_counter()
            subprocess.run([E, 'add', '--replace', '62-bench', '-', '--boot',
                            m, '--no-daemon'], check=True,
                           input=b'echo "in-process %d"\n' % i,
                           stdout=subprocess.DEVNULL)
            in_proc.append((time.perf_counter() - t0) * 1000)
    print('earlyfs commit latency: one-fragment edit, 64 MiB partition on a '
          'loop device over an image file')
    line('earlyfsd, socket round trip', via_socket)
    line('earlyfsd, earlyfs CLI process', via_cli)
    line('in-process, earlyfs --no-daemon', in_proc)
    print('target: p99 <= 20 ms through the daemon: %s'
          % ('met' if pct(via_socket, 99) <= 20 else 'NOT met'))
    print('ratio in-process / daemon round trip (p50): %.2f'
          % (statistics.median(in_proc) / statistics.median(via_socket)))
    for what, opts, where in (('disk, mounted -o sync', 'rw,sync', None),
                              ('image on tmpfs', 'rw', '/dev/shm')):
        line('in-process, ' + what, backing(work, img, opts, where))
    calls(work, img)
    work.cleanup()


def in_process(m, n, name):
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        subprocess.run([E, 'add', '--replace', name, '-', '--boot', m,
                        '--no-daemon'], check=True,
                       input=b'echo "%s %d"\n' % (name.encode(), i),
                       stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def backing(work, img, opts, where):
    """One-fragment edits on img mounted with opts (a copy of it in where
    when given)."""
    n = max(EDITS // 4, 10)
    if where:
        copy = tempfile.mkdtemp(prefix='earlyfs-bench-', dir=where)
        subprocess.run(['cp', img, copy], check=True)
        img = os.path.join(copy, os.path.basename(img))
    try:
        with harness.partition_mounted(img, 1, work('m'), opts) as m:
            return in_process(m, n, '63-bench')
    finally:
        if where:
            subprocess.run(['rm', '-rf', copy], check=True)


def calls(work, img):
    """The system calls of one in-process edit, by kind."""
    with harness.partition_mounted(img, 1, work('m')) as m:
        in_process(m, 1, '64-bench')
        p = subprocess.run(['strace', '-f', '-c', '-e', 'trace=getdents64,'
                            'openat,newfstatat,statx,fstat,lstat,readlinkat,'
                            'read,write,fsync,syncfs,renameat,linkat,'
                            'unlinkat,mkdirat', E, 'add', '--replace',
                            '64-bench', '-', '--boot', m, '--no-daemon'],
                           input=b'echo "traced"\n', capture_output=True)
    counts = {m.group(2): int(m.group(1)) for m in re.finditer(
        rb'^\s*\S+\s+\S+\s+\S+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$',
        p.stderr, re.M) if m.group(2) != b'total'}
    print('one in-process edit, system calls: ' + ', '.join(
        '%s %d' % (k.decode(), v) for k, v in sorted(counts.items())))


if __name__ == '__main__':
    main()
