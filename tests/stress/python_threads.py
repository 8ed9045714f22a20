#!/usr/bin/python3
"""Eight Python threads, a million allocations each, under the shim.

  python_threads.py --linger L --python P [--threads 8] [--allocs 1000000]

Runs a program whose threads each make ALLOCS allocations at the same
time (bytearray(24): the object and its buffer, no freelist involved),
bare and under `linger run`: same output and status, no deadlock (a
timeout fails), and a complete trace whose allocation count covers every
one of them (nothing lost), whose report reads, and that holds the
program's one finding.
Exit status: 0 pass, 1 fail.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

PROGRAM = r'''
import sys, threading
n_threads, allocs = int(sys.argv[1]), int(sys.argv[2])
barrier = threading.Barrier(n_threads)
results = [0] * n_threads

def body(k):
    barrier.wait()
    total = 0
    keep = []
    for i in range(allocs // 2):        # bytearray(24): object + buffer
        b = bytearray(24)
        b[0] = (i + k) & 0xff
        keep.append(b)
        if len(keep) == 128:
            total += sum(x[0] for x in keep)
            keep = []
    results[k] = total

threads = [threading.Thread(target=body, args=(k,)) for k in range(n_threads)]
for t in threads:
    t.start()
for t in threads:
    t.join()

class StressNode:
    def __init__(self):
        self.cb = self.run
    def run(self):
        pass
keep = StressNode()
print('threads', n_threads, 'results', results)
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--linger', required=True)
    ap.add_argument('--python', default='/usr/bin/python3')
    ap.add_argument('--threads', type=int, default=8)
    ap.add_argument('--allocs', type=int, default=1000000)
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith('LINGER_') and k != 'LD_PRELOAD'}
    failures = []

    def expect(cond, what):
        print(('ok: ' if cond else 'FAILED: ') + what)
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix='linger-stress-') as tmp:
        prog = os.path.join(tmp, 'stress.py')
        with open(prog, 'w') as f:
            f.write(PROGRAM)
        argv = [a.python, prog, str(a.threads), str(a.allocs)]
        t0 = time.monotonic()
        bare = subprocess.run(argv, capture_output=True, env=env, timeout=600)
        t1 = time.monotonic()
        trace = os.path.join(tmp, 's.trace')
        traced = subprocess.run([a.linger, 'run', '--output', trace, '--'] + argv,
                                capture_output=True, env=env, timeout=900)
        t2 = time.monotonic()
        print('bare %.1fs, traced %.1fs (%d threads x %d allocations)' % (t1 - t0, t2 - t1, a.threads, a.allocs))
        expect(bare.returncode == 0 and traced.returncode == 0, 'both runs exit 0')
        expect(bare.stdout == traced.stdout, 'same output')
        r = subprocess.run([a.linger, 'report', '--format=json', trace], capture_output=True, text=True)
        expect(r.returncode == 0, 'the trace reads: ' + r.stderr.strip()[:300])
        if r.returncode == 0:
            d = json.loads(r.stdout)
            expect(d['trace'].get('complete') is True, 'the trace is complete')
            n = d['allocations']['python_allocs']
            want = a.threads * a.allocs
            expect(n >= want, 'python allocations tracked: %d >= %d (threads x allocations)' % (n, want))
            kinds = [(f['kind'], json.dumps(f.get('objects', []))) for f in d['findings']]
            expect(any(k == 'bound-method-cycle' and 'StressNode' in objs for k, objs in kinds),
                   'the program\'s bound-method cycle is reported')
    print('%d failed' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
