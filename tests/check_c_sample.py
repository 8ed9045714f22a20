#!/usr/bin/python3
"""End-to-end checks of linger's allocation tracking on native code (stdlib only).

C sample (samples/c):

    check_c_sample.py --linger build/linger --source samples/c/leak_depth.c PROGRAM [ARG...]

  1. runs PROGRAM bare and under `linger run --output TMP/t.trace --`
     (native tracking is on by default for a program that is not Python)
     and requires the same stdout and the same exit status, which must be
     the one `// linger-expect-exit: N` declares (0 without one);
  2. runs `linger report --format=json` on the trace and checks the JSON
     contract of every `leak` and `gc-collected` finding and of the
     top-level `allocations` object;
  3. checks the source's expectation lines (anywhere in the file):

       // linger-expect: leak FUNCTION [blocks=N] [bytes=N] [site=NAME]
       //                [module=LIB] [callers=f1>f2>...] [KEY=V|KEY>=N|KEY<=N ...]
       // linger-expect-not: leak FUNCTION
       // linger-expect-none
       // linger-expect-exit: N
       // linger-expect-allocations: KEY>=N ...
       // linger-sources: OTHER.c ...
       // linger-run: OPTION ...

     A `leak` line needs a finding of its own whose innermost frame that
     is not an allocator (malloc and the rest of its family, operator
     new, the shim's own frames) is FUNCTION (`*`: any), with `blocks`
     and `bytes` as given.  `site=NAME` is the line of that source (or of
     a file `linger-sources` names) that carries the trailing comment
     `// linger-site: NAME`: the frame's file (compared by base name) and
     line must be that.  `module=LIB` compares the frame's module by base
     name; `callers=f1>f2` are the frames right after it, outermost last.
     The top-level allocated_at (function, file, line) must name the same
     frame.  Any other KEY is a field of the finding or a dotted path into
     it.  `linger-expect-allocations` compares fields of the report's
     `allocations` object (so that "no leak" also proves the allocations
     were seen).  `linger-run` adds options to `linger run`.
     Every leak finding must be declared by a line, except blocks the C
     runtime keeps for itself: a finding whose innermost non-allocator
     frame is in libc, ld.so, libstdc++ or libgcc_s (thread stacks' TLS,
     dlopen bookkeeping, libstdc++'s exception pool) is listed, not
     failed (`--strict` fails on those too).

Python sample with native stacks (samples/python/native_ctypes_leak.py):

    check_c_sample.py --linger build/linger --python PY SAMPLE.py

  runs SAMPLE with `linger run --native` and requires each
  `# linger-native: leak FUNCTION [fields...] [python-site=NAME]` line to
  match a finding as above, where `python-site=NAME` needs a frame of
  kind "python" at the line `# linger-site: NAME` marks in SAMPLE and at
  least one native frame (a mixed stack).  The interpreter's own blocks
  still allocated at exit are not the sample's: other leak findings are
  listed, not failed.  Then runs SAMPLE with plain `linger run`: native
  tracking is off by default for Python, so there must be no leak finding.

Self-test (no linger needed):

    check_c_sample.py --self-test

  checks the matcher itself against hand-made reports of
  samples/c/leak_depth.c and samples/python/native_ctypes_leak.py: a
  correct report passes, and each of a list of wrong ones fails for the
  right reason.

Exit status: 0 pass, 1 fail (meson's convention; nothing here skips).
"""

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 300  # seconds for one command: no_leak makes two million allocations
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The contract (see the README of the allocation tracking): adjust here if
# it changes.
LEAK_SEVERITY = 'warning'
GC_COLLECTED_SEVERITY = 'info'
CYCLE_KINDS = ('bound-method', 'closure', 'other')
FRAME_KINDS = ('python', 'native')
ALLOCATION_FIELDS = ('python_allocs', 'native_allocs', 'peak_live_blocks', 'table_bytes')
# True: allocated_at's own function/file/line must be the innermost
# non-allocator frame of its stack (for a C program there is no other
# sensible answer).  False: only the stack is checked.
TOP_LEVEL_IS_INNERMOST = True

# Functions that allocate on behalf of their caller: never "where it was
# allocated".  Names are compared after normalize_function().
ALLOCATOR_FUNCTIONS = {
    'malloc', 'calloc', 'realloc', 'free', 'posix_memalign', 'aligned_alloc', 'memalign',
    'valloc', 'pvalloc', 'reallocarray', 'free_sized', 'free_aligned_sized',
    '__libc_malloc', '__libc_calloc', '__libc_realloc', '__libc_memalign', '__libc_valloc',
    '__libc_pvalloc', '__posix_memalign', '_mid_memalign', '__libc_reallocarray',
    'operator new', 'operator new[]',
}
ALLOCATOR_PREFIXES = ('_Znw', '_Zna', 'linger_', '_linger')   # mangled operator new/new[], the shim's own
SHIM_MODULE_RE = re.compile(r'^liblinger[^/]*\.so')
# The C runtime's own blocks (see the docstring).
RUNTIME_MODULE_RE = re.compile(r'^(libc\.so|libc-[0-9.]+\.so|ld-linux[^/]*\.so|ld64\.so|ld-[0-9.]+\.so|'
                               r'libstdc\+\+\.so|libgcc_s\.so|libpthread\.so|libdl\.so)')

