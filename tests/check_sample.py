#!/usr/bin/python3
"""End-to-end checks of linger (stdlib only; run with Debian's /usr/bin/python3).

Sample check (one sample, one interpreter, one mode):

    check_sample.py --linger build/linger --python PY SAMPLE [--mode plain|xdev|pymalloc-debug]

  1. runs SAMPLE bare and under `linger run --output TMP/t.trace --` and
     requires identical stdout and exit status;
  2. runs `linger report --format=json` on the trace and validates the JSON
     contract (fields and types, trace.python is PY's version, complete);
  3. checks the sample's header (samples/README.md describes it): every
     `# linger-expect: KIND TYPE [key=value|key>=N|key<=N ...]` matches a
     finding of its own (kind, objects[0].type and the given fields, a
     key being a field of the finding or a dotted path into it, such as
     finalizer.via); `linger-expect-path` and `linger-expect-held-by` pin
     the example's path and held_by; every finding must be declared by a
     line (whatever its kind); `# linger-expect-not: KIND [TYPE]` kinds
     are absent; `# linger-expect-none` means no finding.  A line written
     `linger-expect [--opt ...]: ...` is about `linger report --opt ...`:
     each set of options is one more report of the same trace.
     Allocation tracking (trace format 1.2):
       `# linger-expect: gc-collected TYPE [CYCLE_KIND|*] [count=N] [line=N|line=site:NAME] ...`
     needs a gc-collected group of that (short) type and cycle kind,
     allocated in the sample file at that line (`site:NAME` is the line
     ending in `# linger-site: NAME`); a gc-collected group allocated
     outside the sample file (interpreter start-up, standard library) is
     not the sample's business and needs no line (also for -none and
     -not).  `# linger-expect-allocated: KIND TYPE at=N|site:NAME|null
     [function=F]` pins the allocated_at of the example object of the
     closest earlier linger-expect line of that kind and type.  Any
     linger-expect line may carry `python>=3.9` (<, <=, =, >): it then
     applies only to those interpreter versions;
  4. checks the JSON contract of every report: a live finding has a
     held_by path from a root, a garbage one has none; every finding has
     retained_bytes and retained_objects, and a group of N retains at
     least N objects (its instances themselves); `--all` lists each
     instance once and adds up to the grouped counts; the text report
     exits 0 and names every expected kind.

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
        (JSON: "python": null, no finding but native leaks).
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

    check_sample.py --linger L --python PY --check baseline
        `PY -S -c pass` and `PY -S EMPTY.py` under linger: no finding at
        all, also with --live-cycles.  Without -S: only the findings
        SITE_FINDINGS explains by a module the interpreter's .pth files
        import (checked by asking PY).
    check_sample.py --linger L --python PY --check signal-snapshots
        samples/snapshots/server_growth.py gets SIGUSR2 after each of two
        batches of requests: the trace holds two signal snapshots and the
        exit snapshot, output and exit status are unchanged, and the exit
        report counts every request's garbage.
    check_sample.py --linger L --python PY --check own-handler
        samples/snapshots/own_signal_handler.py, which installs, replaces
        and ignores SIGUSR2 handlers of its own and gets SIGUSR2 after
        each step, behaves exactly as without linger (also when started
        with SIGUSR2 ignored), and each signal makes a snapshot; with
        --snapshot-signal=SIGUSR1 or =off, SIGUSR2 is the program's alone
        and makes none; a handler that sitecustomize installs before the
        program starts (early_handler_main.py) is kept and called too.
    check_sample.py --linger L [--shim S] --python PY --check interval
        --snapshot-interval (and LINGER_SNAPSHOT_INTERVAL with LD_PRELOAD):
        several interval snapshots, then the exit snapshot; bad values are
        usage errors.
    check_sample.py --linger L --python PY --check diff
        `linger report --diff` between the two signal snapshots of the
        server shows what grew.

  The snapshot checks skip (77) only if linger rejects the option they
  test as unknown: the feature is not there yet.

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
# Findings about allocation tracking (trace format 1.2) have shapes of
# their own; every other kind is a finding about the heap graph (count,
# state, objects, path, retained_*).
LEAK = 'leak'
GC_COLLECTED = 'gc-collected'
ALLOC_KINDS = (LEAK, GC_COLLECTED)
CYCLE_KINDS = ('bound-method', 'closure', 'other')
FRAME_KINDS = ('python', 'native')
# "# linger-expect[-not|-none|-path|-held-by|-allocated] [OPTIONS]: ...";
# OPTIONS, in brackets, are extra `linger report` options the line is about.
EXPECT_RE = re.compile(r'^#\s*linger-expect(?P<what>-not|-none|-path|-held-by|-allocated)?'
                       r'(?:\s*\[(?P<opts>[^\]]*)\])?\s*(?::\s*(?P<rest>.*))?$')
# "# linger-expect-path: KIND TYPE: step → step → target" pins the example
# path of the finding the closest earlier linger-expect line of that kind
# and type declared; "# linger-expect-held-by: KIND TYPE: step → ..."
# pins its held_by.
EXPECT_PATH_RE = re.compile(r'^(?P<kind>\S+)\s+(?P<type>\S+?):\s+(?P<path>\S.*)$')
# A field of a linger-expect line: key=value, key>=N or key<=N.  The key
# is a top-level field of the finding or a dotted path into it
# (finalizer.via=atexit).
FIELD_RE = re.compile(r'^(?P<key>[A-Za-z_][A-Za-z0-9_.]*)(?P<op>=|>=|<=)(?P<value>.*)$')
TRACE_LINE_RE = re.compile(r'^linger: trace written to (?P<path>.+)$')
ADDRESS_RE = re.compile(r'^0x[0-9a-fA-F]+$')
# "# linger-expect-allocated: KIND TYPE at=LINE|site:NAME|null [function=F]"
# pins the allocated_at of the example object (objects[0]) of the finding
# the closest earlier linger-expect line of that kind and type declared.
EXPECT_ALLOCATED_RE = re.compile(r'^(?P<kind>\S+)\s+(?P<type>\S+)\s+(?P<fields>\S.*)$')
# "...  # linger-site: NAME" at the end of a line of the sample: `line=site:NAME`
# and `at=site:NAME` name that line.
SITE_RE = re.compile(r'#\s*linger-site:\s*(?P<name>[A-Za-z0-9_.-]+)\s*$')
# A condition on the interpreter in a linger-expect line: python>=3.9,
# python<3.9, python=3.8 (also <=, >).
PYTHON_COND_RE = re.compile(r'^python(?P<op>>=|<=|=|<|>)(?P<version>[0-9]+(?:\.[0-9]+)*)$')


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


def parse_value(text):
    if re.match(r'^-?[0-9]+$', text):
        return int(text)
    return {'true': True, 'false': False, 'null': None}.get(text, text)


def field_of(finding, key):
    """The value at a dotted key of a finding, or a marker if absent."""
    value = finding
    for part in key.split('.'):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


MISSING = object()


def same_source(file, sample):
    """Whether an allocated_at file is the sample file itself."""
    if not isinstance(file, str) or not file or not sample:
        return False
    if os.path.realpath(file) == os.path.realpath(sample):
        return True
    try:
        return os.path.samefile(file, sample)
    except OSError:
        return False


def allocated_in(finding, sample):
    """Whether the finding's allocated_at is in the sample file."""
    at = finding.get('allocated_at')
    return isinstance(at, dict) and same_source(at.get('file'), sample)


def is_own_finding(finding, sample):
    """Whether the sample must account for the finding: every finding but a
    gc-collected group allocated outside the sample file (by the
    interpreter's start-up, the standard library)."""
    return finding.get('kind') != GC_COLLECTED or allocated_in(finding, sample)


def parse_version(text):
    return tuple(int(p) for p in text.split('.'))


def version_holds(version, op, want):
    """version: '3.11.2'; want: (3, 9) compares on as many parts as want has."""
    have = parse_version(re.match(r'^[0-9.]+', version).group(0).rstrip('.'))[:len(want)]
    return {'=': have == want, '<': have < want, '<=': have <= want,
            '>': have > want, '>=': have >= want}[op]


