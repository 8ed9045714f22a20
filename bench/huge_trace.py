#!/usr/bin/env python3
"""Peak memory and time of `linger report` on a huge synthetic trace.

Writes a trace of about --size bytes (default 2 GB) with
build/bench/linger-bench-trace (a heap shaped like a long-running service,
3 references per object, about 113 bytes of trace per object), runs
`linger report --max-memory=unlimited` on it, and prints the trace's size,
the peak resident memory (the child's ru_maxrss), the wall time, the bytes
of memory per byte of trace and per object, and linger's own estimate
(what `--max-memory` compares against).  The trace is deleted at the end
unless --keep.

Usage: bench/huge_trace.py [--build DIR] [--size 2G] [--dir DIR] [--keep]
                           [--linger PATH] [--snapshots 1|2]
"""
import argparse
import os
import re
import subprocess
import sys
import time

BYTES_PER_OBJECT = 113   # of trace, with the generator's 3 references per object


def parse_size(text):
    m = re.fullmatch(r'([0-9.]+)([KMGT]?)', text.upper())
    if not m:
        raise argparse.ArgumentTypeError('a size such as 200M or 2G, not ' + text)
    return int(float(m.group(1)) * 1024 ** ' KMGT'.index(m.group(2) or ' '))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default=os.path.join(here, '..', 'build'))
    ap.add_argument('--linger', help='default: BUILD/linger')
    ap.add_argument('--size', type=parse_size, default=parse_size('2G'))
    ap.add_argument('--snapshots', type=int, default=1, choices=(1, 2))
    ap.add_argument('--dir', help='where the trace goes (default: BUILD)')
    ap.add_argument('--keep', action='store_true')
    args = ap.parse_args()

    linger = args.linger or os.path.join(args.build, 'linger')
    gen = os.path.join(args.build, 'bench', 'linger-bench-trace')
    trace = os.path.join(args.dir or args.build, 'huge-{}.trace'.format(os.getpid()))
    objects = max(1000, args.size // BYTES_PER_OBJECT)
    try:
        started = time.monotonic()
        out = subprocess.run([gen, '--objects', str(objects), '--snapshots', str(args.snapshots), trace],
                             check=True, capture_output=True, text=True).stdout
        gen_time = time.monotonic() - started
        size = os.path.getsize(trace)
        m = re.match(r'(\d+) objects, (\d+) references', out)
        n_objects, n_refs = int(m.group(1)), int(m.group(2))

        # A linger from before --max-memory (to compare) has no estimate.
        has_limit = '--max-memory' in subprocess.run([linger, 'report', '--help'],
                                                     capture_output=True, text=True).stdout
        estimate = subprocess.run([linger, 'report', '--max-memory=1K', trace],
                                  capture_output=True, text=True).stderr.strip() if has_limit else ''
        m = re.search(r'needs about ([0-9.]+ [KMGT]iB)', estimate)
        estimate = m.group(1) if m else '(no estimate: {})'.format(estimate)

        started = time.monotonic()
        p = subprocess.Popen([linger, 'report'] + (['--max-memory=unlimited'] if has_limit else []) + [trace],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.monotonic() - started
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode('utf-8', 'replace')
        peak = usage.ru_maxrss * 1024
    finally:
        if not args.keep and os.path.exists(trace):
            os.unlink(trace)

    print('linger:      {}'.format(linger))
    print('trace:       {:.2f} GB ({} snapshot(s); written in {:.0f} s)'.format(size / 1e9, args.snapshots, gen_time))
    print('objects:     {} ({:.1f} M), references {} ({:.1f} M)'.format(
        n_objects, n_objects / 1e6, n_refs, n_refs / 1e6))
    print('exit:        {}{}'.format(p.returncode, ' ' + err.strip()[-300:] if p.returncode else ''))
    print('time:        {:.1f} s'.format(elapsed))
    print('peak RSS:    {:.2f} GB ({:.2f} bytes per trace byte, {:.0f} bytes per object)'.format(
        peak / 1e9, peak / size, peak / n_objects))
    print('estimate:    {} (what --max-memory is compared with)'.format(estimate))
    return 0 if p.returncode == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