C_LINE_RE = re.compile(r'^//\s*linger-(?P<what>expect-not|expect-none|expect-exit|expect-allocations|expect|'
                       r'sources|run)\s*(?::\s*(?P<rest>.*))?$')
PY_LINE_RE = re.compile(r'^#\s*linger-native(?P<what>-not|-none)?\s*(?::\s*(?P<rest>.*))?$')
SITE_RE = re.compile(r'(?://|#)\s*linger-site:\s*(?P<name>[A-Za-z0-9_.-]+)')
FIELD_RE = re.compile(r'^(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)(?P<op>=|>=|<=)(?P<value>.*)$')
TRACE_LINE_RE = re.compile(r'^linger: trace written to (?P<path>.+)$')
ADDRESS_RE = re.compile(r'^0x[0-9a-fA-F]+$')


class CheckFailed(Exception):
    pass


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_value(text):
    if re.match(r'^-?[0-9]+$', text):
        return int(text)
    return {'true': True, 'false': False, 'null': None}.get(text, text)


# ----------------------------------------------------------------------------
# Expectations


class Expectation:
    def __init__(self, kind, function, fields, line):
        self.kind = kind
        self.function = function      # innermost non-allocator function, or '*'
        self.fields = fields          # [(key, op, value)]
        self.line = line

    def __str__(self):
        return self.line


class Spec:
    def __init__(self, path):
        self.path = path
        self.expects = []
        self.nots = []               # (kind, function or None, line)
        self.none = False
        self.exit_status = 0
        self.allocations = []        # [(key, op, value)]
        self.run_options = []
        self.sites = {}              # name -> (base name, line)
        self.python = False


def parse_fields(items, path, line):
    fields = []
    for item in items:
        fm = FIELD_RE.match(item)
        if not fm:
            raise CheckFailed('{}: want key=value, key>=N or key<=N, not {!r}: {}'.format(path, item, line))
        key, op, value = fm.group('key'), fm.group('op'), parse_value(fm.group('value'))
        if op != '=' and not is_int(value):
            raise CheckFailed('{}: {} wants a number: {}'.format(path, op, line))
        if key in ('blocks', 'bytes') and not is_int(value):
            raise CheckFailed('{}: {} wants a number: {}'.format(path, key, line))
        fields.append((key, op, value))
    return fields


def read_sites(path, sites):
    with open(path, encoding='utf-8') as f:
        for n, raw in enumerate(f, 1):
            m = SITE_RE.search(raw)
            if m:
                name = m.group('name')
                if name in sites:
                    raise CheckFailed('{}:{}: linger-site {} is already at {}:{}'.format(
                        path, n, name, *sites[name]))
                sites[name] = (os.path.basename(path), n)


def parse_expectations(path):
    """The expectations of a C sample (// lines) or of a Python one (# linger-native lines)."""
    spec = Spec(path)
    spec.python = path.endswith('.py')
    extra_sources = []
    with open(path, encoding='utf-8') as f:
        lines = [raw.strip() for raw in f]
    for line in lines:
        if spec.python:
            m = PY_LINE_RE.match(line)
            if not m:
                if re.match(r'^#\s*linger-native', line):
                    raise CheckFailed('{}: malformed line: {}'.format(path, line))
                continue
            what = {None: 'expect', '-not': 'expect-not', '-none': 'expect-none'}[m.group('what')]
        else:
            m = C_LINE_RE.match(line)
            if not m:
                if re.match(r'^//\s*linger-(expect|sources|run)', line):
                    raise CheckFailed('{}: malformed line: {}'.format(path, line))
                continue
            what = m.group('what')
        rest = (m.group('rest') or '').split()
        if what == 'expect-none':
            if rest:
                raise CheckFailed('{}: linger-expect-none takes no argument: {}'.format(path, line))
            spec.none = True
        elif what == 'expect-not':
            if len(rest) not in (1, 2):
                raise CheckFailed('{}: want "KIND [FUNCTION]": {}'.format(path, line))
            spec.nots.append((rest[0], rest[1] if len(rest) == 2 else None, line))
        elif what == 'expect-exit':
            if len(rest) != 1 or not re.match(r'^[0-9]+$', rest[0]):
                raise CheckFailed('{}: want "linger-expect-exit: N": {}'.format(path, line))
            spec.exit_status = int(rest[0])
        elif what == 'expect-allocations':
            spec.allocations.extend(parse_fields(rest, path, line))
        elif what == 'sources':
            extra_sources.extend(rest)
        elif what == 'run':
            spec.run_options.extend(rest)
        else:
            if len(rest) < 2:
                raise CheckFailed('{}: want "KIND FUNCTION [key=value...]": {}'.format(path, line))
            spec.expects.append(Expectation(rest[0], rest[1], parse_fields(rest[2:], path, line), line))
    read_sites(path, spec.sites)
    for other in extra_sources:
        read_sites(os.path.join(os.path.dirname(path), other), spec.sites)
    for e in spec.expects:
        for key, _, value in e.fields:
            if key in ('site', 'python-site') and value not in spec.sites:
                raise CheckFailed('{}: {}={} names no `linger-site: {}` comment: {}'.format(
                    path, key, value, value, e.line))
    if spec.none and spec.expects:
        raise CheckFailed('{}: linger-expect-none together with linger-expect lines'.format(path))
    if not (spec.expects or spec.nots or spec.none):
        raise CheckFailed('{}: no expectation line'.format(path))
    return spec