class Expectation:
    def __init__(self, kind, type_name, fields, line, cycle_kind=None, conditions=(), sample=None):
        self.kind = kind
        self.type_name = type_name
        self.fields = fields  # [(key, op, value)]: count, state, severity, or any dotted key
        self.line = line
        self.path = None      # ' → '.join(finding['path']), if pinned
        self.held_by = None   # ' → '.join(finding['held_by']), if pinned
        self.cycle_kind = cycle_kind    # gc-collected: the cycle_kind (positional)
        self.conditions = list(conditions)  # [(op, version tuple)]: python>=3.9 ...
        self.sample = sample            # the sample file line= and at= refer to
        self.allocated = None           # [(key, value)] from linger-expect-allocated
        self.allocated_line = None

    def applies(self, version):
        return all(version_holds(version, op, want) for op, want in self.conditions)

    def matches(self, finding):
        if finding.get('kind') != self.kind:
            return False
        if self.kind in ALLOC_KINDS:
            # Allocation findings name their type at the top level.
            if self.type_name != '*' and finding.get('type') != self.type_name:
                return False
            if self.cycle_kind is not None and finding.get('cycle_kind') != self.cycle_kind:
                return False
        else:
            objects = finding.get('objects') or []
            if not objects or (self.type_name != '*' and objects[0].get('type') != self.type_name):
                return False
        for key, op, value in self.fields:
            if key == 'line':
                # The allocation site, in the sample file itself.
                at = finding.get('allocated_at')
                if not (allocated_in(finding, self.sample) and at.get('line') == value):
                    return False
                continue
            have = field_of(finding, key)
            if have is MISSING:
                return False
            if isinstance(have, list) and isinstance(value, str):
                have = ','.join(str(h) for h in have)
            if op == '=' and have != value:
                return False
            if op in ('>=', '<=') and not (is_int(have) and (have >= value if op == '>=' else have <= value)):
                return False
        if self.path is not None and ' → '.join(finding.get('path') or []) != self.path:
            return False
        if self.held_by is not None and ' → '.join(finding.get('held_by') or []) != self.held_by:
            return False
        if self.allocated is not None:
            at = ((finding.get('objects') or [{}])[0]).get('allocated_at')
            for key, value in self.allocated:
                if key == 'at':
                    if value is None:
                        if at is not None:
                            return False
                    elif not (isinstance(at, dict) and same_source(at.get('file'), self.sample)
                              and at.get('line') == value):
                        return False
                elif not isinstance(at, dict) or at.get(key) != value:
                    return False
        return True

    def __str__(self):
        return self.line


class Spec:
    """What one `linger report` of the sample (with some extra options) must show."""

    def __init__(self, options):
        self.options = options   # tuple of extra `linger report` arguments
        self.expects = []
        self.nots = []           # (kind, type or None, line)
        self.none = False

    def label(self):
        return ' '.join(self.options) if self.options else 'default options'

    def for_version(self, version):
        """The spec without the lines whose python conditions the
        interpreter's version does not meet."""
        spec = Spec(self.options)
        spec.expects = [e for e in self.expects if e.applies(version)]
        spec.nots = list(self.nots)
        spec.none = self.none
        return spec


def read_sites(path):
    """{name: line} of the `# linger-site: NAME` marks in a sample."""
    sites = {}
    with open(path, encoding='utf-8') as f:
        for n, raw in enumerate(f, 1):
            m = SITE_RE.search(raw)
            if m:
                if m.group('name') in sites:
                    raise CheckFailed('{}:{}: linger-site {} is already at line {}'.format(
                        path, n, m.group('name'), sites[m.group('name')]))
                sites[m.group('name')] = n
    return sites


def site_line(text, sites, path, line):
    """A line= or at= value: a line number or site:NAME."""
    if re.match(r'^[0-9]+$', text):
        return int(text)
    if text.startswith('site:') and text[5:] in sites:
        return sites[text[5:]]
    if text.startswith('site:'):
        raise CheckFailed('{}: {} names no `# linger-site: {}` line: {}'.format(path, text, text[5:], line))
    raise CheckFailed('{}: want a line number or site:NAME, not {!r}: {}'.format(path, text, line))


def parse_header(path):
    """Returns the sample's expectations from its leading comment block: a
    list of Spec, the one for the default report options first (it is
    always there, empty if the header has only option-qualified lines)."""
    specs = {(): Spec(())}
    sites = read_sites(path)
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
            options = tuple((m.group('opts') or '').split())
            spec = specs.setdefault(options, Spec(options))
            what, rest = m.group('what'), (m.group('rest') or '').split()
            if what in ('-path', '-held-by'):
                pm = EXPECT_PATH_RE.match(m.group('rest') or '')
                if not pm:
                    raise CheckFailed('{}: want "linger-expect{}: KIND TYPE: PATH": {}'.format(path, what, line))
                # The closest earlier linger-expect line of the same kind,
                # type and options.
                owners = [e for e in spec.expects if e.kind == pm.group('kind') and e.type_name == pm.group('type')]
                if not owners:
                    raise CheckFailed('{}: linger-expect{} needs an earlier linger-expect line of the same '
                                      'kind, type and options: {}'.format(path, what, line))
                owner = owners[-1]
                if (owner.path if what == '-path' else owner.held_by) is not None:
                    raise CheckFailed('{}: a second linger-expect{} for the same line: {}'.format(path, what, line))
                if what == '-path':
                    owner.path = pm.group('path').strip()
                else:
                    owner.held_by = pm.group('path').strip()
                continue
            if what == '-allocated':
                am = EXPECT_ALLOCATED_RE.match(m.group('rest') or '')
                if not am:
                    raise CheckFailed('{}: want "linger-expect-allocated: KIND TYPE at=LINE|site:NAME|null '
                                      '[function=F]": {}'.format(path, line))
                if am.group('kind') in ALLOC_KINDS:
                    raise CheckFailed('{}: linger-expect-allocated is about graph findings; a {} line says '
                                      'line= itself: {}'.format(path, am.group('kind'), line))
                owners = [e for e in spec.expects if e.kind == am.group('kind') and e.type_name == am.group('type')]
                if not owners:
                    raise CheckFailed('{}: linger-expect-allocated needs an earlier linger-expect line of the '
                                      'same kind, type and options: {}'.format(path, line))
                owner = owners[-1]
                if owner.allocated is not None:
                    raise CheckFailed('{}: a second linger-expect-allocated for the same line: {}'.format(
                        path, line))
                allocated = []
                for item in am.group('fields').split():
                    key, eq, value = item.partition('=')
                    if not eq or key not in ('at', 'function', 'module'):
                        raise CheckFailed('{}: linger-expect-allocated takes at=, function= and module=, '
                                          'not {!r}: {}'.format(path, item, line))
                    if key == 'at':
                        value = None if value == 'null' else site_line(value, sites, path, line)
                    allocated.append((key, parse_value(value) if key != 'at' else value))
                if not any(key == 'at' for key, _ in allocated):
                    raise CheckFailed('{}: linger-expect-allocated wants at=: {}'.format(path, line))
                if dict(allocated).get('at', 0) is None and len(allocated) > 1:
                    raise CheckFailed('{}: at=null takes no other field: {}'.format(path, line))
                owner.allocated = allocated
                owner.allocated_line = line
                continue
            if what == '-none':
                if rest:
                    raise CheckFailed('{}: linger-expect-none takes no argument: {}'.format(path, line))
                spec.none = True
            elif what == '-not':
                if len(rest) not in (1, 2):
                    raise CheckFailed('{}: want "linger-expect-not: KIND [TYPE]": {}'.format(path, line))
                spec.nots.append((rest[0], rest[1] if len(rest) == 2 else None, line))
            else:
                if len(rest) < 2:
                    raise CheckFailed('{}: want "linger-expect: KIND TYPE [key=value...]": {}'.format(path, line))
                fields, conditions, cycle_kind, items = [], [], None, rest[2:]
                if rest[0] == GC_COLLECTED and items and not FIELD_RE.match(items[0]) \
                        and not PYTHON_COND_RE.match(items[0]):
                    cycle_kind, items = items[0], items[1:]
                    if cycle_kind == '*':
                        cycle_kind = None       # any cycle kind
                    elif cycle_kind not in CYCLE_KINDS:
                        raise CheckFailed('{}: unknown cycle_kind {!r} (want one of {}): {}'.format(
                            path, cycle_kind, ', '.join(CYCLE_KINDS), line))
                for item in items:
                    cm = PYTHON_COND_RE.match(item)
                    if cm:
                        conditions.append((cm.group('op'), parse_version(cm.group('version'))))
                        continue
                    if item.startswith('line=') and rest[0] in ALLOC_KINDS:
                        fields.append(('line', '=', site_line(item[5:], sites, path, line)))
                        continue
                    fm = FIELD_RE.match(item)
                    if not fm:
                        raise CheckFailed('{}: want key=value, key>=N or key<=N, not {!r}: {}'.format(
                            path, item, line))
                    key, op, value = fm.group('key'), fm.group('op'), parse_value(fm.group('value'))
                    if key == 'count' and not is_int(value):
                        raise CheckFailed('{}: count wants a number: {}'.format(path, line))
                    elif key == 'state' and value not in KNOWN_STATES:
                        raise CheckFailed('{}: unknown state {!r}: {}'.format(path, value, line))
                    elif key == 'severity' and value not in KNOWN_SEVERITIES:
                        raise CheckFailed('{}: unknown severity {!r}: {}'.format(path, value, line))
                    elif key == 'cycle_kind' and value not in CYCLE_KINDS:
                        raise CheckFailed('{}: unknown cycle_kind {!r}: {}'.format(path, value, line))
                    elif key == 'line':
                        raise CheckFailed('{}: line= is for {} lines; a graph finding\'s allocation site '
                                          'is pinned by linger-expect-allocated: {}'.format(
                                              path, ' and '.join(ALLOC_KINDS), line))
                    if op != '=' and not is_int(value):
                        raise CheckFailed('{}: {} wants a number: {}'.format(path, op, line))
                    fields.append((key, op, value))
                spec.expects.append(Expectation(rest[0], rest[1], fields, line, cycle_kind=cycle_kind,
                                                conditions=conditions, sample=path))
    for spec in specs.values():
        if spec.none and spec.expects:
            raise CheckFailed('{}: linger-expect-none together with linger-expect ({})'.format(
                path, spec.label()))
    if not any(spec.expects or spec.nots or spec.none for spec in specs.values()):
        raise CheckFailed('{}: the sample declares no linger-expect line'.format(path))
    return [specs[()]] + [specs[k] for k in sorted(specs) if k != ()]


