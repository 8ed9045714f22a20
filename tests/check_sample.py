#!/usr/bin/python3
"""End-to-end checks of linger (stdlib only; run with Debian's /usr/bin/python3).

Sample check (one sample, one interpreter, one mode):

    check_sample.py --linger build/linger --python PY SAMPLE [--mode plain|xdev|pymalloc-debug]

  1. runs SAMPLE bare and under `linger run --output TMP/t.trace --` and
     requires identical stdout and exit status;
  2. runs `linger report --format=json` on the trace and validates the JSON
     contract (fields and types, trace.python is PY's version, complete);
  3. checks the sample's header: every `# linger-expect: KIND TYPE
     [count=N] [state=S] [severity=S]` matches its own finding (kind,
     objects[0].type and the given fields); a finding of an expected kind
     that no expectation matched is an error; `# linger-expect-not: KIND
     [TYPE]` kinds are absent; `# linger-expect-none` means no finding;
  4. runs the text report: exit status 0, and it names every expected kind.

  Modes: plain; xdev (`PY -X dev`); pymalloc-debug (PYTHONMALLOC=debug),
  used for both the bare run and the run under linger.  The interpreter
  always gets -S: .pth files in an interpreter's site-packages run code
  at startup that can leave objects of its own on the heap (one
  interpreter on our machines creates an ipaddress network whose
  `hosts` attribute is a bound method of itself), which would make a
  sample's findings depend on the machine instead of the sample.

Other checks:

    check_sample.py --linger L --check nonpython
        `linger run -- ls /` and `linger run -- sh -c 'exit 3'` behave like
        the bare commands; their report says there is no Python heap
        (JSON: "python": null, no findings).
    check_sample.py --linger L --check signal [--python PY]
        a command killed by SIGTERM makes `linger run` exit with 128+15,
        like the bare command seen from a shell; a trace it may leave
        behind must not crash the report.
    check_sample.py --linger L --python PY --check bad-input [SAMPLE]
        `linger report` on a missing file, a directory, an empty file,
        random bytes and corrupted headers prints one line `linger: error:
        ...` on stderr and exits 1; on a real trace cut at many points it
        either does that or reports "complete": false; never a signal.
    check_sample.py --linger L --shim S --python PY --check preload SAMPLE
        LD_PRELOAD=S without `linger run`: the trace goes to $LINGER_OUTPUT
        (with %p and %e expanded), else to linger.<program>.<pid>.trace in
        the current directory; the report finds the sample's expectations.

Exit status: 0 pass, 1 fail, 77 skip (meson's convention).
"""

import argparse
import difflib
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

SKIP = 77
TIMEOUT = 120  # seconds, for any single command

KNOWN_SEVERITIES = ('error', 'warning', 'info')
KNOWN_STATES = ('live', 'garbage')
EXPECT_RE = re.compile(r'^#\s*linger-expect(?P<what>-not|-none|-path)?\s*(?::\s*(?P<rest>.*))?$')
# "# linger-expect-path: KIND TYPE: step → step → target" pins the example
# path of the finding an earlier linger-expect line declared.
EXPECT_PATH_RE = re.compile(r'^(?P<kind>\S+)\s+(?P<type>\S+?):\s+(?P<path>\S.*)$')
TRACE_LINE_RE = re.compile(r'^linger: trace written to (?P<path>.+)$')
ADDRESS_RE = re.compile(r'^0x[0-9a-fA-F]+$')
ALLOCATED_AT_RE = re.compile(r'^.+:[0-9]+$')


class CheckFailed(Exception):
    pass


class Skip(Exception):
    pass


# ----------------------------------------------------------------------------
# Running commands


class Result:
    def __init__(self, argv, raw_status, stdout, stderr):
        self.argv = argv
        self.raw_status = raw_status        # subprocess returncode: -N = signal N
        self.stdout = stdout
        self.stderr = stderr

    @property
    def status(self):
        """Exit status as a shell reports it: 128+N for a signal."""
        if self.raw_status < 0:
            return 128 - self.raw_status
        return self.raw_status

    @property
    def signalled(self):
        return self.raw_status < 0

    def describe(self):
        if self.signalled:
            try:
                name = signal.Signals(-self.raw_status).name
            except ValueError:
                name = 'signal {}'.format(-self.raw_status)
            return 'killed by {}'.format(name)
        return 'exit status {}'.format(self.raw_status)

    def text(self, which):
        data = self.stdout if which == 'stdout' else self.stderr
        return data.decode('utf-8', 'replace')

    def dump(self, label):
        out = ['--- {}: {}'.format(label, ' '.join(self.argv)),
               '    {}'.format(self.describe())]
        for which in ('stdout', 'stderr'):
            t = self.text(which)
            if t:
                out.append('    {}:'.format(which))
                out.extend('      | ' + line for line in t.splitlines()[:200])
        return '\n'.join(out)