# ----------------------------------------------------------------------------
# Frames


def normalize_function(name):
    """A function name as the expectations write it: C++ names without
    their parameters, mangled names reduced to their first identifier."""
    if not isinstance(name, str):
        return None
    m = re.match(r'^_ZL?N?([0-9]+)', name)
    if m and not name.startswith(('_Znw', '_Zna')):
        start = m.end()
        return name[start:start + int(m.group(1))]
    if name.startswith('operator new'):
        return 'operator new[]' if name.startswith('operator new[]') else 'operator new'
    return name.split('(', 1)[0].strip()


def base(path):
    return os.path.basename(path) if isinstance(path, str) else None


def is_allocator_frame(frame):
    if frame.get('kind') == 'python':
        return False
    if SHIM_MODULE_RE.match(base(frame.get('module')) or ''):
        return True
    name = frame.get('function')
    if not isinstance(name, str):
        return False
    if name.startswith(ALLOCATOR_PREFIXES):
        return True
    return normalize_function(name) in ALLOCATOR_FUNCTIONS


def innermost_index(finding):
    """Index in allocated_at.stack of the innermost frame that is not an
    allocator, or None."""
    stack = (finding.get('allocated_at') or {}).get('stack') or []
    for i, frame in enumerate(stack):
        if isinstance(frame, dict) and not is_allocator_frame(frame):
            return i
    return None


def innermost(finding):
    """The innermost non-allocator frame; the top-level allocated_at when
    there is no stack."""
    at = finding.get('allocated_at') or {}
    i = innermost_index(finding)
    if i is not None:
        return at['stack'][i]
    if not at.get('stack'):
        return at
    return {}


def describe_frame(frame):
    if not frame:
        return '<no frame>'
    where = '{}:{}'.format(base(frame.get('file')) or '?', frame.get('line'))
    mod = base(frame.get('module'))
    return '{} ({}{})'.format(frame.get('function') or '??', where, ', ' + mod if mod else '')


def describe_leak(f):
    stack = (f.get('allocated_at') or {}).get('stack') or []
    return 'leak {} × {} bytes at {}; stack: {}'.format(
        f.get('blocks'), f.get('bytes'), describe_frame(innermost(f)),
        ' ← '.join(describe_frame(s) for s in stack[:12]) or '<empty>')


def is_runtime_internal(finding):
    return bool(RUNTIME_MODULE_RE.match(base(innermost(finding).get('module')) or ''))


# ----------------------------------------------------------------------------
# The JSON contract


def validate_frame(frame, where, problems):
    if not isinstance(frame, dict):
        problems.append('{}: want an object'.format(where))
        return
    if frame.get('kind') not in FRAME_KINDS:
        problems.append('{}.kind: want one of {}, got {!r}'.format(where, FRAME_KINDS, frame.get('kind')))
    for key in ('function', 'file', 'module'):
        if key not in frame or not (frame[key] is None or isinstance(frame[key], str)):
            problems.append('{}.{}: want a string or null, got {!r}'.format(where, key, frame.get(key, '<missing>')))
    if not is_int(frame.get('line')) or frame.get('line') < 0:
        problems.append('{}.line: want an integer >= 0, got {!r}'.format(where, frame.get('line')))
    addr = frame.get('address', '<missing>')
    if not (addr is None or (isinstance(addr, str) and ADDRESS_RE.match(addr))):
        problems.append('{}.address: want "0x..." or null, got {!r}'.format(where, addr))