# ----------------------------------------------------------------------------
# The JSON contract


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_allocated_at(at, where):
    """allocated_at: null, or {file, line, function, module, stack: [frame]}
    where a frame is {kind: python|native, function, file, line, module,
    address}."""
    problems = []

    def want(cond, what):
        if not cond:
            problems.append(what)

    def str_or_null(v):
        return v is None or isinstance(v, str)

    if at is None:
        return problems
    if not isinstance(at, dict):
        return ['{}: want an object or null, got {!r}'.format(where, at)]
    for key in ('file', 'line', 'function', 'module', 'stack'):
        want(key in at, '{}.{}: missing'.format(where, key))
    want(str_or_null(at.get('file')), '{}.file: want a string or null, got {!r}'.format(where, at.get('file')))
    want(is_int(at.get('line')) and at.get('line') >= 0,
         '{}.line: want an integer >= 0, got {!r}'.format(where, at.get('line')))
    want(str_or_null(at.get('function')),
         '{}.function: want a string or null, got {!r}'.format(where, at.get('function')))
    want(str_or_null(at.get('module')),
         '{}.module: want a string or null, got {!r}'.format(where, at.get('module')))
    stack = at.get('stack')
    if not isinstance(stack, list):
        problems.append('{}.stack: want an array, got {!r}'.format(where, stack))
        return problems
    for k, frame in enumerate(stack):
        fw = '{}.stack[{}]'.format(where, k)
        if not isinstance(frame, dict):
            problems.append('{}: want an object, got {!r}'.format(fw, frame))
            continue
        missing = [key for key in ('kind', 'function', 'file', 'line', 'module', 'address') if key not in frame]
        want(not missing, '{}: missing {}'.format(fw, ', '.join(missing)))
        want(frame.get('kind') in FRAME_KINDS,
             '{}.kind: want one of {}, got {!r}'.format(fw, FRAME_KINDS, frame.get('kind')))
        for key in ('function', 'file', 'module'):
            want(str_or_null(frame.get(key)), '{}.{}: want a string or null, got {!r}'.format(
                fw, key, frame.get(key)))
        want(is_int(frame.get('line')) and frame.get('line') >= 0,
             '{}.line: want an integer >= 0, got {!r}'.format(fw, frame.get('line')))
        address = frame.get('address')
        want(address is None or (isinstance(address, str) and ADDRESS_RE.match(address)),
             '{}.address: want "0x..." hex or null, got {!r}'.format(fw, address))
        if frame.get('kind') == 'native':
            want(address is not None, '{}.address: a native frame has an address'.format(fw))
    frames = [(fr.get('file'), fr.get('line'), fr.get('function')) for fr in stack if isinstance(fr, dict)]
    if frames and at.get('file') is not None:
        # The site is a frame of its stack (the innermost one that is not
        # an allocator).
        site = (at.get('file'), at.get('line'), at.get('function'))
        want(site in frames, '{}: file/line/function {!r} are no frame of its stack {!r}'.format(
            where, site, frames))
    return problems


def validate_graph_finding(f, where):
    """A finding about the heap graph: count, state, objects, path, held_by,
    retained_*."""
    problems = []

    def want(cond, what):
        if not cond:
            problems.append(what)

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
            if 'allocated_at' not in o:
                problems.append('{}.allocated_at: missing (want an object or null)'.format(ow))
            else:
                problems.extend(validate_allocated_at(o['allocated_at'], ow + '.allocated_at'))
    path = f.get('path')
    want(isinstance(path, list) and path and all(isinstance(p, str) for p in path),
         '{}.path: want a non-empty array of strings, got {!r}'.format(where, path))
    want(isinstance(f.get('hint'), str) and f.get('hint'),
         '{}.hint: want a non-empty string, got {!r}'.format(where, f.get('hint')))
    # Every live finding says what holds it, from a root; a garbage
    # one is held by nothing the program can reach.
    held_by = f.get('held_by')
    if f.get('state') == 'live':
        want(isinstance(held_by, list) and held_by and all(isinstance(p, str) for p in held_by),
             '{}.held_by: a live finding wants a non-empty array of strings, got {!r}'.format(
                 where, held_by))
        want(isinstance(f.get('held_by_root'), str) and f.get('held_by_root'),
             '{}.held_by_root: a live finding wants a non-empty string, got {!r}'.format(
                 where, f.get('held_by_root')))
    elif f.get('state') == 'garbage':
        want(held_by is None,
             '{}.held_by: a garbage finding is held by nothing, got {!r}'.format(where, held_by))
    for key in ('retained_bytes', 'retained_objects'):
        want(is_int(f.get(key)) and f.get(key) >= 0,
             '{}.{}: want an integer >= 0, got {!r}'.format(where, key, f.get(key, '<missing>')))
    # What a group retains includes its instances themselves: count
    # distinct objects (or cycles, each of one object at least).
    if is_int(f.get('retained_objects')) and is_int(f.get('count')):
        want(f['retained_objects'] >= f['count'],
             '{}.retained_objects: {} instance(s) retain at least {} object(s), got {}'.format(
                 where, f['count'], f['count'], f['retained_objects']))
    return problems


