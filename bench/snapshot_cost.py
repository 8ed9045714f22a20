#!/usr/bin/env python3
"""Cost of linger's exit snapshot on a large heap, measured side by side.

Runs bench/snapshot_workload.py bare and under the shim (same interpreter,
same run), N times each, and prints the median wall times, their ratio, the
snapshot pause recorded in the trace, the trace size and the peak RSS of
both.  Usage: bench/snapshot_cost.py [--python PY] [--shim build/liblinger.so]
[--nodes N] [--runs K]
"""
import argparse
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REC_OBJECTS, REC_SNAPSHOT_END = 5, 10


def run(cmd, env):
    t0 = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    # ru_maxrss of children is the max over all children so far: run the
    # bare case first, then linger, and report what each run reached.
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(before, after)


def snapshot_end(path):
    """(objects, refs, pause_ns) from the trace's SNAPSHOT_END record."""
    with open(path, 'rb') as f:
        data = f.read()
    off = 64
    while off + 8 <= len(data):
        rtype, _, size = struct.unpack_from('<HHI', data, off)
        if size < 8:
            break
        if rtype == REC_SNAPSHOT_END:
            _, _, n_obj, n_refs, _, pause = struct.unpack_from('<IIQQQQ', data, off + 8)
            return n_obj, n_refs, pause
        off += size
    raise SystemExit('no SNAPSHOT_END in ' + path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--python', default='/usr/bin/python3')
    ap.add_argument('--shim', default=os.path.join(HERE, '..', 'build', 'liblinger.so'))
    ap.add_argument('--nodes', type=int, default=333334)
    ap.add_argument('--runs', type=int, default=3)
    args = ap.parse_args()
    shim = os.path.abspath(args.shim)
    if not os.path.exists(shim):
        raise SystemExit('shim not found: {} (build first, or pass --shim)'.format(shim))
    workload = [args.python, '-S', os.path.join(HERE, 'snapshot_workload.py'), str(args.nodes)]

    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, 'bench.trace')
        bare_env = dict(os.environ)
        bare_env.pop('LD_PRELOAD', None)
        lin_env = dict(bare_env, LD_PRELOAD=shim, LINGER_OUTPUT=trace)
        bare, lin, rss_bare, rss_lin = [], [], 0, 0
        for _ in range(args.runs):
            w, rss_bare = run(workload, bare_env)
            bare.append(w)
        for _ in range(args.runs):
            lin_env.pop('LINGER_OUTPUT_PID', None)
            lin_env.pop('LINGER_ROOT_PID', None)
            w, rss_lin = run(workload, lin_env)
            lin.append(w)
        n_obj, n_refs, pause = snapshot_end(trace)
        size = os.path.getsize(trace)

    mb, mb_bare = statistics.median(lin), statistics.median(bare)
    print('python:            {}'.format(args.python))
    print('objects/refs:      {} objects, {} references in the snapshot'.format(n_obj, n_refs))
    print('wall (median of {}): bare {:.2f} s, linger {:.2f} s, ratio {:.2f}x'.format(
        args.runs, mb_bare, mb, mb / mb_bare))
    print('snapshot pause:    {:.0f} ms ({:.2f} us per object)'.format(pause / 1e6, pause / 1e3 / max(n_obj, 1)))
    print('trace size:        {:.1f} MB ({:.0f} bytes per object)'.format(size / 1e6, size / max(n_obj, 1)))
    print('peak RSS:          bare {:.0f} MB, linger {:.0f} MB, ratio {:.2f}x'.format(
        rss_bare / 1024, rss_lin / 1024, rss_lin / max(rss_bare, 1)))


if __name__ == '__main__':
    main()