def validate_allocated_at(at, where, problems, nullable):
    if at is None and nullable:
        return
    if not isinstance(at, dict):
        problems.append('{}: want an object{}, got {!r}'.format(where, ' or null' if nullable else '', at))
        return
    for key in ('file', 'function', 'module'):
        if key not in at or not (at[key] is None or isinstance(at[key], str)):
            problems.append('{}.{}: want a string or null, got {!r}'.format(where, key, at.get(key, '<missing>')))
    if not is_int(at.get('line')):
        problems.append('{}.line: want an integer, got {!r}'.format(where, at.get('line')))
    stack = at.get('stack')
    if not isinstance(stack, list):
        problems.append('{}.stack: want an array, got {!r}'.format(where, stack))
        return
    for i, frame in enumerate(stack):
        validate_frame(frame, '{}.stack[{}]'.format(where, i), problems)


def validate_report(report):
    """Problems with the parts of the report allocation tracking adds."""
    problems = []
    if not isinstance(report, dict):
        return ['the report is not a JSON object']
    if not isinstance(report.get('trace'), dict):
        problems.append('trace: want an object, got {!r}'.format(report.get('trace')))
    allocs = report.get('allocations')
    if not isinstance(allocs, dict):
        problems.append('allocations: want an object (the allocation totals), got {!r}'.format(
            report.get('allocations', '<missing>')))
    else:
        for key in ALLOCATION_FIELDS:
            if not is_int(allocs.get(key)) or allocs.get(key) < 0:
                problems.append('allocations.{}: want an integer >= 0, got {!r}'.format(
                    key, allocs.get(key, '<missing>')))
    findings = report.get('findings')
    if not isinstance(findings, list):
        problems.append('findings: want an array, got {!r}'.format(findings))
        return problems
    for i, f in enumerate(findings):
        where = 'findings[{}]'.format(i)
        if not isinstance(f, dict):
            problems.append('{}: want an object'.format(where))
            continue
        kind = f.get('kind')
        if kind == 'leak':
            if f.get('severity') != LEAK_SEVERITY:
                problems.append('{}.severity: want {!r}, got {!r}'.format(where, LEAK_SEVERITY, f.get('severity')))
            for key in ('blocks', 'bytes'):
                if not is_int(f.get(key)) or f.get(key) < (1 if key == 'blocks' else 0):
                    problems.append('{}.{}: want an integer >= {}, got {!r}'.format(
                        where, key, 1 if key == 'blocks' else 0, f.get(key)))
            validate_allocated_at(f.get('allocated_at'), where + '.allocated_at', problems, nullable=False)
            if not isinstance(f.get('hint'), str):
                problems.append('{}.hint: want a string, got {!r}'.format(where, f.get('hint')))
        elif kind == 'gc-collected':
            if f.get('severity') != GC_COLLECTED_SEVERITY:
                problems.append('{}.severity: want {!r}, got {!r}'.format(
                    where, GC_COLLECTED_SEVERITY, f.get('severity')))
            if not isinstance(f.get('type'), str):
                problems.append('{}.type: want a string, got {!r}'.format(where, f.get('type')))
            if f.get('cycle_kind') not in CYCLE_KINDS:
                problems.append('{}.cycle_kind: want one of {}, got {!r}'.format(where, CYCLE_KINDS, f.get('cycle_kind')))
            for key in ('count', 'bytes', 'allocs'):
                if not is_int(f.get(key)) or f.get(key) < 0:
                    problems.append('{}.{}: want an integer >= 0, got {!r}'.format(where, key, f.get(key)))
            if not is_number(f.get('gc_share')) or not 0 <= f.get('gc_share') <= 1:
                problems.append('{}.gc_share: want a number in [0, 1], got {!r}'.format(where, f.get('gc_share')))
            validate_allocated_at(f.get('allocated_at'), where + '.allocated_at', problems, nullable=True)
            if not (f.get('example') is None or isinstance(f.get('example'), str)):
                problems.append('{}.example: want a string or null, got {!r}'.format(where, f.get('example')))
            if not isinstance(f.get('example_is_generic'), bool):
                problems.append('{}.example_is_generic: want true or false, got {!r}'.format(
                    where, f.get('example_is_generic')))
        else:
            # Every object of the other findings gets allocated_at too.
            for j, o in enumerate(f.get('objects') or []):
                if isinstance(o, dict):
                    validate_allocated_at(o.get('allocated_at', '<missing>'),
                                          '{}.objects[{}].allocated_at'.format(where, j), problems, nullable=True)
    return problems


# ----------------------------------------------------------------------------
# Matching


MISSING = object()