def run(argv, env=None, cwd=None, timeout=TIMEOUT):
    try:
        p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise CheckFailed('timed out after {} s: {}\nstdout so far:\n{}\nstderr so far:\n{}'.format(
            timeout, ' '.join(argv),
            (e.stdout or b'').decode('utf-8', 'replace'),
            (e.stderr or b'').decode('utf-8', 'replace')))
    except OSError as e:
        raise CheckFailed('cannot run {}: {}'.format(' '.join(argv), e))
    return Result(argv, p.returncode, p.stdout, p.stderr)


def clean_env(extra=None):
    """The caller's environment without anything that would change what is
    being compared (a preloaded library, linger's own or Python's
    settings)."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith('LINGER_') or name in (
                'LD_PRELOAD', 'PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONSTARTUP',
                'PYTHONPATH', 'PYTHONHOME', 'PYTHONINSPECT', 'PYTHONWARNINGS',
                'PYTHONTRACEMALLOC', 'PYTHONFAULTHANDLER'):
            del env[name]
    if extra:
        env.update(extra)
    return env


# ----------------------------------------------------------------------------
# Sample headers


class Expectation:
    def __init__(self, kind, type_name, fields, line):
        self.kind = kind
        self.type_name = type_name
        self.fields = fields  # count (int), state, severity
        self.line = line
        self.path = None      # ' → '.join(finding['path']), if pinned

    def matches(self, finding):
        if finding.get('kind') != self.kind:
            return False
        objects = finding.get('objects') or []
        if not objects or objects[0].get('type') != self.type_name:
            return False
        for key, value in self.fields.items():
            if finding.get(key) != value:
                return False
        if self.path is not None and ' → '.join(finding.get('path') or []) != self.path:
            return False
        return True

    def __str__(self):
        return self.line


def parse_header(path):
    """Returns (expects, expect_nots, expect_none) from the sample's leading
    comment block."""
    expects, nots, none = [], [], False
    with open(path, encoding='utf-8') as f:
        for raw in f:
            line = raw.strip()
            if not line:
                continue
            if not line.startswith('#'):
                break
            m = EXPECT_RE.match(line)
            if not m:
                if 'linger-expect' in line:
                    raise CheckFailed('{}: malformed header line: {}'.format(path, line))
                continue
            what, rest = m.group('what'), (m.group('rest') or '').split()
            if what == '-path':
                pm = EXPECT_PATH_RE.match(m.group('rest') or '')
                if not pm:
                    raise CheckFailed('{}: want "linger-expect-path: KIND TYPE: PATH": {}'.format(path, line))
                owners = [e for e in expects if e.kind == pm.group('kind') and e.type_name == pm.group('type')]
                if len(owners) != 1:
                    raise CheckFailed('{}: linger-expect-path needs exactly one earlier linger-expect '
                                      'line of the same kind and type: {}'.format(path, line))
                owners[0].path = pm.group('path').strip()
                continue
            if what == '-none':
                if rest:
                    raise CheckFailed('{}: linger-expect-none takes no argument: {}'.format(path, line))
                none = True
            elif what == '-not':
                if len(rest) not in (1, 2):
                    raise CheckFailed('{}: want "linger-expect-not: KIND [TYPE]": {}'.format(path, line))
                nots.append((rest[0], rest[1] if len(rest) == 2 else None, line))
            else:
                if len(rest) < 2:
                    raise CheckFailed('{}: want "linger-expect: KIND TYPE [key=value...]": {}'.format(path, line))
                fields = {}
                for item in rest[2:]:
                    key, sep, value = item.partition('=')
                    if not sep or key not in ('count', 'state', 'severity'):
                        raise CheckFailed('{}: unknown field {!r}: {}'.format(path, item, line))
                    if key == 'count':
                        value = int(value)
                    elif key == 'state' and value not in KNOWN_STATES:
                        raise CheckFailed('{}: unknown state {!r}: {}'.format(path, value, line))
                    elif key == 'severity' and value not in KNOWN_SEVERITIES:
                        raise CheckFailed('{}: unknown severity {!r}: {}'.format(path, value, line))
                    fields[key] = value
                expects.append(Expectation(rest[0], rest[1], fields, line))
    if none and expects:
        raise CheckFailed('{}: linger-expect-none together with linger-expect'.format(path))
    if not (expects or nots or none):
        raise CheckFailed('{}: the sample declares no linger-expect line'.format(path))
    return expects, nots, none


# ----------------------------------------------------------------------------
# The JSON contract


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def validate_report(report):
    """Returns a list of problems with the report's shape (empty if none)."""
    problems = []

    def want(cond, what):
        if not cond:
            problems.append(what)

    if not isinstance(report, dict):
        return ['the report is not a JSON object']
    want(isinstance(report.get('linger_version'), str) and report.get('linger_version'),
         'linger_version: want a non-empty string, got {!r}'.format(report.get('linger_version')))
    trace = report.get('trace')
    if not isinstance(trace, dict):
        problems.append('trace: want an object, got {!r}'.format(trace))
    else:
        want(isinstance(trace.get('program'), str),
             'trace.program: want a string, got {!r}'.format(trace.get('program')))
        want(is_int(trace.get('pid')) and trace.get('pid') > 0,
             'trace.pid: want a positive integer, got {!r}'.format(trace.get('pid')))
        want('python' in trace and (trace['python'] is None or isinstance(trace['python'], str)),
             'trace.python: want a string or null, got {!r}'.format(trace.get('python', '<missing>')))
        want(isinstance(trace.get('complete'), bool),
             'trace.complete: want true or false, got {!r}'.format(trace.get('complete')))
        want(is_int(trace.get('objects')) and trace.get('objects') >= 0,
             'trace.objects: want an integer >= 0, got {!r}'.format(trace.get('objects')))
    findings = report.get('findings')
    if not isinstance(findings, list):
        problems.append('findings: want an array, got {!r}'.format(findings))
        return problems
    for i, f in enumerate(findings):
        where = 'findings[{}]'.format(i)
        if not isinstance(f, dict):
            problems.append('{}: want an object'.format(where))
            continue
        want(isinstance(f.get('kind'), str) and f.get('kind'),
             '{}.kind: want a non-empty string, got {!r}'.format(where, f.get('kind')))
        want(f.get('severity') in KNOWN_SEVERITIES,
             '{}.severity: want one of {}, got {!r}'.format(where, KNOWN_SEVERITIES, f.get('severity')))
        want(is_int(f.get('count')) and f.get('count') >= 1,
             '{}.count: want an integer >= 1, got {!r}'.format(where, f.get('count')))
        want(f.get('state') in KNOWN_STATES,
             '{}.state: want one of {}, got {!r}'.format(where, KNOWN_STATES, f.get('state')))
        objects = f.get('objects')
        if not isinstance(objects, list) or not objects:
            problems.append('{}.objects: want a non-empty array, got {!r}'.format(where, objects))
        else:
            for j, o in enumerate(objects):
                ow = '{}.objects[{}]'.format(where, j)
                if not isinstance(o, dict):
                    problems.append('{}: want an object'.format(ow))
                    continue
                want(isinstance(o.get('type'), str) and o.get('type'),
                     '{}.type: want a non-empty string, got {!r}'.format(ow, o.get('type')))
                want(isinstance(o.get('address'), str) and ADDRESS_RE.match(o.get('address')),
                     '{}.address: want "0x..." hex, got {!r}'.format(ow, o.get('address')))
                want(is_int(o.get('size')) and o.get('size') >= 0,
                     '{}.size: want an integer >= 0, got {!r}'.format(ow, o.get('size')))
                at = o.get('allocated_at', '<missing>')
                want(at is None or (isinstance(at, str) and ALLOCATED_AT_RE.match(at)),
                     '{}.allocated_at: want "file:line" or null, got {!r}'.format(ow, at))
        path = f.get('path')
        want(isinstance(path, list) and path and all(isinstance(p, str) for p in path),
             '{}.path: want a non-empty array of strings, got {!r}'.format(where, path))
        want(isinstance(f.get('hint'), str) and f.get('hint'),
             '{}.hint: want a non-empty string, got {!r}'.format(where, f.get('hint')))
    return problems


