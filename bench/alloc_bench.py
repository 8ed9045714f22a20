#!/usr/bin/env python3
"""Cost of linger's allocation tracking, side by side with tracemalloc and heaptrack.

In one invocation, in interleaved rounds (each round runs every
configuration once, in a rotating order, so that a slow spell of the
machine does not land on one configuration), N runs each:

  Python workload (bench/alloc_workload.py, Debian's /usr/bin/python3
  unless --python says otherwise):
    bare                 the interpreter alone
    linger               the shim, default settings (Python allocation
                         sites, small Python depth, no native stacks)
    linger depth=64      LINGER_PYTHON_DEPTH=64   (linger run --python-depth=64)
    linger native        LINGER_NATIVE=1          (linger run --native)
    tracemalloc=1        python3 -X tracemalloc=1
    tracemalloc=64       python3 -X tracemalloc=64
  C workload (build/bench/alloc-workload, -O2 -g, 4 threads):
    bare
    linger native        LINGER_NATIVE=1 (what linger run does for a
                         program that is not Python)
    heaptrack            if installed (Debian package heaptrack)

The shim is preloaded directly (LD_PRELOAD plus the variables the
`linger run` options set), so that the peak RSS (ru_maxrss from wait4 of
the child) is the program's own and not linger run's; --via-run goes
through `linger run` instead (wait4 then reports the larger of linger
run and the program it waited for, which is the program).  heaptrack's
RSS is the larger of the program and heaptrack's interpreter process.

Prints, per configuration: median wall time, ratio to bare, peak RSS,
RSS ratio, trace size, and from `linger report --format=json` (its
"allocations" object, when the report has one) the trace bytes per
allocation site and per object and the shim's table bytes per live
block; then the targets:

  default Python tracking        <= 1.3 x bare
  Python depth 64                <= 2 x bare
  native stacks on C             overhead (ratio - 1) <= half of heaptrack's
  shim memory                    <= 32 bytes per live tracked block
                                 (table_bytes / peak_live_blocks)

Usage: bench/alloc_bench.py [--build DIR] [--python PY] [--runs N]
       [--scale S] [--c-rounds R] [--quick] [--via-run] [--check] [--keep DIR]
       [--skip TEXT]...

A full run (3 rounds) takes a few minutes, most of it tracemalloc=64
(about 20 x bare on this workload) and heaptrack; `--skip tracemalloc=64`
saves most of it.

--quick: one run each of a twentieth of the work (a smoke test, not a
measurement); --check: exit status 1 if a target is missed or could not
be measured; --keep DIR: leave the traces there.  A missing tool or
build product is skipped with a message, never an error.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TARGET_DEFAULT = 1.3
TARGET_DEEP = 2.0
TARGET_NATIVE_VS_HEAPTRACK = 0.5
TARGET_TABLE_BYTES_PER_BLOCK = 32


def clean_env(extra=None):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(('LINGER_', 'PYTHON', 'HEAPTRACK')) or name in ('LD_PRELOAD', 'MALLOC_PERTURB_',
                                                                           'MALLOC_CHECK_'):
            del env[name]
    env.update(extra or {})
    return env


class Config:
    """One way of running one workload."""

    def __init__(self, name, workload, argv, env=None, kind='bare', trace=None):
        self.name = name
        self.workload = workload   # 'python' or 'c'
        self.argv = argv           # may contain {trace}
        self.env = env or {}
        self.kind = kind           # 'bare', 'linger', 'tracemalloc', 'heaptrack'
        self.trace = trace         # the trace path pattern, for linger and heaptrack
        self.runs = []             # (wall, maxrss bytes)
        self.failed = None
        self.stdout = None
        self.trace_size = None
        self.report = None

    def median_wall(self):
        return statistics.median(r[0] for r in self.runs) if self.runs else None

    def peak_rss(self):
        return max(r[1] for r in self.runs) if self.runs else None


def run_once(cfg, tmp, n):
    trace = cfg.trace.format(n=n) if cfg.trace else None
    argv = [a.format(trace=trace) for a in cfg.argv]
    env = {k: v.format(trace=trace) for k, v in cfg.env.items()}
    if trace:
        for old in glob.glob(trace + '*'):
            os.unlink(old)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(argv, env=clean_env(env), cwd=tmp, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err)
        except OSError as e:
            cfg.failed = 'cannot run: {}'.format(e)
            return
        # wait4: this child's rusage (and its waited-for descendants'),
        # not the maximum over every child so far.
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
        if proc.returncode != 0:
            err.seek(0)
            cfg.failed = 'exit status {}: {}'.format(
                proc.returncode, err.read().decode(errors='replace').strip().splitlines()[-3:])
            return
    cfg.runs.append((wall, rusage.ru_maxrss * 1024))
    cfg.stdout = stdout
    if trace:
        files = sorted(glob.glob(trace + '*'))
        cfg.trace_size = sum(os.path.getsize(f) for f in files) if files else None
        cfg.last_trace = files[0] if files else None


def linger_report(linger, cfg):
    """The JSON report of the configuration's last trace, or None."""
    path = getattr(cfg, 'last_trace', None)
    if not path or not os.access(linger, os.X_OK):
        return None
    try:
        p = subprocess.run([linger, 'report', '--format=json', path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        return json.loads(p.stdout) if p.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def alloc_stats(report):
    """(sites, objects, table_bytes, peak_live_blocks) from a report; None
    where the report does not say.  The "allocations" object is the
    contract; the names of the site counts are a guess to adjust."""
    if not isinstance(report, dict):
        return None, None, None, None
    allocs = report.get('allocations') if isinstance(report.get('allocations'), dict) else {}
    sites = None
    for key in ('sites', 'allocation_sites'):
        if isinstance(allocs.get(key), int):
            sites = allocs[key]
            break
    else:
        parts = [allocs.get(k) for k in ('python_sites', 'native_sites') if isinstance(allocs.get(k), int)]
        sites = sum(parts) if parts else None
    objects = (report.get('trace') or {}).get('objects')
    return sites, objects, allocs.get('table_bytes'), allocs.get('peak_live_blocks')


def fmt(v, spec='{:.2f}', none='-'):
    return none if v is None else spec.format(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'), help='the build directory (default: build/)')
    ap.add_argument('--python', default='/usr/bin/python3', help='the interpreter (default: Debian\'s)')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--scale', type=float, default=1.0, help='of the Python workload')
    ap.add_argument('--c-rounds', type=int, default=2000000, help='allocations per thread of the C workload')
    ap.add_argument('--quick', action='store_true', help='one run of a tenth of the work: a smoke test')
    ap.add_argument('--via-run', action='store_true', help='go through `linger run` instead of LD_PRELOAD')
    ap.add_argument('--check', action='store_true', help='exit 1 if a target is missed or not measured')
    ap.add_argument('--keep', help='keep the traces in this directory')
    ap.add_argument('--skip', action='append', default=[], metavar='TEXT',
                    help='leave out the configurations whose name contains TEXT (repeatable; '
                         '"tracemalloc=64" is the slowest)')
    args = ap.parse_args()
    if args.quick:
        args.runs, args.scale, args.c_rounds = 1, args.scale * 0.05, max(10000, args.c_rounds // 40)

    linger = os.path.join(args.build, 'linger')
    shim = os.path.join(args.build, 'liblinger.so')
    c_workload = os.path.join(args.build, 'bench', 'alloc-workload')
    py_workload = os.path.join(HERE, 'alloc_workload.py')
    heaptrack = shutil.which('heaptrack')
    skipped = []

    tmp = args.keep or tempfile.mkdtemp(prefix='linger-alloc-bench-')
    os.makedirs(tmp, exist_ok=True)

    def linger_config(name, workload, argv, settings, slug):
        trace = os.path.join(tmp, slug + '.{n}.trace')
        if args.via_run:
            opts = {'LINGER_NATIVE': {'1': '--native', '0': '--no-native'},
                    'LINGER_PYTHON_DEPTH': '--python-depth=', 'LINGER_NATIVE_DEPTH': '--native-depth='}
            flags = []
            for k, v in settings.items():
                o = opts[k]
                flags.append(o[v] if isinstance(o, dict) else o + v)
            return Config(name, workload, [linger, 'run', '--output', '{trace}'] + flags + ['--'] + argv,
                          kind='linger', trace=trace)
        env = dict(settings, LD_PRELOAD=shim, LINGER_OUTPUT='{trace}')
        return Config(name, workload, argv, env=env, kind='linger', trace=trace)

    configs = []
    if os.access(args.python, os.X_OK):
        py = [args.python, py_workload, '--scale', str(args.scale)]
        configs.append(Config('py bare', 'python', py))
        if os.path.isfile(shim) and os.access(linger, os.X_OK):
            configs.append(linger_config('py linger', 'python', py, {}, 'py-default'))
            configs.append(linger_config('py linger depth=64', 'python', py,
                                         {'LINGER_PYTHON_DEPTH': '64'}, 'py-deep'))
            configs.append(linger_config('py linger native', 'python', py, {'LINGER_NATIVE': '1'}, 'py-native'))
        else:
            skipped.append('linger on Python: {} or {} is not built'.format(shim, linger))
        configs.append(Config('py tracemalloc=1', 'python', [args.python, '-X', 'tracemalloc=1'] + py[1:],
                              kind='tracemalloc'))
        configs.append(Config('py tracemalloc=64', 'python', [args.python, '-X', 'tracemalloc=64'] + py[1:],
                              kind='tracemalloc'))
    else:
        skipped.append('the Python workload: {} not found'.format(args.python))
    if os.access(c_workload, os.X_OK):
        c = [c_workload, str(args.c_rounds)]
        configs.append(Config('c bare', 'c', c))
        if os.path.isfile(shim) and os.access(linger, os.X_OK):
            configs.append(linger_config('c linger native', 'c', c, {'LINGER_NATIVE': '1'}, 'c-native'))
        else:
            skipped.append('linger on C: {} is not built'.format(shim))
        if heaptrack:
            # heaptrack adds .zst (or .gz) to the -o name.
            configs.append(Config('c heaptrack', 'c', [heaptrack, '-o', '{trace}'] + c,
                                  kind='heaptrack', trace=os.path.join(tmp, 'heaptrack.{n}')))
        else:
            skipped.append('heaptrack: not installed (apt-get install heaptrack)')
    else:
        skipped.append('the C workload: {} not built (meson compile -C {})'.format(c_workload, args.build))

    for cfg in [c for c in configs if any(t in c.name for t in args.skip)]:
        configs.remove(cfg)
        skipped.append('{}: --skip'.format(cfg.name))

    print('python: {}; C workload: {} rounds per thread; {} run(s) each, interleaved{}'.format(
        args.python, args.c_rounds, args.runs, '; --quick (not a measurement)' if args.quick else ''))
    print('shim: {} ({})'.format(shim, 'via linger run' if args.via_run else 'LD_PRELOAD'))
    for s in skipped:
        print('skipped: ' + s)
    sys.stdout.flush()

    t_start = time.monotonic()
    for rnd in range(args.runs):
        order = configs[rnd % len(configs):] + configs[:rnd % len(configs)] if configs else []
        for cfg in order:
            if cfg.failed is None:
                run_once(cfg, tmp, rnd)

    for cfg in configs:
        if cfg.kind == 'linger' and cfg.runs:
            cfg.report = linger_report(linger, cfg)
    bare = {cfg.workload: cfg for cfg in configs if cfg.kind == 'bare' and cfg.runs}
    for cfg in configs:
        ref = bare.get(cfg.workload)
        if cfg.runs and ref is not None and cfg.stdout != ref.stdout and cfg.kind != 'heaptrack':
            print('warning: {} printed something else than {}'.format(cfg.name, ref.name))

    header = '{:<20} {:>8} {:>7} {:>9} {:>7} {:>10} {:>8} {:>8} {:>9}'.format(
        'configuration', 'wall s', 'x bare', 'RSS MB', 'x RSS', 'trace MB', 'B/site', 'B/obj', 'B/block')
    print()
    print(header)
    print('-' * len(header))
    ratios, per_block = {}, {}
    for cfg in configs:
        if not cfg.runs:
            print('{:<20} failed: {}'.format(cfg.name, cfg.failed))
            continue
        ref = bare.get(cfg.workload)
        wall, rss = cfg.median_wall(), cfg.peak_rss()
        ratio = wall / ref.median_wall() if ref else None
        rss_ratio = rss / ref.peak_rss() if ref else None
        ratios[cfg.name] = ratio
        sites, objects, table_bytes, live = alloc_stats(cfg.report)
        size = cfg.trace_size
        b_site = size / sites if size and sites else None
        b_obj = size / objects if size and objects else None
        b_block = table_bytes / live if table_bytes is not None and live else None
        per_block[cfg.name] = b_block
        print('{:<20} {:>8} {:>7} {:>9} {:>7} {:>10} {:>8} {:>8} {:>9}{}'.format(
            cfg.name, fmt(wall), fmt(ratio), fmt(rss / 1e6, '{:.1f}'), fmt(rss_ratio),
            fmt(size / 1e6 if size else None, '{:.2f}'), fmt(b_site, '{:.0f}'), fmt(b_obj, '{:.1f}'),
            fmt(b_block, '{:.1f}'), '' if cfg.failed is None else '  (a later run failed: {})'.format(cfg.failed)))
    no_alloc = [cfg.name for cfg in configs if cfg.kind == 'linger' and cfg.runs
                and not (isinstance(cfg.report, dict) and isinstance(cfg.report.get('allocations'), dict))]
    if no_alloc:
        print('no "allocations" in the report of: {} (allocation tracking not in this build?)'.format(
            ', '.join(no_alloc)))

    print()
    print('targets:')
    verdicts = []

    def target(label, value, limit, fmt_value='{:.2f}'):
        if value is None:
            verdicts.append(None)
            print('  {:<44} not measured'.format(label))
        else:
            ok = value <= limit
            verdicts.append(ok)
            print('  {:<44} {} (<= {}): {}'.format(label, fmt_value.format(value), limit, 'yes' if ok else 'NO'))

    target('default Python tracking, x bare', ratios.get('py linger'), TARGET_DEFAULT)
    target('Python depth 64, x bare', ratios.get('py linger depth=64'), TARGET_DEEP)
    lc, ht = ratios.get('c linger native'), ratios.get('c heaptrack')
    if lc is not None and ht is not None and ht > 1:
        target('C native: overhead / heaptrack\'s overhead', (lc - 1) / (ht - 1), TARGET_NATIVE_VS_HEAPTRACK)
    else:
        target('C native: overhead / heaptrack\'s overhead', None, TARGET_NATIVE_VS_HEAPTRACK)
    blocks = [v for v in per_block.values() if v is not None]
    target('shim table bytes per live block (worst)', max(blocks) if blocks else None,
           TARGET_TABLE_BYTES_PER_BLOCK, '{:.1f}')
    print('total time {:.1f} s{}'.format(time.monotonic() - t_start,
                                         '; traces kept in ' + tmp if args.keep else ''))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.check and not all(v is True for v in verdicts):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