def field_of(obj, key):
    value = obj
    for part in key.split('.'):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def compare(have, op, want):
    if op == '=':
        return have == want
    return is_int(have) and (have >= want if op == '>=' else have <= want)


def mismatches(e, f, spec):
    """Why finding f is not what expectation e says (empty: it matches)."""
    why = []
    if f.get('kind') != e.kind:
        return ['kind is {!r}'.format(f.get('kind'))]
    frame = innermost(f)
    if e.function != '*' and normalize_function(frame.get('function')) != e.function:
        return ['innermost non-allocator function is {}'.format(describe_frame(frame))]
    at = f.get('allocated_at') or {}
    stack = at.get('stack') or []
    for key, op, value in e.fields:
        if key == 'site':
            want_file, want_line = spec.sites[value]
            if base(frame.get('file')) != want_file or frame.get('line') != want_line:
                why.append('site: want {}:{}, the frame is {}'.format(want_file, want_line, describe_frame(frame)))
            elif TOP_LEVEL_IS_INNERMOST and at.get('stack') and (
                    base(at.get('file')) != want_file or at.get('line') != want_line
                    or normalize_function(at.get('function')) != normalize_function(frame.get('function'))):
                why.append('allocated_at says {}, its innermost non-allocator frame is {}'.format(
                    describe_frame(at), describe_frame(frame)))
        elif key == 'module':
            if base(frame.get('module')) != value:
                why.append('module: want {}, the frame is {}'.format(value, describe_frame(frame)))
        elif key == 'callers':
            want = value.split('>')
            i = innermost_index(f)
            have = [normalize_function(s.get('function')) for s in stack[(i or 0) + 1:(i or 0) + 1 + len(want)]]
            if have != want:
                why.append('callers: want {}, got {}'.format(' > '.join(want), ' > '.join(str(h) for h in have)))
        elif key == 'python-site':
            want_file, want_line = spec.sites[value]
            if not any(s.get('kind') == 'python' and base(s.get('file')) == want_file and s.get('line') == want_line
                       for s in stack):
                why.append('python-site: no python frame at {}:{}'.format(want_file, want_line))
            if not any(s.get('kind') == 'native' for s in stack):
                why.append('python-site: no native frame (want a mixed stack)')
        else:
            have = field_of(f, key)
            if have is MISSING:
                why.append('{}: missing'.format(key))
            elif not compare(have, op, value):
                why.append('{}: want {}{}, got {!r}'.format(key, op if op != '=' else '', value, have))
    return why


def match_expectations(report, spec, strict=False, tolerate_unexpected=False):
    """(failures, notes) of the report against the spec."""
    failures, notes = [], []
    findings = [f for f in report.get('findings') or [] if isinstance(f, dict)]
    leaks = [f for f in findings if f.get('kind') == 'leak']
    claimed = set()
    for e in spec.expects:
        candidates = [i for i, f in enumerate(findings) if i not in claimed and f.get('kind') == e.kind]
        found = None
        near = []
        for i in candidates:
            why = mismatches(e, findings[i], spec)
            if not why:
                found = i
                break
            near.append('{}: {}'.format(describe_leak(findings[i]), '; '.join(why)))
        if found is None:
            msg = 'no finding for: {}'.format(e.line)
            if near:
                msg += '\n' + '\n'.join('not ' + n for n in near[:8])
            failures.append(msg)
        else:
            claimed.add(found)
    for kind, function, line in spec.nots:
        for f in findings:
            if f.get('kind') == kind and (function is None or normalize_function(innermost(f).get('function')) == function):
                failures.append('{}: {}'.format(line, describe_leak(f)))
    for i, f in enumerate(leaks):
        index = findings.index(f)
        if index in claimed:
            continue
        if tolerate_unexpected:
            notes.append('not the sample\'s (left aside): ' + describe_leak(f))
        elif is_runtime_internal(f) and not strict:
            notes.append('the C runtime\'s own block (left aside): ' + describe_leak(f))
        else:
            failures.append('a leak no line declares: ' + describe_leak(f))
    allocs = report.get('allocations')
    for key, op, value in spec.allocations:
        have = field_of(allocs, key) if isinstance(allocs, dict) else MISSING
        if have is MISSING or not compare(have, op, value):
            failures.append('allocations.{}: want {}{}, got {}'.format(
                key, op if op != '=' else '', value, 'nothing' if have is MISSING else repr(have)))
    return failures, notes


# ----------------------------------------------------------------------------
# Running