def validate_alloc_finding(f, where):
    """leak: {kind, severity: warning, blocks, bytes, allocated_at, hint};
    gc-collected: {kind, severity: info, type, cycle_kind, count, bytes,
    allocs, gc_share, allocated_at, example, example_is_generic, hint}."""
    problems = []

    def want(cond, what):
        if not cond:
            problems.append(what)

    kind = f.get('kind')
    if kind == LEAK:
        want(f.get('severity') == 'warning',
             '{}.severity: a leak is a warning, got {!r}'.format(where, f.get('severity')))
        want(is_int(f.get('blocks')) and f.get('blocks') >= 1,
             '{}.blocks: want an integer >= 1, got {!r}'.format(where, f.get('blocks')))
        want(is_int(f.get('bytes')) and f.get('bytes') >= 0,
             '{}.bytes: want an integer >= 0, got {!r}'.format(where, f.get('bytes')))
    else:
        want(f.get('severity') == 'info',
             '{}.severity: gc-collected is info, got {!r}'.format(where, f.get('severity')))
        want(isinstance(f.get('type'), str) and f.get('type'),
             '{}.type: want a non-empty string, got {!r}'.format(where, f.get('type')))
        want(f.get('cycle_kind') in CYCLE_KINDS,
             '{}.cycle_kind: want one of {}, got {!r}'.format(where, CYCLE_KINDS, f.get('cycle_kind')))
        want(is_int(f.get('count')) and f.get('count') >= 1,
             '{}.count: want an integer >= 1, got {!r}'.format(where, f.get('count')))
        want(is_int(f.get('bytes')) and f.get('bytes') >= 0,
             '{}.bytes: want an integer >= 0, got {!r}'.format(where, f.get('bytes')))
        want(is_int(f.get('allocs')) and f.get('allocs') >= 0,
             '{}.allocs: want an integer >= 0, got {!r}'.format(where, f.get('allocs')))
        want(is_number(f.get('gc_share')) and 0 <= f.get('gc_share') <= 1,
             '{}.gc_share: want a number in [0, 1], got {!r}'.format(where, f.get('gc_share')))
        want(isinstance(f.get('example'), str) and f.get('example'),
             '{}.example: want a non-empty string, got {!r}'.format(where, f.get('example')))
        want(isinstance(f.get('example_is_generic'), bool),
             '{}.example_is_generic: want true or false, got {!r}'.format(where, f.get('example_is_generic')))
        for key in ('state', 'objects', 'path', 'held_by'):
            want(key not in f, '{}.{}: not a field of gc-collected, got {!r}'.format(where, key, f.get(key)))
    want(isinstance(f.get('hint'), str) and f.get('hint'),
         '{}.hint: want a non-empty string, got {!r}'.format(where, f.get('hint')))
    if 'allocated_at' not in f:
        problems.append('{}.allocated_at: missing (want an object or null)'.format(where))
    else:
        problems.extend(validate_allocated_at(f['allocated_at'], where + '.allocated_at'))
    return problems


ALLOCATIONS_BOOLS = ('python', 'native', 'native_stacks', 'leaks_known')
ALLOCATIONS_INTS = ('python_depth', 'native_depth', 'python_allocs', 'native_allocs', 'untracked',
                    'peak_live_blocks', 'table_bytes', 'gc_collections', 'not_counted_blocks',
                    'not_counted_bytes', 'hidden_leaks', 'hidden_gc_collected')


def validate_allocations(alloc):
    """The top-level "allocations": how allocations were tracked (null if
    the trace has no allocation records)."""
    problems = []
    if alloc is None:
        return problems
    if not isinstance(alloc, dict):
        return ['allocations: want an object or null, got {!r}'.format(alloc)]
    for key in ALLOCATIONS_BOOLS:
        if not isinstance(alloc.get(key), bool):
            problems.append('allocations.{}: want true or false, got {!r}'.format(key, alloc.get(key, '<missing>')))
    for key in ALLOCATIONS_INTS:
        if not (is_int(alloc.get(key)) and alloc.get(key) >= 0):
            problems.append('allocations.{}: want an integer >= 0, got {!r}'.format(key, alloc.get(key, '<missing>')))
    spots = alloc.get('blind_spots')
    if not (isinstance(spots, list) and all(isinstance(x, str) and x for x in spots)):
        problems.append('allocations.blind_spots: want an array of strings, got {!r}'.format(spots))
    return problems


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
    if 'allocations' not in report:
        problems.append('allocations: missing (want an object or null)')
    else:
        problems.extend(validate_allocations(report['allocations']))
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
        if f.get('kind') in ALLOC_KINDS:
            problems.extend(validate_alloc_finding(f, where))
        else:
            problems.extend(validate_graph_finding(f, where))
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


def describe_at(at):
    if not isinstance(at, dict):
        return 'null'
    return '{}:{} ({})'.format(at.get('file'), at.get('line'), at.get('function'))


def describe_finding(f):
    if f.get('kind') == GC_COLLECTED:
        return '{} {} {} count={} allocated_at={}'.format(
            f.get('kind'), f.get('type'), f.get('cycle_kind'), f.get('count'), describe_at(f.get('allocated_at')))
    if f.get('kind') == LEAK:
        return '{} blocks={} bytes={} allocated_at={}'.format(
            f.get('kind'), f.get('blocks'), f.get('bytes'), describe_at(f.get('allocated_at')))
    objs = f.get('objects') or [{}]
    return '{} {} count={} state={}'.format(f.get('kind'), objs[0].get('type'), f.get('count'), f.get('state'))


def finding_type(f):
    if f.get('kind') in ALLOC_KINDS:
        return f.get('type')
    return (f.get('objects') or [{}])[0].get('type')


def match_expectations(findings, spec, sample=None):
    """Returns a list of problems.  Every finding must be accounted for
    by an expectation of its own: a finding no linger-expect line declares
    is an error, whatever its kind -- except a gc-collected group whose
    allocation site is not in the sample file itself (SAMPLE): what the
    interpreter's start-up or the standard library left to the cyclic GC
    is not the sample's business (a line may still declare it)."""
    problems = []
    expects, nots, none = spec.expects, spec.nots, spec.none
    own = [f for f in findings if is_own_finding(f, sample)]
    if none:
        if own:
            problems.append('linger-expect-none, but the report has {} finding(s): {}'.format(
                len(own), '; '.join(describe_finding(f) for f in own)))
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
            problems.append('no finding matches: {}{}{}{}'.format(
                e.line, '\n    with path: ' + e.path if e.path else '',
                '\n    held by: ' + e.held_by if e.held_by else '',
                '\n    allocated: ' + e.allocated_line if e.allocated_line else ''))
        if not lonely:
            problems.append('(each expectation has a candidate, but not one finding each)')
        matched = set()
    else:
        matched = set(assignment.values())

    if matched or not expects:
        for j, f in enumerate(findings):
            if j not in matched and is_own_finding(f, sample):
                problems.append('unexpected finding: ' + describe_finding(f))
    else:
        # The expectations could not be matched: show what there is,
        # with the fields the expectations look at.
        keys = sorted({key for e in expects for key, _, _ in e.fields} - {'count', 'state', 'line'})
        for f in findings:
            if not is_own_finding(f, sample) and not any(e.kind == GC_COLLECTED for e in expects):
                continue
            fields = ''.join(' {}={}'.format(k, ','.join(map(str, v)) if isinstance(v, list) else v)
                             for k, v in ((k, field_of(f, k)) for k in keys) if v is not MISSING)
            if f.get('kind') in ALLOC_KINDS:
                problems.append('the report has: {}{}'.format(describe_finding(f), fields))
                continue
            problems.append('the report has: {}{}\n    path: {}\n    held by: {}\n    allocated at: {}'.format(
                describe_finding(f), fields, ' → '.join(f.get('path') or []),
                ' → '.join(f.get('held_by') or []) or '-',
                describe_at(((f.get('objects') or [{}])[0]).get('allocated_at'))))

    # linger-expect-not: gc-collected [TYPE] is about the sample's own
    # groups, like the unexpected findings above.
    for kind, type_name, line in nots:
        for f in findings:
            if f.get('kind') == kind and (type_name is None or finding_type(f) == type_name) \
                    and is_own_finding(f, sample):
                problems.append('{} -- but the report has: {}'.format(line, describe_finding(f)))
    return problems


def alloc_group_key(f):
    at = f.get('allocated_at') or {}
    return (f.get('kind'), f.get('type'), f.get('cycle_kind'), f.get('count'), f.get('blocks'),
            f.get('bytes'), at.get('file'), at.get('line'), at.get('function'))