def load_json_report(result):
    if result.signalled or result.status != 0:
        raise CheckFailed('linger report --format=json failed ({})\n{}'.format(
            result.describe(), result.dump('report')))
    try:
        return json.loads(result.stdout.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckFailed('linger report --format=json printed invalid JSON: {}\n{}'.format(
            e, result.dump('report')))


def pretty(report):
    return json.dumps(report, indent=2, sort_keys=False)


# ----------------------------------------------------------------------------
# Helpers shared by the checks


def python_version(python):
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise Skip('interpreter not found: {}'.format(python))
    r = run([python, '-S', '-c', 'import platform; print(platform.python_version())'],
            env=clean_env())
    if r.status != 0:
        raise Skip('interpreter does not run: {}\n{}'.format(python, r.dump('version')))
    return r.text('stdout').strip()


def check_linger(linger):
    if not (os.path.isfile(linger) and os.access(linger, os.X_OK)):
        raise CheckFailed('linger executable not found: {}'.format(linger))


def trace_lines(result):
    paths = []
    for line in result.text('stderr').splitlines():
        m = TRACE_LINE_RE.match(line)
        if m:
            paths.append(m.group('path'))
    return paths


def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def compare_runs(bare, traced, failures):
    if bare.stdout != traced.stdout:
        diff = difflib.unified_diff(
            bare.text('stdout').splitlines(), traced.text('stdout').splitlines(),
            'bare stdout', 'stdout under linger', lineterm='')
        failures.append('stdout differs under linger:\n' + '\n'.join(diff))
    if bare.status != traced.status:
        failures.append('exit status differs: bare {}, under linger {}'.format(
            bare.describe(), traced.describe()))


def check_trace_written(traced, trace, failures):
    written = trace_lines(traced)
    if not any(same_file(p, trace) or p == trace for p in written):
        failures.append('linger run did not print "linger: trace written to {}" on stderr '
                        '(it printed {} such line(s): {})'.format(trace, len(written), written))
    if not os.path.isfile(trace):
        failures.append('no trace file at {}'.format(trace))
        return False
    if os.path.getsize(trace) == 0:
        failures.append('the trace file {} is empty'.format(trace))
        return False
    return True


def match_expectations(findings, expects, nots, none):
    """Returns a list of problems."""
    problems = []
    if none:
        if findings:
            problems.append('linger-expect-none, but the report has {} finding(s)'.format(len(findings)))
        return problems

    # Match each expectation to a finding of its own (small backtracking
    # search: expectations differ only in fields, so greedy could fail).
    order = sorted(range(len(expects)), key=lambda i: -len(expects[i].fields))
    assignment = {}

    def solve(k, used):
        if k == len(order):
            return True
        e = expects[order[k]]
        for j, f in enumerate(findings):
            if j not in used and e.matches(f):
                assignment[order[k]] = j
                if solve(k + 1, used | {j}):
                    return True
                del assignment[order[k]]
        return False

    if not solve(0, frozenset()):
        # Report each expectation that has no candidate at all, or, if each
        # has one, that they cannot all be satisfied at once.
        lonely = [e for e in expects if not any(e.matches(f) for f in findings)]
        for e in lonely or expects:
            problems.append('no finding matches: {}{}'.format(
                e.line, '\n    with path: ' + e.path if e.path else ''))
        if not lonely:
            problems.append('(each expectation has a candidate, but not one finding each)')
        matched = set()
    else:
        matched = set(assignment.values())

    expected_kinds = {e.kind for e in expects}
    for j, f in enumerate(findings):
        if j not in matched and f.get('kind') in expected_kinds:
            objs = f.get('objects') or [{}]
            problems.append('unexpected finding: {} {} count={} state={}'.format(
                f.get('kind'), objs[0].get('type'), f.get('count'), f.get('state')))

    for kind, type_name, line in nots:
        for f in findings:
            objs = f.get('objects') or [{}]
            if f.get('kind') == kind and (type_name is None or objs[0].get('type') == type_name):
                problems.append('{} -- but the report has: {} {} count={} state={}'.format(
                    line, f.get('kind'), objs[0].get('type'), f.get('count'), f.get('state')))
    return problems


# ----------------------------------------------------------------------------
# The sample check


def python_argv(python, mode, script):
    argv = [python, '-S']
    if mode == 'xdev':
        argv += ['-X', 'dev']
    return argv + [script]


def mode_env(mode):
    return clean_env({'PYTHONMALLOC': 'debug'} if mode == 'pymalloc-debug' else None)


def check_sample(args):
    sample = os.path.abspath(args.sample)
    expects, nots, none = parse_header(sample)
    version = python_version(args.python)
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)

    failures = []
    notes = []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        trace = os.path.join(tmp, 't.trace')
        # The sample runs in an empty directory with an empty TMPDIR, so
        # that anything it (or linger) leaves behind is seen.
        work = os.path.join(tmp, 'cwd')
        tmpdir = os.path.join(tmp, 'tmpdir')
        os.mkdir(work)
        os.mkdir(tmpdir)
        env = mode_env(args.mode)
        env['TMPDIR'] = tmpdir
        argv = python_argv(args.python, args.mode, sample)

        bare = run(argv, env=env, cwd=work)
        left = sorted(os.listdir(work)) + sorted(os.listdir(tmpdir))
        if left:
            failures.append('the sample left files behind (bare run): {}'.format(left))
        traced = run([linger, 'run', '--output', trace, '--'] + argv, env=env, cwd=work)
        notes.append(bare.dump('bare run'))
        notes.append(traced.dump('run under linger'))
        compare_runs(bare, traced, failures)
        left = sorted(os.listdir(work)) + sorted(os.listdir(tmpdir))
        if left:
            failures.append('files left behind in the working directory or TMPDIR '
                            'after the run under linger: {}'.format(left))
        if not check_trace_written(traced, trace, failures):
            raise CheckFailed('')

        json_result = run([linger, 'report', '--format=json', trace], cwd=work)
        report = load_json_report(json_result)
        notes.insert(0, '--- report (JSON):\n' + pretty(report))
        shape = validate_report(report)
        failures.extend('JSON contract: ' + p for p in shape)
        if shape:
            raise CheckFailed('')

        t = report['trace']
        if t['python'] != version:
            failures.append('trace.python is {!r}, want {!r}'.format(t['python'], version))
        if t['complete'] is not True:
            failures.append('trace.complete is {!r} for a program that exited normally'.format(t['complete']))
        if t['program'] != os.path.basename(args.python):
            failures.append('trace.program is {!r}, want {!r}'.format(
                t['program'], os.path.basename(args.python)))
        if t['objects'] <= 0:
            failures.append('trace.objects is {!r} for a Python program'.format(t['objects']))

        failures.extend(match_expectations(report['findings'], expects, nots, none))

        text = run([linger, 'report', trace], cwd=work)
        if text.signalled or text.status != 0:
            failures.append('linger report (text) failed: {}'.format(text.describe()))
            notes.append(text.dump('text report'))
        else:
            body = text.text('stdout')
            for kind in sorted({e.kind for e in expects}):
                if kind not in body:
                    failures.append('the text report does not mention {}'.format(kind))
            if failures:
                notes.append(text.dump('text report'))
    except CheckFailed as e:
        if str(e):
            failures.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    return failures, notes, '{} under Python {} ({}, mode {})'.format(
        os.path.basename(sample), version, args.python, args.mode)