class Result:
    def __init__(self, argv, status, stdout, stderr):
        self.argv, self.status, self.stdout, self.stderr = argv, status, stdout, stderr

    def describe(self):
        if self.status < 0:
            return 'killed by signal {}'.format(-self.status)
        return 'exit status {}'.format(self.status)

    def dump(self, label):
        out = ['--- {}: {}'.format(label, ' '.join(self.argv)), '    ' + self.describe()]
        for name, data in (('stdout', self.stdout), ('stderr', self.stderr)):
            text = data.decode('utf-8', 'replace')
            if text:
                out.append('    {}:'.format(name))
                out.extend('      | ' + line for line in text.splitlines()[:100])
        return '\n'.join(out)


def run(argv, env=None, cwd=None):
    try:
        p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise CheckFailed('timed out after {} s: {}'.format(TIMEOUT, ' '.join(argv)))
    except OSError as e:
        raise CheckFailed('cannot run {}: {}'.format(' '.join(argv), e))
    return Result(argv, p.returncode, p.stdout, p.stderr)


def clean_env():
    env = dict(os.environ)
    for name in list(env):
        if name.startswith('LINGER_') or name in ('LD_PRELOAD', 'PYTHONMALLOC', 'PYTHONDEVMODE',
                                                   'PYTHONPATH', 'PYTHONHOME', 'PYTHONTRACEMALLOC'):
            del env[name]
    return env


def shell_status(status):
    return 128 - status if status < 0 else status


def traced_report(linger, argv, options, trace, tmp, label, failures, notes, bare=None):
    """Runs argv under `linger run OPTIONS`, compares it with the bare run,
    returns the JSON report (or None)."""
    traced = run([linger, 'run', '--output', trace] + options + ['--'] + argv, env=clean_env(), cwd=tmp)
    notes.append(traced.dump(label))
    if bare is not None:
        if traced.stdout != bare.stdout:
            failures.append('{}: stdout differs from the bare run'.format(label))
        if shell_status(traced.status) != shell_status(bare.status):
            failures.append('{}: {} under linger, {} bare'.format(label, traced.describe(), bare.describe()))
    if not os.path.isfile(trace):
        failures.append('{}: no trace written at {}'.format(label, trace))
        return None
    rep = run([linger, 'report', '--format=json', trace], cwd=tmp)
    if rep.status != 0:
        notes.append(rep.dump(label + ': report'))
        failures.append('{}: linger report --format=json: {}'.format(label, rep.describe()))
        return None
    try:
        report = json.loads(rep.stdout.decode('utf-8'))
    except ValueError as e:
        failures.append('{}: the report is not JSON: {}'.format(label, e))
        return None
    leaks = [f for f in report.get('findings') or [] if isinstance(f, dict) and f.get('kind') == 'leak']
    notes.append('--- {}: {} leak finding(s), allocations: {}'.format(
        label, len(leaks), json.dumps(report.get('allocations'))))
    notes.extend('    ' + describe_leak(f) for f in leaks[:40])
    problems = validate_report(report)
    failures.extend('{}: JSON contract: {}'.format(label, p) for p in problems)
    return report


