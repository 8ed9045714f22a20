#!/usr/bin/env python3
"""Speed and memory of `linger report` on a large synthetic heap.

Writes a trace of about one million objects and three million references
with build/bench/linger-bench-trace (instances in trees with back
references, dicts, lists, tuples, bound-method cycles live and garbage,
weakref.finalize entries, weak references; see linger_bench_trace.c), then
runs `linger report --format=json` on it K times and prints the median
wall time, the peak RSS and the peak RSS per object, against the targets
(under 3 s, under 500 bytes per object).

Usage: bench/analyzer_bench.py [--build DIR] [--objects N] [--refs R]
       [--runs K] [--snapshots 1|2] [--trace FILE] [--diff] [--check]

--trace keeps the generated trace at FILE (and reuses it if it exists);
--diff times `linger report --diff` on a two-snapshot trace instead;
--check exits with status 1 if a target is missed.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET_SECONDS = 3.0
TARGET_BYTES_PER_OBJECT = 500


def run_measured(cmd):
    """(wall seconds, CPU seconds, peak RSS in bytes, stdout bytes) of one run."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        # wait4 gives this child's own rusage, not the maximum over all
        # children so far.
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        err = proc.stderr.read().decode(errors='replace')
        proc.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit('{} failed with status {}:\n{}'.format(' '.join(cmd), code, err))
        out.seek(0, os.SEEK_END)
        size = out.tell()
    return wall, rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss * 1024, size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--objects', type=int, default=1000000)
    ap.add_argument('--refs', type=int, default=0, help='default: 3 per object')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--snapshots', type=int, default=1, choices=(1, 2))
    ap.add_argument('--trace', help='keep (or reuse) the trace here')
    ap.add_argument('--diff', action='store_true', help='time report --diff (implies --snapshots 2)')
    ap.add_argument('--check', action='store_true', help='exit 1 if a target is missed')
    args = ap.parse_args()

    linger = os.path.join(args.build, 'linger')
    gen = os.path.join(args.build, 'bench', 'linger-bench-trace')
    for path in (linger, gen):
        if not os.access(path, os.X_OK):
            raise SystemExit('{} not found: build first (meson setup build && meson compile -C build)'.format(path))
    if args.diff:
        args.snapshots = 2

    tmp = None
    trace = args.trace
    if trace is None:
        tmp = tempfile.TemporaryDirectory(prefix='linger-bench-')
        trace = os.path.join(tmp.name, 'bench.trace')
    if not os.path.exists(trace):
        cmd = [gen, '--objects', str(args.objects), '--snapshots', str(args.snapshots), trace]
        if args.refs:
            cmd[1:1] = ['--refs', str(args.refs)]
        t0 = time.monotonic()
        made = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
        print('trace:      {} ({}; written in {:.2f} s)'.format(trace, made, time.monotonic() - t0))
    else:
        print('trace:      {} (reused)'.format(trace))
    trace_size = os.path.getsize(trace)

    cmd = [linger, 'report', '--format=json']
    if args.diff:
        cmd.append('--diff')
    cmd.append(trace)
    runs = [run_measured(cmd) for _ in range(args.runs)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    peak = max(r[2] for r in runs)

    # The object count of the judged (last) snapshot, from the report.
    objects = None
    if not args.diff:
        import json
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout
        report = json.loads(out)
        objects = report['trace']['objects']
        findings = report['findings']
    else:
        objects = args.objects
        findings = None

    per_object = peak / objects if objects else float('nan')
    print('command:    {}'.format(' '.join(cmd)))
    print('objects:    {}'.format(objects))
    print('trace size: {:.1f} MB ({:.0f} bytes per object)'.format(trace_size / 1e6, trace_size / objects))
    if findings is not None:
        print('findings:   {} entries'.format(len(findings)))
    print('wall time:  {:.2f} s median of {} ({})'.format(
        wall, len(runs), ', '.join('{:.2f}'.format(r[0]) for r in runs)))
    # On a busy machine wall time includes waiting for a CPU; CPU time
    # (user + system) does not.
    print('CPU time:   {:.2f} s median (user + system)'.format(cpu))
    print('peak RSS:   {:.1f} MB'.format(peak / 1e6))
    print('per object: {:.0f} bytes of peak RSS'.format(per_object))
    ok_time = wall < TARGET_SECONDS
    ok_mem = per_object < TARGET_BYTES_PER_OBJECT
    print('targets:    time < {:.0f} s: {}; memory < {} bytes/object: {}'.format(
        TARGET_SECONDS, 'yes' if ok_time else 'NO', TARGET_BYTES_PER_OBJECT, 'yes' if ok_mem else 'NO'))
    if args.check and not (ok_time and ok_mem):
        sys.exit(1)


if __name__ == '__main__':
    main()