# ----------------------------------------------------------------------------
# Non-Python programs


def check_nonpython(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        cases = [(['ls', '/'], 0, 'ls'), (['sh', '-c', 'exit 3'], 3, 'sh')]
        for n, (argv, want_status, program) in enumerate(cases):
            label = ' '.join(argv)
            trace = os.path.join(tmp, 'nonpython{}.trace'.format(n))
            bare = run(argv, env=clean_env(), cwd=tmp)
            traced = run([linger, 'run', '--output', trace, '--'] + argv, env=clean_env(), cwd=tmp)
            notes.append(bare.dump('bare ' + label))
            notes.append(traced.dump('under linger: ' + label))
            case_failures = []
            if bare.status != want_status:
                case_failures.append('the bare command exited {} (want {}): test environment?'.format(
                    bare.status, want_status))
            compare_runs(bare, traced, case_failures)
            if check_trace_written(traced, trace, case_failures):
                text = run([linger, 'report', trace], cwd=tmp)
                notes.append(text.dump('text report: ' + label))
                if text.signalled or text.status != 0:
                    case_failures.append('linger report (text) failed: {}'.format(text.describe()))
                elif not re.search(r'\bno (c)?python\b|\bnot a (c)?python\b',
                                   text.text('stdout'), re.IGNORECASE):
                    case_failures.append('the text report does not say there is no Python heap')
                try:
                    report = load_json_report(run([linger, 'report', '--format=json', trace], cwd=tmp))
                    notes.append('--- JSON report: {}\n{}'.format(label, pretty(report)))
                    shape = validate_report(report)
                    case_failures.extend('JSON contract: ' + p for p in shape)
                    if not shape:
                        t = report['trace']
                        if t['python'] is not None:
                            case_failures.append('trace.python is {!r}, want null'.format(t['python']))
                        if report['findings']:
                            case_failures.append('{} finding(s), want none'.format(len(report['findings'])))
                        if t['complete'] is not True:
                            case_failures.append('trace.complete is {!r}, want true'.format(t['complete']))
                        if t['program'] != program:
                            case_failures.append('trace.program is {!r}, want {!r}'.format(
                                t['program'], program))
                except CheckFailed as e:
                    case_failures.append(str(e))
            failures.extend('{}: {}'.format(label, f) for f in case_failures)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'non-Python programs under linger run'


# ----------------------------------------------------------------------------
# Death by signal


def check_signal(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        cases = [['sh', '-c', 'kill -TERM $$']]
        if args.python:
            python_version(args.python)
            cases.append([args.python, '-S', '-c',
                          'import os, signal; print("about to die", flush=True); '
                          'os.kill(os.getpid(), signal.SIGTERM)'])
        for n, argv in enumerate(cases):
            label = ' '.join(argv)
            trace = os.path.join(tmp, 'signal{}.trace'.format(n))
            bare = run(argv, env=clean_env(), cwd=tmp)
            traced = run([linger, 'run', '--output', trace, '--'] + argv, env=clean_env(), cwd=tmp)
            notes.append(bare.dump('bare ' + label))
            notes.append(traced.dump('under linger: ' + label))
            case_failures = []
            if bare.status != 128 + signal.SIGTERM:
                case_failures.append('the bare command ended with {} (want SIGTERM): test environment?'.format(
                    bare.describe()))
            compare_runs(bare, traced, case_failures)
            if traced.signalled:
                case_failures.append('linger run itself was {}; want exit status {}'.format(
                    traced.describe(), 128 + signal.SIGTERM))
            if os.path.isfile(trace):
                for fmt in (['--format=json'], []):
                    r = run([linger, 'report'] + fmt + [trace], cwd=tmp)
                    if r.signalled or r.status not in (0, 1):
                        case_failures.append('linger report {}on the trace of a killed process: {}'.format(
                            ' '.join(fmt) + ' ' if fmt else '', r.describe()))
                        notes.append(r.dump('report'))
            failures.extend('{}: {}'.format(label, f) for f in case_failures)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'commands killed by a signal under linger run'


# ----------------------------------------------------------------------------
# Bad input for linger report


HEADER_FMT = '<8sHHIQIIII24s'   # linger_file_header, 64 bytes


def file_header(major=1, minor=0, header_size=64):
    return struct.pack(HEADER_FMT, b'LINGERTR', major, minor, header_size, 0, 1234, 1, 8, 0, b'\0' * 24)


def check_error(result, label, failures, notes, allow_incomplete):
    """An error must be exit status 1 with one line 'linger: error: ...' on
    stderr.  With allow_incomplete, exit status 0 is accepted too if the
    JSON report says complete: false (the caller passes JSON results)."""
    if result.signalled:
        failures.append('{}: linger report was {}'.format(label, result.describe()))
        notes.append(result.dump(label))
        return
    if result.status == 1:
        lines = result.text('stderr').splitlines()
        if len(lines) != 1 or not lines[0].startswith('linger: error: '):
            failures.append('{}: want exactly one stderr line "linger: error: ...", got {!r}'.format(
                label, result.text('stderr')))
            notes.append(result.dump(label))
        return
    if result.status == 0 and allow_incomplete:
        if allow_incomplete == 'json':
            try:
                report = json.loads(result.stdout.decode('utf-8'))
            except (UnicodeDecodeError, ValueError) as e:
                failures.append('{}: exit status 0 but invalid JSON: {}'.format(label, e))
                notes.append(result.dump(label))
                return
            shape = validate_report(report)
            if shape:
                failures.extend('{}: JSON contract: {}'.format(label, p) for p in shape)
                notes.append(result.dump(label))
            elif report['trace']['complete'] is not False:
                failures.append('{}: a report of a cut trace must say "complete": false, got {!r}'.format(
                    label, report['trace']['complete']))
                notes.append(result.dump(label))
        return
    failures.append('{}: want exit status 1 with "linger: error: ..."{}, got {}'.format(
        label, ' (or a report marked incomplete)' if allow_incomplete else '', result.describe()))
    notes.append(result.dump(label))


def check_bad_input(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        rng = random.Random(20240601)
        def write(name, data):
            path = os.path.join(tmp, name)
            with open(path, 'wb') as f:
                f.write(data)
            return path

        errors = [
            ('missing file', os.path.join(tmp, 'does-not-exist.trace')),
            ('a directory', tmp),
            ('empty file', write('empty.trace', b'')),
            ('random bytes', write('random.trace', bytes(rng.getrandbits(8) for _ in range(4096)))),
            ('magic only', write('magic.trace', b'LINGERTR')),
            ('future major version', write('future.trace', file_header(major=99) + b'\0' * 64)),
            ('wrong header size', write('hsize.trace', file_header(header_size=7) + b'\0' * 64)),
        ]
        for label, path in errors:
            for fmt in (['--format=json'], []):
                r = run([linger, 'report'] + fmt + [path], cwd=tmp)
                check_error(r, '{} ({})'.format(label, 'json' if fmt else 'text'), failures, notes, False)

        # Corrupted records after a valid header: an error or an incomplete report.
        corrupt = [
            ('magic + random bytes', write('magic-random.trace',
                                            file_header() + bytes(rng.getrandbits(8) for _ in range(4096)))),
            ('record larger than the file', write('huge-record.trace',
                                                  file_header() + struct.pack('<HHI', 3, 0, 1 << 30) + b'\0' * 56)),
            ('record size not a multiple of 8', write('odd-record.trace',
                                                      file_header() + struct.pack('<HHI', 3, 0, 13) + b'\0' * 56)),
            ('record size 0', write('zero-record.trace',
                                    file_header() + struct.pack('<HHI', 3, 0, 0) + b'\0' * 56)),
        ]
        for label, path in corrupt:
            check_error(run([linger, 'report', '--format=json', path], cwd=tmp),
                        label + ' (json)', failures, notes, 'json')
            check_error(run([linger, 'report', path], cwd=tmp),
                        label + ' (text)', failures, notes, 'text')

        # A real trace, cut at many places.
        sample = os.path.abspath(args.sample or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), '..', 'samples', 'python', 'finalize_keepalive.py'))
        python_version(args.python)
        trace = os.path.join(tmp, 'full.trace')
        r = run([linger, 'run', '--output', trace, '--', args.python, '-S', sample], env=clean_env(), cwd=tmp)
        if not os.path.isfile(trace) or os.path.getsize(trace) == 0:
            failures.append('could not make a trace to cut: linger run left no trace at {}'.format(trace))
            notes.append(r.dump('linger run'))
        else:
            with open(trace, 'rb') as f:
                data = f.read()
            full = run([linger, 'report', '--format=json', trace], cwd=tmp)
            try:
                report = load_json_report(full)
                if report.get('trace', {}).get('complete') is not True:
                    failures.append('the uncut trace is not reported complete: {!r}'.format(
                        report.get('trace')))
            except CheckFailed as e:
                failures.append('the uncut trace: ' + str(e))
            size = len(data)
            cuts = sorted({c for c in (1, 8, 63, 64, 65, 72, 100, size // 8, size // 4, size // 3,
                                       size // 2, 2 * size // 3, 3 * size // 4, 7 * size // 8,
                                       size - 24, size - 8, size - 1) if 0 < c < size})
            for cut in cuts:
                path = write('cut-{}.trace'.format(cut), data[:cut])
                label = 'trace cut at {} of {} bytes'.format(cut, size)
                check_error(run([linger, 'report', '--format=json', path], cwd=tmp),
                            label + ' (json)', failures, notes, 'json')
                check_error(run([linger, 'report', path], cwd=tmp),
                            label + ' (text)', failures, notes, 'text')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'linger report on bad input'


# ----------------------------------------------------------------------------
# LD_PRELOAD without linger run


def check_preload(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    if not args.shim:
        raise CheckFailed('--check preload needs --shim')
    shim = os.path.abspath(args.shim)
    if not os.path.isfile(shim):
        raise CheckFailed('shim not found: {}'.format(shim))
    sample = os.path.abspath(args.sample or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'samples', 'python', 'finalize_keepalive.py'))
    expects, nots, none = parse_header(sample)
    version = python_version(args.python)
    program = os.path.basename(args.python)
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        # Without -S here: this is how a user would start a program.
        argv = [args.python, sample]
        bare = run(argv, env=clean_env(), cwd=tmp)
        notes.append(bare.dump('bare run'))

        outdir = os.path.join(tmp, 'out')
        os.mkdir(outdir)
        cwd_a = os.path.join(tmp, 'a')
        os.mkdir(cwd_a)
        cwd_b = os.path.join(tmp, 'b')
        os.mkdir(cwd_b)
        cases = [
            ('LINGER_OUTPUT with %e and %p', cwd_a,
             {'LINGER_OUTPUT': os.path.join(outdir, 'run.%e.%p.trace')},
             outdir, re.compile(r'^run\.(?P<program>.+)\.(?P<pid>[0-9]+)\.trace$')),
            ('no LINGER_OUTPUT', cwd_b, {},
             cwd_b, re.compile(r'^linger\.(?P<program>.+)\.(?P<pid>[0-9]+)\.trace$')),
        ]
        for label, cwd, extra, where, pattern in cases:
            extra = dict(extra, LD_PRELOAD=shim)
            traced = run(argv, env=clean_env(extra), cwd=cwd)
            notes.append(traced.dump('LD_PRELOAD run, ' + label))
            case_failures = []
            compare_runs(bare, traced, case_failures)
            names = sorted(os.listdir(where))
            traces = [n for n in names if pattern.match(n)]
            if len(traces) != 1:
                case_failures.append('want one trace matching {} in {}, found {}'.format(
                    pattern.pattern, where, names))
            else:
                m = pattern.match(traces[0])
                if m.group('program') != program:
                    case_failures.append('trace name {} has program {!r}, want {!r}'.format(
                        traces[0], m.group('program'), program))
                try:
                    report = load_json_report(run([linger, 'report', '--format=json',
                                                   os.path.join(where, traces[0])], cwd=tmp))
                    notes.append('--- report (JSON), {}:\n{}'.format(label, pretty(report)))
                    shape = validate_report(report)
                    case_failures.extend('JSON contract: ' + p for p in shape)
                    if not shape:
                        t = report['trace']
                        if str(t['pid']) != m.group('pid'):
                            case_failures.append('trace.pid {} does not match the file name {}'.format(
                                t['pid'], traces[0]))
                        if t['python'] != version:
                            case_failures.append('trace.python is {!r}, want {!r}'.format(t['python'], version))
                        if t['complete'] is not True:
                            case_failures.append('trace.complete is {!r}'.format(t['complete']))
                        # Site is on here, so only what the sample itself
                        # declares is checked, not the absence of others.
                        for e in expects:
                            if not any(e.matches(f) for f in report['findings']):
                                case_failures.append('no finding matches: ' + e.line)
                except CheckFailed as e:
                    case_failures.append(str(e))
            failures.extend('{}: {}'.format(label, f) for f in case_failures)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'LD_PRELOAD={} {} {}'.format(
        os.path.basename(shim), program, os.path.basename(sample))


# ----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--linger', required=True, help='the linger executable')
    ap.add_argument('--python', help='the interpreter to run samples with')
    ap.add_argument('--shim', help='liblinger.so, for --check preload')
    ap.add_argument('--mode', choices=('plain', 'xdev', 'pymalloc-debug'), default='plain')
    ap.add_argument('--check', choices=('sample', 'nonpython', 'signal', 'bad-input', 'preload'),
                    default='sample')
    ap.add_argument('sample', nargs='?')
    args = ap.parse_args()

    checks = {'sample': check_sample, 'nonpython': check_nonpython, 'signal': check_signal,
              'bad-input': check_bad_input, 'preload': check_preload}
    if args.check == 'sample' and not (args.sample and args.python):
        ap.error('a sample check needs --python and SAMPLE')
    if args.check in ('bad-input', 'preload') and not args.python:
        ap.error('--check {} needs --python'.format(args.check))

    try:
        failures, notes, title = checks[args.check](args)
    except Skip as e:
        print('SKIP: {}'.format(e))
        return SKIP
    except CheckFailed as e:
        print('FAIL: {}'.format(e))
        return 1

    if failures:
        # Details first: meson shows only the end of a long log, and the
        # summary of what failed is what must not be cut off.
        print('Details:')
        for n in notes:
            print(n)
        print()
        print('FAIL: {}'.format(title))
        for f in failures:
            print('  - ' + f.replace('\n', '\n    '))
        return 1
    print('PASS: {}'.format(title))
    return 0


if __name__ == '__main__':
    sys.exit(main())
