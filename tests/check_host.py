#!/usr/bin/python3
"""linger must not change the behaviour of the program it is preloaded into
(stdlib only; run with Debian's /usr/bin/python3).

    check_host.py --linger L --shim S --python PY --scenario NAME

Runs one scenario of tests/host/scenario.py (or tests/host/embed.c, a C
program that dlopen()s libpython with RTLD_LOCAL) three times:

  bare     PY ... with no linger at all;
  default  `linger run --output DIR/t.trace -- PY ...`;
  native   LD_PRELOAD=S LINGER_NATIVE=1 LINGER_OUTPUT=DIR/t.trace PY ...
           (native allocation tracking, and the shim preloaded without
           `linger run`), where the scenario says native matters.

and requires of each traced run, against the bare one:

  - the same stdout, byte for byte, and the same stderr once linger's own
    lines (those starting with "linger: ") are taken out; hexadecimal
    addresses (faulthandler's thread ids) are masked first;
  - the same exit status: exactly, or 128+N through `linger run` where
    the bare process was killed by signal N;
  - traces: `linger report --format=json` reads every trace file (exit 0,
    valid JSON), one file per process the scenario says writes one, each
    with a distinct pid, no path announced twice ("linger: trace written
    to ..."), every announced file there, `trace.complete` true unless the
    scenario kills the process (then a trace, if any, must say false: the
    report must not claim completeness, nor crash), and each trace has
    the finding that its own process left (a bound-method cycle of a
    class named after the process) and not the others'.

A process killed by a signal, SIGKILL included, leaves its trace: the
shim creates it, header and process record on disk, when the process
starts.

Exit status: 0 pass, 1 fail, 77 skip (the interpreter lacks what the
scenario needs).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
TIMEOUT = 60
HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO_PY = os.path.join(HERE, 'host', 'scenario.py')
EMBED_C = os.path.join(HERE, 'host', 'embed.c')

BMC = 'bound-method-cycle'


class Skip(Exception):
    pass


# ----------------------------------------------------------------------------
# What each scenario must leave
#
# A trace expectation (TraceExp): which traces it is about (a predicate on
# the report's "trace" object and whether it is the root trace, the one at
# the exact --output name), how many of them (an int, or (min, max)),
# what they must be like, and which findings they must (and must not) have:
# (kind, type, state or None).


class TraceExp:
    def __init__(self, label, match, count=1, findings=(), absent=(), exit_path=None, snapshots=None):
        self.label = label
        self.match = match
        self.count = count
        self.findings = list(findings)
        self.absent = list(absent)
        self.exit_path = exit_path
        self.snapshots = snapshots


def root(t, is_root):
    return is_root


def not_root(t, is_root):
    return not is_root


def argv_has(word):
    return lambda t, is_root: word in (t.get('argv') or [])


def cyc(name, state=None):
    return (BMC, '__main__.' + name, state)


class Variant:
    def __init__(self, label, pyflags=(), env=None, args=(), traces=None):
        self.label = label
        self.pyflags = list(pyflags)
        self.env = env or {}
        self.args = list(args)        # after the scenario's own
        self.traces = traces          # instead of the scenario's


class Scenario:
    def __init__(self, name, args=None, variants=None, traces=(), total=None, killed=False, native=True,
                 min_version=None):
        self.name = name
        self.args = args if args is not None else [name]
        self.variants = variants or [Variant('')]
        self.traces = list(traces)
        self.total = total            # int, (min, max) or None: sum of the expectations' counts
        self.killed = killed
        self.native = native
        self.min_version = min_version


CHAIN = [TraceExp('chain level {}'.format(n),
                  (lambda n: lambda t, r: (t.get('argv') or [])[-2:] == ['chain', str(n)]
                   or (n == 0 and r))(n),
                  findings=[cyc('ChainLevel{}'.format(n))],
                  absent=[cyc('ChainLevel{}'.format(m)) for m in range(3) if m != n])
         for n in range(3)]

# (WorkloadGarbage, a garbage cycle, may be collected before the exit
# snapshot: the collector runs while the program works.)
WORKLOAD_TRACE = [TraceExp('main', root, findings=[cyc('Workload', 'live')])]


def simple(name, cls, **kw):
    return Scenario(name, traces=[TraceExp('main', root, findings=[cyc(cls)])], **kw)


def killed(name, args, pyflags=()):
    # Killed by a signal: one trace (created with the process), never
    # complete.  Then the same
    # after a snapshot on the snapshot signal (SIGUSR2, which the program
    # handles itself): the trace is there, and must say incomplete.
    tag = ' '.join(pyflags)
    return [
        Variant(tag, pyflags),
        Variant((tag + ' ' if tag else '') + 'after a SIGUSR2 snapshot', pyflags, args=['snapshot'],
                traces=[TraceExp('main', root, count=1, snapshots=1)]),
    ]


def killed_scenario(name, variants):
    return Scenario(name, args=[name], variants=variants, killed=True,
                    traces=[TraceExp('main', root, count=1)])


SCENARIOS = [
    # Processes
    Scenario('fork-exit', traces=[
        TraceExp('parent', root, findings=[cyc('ForkParent')],
                 absent=[cyc('ForkChildSysExit'), cyc('ForkChildUnderscore')]),
        TraceExp('child ended by os._exit', lambda t, r: not r and t.get('exit_path') == '_exit',
                 snapshots=0),
        TraceExp('child ended by sys.exit', lambda t, r: not r and t.get('exit_path') != '_exit',
                 findings=[cyc('ForkChildSysExit')], absent=[cyc('ForkChildUnderscore'), cyc('ForkParent')]),
    ], total=3),
    Scenario('fork-exec', traces=[
        TraceExp('parent', root, findings=[cyc('ExecParent')], absent=[cyc('ExecChild')]),
        TraceExp('exec child', argv_has('exec_child'), findings=[cyc('ExecChild')], absent=[cyc('ExecParent')]),
    ], total=2),
    # A fork pool's workers end with os._exit (multiprocessing does so).
    Scenario('mp-fork', traces=[
        TraceExp('parent', root, findings=[cyc('PoolParent')]),
        TraceExp('pool workers', not_root, count=2, absent=[cyc('PoolParent')]),
    ], total=3),
    # spawn and forkserver also start a resource tracker (and a server).
    # (No native run: each spawned interpreter starts from scratch, as in
    # the default run, and three of them under native tracking take long.)
    Scenario('mp-spawn', native=False, traces=[
        TraceExp('parent', root, findings=[cyc('PoolParent')]),
        TraceExp('workers and helpers', not_root, count=(2, 4), absent=[cyc('PoolParent')]),
    ]),
    Scenario('mp-forkserver', traces=[
        TraceExp('parent', root, findings=[cyc('PoolParent')]),
        TraceExp('server, workers and helpers', not_root, count=(3, 5), absent=[cyc('PoolParent')]),
    ]),
    Scenario('chain', traces=CHAIN, total=3, native=False),
    # Ways to end
    Scenario('os-exit', traces=[TraceExp('main', root, exit_path='_exit', snapshots=0)]),
    simple('sys-exit', 'SysExit'),
    simple('thread-sys-exit', 'ThreadSysExit'),
    simple('exception', 'Uncaught'),
    killed_scenario('sigterm', killed('sigterm', ['sigterm'])),
    killed_scenario('sigkill', killed('sigkill', ['sigkill'])),
    killed_scenario('abort', killed('abort', ['abort'])),
    killed_scenario('segv', killed('segv', ['segv']) + killed('segv', ['segv'], ['-X', 'faulthandler'])),
    # Interplay
    simple('tracemalloc', 'Tracemalloc'),
    Scenario('gc-disable', traces=[TraceExp('main', root, findings=[cyc('GcDisabledGarbage', 'garbage')])]),
    simple('gc-freeze', 'GcFrozen'),
    simple('profile', 'Profiled'),
    simple('faulthandler', 'FaultHandlerOn'),
    simple('own-signals', 'OwnSignals'),
    Scenario('pymalloc-malloc', args=['workload'], variants=[Variant('PYTHONMALLOC=malloc',
                                                                     env={'PYTHONMALLOC': 'malloc'})],
             traces=WORKLOAD_TRACE),
    Scenario('pymalloc-debug', args=['workload'], variants=[Variant('PYTHONMALLOC=debug',
                                                                    env={'PYTHONMALLOC': 'debug'})],
             traces=WORKLOAD_TRACE),
    Scenario('xdev', args=['workload'], variants=[Variant('-X dev', ['-X', 'dev'])], traces=WORKLOAD_TRACE),
    Scenario('isolated', args=['workload'], variants=[
        Variant('-I', ['-I'], env={'HOST_MARKER': '1', 'PYTHONPATH': '/nonexistent', 'PYTHONMALLOC': 'malloc'}),
        Variant('-E', ['-E'], env={'HOST_MARKER': '1', 'PYTHONPATH': '/nonexistent', 'PYTHONMALLOC': 'debug'}),
    ], traces=WORKLOAD_TRACE),
    Scenario('subinterp', traces=[TraceExp('main', root, findings=[cyc('MainInterp')])], min_version=(3, 12)),
    Scenario('embed', args=[], traces=[TraceExp('embedder', root, findings=[cyc('Embedded')])]),
    simple('threads', 'Threads'),
]
BY_NAME = {s.name: s for s in SCENARIOS}

EMBED_SCRIPT = '''\
import sys
class Embedded:
    def __init__(self):
        self.callback = self.run
    def run(self):
        return 1
keep = [Embedded() for _ in range(5)]
data = [dict(a=i) for i in range(20000)]
print("embedded python", sys.version_info[:2], len(data))
sys.stdout.flush()
'''


# ----------------------------------------------------------------------------
# Running


class Result:
    def __init__(self, label, argv, status, stdout, stderr):
        self.label = label
        self.argv = argv
        self.status = status
        self.stdout = stdout
        self.stderr = stderr

    def dump(self):
        return '--- {}: {}\n    status {}\n    stdout:\n{}\n    stderr:\n{}'.format(
            self.label, ' '.join(self.argv), self.status,
            indent(self.stdout.decode('utf-8', 'replace')), indent(self.stderr.decode('utf-8', 'replace')))


def indent(text, limit=4000):
    if len(text) > limit:
        text = text[:limit // 2] + '\n[...]\n' + text[-limit // 2:]
    return '\n'.join('      ' + line for line in text.splitlines())


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith('LINGER_') or k.startswith('PYTHON') or k in ('LD_PRELOAD', 'HOST_MARKER'))}
    env.update(extra or {})
    return env


def run(label, argv, env, cwd):
    try:
        p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        return Result(label, argv, p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        return Result(label, argv, 'timeout after {} s'.format(TIMEOUT), e.stdout or b'', e.stderr or b'')


ANNOUNCE_RE = re.compile(rb'^linger: trace written to (.*)$')
HEX_RE = re.compile(rb'0x[0-9a-fA-F]+')


def program_stderr(data):
    """stderr without linger's own lines, addresses masked."""
    lines = [line for line in data.splitlines(True) if not line.startswith(b'linger: ')]
    return HEX_RE.sub(b'0xADDR', b''.join(lines))


