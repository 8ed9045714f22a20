#!/usr/bin/python3
"""The pytest plugin (python/linger/pytest.py) and the shim's `_linger`
module (stdlib only; run with Debian's /usr/bin/python3).

    check_pytest.py --linger L --shim S --check plugin  --python PY
    check_pytest.py --linger L --shim S --check module  --python PY

plugin: samples/pytest_project, copied to a temporary directory, under
  `linger run --output T -- PY -m pytest -p linger.pytest` with
  PYTHONPATH=<source>/python:
  - pytest's exit status 1 comes out of `linger run`, and exactly
    test_leaky.py::test_marked_leak fails (JUnit XML), its failure naming
    the finalizer-keepalive finding of MarkedResource; the other marked
    test (test_marked_clean, which leaks only a bound-method cycle) passes;
  - the terminal summary says how many snapshots were taken: one per test
    plus "<collection>";
  - `linger report T` (text and JSON) says which test created each of the
    sample's findings: Resource by test_finalizer_keepalive, Listener by
    test_bound_method_cycle, MarkedResource by test_marked_leak, Handler by
    test_marked_clean; no finding is created by a test of test_clean.py;
    the per-test summary lists the four tests;
  - without the shim, the same run passes every test (the plugin is
    inert, the marked leak passes) and says "linger: shim not loaded".
  Skipped (77) when PY has no pytest.  With --borrow-pytest DIR (Debian's
  /usr/lib/python3/dist-packages), an interpreter without pytest borrows
  that pure-Python pytest and its dependencies (pyenv 3.11-3.13 can; 3.8
  to 3.10 lack its backports and are skipped).

module: the `_linger` module on its own, with the shim preloaded:
  importable only under the shim; snapshot(label) returns increasing ids,
  snapshot(None) an unlabelled one, a non-str label raises TypeError;
  trace_path() is the trace, shim_path() the shim, flush() makes the
  trace readable up to there (`linger report` on it while the program
  still runs); the finished trace has the labels in order; on 3.12+ a
  subinterpreter cannot import it and its use does not disturb the main
  interpreter's module.

Exit status: 0 pass, 1 fail, 77 skip.
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
PLUGIN_PATH = os.path.join(SOURCE, 'python')
PROJECT = os.path.join(SOURCE, 'samples', 'pytest_project')

# Each leaky test of the sample and the finding it must be blamed for.
EXPECTED = {
    'test_leaky.Resource': ('finalizer-keepalive', 'test_leaky.py::test_finalizer_keepalive'),
    'test_leaky.Listener': ('bound-method-cycle', 'test_leaky.py::test_bound_method_cycle'),
    'test_leaky.MarkedResource': ('finalizer-keepalive', 'test_leaky.py::test_marked_leak'),
    'test_leaky.Handler': ('bound-method-cycle', 'test_leaky.py::test_marked_clean'),
}
ALL_TESTS = ['test_clean.py::test_plain_objects', 'test_clean.py::test_finalizer_done_right',
             'test_clean.py::test_dict_and_lists', 'test_leaky.py::test_finalizer_keepalive',
             'test_leaky.py::test_bound_method_cycle', 'test_leaky.py::test_marked_leak',
             'test_leaky.py::test_marked_clean']
FAILING = 'test_leaky.py::test_marked_leak'


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print('ok:', what)


def run(cmd, env=None, cwd=None, timeout=300):
    print('$', ' '.join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                       universal_newlines=True, timeout=timeout)
    return p


def base_env():
    env = dict(os.environ)
    for k in list(env):
        if k.startswith('LINGER_') or k in ('LD_PRELOAD', 'PYTHONPATH', 'PYTEST_ADDOPTS',
                                            'PYTEST_PLUGINS'):
            del env[k]
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def junit_outcomes(path):
    """node id -> 'passed' | 'failed' | 'error' | 'skipped', and the
    failure messages."""
    outcomes, messages = {}, {}
    for case in ET.parse(path).getroot().iter('testcase'):
        # classname "test_leaky", name "test_x" -> "test_leaky.py::test_x"
        nodeid = case.get('classname').replace('.', '/') + '.py::' + case.get('name')
        state = 'passed'
        for child in case:
            if child.tag in ('failure', 'error', 'skipped'):
                state = {'failure': 'failed'}.get(child.tag, child.tag)
                messages[nodeid] = (child.get('message') or '') + '\n' + (child.text or '')
        outcomes[nodeid] = state
    return outcomes, messages


BORROWED = ['_pytest', 'pytest', 'pluggy', 'iniconfig', 'packaging', 'py', 'py.py', 'attr', 'attrs']


def pytest_path(args, tmp):
    """'' if PY has pytest, else a directory of links to the borrowed one."""
    probe = run([args.python, '-c', 'import pytest'], env=base_env())
    if probe.returncode == 0:
        return ''
    if not args.borrow_pytest:
        raise Skip('%s has no pytest' % args.python)
    farm = os.path.join(tmp, 'borrowed')
    os.mkdir(farm)
    for name in BORROWED:
        src = os.path.join(args.borrow_pytest, name)
        if os.path.exists(src):
            os.symlink(src, os.path.join(farm, name))
    env = base_env()
    env['PYTHONPATH'] = farm
    probe = run([args.python, '-m', 'pytest', '--version'], env=env)
    if probe.returncode != 0:
        raise Skip('%s cannot run the pytest of %s: %s' % (args.python, args.borrow_pytest,
                                                           probe.stderr.strip().splitlines()[-1:]))
    return farm


def check_plugin(args):
    tmp = tempfile.mkdtemp(prefix='linger-pytest-')
    try:
        borrowed = pytest_path(args, tmp)
        project = os.path.join(tmp, 'project')
        shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns('__pycache__', '.pytest_cache'))
        trace = os.path.join(tmp, 'pytest.trace')
        junit = os.path.join(tmp, 'junit.xml')
        env = base_env()
        env['PYTHONPATH'] = PLUGIN_PATH + (':' + borrowed if borrowed else '')

        # 1. Under the shim.
        p = run([args.linger, 'run', '--output', trace, '--', args.python, '-m', 'pytest',
                 '-p', 'linger.pytest', '--junitxml', junit, project], env=env, cwd=tmp)
        print(p.stdout[-3000:])
        print(p.stderr[-2000:], file=sys.stderr)
        check(p.returncode == 1, 'linger run passes pytest\'s exit status 1 through (got %d)' % p.returncode)
        outcomes, messages = junit_outcomes(junit)
        check(sorted(outcomes) == sorted(ALL_TESTS), 'every test of the sample ran: %s' % sorted(outcomes))
        failed = sorted(n for n, s in outcomes.items() if s != 'passed')
        check(failed == [FAILING], 'exactly %s fails under the shim (failed: %s)' % (FAILING, failed))
        msg = messages[FAILING]
        check('finalizer-keepalive' in msg and 'test_leaky.MarkedResource' in msg
              and 'test_marked_leak' in msg, 'its failure names the finding: %r' % msg[:300])
        check('Handler' not in msg and 'Listener' not in msg,
              'the failure lists only what that test created, of the kinds asked for')
        n_snap = len(ALL_TESTS) + 1
        check('linger: %d snapshots' % n_snap in p.stdout,
              'the summary reports %d snapshots (one per test and <collection>)' % n_snap)
        check('shim not loaded' not in p.stdout, 'the plugin knows the shim is loaded')

        # 2. The report attributes every finding of the sample.
        r = run([args.linger, 'report', '--format=json', trace], env=base_env(), cwd=tmp)
        check(r.returncode == 0, 'linger report --format=json reads the trace: %s' % r.stderr.strip())
        report = json.loads(r.stdout)
        check(report.get('labelled_snapshots') == n_snap,
              'JSON labelled_snapshots is %d (got %r)' % (n_snap, report.get('labelled_snapshots')))
        findings = [f for f in report['findings'] if f.get('objects')]
        check(all('created_by' in f for f in findings), 'every object finding has created_by in JSON')
        for type_name, (kind, nodeid) in EXPECTED.items():
            mine = [f for f in findings if f['objects'][0]['type'] == type_name]
            check(len(mine) == 1 and mine[0]['kind'] == kind,
                  'one %s finding of %s (got %s)' % (kind, type_name, [f['kind'] for f in mine]))
            check(mine[0]['created_by'] == nodeid, '%s created by %s (JSON says %r)'
                  % (type_name, nodeid, mine[0]['created_by']))
        clean = [f for f in findings if (f.get('created_by') or '').startswith('test_clean.py')]
        check(not clean, 'no finding is created by a test of test_clean.py (%s)'
              % [(f['kind'], f['created_by']) for f in clean])
        by_test = {row['test']: row['findings'] for row in report['findings_by_test']}
        for type_name, (kind, nodeid) in EXPECTED.items():
            check(by_test.get(nodeid) == 1, 'findings_by_test: %s created 1 finding' % nodeid)

        t = run([args.linger, 'report', trace], env=base_env(), cwd=tmp)
        check(t.returncode == 0, 'linger report (text) reads the trace')
        lines = t.stdout.splitlines()
        for type_name, (kind, nodeid) in EXPECTED.items():
            head = [i for i, line in enumerate(lines) if line.strip().startswith('1 × ' + type_name + ' ')]
            check(len(head) == 1, 'the text report has one entry for %s' % type_name)
            block = lines[head[0] + 1:head[0] + 4]
            check('    created by ' + nodeid in block,
                  'the text says %s was created by %s: %s' % (type_name, nodeid, block))
        summary = t.stdout.split('Findings by test')
        check(len(summary) == 2, 'the text report has the per-test summary')
        for type_name, (kind, nodeid) in EXPECTED.items():
            check('  %s: 1 finding\n' % nodeid in summary[1], 'the summary lists %s with 1 finding' % nodeid)
        check('test_clean.py' not in summary[1], 'the summary lists no test of test_clean.py')

        # 3. --linger-snapshots=marked: two snapshots per marked test; the
        # marked leak still fails, and what unmarked tests created is not
        # blamed on a marked one.
        trace_m = os.path.join(tmp, 'marked.trace')
        junit_m = os.path.join(tmp, 'junit-marked.xml')
        p = run([args.linger, 'run', '--output', trace_m, '--', args.python, '-m', 'pytest',
                 '-p', 'linger.pytest', '--linger-snapshots=marked', '--junitxml', junit_m, project],
                env=env, cwd=tmp)
        check(p.returncode == 1, '--linger-snapshots=marked: exit status 1 (got %d)' % p.returncode)
        outcomes, _ = junit_outcomes(junit_m)
        failed = sorted(n for n, s in outcomes.items() if s != 'passed')
        check(failed == [FAILING], '--linger-snapshots=marked: exactly %s fails (%s)' % (FAILING, failed))
        check('linger: 4 snapshots' in p.stdout, '--linger-snapshots=marked: 4 snapshots')
        r = run([args.linger, 'report', '--format=json', trace_m], env=base_env(), cwd=tmp)
        report = json.loads(r.stdout)
        created = {f['objects'][0]['type']: f.get('created_by') for f in report['findings'] if f.get('objects')}
        check(created.get('test_leaky.MarkedResource') == FAILING
              and created.get('test_leaky.Handler') == 'test_leaky.py::test_marked_clean',
              '--linger-snapshots=marked: the marked tests\' findings are theirs')
        check(created.get('test_leaky.Resource') == '<before> ' + FAILING,
              '--linger-snapshots=marked: an unmarked test\'s finding goes to "<before> ..." (%r)'
              % created.get('test_leaky.Resource'))

        # 4. Without the shim: inert.
        junit2 = os.path.join(tmp, 'junit2.xml')
        p = run([args.python, '-m', 'pytest', '-p', 'linger.pytest', '--junitxml', junit2, project],
                env=env, cwd=tmp)
        print(p.stdout[-1500:])
        check(p.returncode == 0, 'without the shim pytest exits 0 (got %d)' % p.returncode)
        outcomes, _ = junit_outcomes(junit2)
        check(sorted(outcomes) == sorted(ALL_TESTS) and set(outcomes.values()) == {'passed'},
              'without the shim every test passes, the marked leak too: %s' % outcomes)
        check('linger: shim not loaded, per-test attribution off' in p.stdout,
              'without the shim the summary says the plugin is off')
        check(not os.path.exists(os.path.join(project, '.pytest_cache')), 'no .pytest_cache written')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


MODULE_PROGRAM = r'''
import json, subprocess, sys
import _linger
out = {"version": _linger.version, "trace": _linger.trace_path(), "shim": _linger.shim_path()}
out["ids"] = [_linger.snapshot("first"), _linger.snapshot(None), _linger.snapshot("second::é")]
try:
    _linger.snapshot(42)
    out["typeerror"] = False
except TypeError:
    out["typeerror"] = True
out["objects_id"] = _linger.snapshot_objects("objects-only")
try:
    _linger.snapshot_objects(None)
    out["objects_typeerror"] = False
except TypeError:
    out["objects_typeerror"] = True
_linger.flush()
r = subprocess.run([sys.argv[1], "report", "--format=json", out["trace"]],
                   stdout=subprocess.PIPE, universal_newlines=True, env={"PATH": "/usr/bin:/bin"})
out["midrun_rc"] = r.returncode
out["midrun_labelled"] = json.loads(r.stdout).get("labelled_snapshots") if r.returncode == 0 else None
sub = None
if sys.version_info >= (3, 12):
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            sub = __import__(name)
            break
        except ImportError:
            pass
if sub is not None:
    interp = sub.create()
    code = ("import sys\n"
            "try:\n"
            "    import _linger\n"
            "    ok = 'imported'\n"
            "except ImportError:\n"
            "    ok = 'ImportError'\n"
            "if ok != 'ImportError':\n"
            "    raise SystemExit(ok)\n")
    res = sub.run_string(interp, code)
    sub.destroy(interp)
    out["subinterp"] = "ok" if (res is None or res == (None, None) or not res) else repr(res)
    out["after_subinterp"] = _linger.snapshot("after-subinterpreter")
print(json.dumps(out))
'''


REC_SNAPSHOT_LABEL = 14


def label_records(data):
    """Offsets of the SNAPSHOT_LABEL records of a trace."""
    header_size = struct.unpack_from('<I', data, 12)[0]
    off, found = header_size, []
    while off + 8 <= len(data):
        rtype, _flags, size = struct.unpack_from('<HHI', data, off)
        if size < 8:
            break
        if rtype == REC_SNAPSHOT_LABEL:
            found.append(off)
        off += size
    return found


def check_label_records(args, trace, tmp):
    """The reader's checks of SNAPSHOT_LABEL, on copies of a real trace."""
    with open(trace, 'rb') as f:
        data = f.read()
    offs = label_records(data)
    check(len(offs) >= 3, 'the trace has %d SNAPSHOT_LABEL records' % len(offs))
    flags = [struct.unpack_from('<I', data, off + 16)[0] for off in offs[:3]]
    check(flags == [0, 0, 1], 'only the snapshot_objects() label says objects only (%s)' % flags)

    def report_of(blob, name):
        path = os.path.join(tmp, name)
        with open(path, 'wb') as f:
            f.write(blob)
        return run([args.linger, 'report', '--format=json', path], env=base_env())

    bad = bytearray(data)
    struct.pack_into('<I', bad, offs[0] + 12, 0)
    r = report_of(bad, 'zero-label.trace')
    check(r.returncode == 1 and r.stderr.startswith('linger: error:') and 'empty label id' in r.stderr,
          'a label id 0 is a one-line error: %s' % r.stderr.strip())
    bad = bytearray(data)
    struct.pack_into('<I', bad, offs[1] + 8, 1)
    r = report_of(bad, 'other-snapshot.trace')
    check(r.returncode == 1 and 'which does not follow snapshot' in r.stderr,
          'a label for an earlier snapshot is an error: %s' % r.stderr.strip())
    bad = bytearray(data)
    struct.pack_into('<I', bad, offs[1] + 8, 9)
    r = report_of(bad, 'later-snapshot.trace')
    check(r.returncode == 1 and 'begins after a label for snapshot 9' in r.stderr,
          'a label for another snapshot than the next one is an error: %s' % r.stderr.strip())
    bad = bytearray(data)
    struct.pack_into('<I', bad, offs[0] + 12, 0x7fffffff)
    r = report_of(bad, 'undefined-string.trace')
    check(r.returncode == 1 and 'string id' in r.stderr,
          'a label with an undefined string id is an error: %s' % r.stderr.strip())
    # A 1.2 reader skips the record as unknown: so does this one for a type
    # it does not know, and the trace reads without labels.
    old = bytearray(data)
    for off in offs:
        struct.pack_into('<H', old, off, 31)
    r = report_of(old, 'unknown-type.trace')
    check(r.returncode == 0 and 'labelled_snapshots' not in json.loads(r.stdout),
          'with the records unknown the trace reads, unlabelled')
    r = report_of(data[:offs[0] + 20], 'cut.trace')
    check(r.returncode == 0 and not json.loads(r.stdout)['trace']['complete'],
          'a trace cut inside a label record reads as incomplete')