def check_all_listing(grouped, every, grouped_alloc=None, every_alloc=None):
    """`linger report --all` lists every instance of the grouped report:
    each entry has count 1, and the instances of each kind and type add up
    to the grouped counts.  Allocation findings (leak, gc-collected) are
    groups by allocation site in both: --all lists every group, those the
    default report shows (with the same fields) and those it hides (its
    allocations.hidden_* counts)."""
    problems = []
    alloc_grouped = [f for f in grouped if f.get('kind') in ALLOC_KINDS]
    alloc_every = [f for f in every if f.get('kind') in ALLOC_KINDS]
    grouped = [f for f in grouped if f.get('kind') not in ALLOC_KINDS]
    every = [f for f in every if f.get('kind') not in ALLOC_KINDS]
    listed = {}
    for f in alloc_every:
        listed[alloc_group_key(f)] = listed.get(alloc_group_key(f), 0) + 1
    for f in alloc_grouped:
        key = alloc_group_key(f)
        if not listed.get(key):
            problems.append('--all does not list the group of the default report: ' + describe_finding(f))
        else:
            listed[key] -= 1
    for kind, hidden_key in ((LEAK, 'hidden_leaks'), (GC_COLLECTED, 'hidden_gc_collected')):
        shown = sum(1 for f in alloc_grouped if f.get('kind') == kind)
        total = sum(1 for f in alloc_every if f.get('kind') == kind)
        hidden = (grouped_alloc or {}).get(hidden_key, 0)
        if grouped_alloc is not None and shown + hidden != total:
            problems.append('--all lists {} {} group(s); the default report shows {} and hides {} ({})'.format(
                total, kind, shown, hidden, hidden_key))
        if every_alloc is not None and every_alloc.get(hidden_key) != 0:
            problems.append('--all: allocations.{} is {!r}, want 0: --all hides nothing'.format(
                hidden_key, every_alloc.get(hidden_key)))
    want = {}
    for f in grouped:
        key = (f.get('kind'), (f.get('objects') or [{}])[0].get('type'))
        want[key] = want.get(key, 0) + f.get('count', 0)
    have = {}
    for f in every:
        if f.get('count') != 1:
            problems.append('--all: an entry with count {}: {}'.format(f.get('count'), describe_finding(f)))
        key = (f.get('kind'), (f.get('objects') or [{}])[0].get('type'))
        have[key] = have.get(key, 0) + 1
    for key in sorted(set(want) | set(have), key=str):
        if want.get(key, 0) != have.get(key, 0):
            problems.append('--all lists {} instance(s) of {} {}, the grouped report counts {}'.format(
                have.get(key, 0), key[0], key[1], want.get(key, 0)))
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


def check_spec(linger, trace, work, spec, version, python, sample, failures, notes):
    """One `linger report` of the trace (with spec's extra options), in
    JSON, in JSON with --all, and as text."""
    where = '' if not spec.options else '[{}] '.format(spec.label())
    json_result = run([linger, 'report', '--format=json'] + list(spec.options) + [trace], cwd=work)
    try:
        report = load_json_report(json_result)
    except CheckFailed as e:
        failures.append(where + str(e))
        return
    notes.insert(0, '--- report (JSON{}):\n{}'.format(', ' + spec.label() if spec.options else '',
                                                      pretty(report)))
    shape = validate_report(report)
    failures.extend(where + 'JSON contract: ' + p for p in shape)
    if shape:
        return

    t = report['trace']
    if not spec.options:
        if t['python'] != version:
            failures.append('trace.python is {!r}, want {!r}'.format(t['python'], version))
        if t['complete'] is not True:
            failures.append('trace.complete is {!r} for a program that exited normally'.format(t['complete']))
        if t['program'] != os.path.basename(python):
            failures.append('trace.program is {!r}, want {!r}'.format(
                t['program'], os.path.basename(python)))
        if t['objects'] <= 0:
            failures.append('trace.objects is {!r} for a Python program'.format(t['objects']))

    failures.extend(where + p for p in match_expectations(report['findings'], spec, sample))

    every = run([linger, 'report', '--format=json', '--all'] + list(spec.options) + [trace], cwd=work)
    try:
        every_report = load_json_report(every)
        shape = validate_report(every_report)
        failures.extend(where + '--all: JSON contract: ' + p for p in shape)
        if not shape:
            failures.extend(where + p for p in check_all_listing(
                report['findings'], every_report['findings'],
                report.get('allocations'), every_report.get('allocations')))
    except CheckFailed as e:
        failures.append(where + '--all: ' + str(e))

    text = run([linger, 'report'] + list(spec.options) + [trace], cwd=work)
    if text.signalled or text.status != 0:
        failures.append(where + 'linger report (text) failed: {}'.format(text.describe()))
        notes.append(text.dump('text report'))
    else:
        body = text.text('stdout')
        for kind in sorted({e.kind for e in spec.expects}):
            if kind not in body:
                failures.append(where + 'the text report does not mention {}'.format(kind))
        if failures:
            notes.append(text.dump('text report'))


def check_sample(args):
    sample = os.path.abspath(args.sample)
    specs = parse_header(sample)
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

        for spec in specs:
            check_spec(linger, trace, work, spec.for_version(version), version, args.python, sample,
                       failures, notes)
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
                        # No Python heap: no finding about it.  Native
                        # allocations are tracked for a program that is not
                        # Python, so leak findings (what `ls` does not free
                        # before it exits) are its own business.
                        heap = [f for f in report['findings'] if f.get('kind') != LEAK]
                        if heap:
                            case_failures.append('{} finding(s) about a Python heap, want none: {}'.format(
                                len(heap), '; '.join(describe_finding(f) for f in heap)))
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
    version = python_version(args.python)
    expects = parse_header(sample)[0].for_version(version).expects
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
# Reading a trace's records (only what the checks below need)


REC_SNAPSHOT_BEGIN, REC_SNAPSHOT_END, REC_END = 4, 10, 64
SNAPSHOT_REASONS = {1: 'exit', 2: 'signal', 3: 'interval', 4: 'api'}


def trace_snapshots(path):
    """[(id, reason, status or None if not closed)], ended: from the
    records of a trace, as far as it is complete."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return [], False
    snapshots, ended, off = [], False, 64
    if len(data) >= 16 and data[:8] == b'LINGERTR':
        off = struct.unpack_from('<I', data, 12)[0]
    while off + 8 <= len(data):
        rtype, _, size = struct.unpack_from('<HHI', data, off)
        if size < 8 or size % 8 or off + size > len(data):
            break
        if rtype == REC_SNAPSHOT_BEGIN and size >= 16:
            sid, reason = struct.unpack_from('<II', data, off + 8)
            snapshots.append([sid, SNAPSHOT_REASONS.get(reason, str(reason)), None])
        elif rtype == REC_SNAPSHOT_END and size >= 16 and snapshots:
            sid, status = struct.unpack_from('<II', data, off + 8)
            if snapshots[-1][0] == sid:
                snapshots[-1][2] = status
        elif rtype == REC_END:
            ended = True
        off += size
    return [tuple(x) for x in snapshots], ended


def wait_for_snapshots(path, n, proc, timeout=60):
    """Waits until the trace holds n closed snapshots; False on timeout or
    if the process ended first."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snaps, _ = trace_snapshots(path)
        if sum(1 for s in snaps if s[2] is not None) >= n:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def feature_missing(linger, argv, what):
    """Skips the check if `linger` rejects argv as an unknown option: the
    feature has not landed.  Any other answer lets the check run."""
    # In a directory of its own, removed after: `linger run -- true`
    # writes a trace of `true` there.
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        r = run([linger] + argv, env=clean_env(), cwd=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    err = r.text('stderr').lower()
    if r.status == 2 and ('unknown option' in err or 'unrecognized' in err):
        raise Skip('{} is not implemented yet ({} answers: {})'.format(
            what, ' '.join(['linger'] + argv), r.text('stderr').strip()))


def samples_root():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'samples')


def normalize_ready(text):
    """The programs below print their pid in their first line."""
    return re.sub(r'^ready [0-9]+$', 'ready PID', text, flags=re.M)


# ----------------------------------------------------------------------------
# Snapshots on a signal: a server that leaks between requests


# The commands sent before the first and before the second SIGUSR2.
SERVER_BATCHES = [['request 2'], ['request 5', 'open 3']]
SERVER_REQUESTS = [2, 7]      # requests handled at the first and the second snapshot
SERVER_CONNECTIONS = [0, 3]   # connections opened then