def announced(data):
    return [m.group(1).decode('utf-8', 'replace')
            for m in (ANNOUNCE_RE.match(line) for line in data.splitlines()) if m]


def compare(bare, traced, through_linger_run, problems):
    want = bare.status
    if through_linger_run and isinstance(want, int) and want < 0:
        want = 128 - want
    if traced.status != want:
        problems.append('exit status {!r}, want {!r} (bare: {!r})'.format(traced.status, want, bare.status))
    if traced.stdout != bare.stdout:
        problems.append('stdout differs from the bare run')
    if program_stderr(traced.stderr) != program_stderr(bare.stderr):
        problems.append('stderr (without "linger:" lines) differs from the bare run')


def report_of(linger, path, cwd):
    p = subprocess.run([linger, 'report', '--format=json', path], cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    if p.returncode != 0:
        return None, 'linger report exits {} on {}: {}'.format(
            p.returncode, os.path.basename(path), p.stderr.decode('utf-8', 'replace').strip()[:500])
    try:
        return json.loads(p.stdout.decode('utf-8')), None
    except ValueError as e:
        return None, 'linger report --format=json on {}: not JSON ({})'.format(os.path.basename(path), e)


def has_finding(report, kind, type_name, state):
    for f in report.get('findings') or []:
        objects = f.get('objects') or [{}]
        if f.get('kind') == kind and objects[0].get('type') == type_name \
                and (state is None or f.get('state') == state):
            return True
    return False


def count_ok(n, want):
    return n == want if isinstance(want, int) else want[0] <= n <= want[1]


def check_traces(scenario, traces, linger, trace_dir, root_name, traced, through_run, version, problems, notes):
    files = sorted(f for f in os.listdir(trace_dir) if f.endswith('.trace'))
    said = announced(traced.stderr)
    for path in set(said):
        if said.count(path) > 1:
            problems.append('trace {} announced {} times'.format(path, said.count(path)))
        if not os.path.isfile(path):
            problems.append('trace {} announced but not there'.format(path))
    if through_run and not scenario.killed:
        # `linger run` announces every trace (the shim alone does not).
        # A process that outlives the one `linger run` started (the
        # forkserver, the resource tracker) writes its trace after `linger
        # run` has printed its list: noted, not a failure.
        unsaid = [f for f in files if os.path.join(trace_dir, f) not in said]
        if unsaid:
            notes.append('    traces written after `linger run` ended (not announced): {}'.format(unsaid))
            if root_name in unsaid:
                problems.append('the root trace {} was not announced'.format(root_name))
    reports = []
    for f in files:
        report, error = report_of(linger, os.path.join(trace_dir, f), trace_dir)
        if error:
            problems.append(error)
            continue
        t = report.get('trace') or {}
        reports.append((f, f == root_name, report))
        notes.append('    {}: pid {} ppid {} argv {} python {} complete {} exit_path {} snapshots {} '
                     'findings {}'.format(
                         f, t.get('pid'), t.get('ppid'), ' '.join(t.get('argv') or [])[-60:], t.get('python'),
                         t.get('complete'), t.get('exit_path'), t.get('snapshots'),
                         sorted(set('{} {}'.format(x.get('kind'), (x.get('objects') or [{}])[0].get('type'))
                                    for x in report.get('findings') or [] if x.get('kind') == BMC))))
        if scenario.killed:
            if t.get('complete') is not False:
                problems.append('{}: the process was killed, but the report says complete={!r}'.format(
                    f, t.get('complete')))
        elif t.get('complete') is not True:
            problems.append('{}: complete={!r}, want true ({})'.format(
                f, t.get('complete'), t.get('incomplete_reason')))
    pids = [r[2]['trace'].get('pid') for r in reports]
    if len(set(pids)) != len(pids):
        problems.append('traces with the same pid: {}'.format(pids))
    if scenario.total is not None and not count_ok(len(files), scenario.total):
        problems.append('{} trace files, want {}: {}'.format(len(files), scenario.total, files))
    claimed = set()
    for exp in traces:
        mine = [(f, rep) for f, is_root, rep in reports
                if f not in claimed and exp.match(rep.get('trace') or {}, is_root)]
        if not count_ok(len(mine), exp.count):
            problems.append('{}: {} trace(s) {}, want {}'.format(exp.label, len(mine), [f for f, _ in mine],
                                                                 exp.count))
        for f, rep in mine:
            claimed.add(f)
            t = rep.get('trace') or {}
            if exp.exit_path is not None and t.get('exit_path') != exp.exit_path:
                problems.append('{} ({}): exit_path {!r}, want {!r}'.format(exp.label, f, t.get('exit_path'),
                                                                          exp.exit_path))
            if exp.snapshots is not None and t.get('snapshots') != exp.snapshots:
                problems.append('{} ({}): {} snapshots, want {}'.format(exp.label, f, t.get('snapshots'),
                                                                      exp.snapshots))
            if exp.findings and t.get('python') != version:
                problems.append('{} ({}): trace.python is {!r}, want {!r}'.format(exp.label, f, t.get('python'),
                                                                                version))
            for kind, type_name, state in exp.findings:
                if not has_finding(rep, kind, type_name, state):
                    problems.append('{} ({}): no {} {}{}'.format(exp.label, f, kind, type_name,
                                                                 ' state=' + state if state else ''))
            for kind, type_name, state in exp.absent:
                if has_finding(rep, kind, type_name, state):
                    problems.append('{} ({}): has {} {}, another process\'s finding'.format(
                        exp.label, f, kind, type_name))


def python_info(python):
    code = ('import sys, sysconfig, os; print("%d.%d.%d" % sys.version_info[:3]); '
            'print(os.path.join(sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("LDLIBRARY") or ""));'
            'print(sys.base_prefix); print(sysconfig.get_config_var("Py_ENABLE_SHARED"))')
    p = subprocess.run([python, '-S', '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=clean_env(), timeout=TIMEOUT)
    if p.returncode != 0:
        raise Skip('{} does not run: {}'.format(python, p.stderr.decode('utf-8', 'replace')))
    version, lib, prefix, shared = p.stdout.decode().split('\n')[:4]
    return version, lib, prefix, shared


def build_embedder(tmp, problems):
    cc = shutil.which('cc') or shutil.which('gcc')
    if not cc:
        raise Skip('no C compiler for the embedder')
    exe = os.path.join(tmp, 'embed')
    p = subprocess.run([cc, '-O1', '-Wall', '-o', exe, EMBED_C, '-ldl'], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT)
    if p.returncode != 0:
        raise Skip('cannot build the embedder: {}'.format(p.stdout.decode('utf-8', 'replace')))
    return exe


def check(args):
    scenario = BY_NAME[args.scenario]
    linger = os.path.abspath(args.linger)
    shim = os.path.abspath(args.shim)
    for f in (linger, shim):
        if not os.path.isfile(f):
            raise Skip('{} is not built'.format(f))
    version, libpython, prefix, shared = python_info(args.python)
    vt = tuple(int(x) for x in version.split('.'))
    if scenario.min_version and vt[:2] < scenario.min_version:
        raise Skip('Python {} has no {} (needs {}.{}+)'.format(version, scenario.name, *scenario.min_version))
    problems, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-host-')
    try:
        extra_env = {}
        if scenario.name == 'embed':
            if not os.path.isfile(libpython) or shared not in ('1', 'True'):
                raise Skip('{} has no shared libpython ({})'.format(args.python, libpython))
            exe = build_embedder(tmp, problems)
            script = os.path.join(tmp, 'embedded.py')
            with open(script, 'w') as f:
                f.write(EMBED_SCRIPT)
            base = [exe, libpython, script]
            extra_env['PYTHONHOME'] = prefix
        for variant in scenario.variants:
            if scenario.name != 'embed':
                base = [args.python] + variant.pyflags + [SCENARIO_PY] + scenario.args + variant.args
            env_bare = clean_env(dict(extra_env, **variant.env))
            tag = ' [{}]'.format(variant.label) if variant.label else ''
            work = os.path.join(tmp, 'cwd')
            os.makedirs(work, exist_ok=True)
            bare = run('bare' + tag, base, env_bare, work)
            notes.append(bare.dump())
            if bare.status == SKIP and b'SKIP' in bare.stdout:
                raise Skip(bare.stdout.decode().strip())
            if isinstance(bare.status, str):
                problems.append('{}: the bare run: {}'.format(variant.label or 'bare', bare.status))
                continue
            modes = [('default', True)]
            if scenario.native:
                modes.append(('native', False))
            for mode, through_run in modes:
                trace_dir = os.path.join(tmp, 'traces-' + mode + str(scenario.variants.index(variant)))
                os.makedirs(trace_dir)
                out = os.path.join(trace_dir, 't.trace')
                if through_run:
                    argv = [linger, 'run', '--output', out, '--'] + base
                    env = env_bare
                else:
                    argv = base
                    env = clean_env(dict(extra_env, **variant.env))
                    env.update(LD_PRELOAD=shim, LINGER_NATIVE='1', LINGER_OUTPUT=out)
                traced = run(mode + tag, argv, env, work)
                notes.append(traced.dump())
                case = []
                compare(bare, traced, through_run, case)
                check_traces(scenario, variant.traces or scenario.traces, linger, trace_dir, 't.trace', traced, through_run, version, case, notes)
                problems.extend('{}{}: {}'.format(mode, tag, c) for c in case)
    finally:
        if args.keep:
            print('kept', tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return problems, notes, '{} under Python {} ({})'.format(scenario.name, version, args.python)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--linger', required=True)
    ap.add_argument('--shim', required=True)
    ap.add_argument('--python', required=True)
    ap.add_argument('--scenario', required=True, choices=sorted(BY_NAME))
    ap.add_argument('--keep', action='store_true', help='keep the temporary directory')
    args = ap.parse_args()
    try:
        problems, notes, title = check(args)
    except Skip as e:
        print('SKIP: {}'.format(e))
        return SKIP
    if problems:
        print('Details:')
        for n in notes:
            print(n)
        print()
        print('FAIL: {}'.format(title))
        for p in problems:
            print('  - ' + p)
        return 1
    print('PASS: {}'.format(title))
    for n in notes:
        if n.startswith('    '):
            print(n)
    return 0


if __name__ == '__main__':
    sys.exit(main())
