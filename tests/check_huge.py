#!/usr/bin/env python3
"""Huge traces (issue 5): analysed in bounded memory or refused with a
clear message, never killed.

Writes a synthetic trace of about 200 MB (bench/linger_bench_trace.c, two
snapshots: a report keeps only the last one's entries) into --dir, then:

  * --max-memory=64M: exit 1, one `linger: error: TRACE: analysing this
    trace needs about ... (N objects, M references); the limit is 64.0 MiB
    (--max-memory) ...` line, nothing on standard output, and quickly (the
    estimate comes from the record headers, before the trace is read);
  * the same trace through a pipe: refused as larger than the limit;
  * --max-memory=8G: exit 0, a JSON report of the N objects;
  * --max-memory=foo (0, 12X, -1G): usage errors (exit 2);
  * under RLIMIT_AS (ulimit -v) of 256 MiB, which the unlimited analysis
    does not survive (checked: it dies of a signal), the default limit
    derived from RLIMIT_AS refuses the trace cleanly (exit 1, the message
    naming ulimit -v).  Skipped for a sanitized linger, which cannot run
    under a small RLIMIT_AS at all (ASan reserves terabytes of shadow).

The trace is deleted at the end.  Exit 0 on success, 1 on failure.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

OBJECTS = 1000000
AS_LIMIT = 256 << 20


def count_text(n):
    """How linger writes a count: "12.3 M", "45.6 k", "789"."""
    if n >= 1000000:
        return '{:.1f} M'.format(n / 1e6)
    if n >= 10000:
        return '{:.1f} k'.format(n / 1e3)
    return str(n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--linger', required=True)
    ap.add_argument('--generator', required=True)
    ap.add_argument('--dir', required=True)
    args = ap.parse_args()

    problems = []
    trace = os.path.join(args.dir, 'check-huge-{}.trace'.format(os.getpid()))
    env = dict(os.environ, NO_COLOR='1')
    try:
        gen = subprocess.run([args.generator, '--objects', str(OBJECTS), '--snapshots', '2', trace],
                             capture_output=True, text=True)
        if gen.returncode != 0:
            print('generator failed: ' + gen.stderr)
            return 1
        m = re.match(r'(\d+) objects, (\d+) references', gen.stdout)
        if not m:
            print('unexpected generator output: ' + gen.stdout)
            return 1
        n_objects, n_refs = int(m.group(1)), int(m.group(2))
        size = os.path.getsize(trace)
        print('trace: {:.1f} MB, {} objects, {} references'.format(size / 1e6, n_objects, n_refs))

        def expect_refusal(what, p, must_say):
            lines = p.stderr.strip().splitlines()
            if p.returncode != 1:
                problems.append('{}: exit status {} (stderr: {})'.format(what, p.returncode, p.stderr[-500:]))
            elif len(lines) != 1 or not lines[0].startswith('linger: error: '):
                problems.append('{}: not one error line: {!r}'.format(what, p.stderr[-500:]))
            else:
                for text in must_say:
                    if text not in lines[0]:
                        problems.append('{}: the message lacks {!r}: {}'.format(what, text, lines[0]))
            if p.stdout:
                problems.append('{}: a report on standard output'.format(what))
            print('{}: exit {}: {}'.format(what, p.returncode, p.stderr.strip()))

        # 1. Under an explicit limit: refused from the headers alone.
        started = time.monotonic()
        p = subprocess.run([args.linger, 'report', '--max-memory=64M', trace],
                           capture_output=True, text=True, env=env)
        elapsed = time.monotonic() - started
        counts = '{} objects, {} references'.format(count_text(n_objects), count_text(n_refs))
        expect_refusal('--max-memory=64M', p,
                       [trace + ': analysing this trace needs about ', counts,
                        'the limit is 64.0 MiB (--max-memory)'])
        need = re.search(r'needs about ([0-9.]+) MiB', p.stderr)
        if need and not 64 < float(need.group(1)) < 4096:
            problems.append('implausible estimate: ' + need.group(0))
        if elapsed > 20:
            problems.append('the refusal took {:.1f} s: the trace was read before the estimate'.format(elapsed))

        # 2. Through a pipe, which cannot be scanned first.
        cat = subprocess.Popen(['cat', trace], stdout=subprocess.PIPE)
        p = subprocess.run([args.linger, 'report', '--max-memory=64M', '/dev/stdin'],
                           stdin=cat.stdout, capture_output=True, text=True, env=env)
        cat.stdout.close()
        cat.wait()
        expect_refusal('pipe, --max-memory=64M', p, ['larger than the memory limit, 64.0 MiB (--max-memory)'])

        # 3. A generous limit: analysed.
        p = subprocess.run([args.linger, 'report', '--max-memory=8G', '--format=json', trace],
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            problems.append('--max-memory=8G: exit status {}: {}'.format(p.returncode, p.stderr[-500:]))
        else:
            report = json.loads(p.stdout)
            got = report['trace']['objects']
            print('--max-memory=8G: exit 0, {} objects in the report'.format(got))
            if got != n_objects:
                problems.append('the report counts {} objects, the trace has {}'.format(got, n_objects))
            if report['trace'].get('snapshots') != 2:
                problems.append('the report does not count the 2 snapshots: {}'.format(report['trace'].get('snapshots')))

        # A size that is not one is a usage error.
        for bad in ('foo', '0', '12X', '-1G'):
            p = subprocess.run([args.linger, 'report', '--max-memory=' + bad, trace],
                               capture_output=True, text=True, env=env)
            if p.returncode != 2 or '--max-memory' not in p.stderr:
                problems.append('--max-memory={}: exit {} ({}), not a usage error'.format(
                    bad, p.returncode, p.stderr.strip()))

        # 4. Under RLIMIT_AS.
        with open(args.linger, 'rb') as f:
            sanitized = b'__asan_init' in f.read()
        if sanitized:
            print('RLIMIT_AS: skipped (sanitized linger)')
        else:
            def limited():
                resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

            p = subprocess.run([args.linger, 'report', '--max-memory=unlimited', trace],
                               capture_output=True, text=True, env=env, preexec_fn=limited)
            print('RLIMIT_AS {} MiB, --max-memory=unlimited: exit {}'.format(AS_LIMIT >> 20, p.returncode))
            if p.returncode >= 0:
                problems.append('the unlimited analysis survived RLIMIT_AS of {} MiB (exit {}): '
                                'the test proves nothing'.format(AS_LIMIT >> 20, p.returncode))
            p = subprocess.run([args.linger, 'report', trace],
                               capture_output=True, text=True, env=env, preexec_fn=limited)
            expect_refusal('RLIMIT_AS {} MiB, default limit'.format(AS_LIMIT >> 20), p,
                           [trace + ': analysing this trace needs about ', 'ulimit -v'])
    finally:
        if os.path.exists(trace):
            os.unlink(trace)

    for problem in problems:
        print('FAIL: ' + problem)
    print('ok' if not problems else '{} problem(s)'.format(len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