def run_server_with_signals(linger, python, tmp, notes):
    """Runs samples/snapshots/server_growth.py bare (the same commands, no
    signal) and under `linger run`, sending SIGUSR2 to the Python process
    after each batch of requests and waiting for the snapshot to be in the
    trace.  Returns (trace, failures)."""
    program = os.path.join(samples_root(), 'snapshots', 'server_growth.py')
    failures = []
    commands = ''.join(c + '\n' for batch in SERVER_BATCHES for c in batch) + 'quit\n'
    argv = [python, '-S', program]
    p = subprocess.run(argv, input=commands.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=clean_env(), cwd=tmp, timeout=TIMEOUT)
    bare = Result(argv, p.returncode, p.stdout, p.stderr)
    notes.append(bare.dump('bare run'))

    trace = os.path.join(tmp, 'server.trace')
    targv = [linger, 'run', '--output', trace, '--'] + argv
    proc = subprocess.Popen(targv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env(), cwd=tmp)
    out_lines = []
    try:
        line = proc.stdout.readline().decode()
        out_lines.append(line)
        m = re.match(r'^ready ([0-9]+)$', line.strip())
        if not m:
            raise CheckFailed('the server did not say "ready PID" first: {!r}'.format(line))
        pid = int(m.group(1))
        for i, batch in enumerate(SERVER_BATCHES):
            for command in batch:
                proc.stdin.write((command + '\n').encode())
                proc.stdin.flush()
                line = proc.stdout.readline().decode()
                out_lines.append(line)
                if not re.match(r'^(handled|opened) ', line):
                    raise CheckFailed('want "handled ..." or "opened ...", got {!r}'.format(line))
            # The Python process itself gets the signal, not `linger run`.
            os.kill(pid, signal.SIGUSR2)
            if not wait_for_snapshots(trace, i + 1, proc):
                raise CheckFailed('no snapshot #{} in the trace after SIGUSR2 ({})'.format(
                    i + 1, 'the program ended' if proc.poll() is not None else 'timed out'))
        rest, err = proc.communicate(input=b'quit\n', timeout=TIMEOUT)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    traced = Result(targv, proc.returncode, ''.join(out_lines).encode() + rest, err)
    notes.append(traced.dump('run under linger, SIGUSR2 after each batch'))
    if normalize_ready(bare.text('stdout')) != normalize_ready(traced.text('stdout')):
        failures.append('stdout differs under linger (pid aside):\n' + '\n'.join(difflib.unified_diff(
            normalize_ready(bare.text('stdout')).splitlines(),
            normalize_ready(traced.text('stdout')).splitlines(), 'bare', 'linger', lineterm='')))
    if bare.status != traced.status:
        failures.append('exit status differs: bare {}, under linger {}'.format(
            bare.describe(), traced.describe()))
    return trace, failures