def check_c(args):
    spec = parse_expectations(args.source)
    program = os.path.abspath(args.program)
    argv = [program] + args.args
    linger = os.path.abspath(args.linger)
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-c-check-')
    try:
        bare = run(argv, env=clean_env(), cwd=tmp)
        notes.append(bare.dump('bare'))
        if shell_status(bare.status) != spec.exit_status:
            failures.append('bare run: {}, the sample declares exit status {}'.format(bare.describe(), spec.exit_status))
        report = traced_report(linger, argv, spec.run_options, os.path.join(tmp, 't.trace'), tmp,
                               'linger run', failures, notes, bare=bare)
        if report is not None:
            f, n = match_expectations(report, spec, strict=args.strict)
            failures.extend(f)
            notes.extend(n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, '{} under linger run'.format(os.path.basename(args.source))


def check_python(args):
    spec = parse_expectations(args.sample)
    linger = os.path.abspath(args.linger)
    sample = os.path.abspath(args.sample)
    argv = [args.python, '-S', sample]   # -S: no .pth code of the machine's site-packages
    failures, notes = [], []
    tmp = tempfile.mkdtemp(prefix='linger-c-check-')
    try:
        bare = run(argv, env=clean_env(), cwd=tmp)
        notes.append(bare.dump('bare'))
        if bare.status != spec.exit_status:
            failures.append('bare run: {}'.format(bare.describe()))
        report = traced_report(linger, argv, ['--native'] + spec.run_options, os.path.join(tmp, 'native.trace'),
                               tmp, 'linger run --native', failures, notes, bare=bare)
        if report is not None:
            f, n = match_expectations(report, spec, tolerate_unexpected=True)
            failures.extend('--native: ' + x for x in f)
            notes.extend(n[:20])
        # Native tracking is off by default for Python: no leak finding.
        report = traced_report(linger, argv, [], os.path.join(tmp, 'default.trace'), tmp,
                               'linger run (default)', failures, notes, bare=bare)
        if report is not None:
            leaks = [f for f in report.get('findings') or [] if isinstance(f, dict) and f.get('kind') == 'leak']
            failures.extend('default run (native tracking off for Python): unexpected ' + describe_leak(f)
                            for f in leaks)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failures, notes, '{} under linger run --native and plain linger run'.format(os.path.basename(sample))


# ----------------------------------------------------------------------------
# Self-test against hand-made reports


def frame(function, file, line, module, kind='native', address='0x401000'):
    return {'kind': kind, 'function': function, 'file': file, 'line': line, 'module': module,
            'address': address if kind == 'native' else None}


def leak(blocks, nbytes, stack):
    top = next((s for s in stack if not is_allocator_frame(s)), stack[0])
    return {'kind': 'leak', 'severity': 'warning', 'blocks': blocks, 'bytes': nbytes,
            'allocated_at': {'file': top['file'], 'line': top['line'], 'function': top['function'],
                             'module': top['module'], 'stack': stack},
            'hint': 'free it'}


def self_test_reports():
    """(label, report, spec, expected failure substring or None) cases."""
    depth = parse_expectations(os.path.join(ROOT, 'samples', 'c', 'leak_depth.c'))
    src = '/work/main/samples/c/leak_depth.c'
    exe = '/tmp/build/samples/c/leak_depth'
    libc = '/lib/x86_64-linux-gnu/libc.so.6'
    shim = '/tmp/build/liblinger.so'
    node_line, table_line = depth.sites['node'][1], depth.sites['table'][1]
    good = {
        'linger_version': '0.2.0',
        'trace': {'program': 'leak_depth', 'pid': 10, 'python': None, 'complete': True, 'objects': 0},
        'allocations': {'python_allocs': 0, 'native_allocs': 21050, 'peak_live_blocks': 40,
                        'table_bytes': 4096},
        'findings': [
            leak(10, 640, [frame('malloc', None, 0, shim), frame('make_node', src, node_line, exe),
                           frame('build_list', src, 50, exe), frame('grow_forest', src, 68, exe),
                           frame('main', src, 128, exe), frame('__libc_start_call_main', None, 0, libc)]),
            leak(3, 3000, [frame('calloc', None, 0, shim), frame('make_table', src, table_line, exe),
                           frame('fill_tables', src, 86, exe), frame('setup', src, 99, exe),
                           frame('main', src, 129, exe)]),
            # A libc-internal block: tolerated.
            leak(1, 1024, [frame('malloc', None, 0, shim), frame('_IO_file_doallocate', None, 0, libc),
                           frame('main', src, 130, exe)]),
        ],
    }
    cases = [('correct report', good, depth, None)]

    def mutate(label, want, change, spec=depth):
        doc = copy.deepcopy(good)
        change(doc)
        cases.append((label, doc, spec, want))

    mutate('wrong block count', 'blocks: want 10', lambda d: d['findings'][0].update(blocks=11))
    mutate('wrong bytes', 'bytes: want 3000', lambda d: d['findings'][1].update(bytes=2999))
    mutate('line off by one', 'site: want leak_depth.c:{}'.format(node_line),
           lambda d: d['findings'][0]['allocated_at']['stack'][1].update(line=node_line + 1))
    mutate('missing finding', 'no finding for: // linger-expect: leak make_table',
           lambda d: d['findings'].pop(1))
    mutate('unexpected leak in the program', 'a leak no line declares',
           lambda d: d['findings'].append(leak(2, 20, [frame('malloc', None, 0, shim),
                                                        frame('make_scratch', src, 105, exe)])))
    mutate('a freed site reported', 'linger-expect-not: leak make_scratch',
           lambda d: d['findings'].append(leak(2, 20, [frame('malloc', None, 0, shim),
                                                        frame('make_scratch', src, 105, exe)])))
    mutate('callers cut short', 'callers: want build_list > grow_forest > main',
           lambda d: d['findings'][0]['allocated_at']['stack'].pop(3))
    mutate('allocated_at not the innermost frame', 'allocated_at says',
           lambda d: d['findings'][0]['allocated_at'].update(function='malloc', file=None, line=0))
    mutate('no allocations object', 'allocations: want an object', lambda d: d.pop('allocations'))
    mutate('too few allocations seen', 'allocations.native_allocs: want >=21000',
           lambda d: d['allocations'].update(native_allocs=5))
    mutate('bad frame kind', 'stack[0].kind', lambda d: d['findings'][0]['allocated_at']['stack'][0].update(kind='c'))
    mutate('bad address', 'address: want "0x..."',
           lambda d: d['findings'][0]['allocated_at']['stack'][1].update(address='401000'))
    mutate('bad severity', "severity: want 'warning'", lambda d: d['findings'][0].update(severity='error'))
    mutate('gc-collected with a bad share', 'gc_share',
           lambda d: d['findings'].append({'kind': 'gc-collected', 'severity': 'info', 'type': 'm.T',
                                           'cycle_kind': 'closure', 'count': 1, 'bytes': 2, 'allocs': 3,
                                           'gc_share': 1.5, 'allocated_at': None, 'example': None,
                                           'example_is_generic': False, 'hint': ''}))
    # Mangled and demangled C++ names, and operator new as an allocator.
    cpp_spec = Spec('leak_cpp.cpp')
    cpp_spec.expects = [Expectation('leak', 'make_widget', [('blocks', '=', 4)], 'leak make_widget blocks=4')]
    for name in ('make_widget(long)', '_ZL11make_widgetl'):
        doc = copy.deepcopy(good)
        doc['findings'] = [leak(4, 160, [frame('malloc', None, 0, shim),
                                         frame('operator new(unsigned long)', None, 0, 'libstdc++.so.6'),
                                         frame(name, 'leak_cpp.cpp', 34, exe)])]
        cases.append(('C++ name ' + name, doc, cpp_spec, None))

    # The ctypes sample: a mixed stack.
    py = parse_expectations(os.path.join(ROOT, 'samples', 'python', 'native_ctypes_leak.py'))
    py_file, py_line = py.sites['ctypes-malloc']
    py_doc = copy.deepcopy(good)
    py_doc['findings'] = [leak(6, 18000, [
        frame('malloc', None, 0, shim), frame('ffi_call_unix64', None, 0, 'libffi.so.8'),
        frame('_ctypes_callproc', None, 0, '_ctypes.cpython-311-x86_64-linux-gnu.so'),
        frame('leak_buffers', '/x/' + py_file, py_line, '__main__', kind='python'),
        frame('<module>', '/x/' + py_file, 44, '__main__', kind='python')])]
    py_doc['findings'].append(leak(100, 5000, [frame('malloc', None, 0, shim),
                                               frame('PyMem_RawMalloc', None, 0, 'python3.11')]))
    cases.append(('mixed Python/native stack', py_doc, py, None))
    wrong = copy.deepcopy(py_doc)
    wrong['findings'][0]['allocated_at']['stack'][3]['line'] = py_line + 1
    cases.append(('python frame at the wrong line', wrong, py, 'python-site: no python frame'))
    native_only = copy.deepcopy(py_doc)
    del native_only['findings'][0]['allocated_at']['stack'][3:]
    cases.append(('native frames only', native_only, py, 'python-site: no python frame'))
    return cases


def self_test():
    failures = []
    for label, doc, spec, want in self_test_reports():
        found = validate_report(doc)
        f, _ = match_expectations(doc, spec, tolerate_unexpected=spec.python)
        found.extend(f)
        if want is None and found:
            failures.append('{}: want a pass, got: {}'.format(label, found))
        elif want is not None and not any(want in x for x in found):
            failures.append('{}: want a failure mentioning {!r}, got: {}'.format(label, want, found or 'a pass'))
        else:
            print('ok: {}{}'.format(label, '' if want is None else ' (fails: {})'.format(want)))
    return failures, [], 'the checker on hand-made reports'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--linger', help='the linger executable')
    ap.add_argument('--source', help='the C sample\'s source (with its linger-expect lines)')
    ap.add_argument('--python', help='the interpreter, for a Python sample')
    ap.add_argument('--strict', action='store_true', help='also fail on the C runtime\'s own blocks')
    ap.add_argument('--self-test', action='store_true')
    ap.add_argument('program', nargs='?', help='the C program, or the Python sample with --python')
    ap.add_argument('args', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    try:
        if args.self_test:
            failures, notes, title = self_test()
        elif args.python:
            if not (args.linger and args.program):
                ap.error('--python needs --linger and SAMPLE.py')
            args.sample = args.program
            failures, notes, title = check_python(args)
        else:
            if not (args.linger and args.source and args.program):
                ap.error('a C sample needs --linger, --source and PROGRAM')
            failures, notes, title = check_c(args)
    except CheckFailed as e:
        print('FAIL: {}'.format(e))
        return 1
    if failures:
        # Details first: meson shows the end of a long log.
        print('Details:')
        for n in notes:
            print(n)
        print()
        print('FAIL: {}'.format(title))
        for f in failures:
            print('  - ' + f.replace('\n', '\n    '))
        return 1
    for n in notes:
        if 'left aside' in n:
            print(n)
    print('PASS: {}'.format(title))
    return 0


if __name__ == '__main__':
    sys.exit(main())