def check_module(args):
    tmp = tempfile.mkdtemp(prefix='linger-module-')
    try:
        env = base_env()
        p = run([args.python, '-c', 'import _linger'], env=env)
        check(p.returncode != 0 and 'No module named' in p.stderr,
              'without the shim `import _linger` fails')
        prog = os.path.join(tmp, 'prog.py')
        with open(prog, 'w') as f:
            f.write(MODULE_PROGRAM)
        trace = os.path.join(tmp, 'm.trace')
        env = base_env()
        env['LD_PRELOAD'] = args.shim
        env['LINGER_OUTPUT'] = trace
        p = run([args.python, prog, args.linger], env=env, cwd=tmp)
        print(p.stdout, p.stderr, file=sys.stderr)
        check(p.returncode == 0, 'the program using _linger exits 0')
        out = json.loads(p.stdout.strip().splitlines()[-1])
        check(out['trace'] == trace, 'trace_path() is the trace (%s)' % out['trace'])
        check(os.path.samefile(out['shim'], args.shim), 'shim_path() is the shim (%s)' % out['shim'])
        check(out['ids'] == [1, 2, 3], 'snapshot() returns ids 1, 2, 3 (got %s)' % out['ids'])
        check(out['typeerror'], 'snapshot(42) raises TypeError')
        check(out['objects_id'] == 4, 'snapshot_objects() returns id 4 (got %s)' % out['objects_id'])
        check(out['objects_typeerror'], 'snapshot_objects(None) raises TypeError')
        # Judged on snapshot 3 (the last whole one): labels 1 and 3 count,
        # the objects-only 4 comes after it.
        check(out['midrun_rc'] == 0 and out['midrun_labelled'] == 2,
              'after flush() the running program\'s trace reads, judged on the last whole '
              'snapshot, with 2 labelled snapshots up to it (%s, %s)'
              % (out['midrun_rc'], out['midrun_labelled']))
        r = run([args.linger, 'report', '--format=json', trace], env=base_env())
        check(r.returncode == 0, 'the finished trace reads')
        report = json.loads(r.stdout)
        expect_labelled = 4 if 'after_subinterp' in out else 3
        check(report.get('labelled_snapshots') == expect_labelled,
              'the finished trace has %d labelled snapshots' % expect_labelled)
        check(report['trace']['complete'] and report['trace']['snapshot']['reason'] == 'at exit',
              'the finished trace is complete and judged on the exit snapshot')
        check_label_records(args, trace, tmp)
        d = run([args.linger, 'report', '--diff', '--snapshots=1,4', trace], env=base_env())
        check(d.returncode == 1 and 'lists objects only' in d.stderr,
              '--diff refuses an objects-only snapshot: %s' % d.stderr.strip())
        d = run([args.linger, 'report', '--diff', '--format=json', trace], env=base_env())
        check(d.returncode == 0, '--diff compares the whole snapshots by default: %s' % d.stderr.strip())
        if 'subinterp' in out:
            check(out['subinterp'] == 'ok', 'a subinterpreter cannot import _linger (%s)' % out['subinterp'])
            check(out['after_subinterp'] == 5, 'the main interpreter snapshots after it (id %s)'
                  % out['after_subinterp'])
        else:
            print('note: no subinterpreter check on', args.python)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--linger', required=True)
    ap.add_argument('--shim', required=True)
    ap.add_argument('--python', default='/usr/bin/python3')
    ap.add_argument('--check', choices=['plugin', 'module'], required=True)
    ap.add_argument('--borrow-pytest', metavar='DIR',
                    help='where to borrow a pure-Python pytest from when PY has none')
    args = ap.parse_args()
    args.linger = os.path.abspath(args.linger)
    args.shim = os.path.abspath(args.shim)
    try:
        {'plugin': check_plugin, 'module': check_module}[args.check](args)
    except Skip as e:
        print('SKIP:', e)
        return SKIP
    except Fail as e:
        print('FAIL:', e)
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