def check_signal_snapshots(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    version = python_version(args.python)
    feature_missing(linger, ['run', '--snapshot-signal', 'SIGUSR2', '--', 'true'], 'linger run --snapshot-signal')
    notes = []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        trace, failures = run_server_with_signals(linger, args.python, tmp, notes)
        snaps, ended = trace_snapshots(trace)
        notes.append('snapshots in the trace: {}'.format(snaps))
        if [s[1] for s in snaps] != ['signal', 'signal', 'exit']:
            failures.append('want snapshots [signal, signal, exit], the trace has {}'.format(snaps))
        if not all(s[2] == 0 for s in snaps):
            failures.append('a snapshot is not closed or not complete: {}'.format(snaps))
        if not ended:
            failures.append('the trace has no END record')

        report = load_json_report(run([linger, 'report', '--format=json', trace], cwd=tmp))
        notes.insert(0, '--- report (JSON):\n' + pretty(report))
        shape = validate_report(report)
        failures.extend('JSON contract: ' + p for p in shape)
        if not shape:
            if report['trace'].get('snapshots') != 3:
                failures.append('trace.snapshots is {!r}, want 3'.format(report['trace'].get('snapshots')))
            snap = report['trace'].get('snapshot') or {}
            if snap.get('reason') != 'at exit':
                failures.append('the report does not judge the exit snapshot: {!r}'.format(snap))
            spec = Spec(())
            for kind, type_name, count in (('bound-method-cycle', '__main__.Session', SERVER_REQUESTS[-1]),
                                           ('finalizer-keepalive', '__main__.Connection', SERVER_CONNECTIONS[-1])):
                spec.expects.append(Expectation(
                    kind, type_name, [('count', '=', count), ('state', '=', 'garbage')],
                    '{} {} count={} state=garbage'.format(kind, type_name, count)))
            program = os.path.join(samples_root(), 'snapshots', 'server_growth.py')
            failures.extend(match_expectations(report['findings'], spec, program))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'snapshots on SIGUSR2 of server_growth.py under Python {}'.format(version)


def check_diff_report(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    version = python_version(args.python)
    feature_missing(linger, ['report', '--diff', '/nonexistent.trace'], 'linger report --diff')
    notes = []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        trace, failures = run_server_with_signals(linger, args.python, tmp, notes)
        failures.extend(check_diff(linger, trace, tmp, notes))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'linger report --diff between two SIGUSR2 snapshots, Python {}'.format(version)


def find_type_row(diff, type_name):
    for row in diff.get('types') or []:
        if row.get('type') == type_name:
            return row
    return None


def finding_is(f, kind, type_name):
    return f.get('kind') == kind and (f.get('objects') or [{}])[0].get('type') == type_name


def check_diff(linger, trace, cwd, notes):
    """`linger report --diff` of the server's trace: between the two signal
    snapshots (--snapshots=1,2) and between the first and the last (the
    default): the leaked types grew by what the requests left, the
    Session cycle finding grew, the Connection keep-alive is new; a trace
    compared with itself shows no growth."""
    failures = []
    cases = [
        ('--snapshots=1,2', ['--snapshots=1,2', trace], (1, 'on signal'), (2, 'on signal'), 1),
        ('first and last snapshot', [trace], (1, 'on signal'), (3, 'at exit'), 1),
    ]
    for label, argv, want_before, want_after, i_before in cases:
        r = run([linger, 'report', '--diff', '--format=json'] + argv, cwd=cwd)
        notes.append(r.dump('linger report --diff ' + label))
        try:
            diff = load_json_report(r)
        except CheckFailed as e:
            failures.append('{}: {}'.format(label, e))
            continue
        case = []
        for side, want in (('before', want_before), ('after', want_after)):
            snap = (diff.get(side) or {}).get('snapshot') or {}
            if (snap.get('id'), snap.get('reason')) != want:
                case.append('{} is snapshot {!r}, want #{} ({})'.format(side, snap, want[0], want[1]))
        requests = SERVER_REQUESTS[i_before - 1], SERVER_REQUESTS[-1]
        connections = SERVER_CONNECTIONS[i_before - 1], SERVER_CONNECTIONS[-1]
        for type_name, (before, after) in (('__main__.Session', requests), ('__main__.Request', requests),
                                           ('__main__.Connection', connections)):
            row = find_type_row(diff, type_name)
            if row is None:
                case.append('no growth listed for {} (want {} → {})'.format(type_name, before, after))
            elif (row.get('objects_before'), row.get('objects_after'), row.get('objects')) != (
                    before, after, after - before):
                case.append('{} grew {!r} → {!r} (+{!r}), want {} → {} (+{})'.format(
                    type_name, row.get('objects_before'), row.get('objects_after'), row.get('objects'),
                    before, after, after - before))
        grown = [g for g in diff.get('grown_findings') or []
                 if finding_is(g.get('finding') or {}, 'bound-method-cycle', '__main__.Session')]
        if len(grown) != 1:
            case.append('want the Session bound-method-cycle once in grown_findings, got {!r}'.format(
                diff.get('grown_findings')))
        else:
            g = grown[0]
            if (g.get('count_before'), g.get('count_after')) != requests:
                case.append('the Session cycle grew {!r} → {!r}, want {} → {}'.format(
                    g.get('count_before'), g.get('count_after'), *requests))
            if not (is_int(g.get('retained_bytes_after')) and is_int(g.get('retained_bytes_before'))
                    and g['retained_bytes_after'] > g['retained_bytes_before']):
                case.append('{} cycles must retain more than {}: retained_bytes {!r} → {!r}'.format(
                    requests[1], requests[0], g.get('retained_bytes_before'), g.get('retained_bytes_after')))
        new = [f for f in diff.get('new_findings') or []
               if finding_is(f, 'finalizer-keepalive', '__main__.Connection')]
        if len(new) != 1 or new[0].get('count') != connections[1]:
            case.append('want finalizer-keepalive __main__.Connection count={} in new_findings, got {!r}'.format(
                connections[1], diff.get('new_findings')))
        others = [f for f in diff.get('new_findings') or [] if f not in new]
        if others:
            case.append('unexpected new findings: {}'.format('; '.join(describe_finding(f) for f in others)))
        failures.extend('{}: {}'.format(label, c) for c in case)

    # The same snapshot on both sides: nothing grew.
    r = run([linger, 'report', '--diff', '--format=json', trace, trace], cwd=cwd)
    notes.append(r.dump('linger report --diff TRACE TRACE'))
    try:
        diff = load_json_report(r)
        grew = [t for t in diff.get('types') or [] if t.get('objects') or t.get('bytes')]
        if grew or diff.get('new_findings') or diff.get('grown_findings'):
            failures.append('a trace compared with itself shows growth: types {!r}, new {!r}, grown {!r}'.format(
                grew, diff.get('new_findings'), diff.get('grown_findings')))
    except CheckFailed as e:
        failures.append('TRACE TRACE: {}'.format(e))

    text = run([linger, 'report', '--diff', '--snapshots=1,2', trace], cwd=cwd)
    notes.append(text.dump('linger report --diff (text)'))
    if text.status != 0:
        failures.append('the text diff failed: {}'.format(text.describe()))
    else:
        for word in ('__main__.Session', '__main__.Connection', 'finalizer-keepalive', 'bound-method-cycle'):
            if word not in text.text('stdout'):
                failures.append('the text diff does not mention {}'.format(word))
    return failures


# ----------------------------------------------------------------------------
# The program's own SIGUSR2 handlers


def drive(argv, env, cwd, trace=None, preexec_fn=None):
    """Runs a program that prints "ready PID" each time it wants SIGUSR2:
    sends it the signal, waits (under linger, trace given) until the trace
    holds one more snapshot, then writes a line to its standard input.
    Returns (Result, number of signals sent)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd, preexec_fn=preexec_fn)
    out, sent = [], 0
    try:
        while True:
            line = proc.stdout.readline().decode('utf-8', 'replace')
            if not line:
                break
            out.append(line)
            m = re.match(r'^ready ([0-9]+)$', line.strip())
            if not m:
                continue
            os.kill(int(m.group(1)), signal.SIGUSR2)
            sent += 1
            if trace is not None and not wait_for_snapshots(trace, sent, proc):
                raise CheckFailed('no snapshot #{} in the trace after SIGUSR2 ({})'.format(
                    sent, 'the program ended' if proc.poll() is not None else 'timed out'))
            proc.stdin.write(b'next\n')
            proc.stdin.flush()
        rest, err = proc.communicate(timeout=TIMEOUT)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return Result(argv, proc.returncode, (''.join(out)).encode() + rest, err), sent


def check_own_handler(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    version = python_version(args.python)
    feature_missing(linger, ['run', '--snapshot-signal', 'SIGUSR2', '--', 'true'], 'linger run --snapshot-signal')
    program = os.path.join(samples_root(), 'snapshots', 'own_signal_handler.py')
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        argv = [args.python, '-S', program]
        for inherited in ('SIG_DFL', 'SIG_IGN'):
            disposition = getattr(signal, inherited)

            def preexec(disposition=disposition):
                signal.signal(signal.SIGUSR2, disposition)

            trace = os.path.join(tmp, 'handler-{}.trace'.format(inherited))
            bare, _ = drive(argv, clean_env(), tmp, preexec_fn=preexec)
            traced, sent = drive([linger, 'run', '--output', trace, '--'] + argv, clean_env(), tmp,
                                 trace=trace, preexec_fn=preexec)
            notes.append(bare.dump('bare run, SIGUSR2 inherited as {}'.format(inherited)))
            notes.append(traced.dump('linger run, SIGUSR2 inherited as {}'.format(inherited)))
            case = []
            if bare.status != 7 or 'calls after the ignored signal' not in bare.text('stdout'):
                case.append('the bare run did not finish as the program says (test environment?)')
            compare_runs(normalized(bare), normalized(traced), case)
            if 'initial disposition: {}'.format(inherited) not in traced.text('stdout'):
                case.append('under linger the program does not see the disposition it inherited ({})'.format(
                    inherited))
            snaps, ended = trace_snapshots(trace)
            notes.append('snapshots in {}: {}'.format(os.path.basename(trace), snaps))
            if sent != 3 or [s[1] for s in snaps] != ['signal', 'signal', 'signal', 'exit']:
                case.append('want a snapshot for each of the 3 signals sent ({} sent), then the exit '
                            'snapshot; the trace has {}'.format(sent, snaps))
            if not ended:
                case.append('the trace has no END record')
            failures.extend('SIGUSR2 inherited as {}: {}'.format(inherited, c) for c in case)

        # Another snapshot signal, or none: SIGUSR2 is the program's alone
        # and no signal snapshot is taken.
        bare, _ = drive(argv, clean_env(), tmp)
        for option in ('--snapshot-signal=SIGUSR1', '--snapshot-signal=off'):
            trace = os.path.join(tmp, 'other-signal.trace')
            if os.path.exists(trace):
                os.unlink(trace)
            traced, sent = drive([linger, 'run', option, '--output', trace, '--'] + argv, clean_env(), tmp)
            notes.append(traced.dump('linger run ' + option))
            case = []
            compare_runs(normalized(bare), normalized(traced), case)
            snaps, ended = trace_snapshots(trace)
            if [s[1] for s in snaps] != ['exit'] or not ended:
                case.append('want only the exit snapshot, the trace has {}{}'.format(
                    snaps, '' if ended else ' and no END record'))
            failures.extend('{}: {}'.format(option, c) for c in case)

        # A handler installed while site runs (sitecustomize), before the
        # main program and before linger arms its signal.
        early_dir = os.path.join(samples_root(), 'snapshots', 'early_handler')
        early_argv = [args.python, os.path.join(samples_root(), 'snapshots', 'early_handler_main.py')]
        trace = os.path.join(tmp, 'early.trace')
        env = clean_env({'PYTHONPATH': early_dir})
        bare, _ = drive(early_argv, env, tmp)
        traced, sent = drive([linger, 'run', '--output', trace, '--'] + early_argv, env, tmp, trace=trace)
        notes.append(bare.dump('bare run, handler from sitecustomize'))
        notes.append(traced.dump('linger run, handler from sitecustomize'))
        case = []
        if 'early handler calls: [True]' not in bare.text('stdout'):
            case.append('the bare run did not call the early handler (test environment?)')
        compare_runs(normalized(bare), normalized(traced), case)
        snaps, ended = trace_snapshots(trace)
        notes.append('snapshots in {}: {}'.format(os.path.basename(trace), snaps))
        if sent != 1 or [s[1] for s in snaps] != ['signal', 'exit']:
            case.append('want a snapshot for the signal, then the exit snapshot; the trace has {}'.format(snaps))
        failures.extend('handler installed by sitecustomize: {}'.format(c) for c in case)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'own SIGUSR2 handlers of {} under Python {}'.format(
        os.path.basename(program), version)


def normalized(result):
    """The result with the pid in "ready PID" lines replaced."""
    return Result(result.argv, result.raw_status, normalize_ready(result.text('stdout')).encode(), result.stderr)


# ----------------------------------------------------------------------------
# Snapshots every N seconds


def check_interval(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    version = python_version(args.python)
    feature_missing(linger, ['run', '--snapshot-interval', '1', '--', 'true'], 'linger run --snapshot-interval')
    program = os.path.join(samples_root(), 'snapshots', 'interval_worker.py')
    seconds, interval = '2.5', '0.5'
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        argv = [args.python, '-S', program, seconds]
        bare = run(argv, env=clean_env(), cwd=tmp)
        notes.append(bare.dump('bare run'))
        cases = [
            ('linger run --snapshot-interval={}'.format(interval), os.path.join(tmp, 'run.trace'),
             lambda t: [linger, 'run', '--snapshot-interval={}'.format(interval), '--output', t, '--'] + argv, {}),
            ('LD_PRELOAD with LINGER_SNAPSHOT_INTERVAL={}'.format(interval), os.path.join(tmp, 'env.trace'),
             lambda t: argv, {'LINGER_SNAPSHOT_INTERVAL': interval}),
        ]
        if args.shim:
            cases[1][3].update(LD_PRELOAD=os.path.abspath(args.shim))
        else:
            cases.pop()
        for label, trace, make, extra in cases:
            if extra:
                extra = dict(extra, LINGER_OUTPUT=trace)
            traced = run(make(trace), env=clean_env(extra), cwd=tmp)
            notes.append(traced.dump(label))
            case = []
            compare_runs(bare, traced, case)
            snaps, ended = trace_snapshots(trace)
            notes.append('snapshots in {}: {}'.format(os.path.basename(trace), snaps))
            reasons = [s[1] for s in snaps]
            # 2.5 s at one snapshot every 0.5 s: about 5; at least 3 leaves
            # room for a slow machine, and only interval snapshots may come
            # before the exit one.
            if reasons.count('interval') < 3:
                case.append('want at least 3 interval snapshots in {} s, the trace has {}'.format(seconds, snaps))
            if not reasons or reasons[-1] != 'exit' or set(reasons[:-1]) - {'interval'}:
                case.append('want interval snapshots then the exit snapshot, the trace has {}'.format(snaps))
            if not all(s[2] == 0 for s in snaps):
                case.append('a snapshot is not closed or not complete: {}'.format(snaps))
            if not ended:
                case.append('the trace has no END record')
            if os.path.isfile(trace):
                report = load_json_report(run([linger, 'report', '--format=json', trace], cwd=tmp))
                shape = validate_report(report)
                case.extend('JSON contract: ' + p for p in shape)
                if not shape and report['trace'].get('snapshots') != len(snaps):
                    case.append('trace.snapshots is {!r}, the trace has {}'.format(
                        report['trace'].get('snapshots'), len(snaps)))
            failures.extend('{}: {}'.format(label, c) for c in case)

        for bad in ('0', '-1', 'soon', ''):
            r = run([linger, 'run', '--snapshot-interval={}'.format(bad), '--', 'true'], env=clean_env(), cwd=tmp)
            lines = r.text('stderr').splitlines()
            if r.status != 2 or len(lines) != 1 or not lines[0].startswith('linger: error: '):
                failures.append('--snapshot-interval={!r}: want exit status 2 and one line "linger: error: ...", '
                                'got {} and {!r}'.format(bad, r.describe(), r.text('stderr')))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, 'interval snapshots of {} under Python {}'.format(
        os.path.basename(program), version)


# ----------------------------------------------------------------------------
# The standard library's own objects


# Findings that an interpreter's site-packages make at start-up, without
# -S.  Each entry: a module the .pth files import, the finding it causes,
# and why.  A test without -S expects these exactly when the interpreter
# imports the module at start-up, and nothing else.
SITE_FINDINGS = [
    ('ipaddress', 'bound-method-cycle', 'ipaddress.IPv4Network', 'live',
     'IPv4Network.hosts = self.__iter__ for the /31 in ipaddress._IPv4Constants',
     # The sandbox's _sandboxing_egress_ca.pth imports certifi; on the
     # interpreters where certifi is installed that imports ipaddress,
     # whose module-level _IPv4Constants._private_networks holds
     # IPv4Network('192.0.0.170/31'); IPv4Network.__init__ does
     # `self.hosts = self.__iter__` for a /31: a real bound-method cycle
     # in the standard library, kept by a module global.  (The /32 and
     # IPv6 /128 networks store a lambda over the address, not over self:
     # no cycle.)  The same import also leaves a live closure cycle:
     # functools.singledispatch's nested register() calls itself, and
     # certifi keeps one (certifi.core.as_file.register); linger leaves
     # live cycles of functions alone out of its report on purpose, so
     # it is no finding here, but --live-cycles (every live cycle) shows
     # it: see LIVE_SITE_FINDINGS.
     'import ipaddress, gc; gc.collect(); print(sum(1 for o in gc.get_objects() '
     'if type(o) is ipaddress.IPv4Network and getattr(vars(o).get("hosts"), "__self__", None) is o))'),
]


# What --live-cycles adds when site imports these modules: live cycles the
# default report leaves out on purpose.  functools.singledispatch's nested
# register() refers to itself through its closure (a live function-only
# cycle); certifi, imported by the sandbox .pth, keeps one.
LIVE_SITE_FINDINGS = [
    ('ipaddress', 'closure-cycle', 'builtins.function', 'live',
     'functools.singledispatch register() closing over itself'),
]


def check_baseline(args):
    check_linger(args.linger)
    linger = os.path.abspath(args.linger)
    version = python_version(args.python)
    failures, notes, summary = [], [], []
    tmp = tempfile.mkdtemp(prefix='linger-check-')
    try:
        empty = os.path.join(tmp, 'empty.py')
        open(empty, 'w').close()
        r = run([args.python, '-c', 'import sys; print(" ".join(sorted(sys.modules)))'], env=clean_env(), cwd=tmp)
        site_modules = set(r.text('stdout').split())
        cases = [(['-S', '-c', 'pass'], True), (['-S', empty], True),
                 (['-c', 'pass'], False), ([empty], False)]
        for n, (pyargs, no_site) in enumerate(cases):
            label = 'python ' + ' '.join('EMPTY.py' if a == empty else a for a in pyargs)
            trace = os.path.join(tmp, 'baseline{}.trace'.format(n))
            argv = [args.python] + pyargs
            bare = run(argv, env=clean_env(), cwd=tmp)
            traced = run([linger, 'run', '--output', trace, '--'] + argv, env=clean_env(), cwd=tmp)
            case = []
            compare_runs(bare, traced, case)
            if not check_trace_written(traced, trace, case):
                failures.extend('{}: {}'.format(label, c) for c in case)
                continue
            report = load_json_report(run([linger, 'report', '--format=json', trace], cwd=tmp))
            shape = validate_report(report)
            case.extend('JSON contract: ' + p for p in shape)
            if not shape:
                notes.append('--- {}: report (JSON)\n{}'.format(label, pretty(report)))
                spec = Spec(())
                why = []
                if not no_site:
                    for module, kind, type_name, state, reason, probe in SITE_FINDINGS:
                        if module not in site_modules:
                            continue
                        count = int(run([args.python, '-c', probe], env=clean_env(), cwd=tmp).text('stdout') or 0)
                        if count:
                            spec.expects.append(Expectation(kind, type_name, [('count', '=', count),
                                                                                ('state', '=', state)],
                                                            '{} {} count={} state={} (site imports {})'.format(
                                                                kind, type_name, count, state, module)))
                            why.append('{} {} ×{}: site imports {}'.format(kind, type_name, count, module))
                if not spec.expects:
                    spec.none = True
                case.extend(match_expectations(report['findings'], spec))
                summary.append('{}: {} finding(s){}'.format(
                    label, len(report['findings']), ' (expected: ' + '; '.join(why) + ')' if why else ''))
                # The interpreter's own live cycles are not findings either.
                live = load_json_report(run([linger, 'report', '--format=json', '--live-cycles', trace], cwd=tmp))
                shape = validate_report(live)
                case.extend('--live-cycles: JSON contract: ' + p for p in shape)
                if not shape:
                    live_spec = Spec(())
                    live_spec.expects = list(spec.expects)
                    live_spec.none = spec.none
                    if not no_site:
                        for module, kind, type_name, state, reason in LIVE_SITE_FINDINGS:
                            if module in site_modules:
                                live_spec.expects.append(Expectation(
                                    kind, type_name, [('count', '>=', 1), ('state', '=', state)],
                                    '{} {} state={} ({})'.format(kind, type_name, state, reason)))
                                live_spec.none = False
                    case.extend('--live-cycles: ' + p for p in match_expectations(live['findings'], live_spec))
            failures.extend('{}: {}'.format(label, c) for c in case)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    notes.extend(summary)
    if not failures:
        for line in summary:
            print(line)
    return failures, notes, 'no findings on the standard library alone, Python {} ({})'.format(
        version, args.python)


# ----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--linger', required=True, help='the linger executable')
    ap.add_argument('--python', help='the interpreter to run samples with')
    ap.add_argument('--shim', help='liblinger.so, for --check preload')
    ap.add_argument('--mode', choices=('plain', 'xdev', 'pymalloc-debug'), default='plain')
    ap.add_argument('--check', choices=('sample', 'nonpython', 'signal', 'bad-input', 'preload',
                                        'baseline', 'signal-snapshots', 'own-handler', 'interval',
                                        'diff'),
                    default='sample')
    ap.add_argument('sample', nargs='?')
    args = ap.parse_args()

    checks = {'sample': check_sample, 'nonpython': check_nonpython, 'signal': check_signal,
              'bad-input': check_bad_input, 'preload': check_preload, 'baseline': check_baseline,
              'signal-snapshots': check_signal_snapshots, 'own-handler': check_own_handler,
              'interval': check_interval, 'diff': check_diff_report}
    if args.check == 'sample' and not (args.sample and args.python):
        ap.error('a sample check needs --python and SAMPLE')
    if args.check in ('bad-input', 'preload', 'baseline', 'signal-snapshots', 'own-handler',
                      'interval', 'diff') and not args.python:
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
