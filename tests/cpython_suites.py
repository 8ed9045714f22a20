#!/usr/bin/python3
"""CPython's own test suites under the linger shim, compared with bare runs.

For each interpreter (Debian's /usr/bin/python3 and the newest pyenv
CPython 3.8 .. 3.13 of each minor version, as tests/discover.sh finds
them) and each suite (test_weakref, test_gc, test_finalization,
test_threading, test_subprocess, test_signal, test_tracemalloc, test_sys)
this runs

    PY -m test -v --junit-xml FILE SUITE

once bare and once with LD_PRELOAD=liblinger.so (LINGER_OUTPUT into a
temporary directory, allocation tracking on, as by default), optionally a
third time with LINGER_NATIVE=1 (--native), and compares the outcome of
every test case by its id (passed, failed, error, skipped, expected
failure, unexpected success), not only the exit status.  Test cases come
from the JUnit XML regrtest writes; the "FAIL: / ERROR:" summary lines of
the verbose output add failing subtests and module-level errors, which
the XML does not always name.

A test whose outcome differs is classified:

  expected    listed in EXPECTED below, with the reason printed;
  flaky       after re-running it (--confirm, default 2 more runs of
              each mode, of the differing test cases alone, or of the
              whole suite when the difference is not one test case), the
              outcome the shim gave was also seen without it: the
              difference is the test's, not the shim's;
  UNEXPECTED  the shim's outcome never happened without it: a finding.

Exit status: 0 when no difference is UNEXPECTED, 1 otherwise, 2 on a
usage error (no shim), 77 (meson's "skipped") when none of the selected
interpreters has the test package (on Debian: libpython3.X-testsuite,
which scripts/quickstart.sh installs as an optional extra, and --install
installs when run as root).  Interpreters without it are listed as not
run.

    tests/cpython_suites.py [--shim build/liblinger.so] [--python PY ...]
                            [--suite NAME ...] [--fast] [--native]
                            [--jobs N] [--confirm N] [--json FILE]
                            [--match TEST_ID ...] [--timeout S]
                            [--install] [--keep]

--fast: test_weakref, test_finalization and test_gc on Debian's python3
and the newest pyenv interpreter (well under a minute); this is what the
meson test `cpython-suites-fast` runs.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SUITES = ['test_weakref', 'test_gc', 'test_finalization', 'test_threading',
          'test_subprocess', 'test_signal', 'test_tracemalloc', 'test_sys']
FAST_SUITES = ['test_weakref', 'test_finalization', 'test_gc']

# Known differences: (suite, test method name, minimum (major, minor) or
# None, reason).  They are reported, never dropped, but do not fail the run.
EXPECTED = [
    ('test_sys', 'test_debugmallocstats', None,
     'sys._debugmallocstats() prints no pymalloc section while the '
     'allocator domains are wrapped by the shim (the same happens while '
     'tracemalloc runs)'),
    # Every version that has the test (3.9+), not only 3.12+: the shim
    # imports threading on 3.8 .. 3.13 alike (preload/linger_python.c).
    # Where a .pth file of the interpreter already imports threading
    # (zipfile does), the test fails bare as well and nothing differs.
    ('test_threading', 'test_import_from_another_thread', None,
     'the shim imports threading at start-up (for its exit snapshot), so '
     'the child\'s "threading is already imported" check fails'),
]

DEBIAN_PYTHON = '/usr/bin/python3'

# Outcome names, in the order the table shows them.
OUTCOMES = ['passed', 'failed', 'error', 'skipped', 'xfail', 'xpass']


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- discovery

def discover_pythons():
    """[(name, path)] as tests/discover.sh lists them."""
    out = subprocess.run(['sh', os.path.join(HERE, 'discover.sh'), 'pythons'],
                         stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split(' ', 1)
        if len(parts) == 2:
            found.append((parts[0], parts[1]))
    return found


def python_info(path, suites):
    """(version tuple, [suites whose module is missing]) or (None, reason)."""
    code = ('import sys, importlib.util\n'
            'print("%d.%d" % sys.version_info[:2])\n'
            'for name in sys.argv[1:]:\n'
            '    try:\n'
            '        ok = importlib.util.find_spec("test." + name) is not None\n'
            '    except Exception:\n'
            '        ok = False\n'
            '    if not ok:\n'
            '        print(name)\n')
    try:
        r = subprocess.run([path, '-c', code] + list(suites),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60, env=clean_env())
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1:] or ['failed']
    lines = r.stdout.split()
    major, minor = lines[0].split('.')
    return (int(major), int(minor)), lines[1:]


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('LINGER_') and k != 'LD_PRELOAD'}
    return env


# ---------------------------------------------------------------- one run

SUMMARY_RE = re.compile(
    r'^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \(([^)\s]+)\)(.*)$', re.M)
VERBOSE_RE = re.compile(
    r'^(\w+) \(([\w.]+)\)(?: \[.*?\])?(?: \(.*?\))?(?:\n[^\n]*?)? \.\.\. '
    r'(ok|FAIL|ERROR|skipped|expected failure|unexpected success)', re.M)
RESULT_RE = re.compile(r'^(?:Tests? r|R)esult: (.+)$', re.M)


def test_id(name, where):
    """The id of a test from 'name (where)' as unittest prints it: 3.11+
    print the full id in the parentheses, older versions the class."""
    if where.endswith('.' + name) or where == name:
        return where
    return where + '.' + name


def parse_xml(path):
    """{test id: (outcome, detail)} from regrtest's --junit-xml."""
    cases = {}
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return None
    for e in tree.iter('testcase'):
        name = e.get('name')
        if not name:
            continue            # a test whose subtests failed (see summary)
        outcome, detail = 'passed', ''
        for child in e:
            tag = child.tag
            if tag == 'skipped':
                outcome, detail = 'skipped', (child.text or '')
            elif tag == 'failure':
                outcome, detail = 'failed', (child.text or child.get('message') or '')
            elif tag == 'error':
                outcome, detail = 'error', (child.text or child.get('message') or '')
            elif tag == 'output':   # expected failure
                outcome, detail = 'xfail', ''
        if e.get('outcome') == 'UNEXPECTED_SUCCESS':
            outcome = 'xpass'
        cases[name] = (outcome, detail)
    return cases


def summary_tracebacks(text):
    """{test id: (outcome, traceback)} from the FAIL:/ERROR: blocks."""
    found = {}
    blocks = re.split(r'^={50,}\n', text, flags=re.M)
    for block in blocks[1:]:
        m = SUMMARY_RE.match(block)
        if not m:
            continue
        kind, name, where, _ = m.groups()
        tid = test_id(name, where)
        outcome = {'FAIL': 'failed', 'ERROR': 'error',
                   'UNEXPECTED SUCCESS': 'xpass'}[kind]
        body = block.split('\n', 1)[1] if '\n' in block else ''
        body = re.sub(r'^-{50,}\n', '', body, flags=re.M)
        # Cut what follows the last traceback (the "Ran N tests" lines).
        body = re.split(r'^Ran \d+ tests? in ', body, flags=re.M)[0]
        prev = found.get(tid)
        if prev is None or prev[0] != 'error':
            found[tid] = (outcome, (prev[1] + '\n' if prev else '') + body.strip())
    return found


def parse_verbose(text):
    """{test id: outcome} from the '... ok' lines (when there is no XML)."""
    words = {'ok': 'passed', 'FAIL': 'failed', 'ERROR': 'error',
             'skipped': 'skipped', 'expected failure': 'xfail',
             'unexpected success': 'xpass'}
    cases = {}
    for name, where, word in VERBOSE_RE.findall(text):
        cases[test_id(name, where)] = (words[word], '')
    return cases


def run_suite(python, suite, mode, shim, workdir, timeout, tag, match=None):
    """Run one suite once (only the test ids in match, if given)."""
    rundir = tempfile.mkdtemp(prefix='%s.%s.%s.' % (tag, suite, mode), dir=workdir)
    xml_path = os.path.join(rundir, 'junit.xml')
    trace_dir = os.path.join(rundir, 'traces')
    os.mkdir(trace_dir)
    env = clean_env()
    if mode != 'bare':
        env['LD_PRELOAD'] = shim
        env['LINGER_OUTPUT'] = os.path.join(trace_dir, '%e.%p.trace')
        if mode == 'native':
            env['LINGER_NATIVE'] = '1'
    cmd = [python, '-m', 'test', '-v', '--junit-xml', xml_path]
    for tid in match or ():
        cmd += ['-m', tid]
    cmd.append(suite)
    start = time.monotonic()
    status = None
    with open(os.path.join(rundir, 'output.txt'), 'w+b') as out:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env, cwd=rundir,
                                    start_new_session=True)
            try:
                status = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
                status = 'timeout'
        except OSError as e:
            status = 'cannot run: %s' % e
        out.seek(0)
        text = out.read().decode('utf-8', 'replace')
    elapsed = time.monotonic() - start
    cases = parse_xml(xml_path)
    source = 'xml'
    if cases is None:
        cases = parse_verbose(text)
        source = 'verbose output'
    for tid, (outcome, tb) in summary_tracebacks(text).items():
        old = cases.get(tid)
        if old is None or old[0] == 'passed' or not old[1]:
            cases[tid] = (outcome, tb)
    m = RESULT_RE.findall(text)
    result = m[-1].strip() if m else 'no result line'
    if status == 'timeout':
        result = 'TIMEOUT after %d s' % timeout
    ntraces = len(os.listdir(trace_dir))
    shutil.rmtree(trace_dir, ignore_errors=True)
    return {'cases': cases, 'status': status, 'result': result,
            'seconds': elapsed, 'source': source, 'dir': rundir,
            'traces': ntraces, 'tail': text[-3000:]}


# ---------------------------------------------------------------- comparison

def expected_reason(suite, tid, version):
    for e_suite, method, min_version, reason in EXPECTED:
        if suite != e_suite or tid.rsplit('.', 1)[-1] != method:
            continue
        if min_version is None or version >= min_version:
            return reason
    return None


def outcome_of(run, tid):
    c = run['cases'].get(tid)
    return c[0] if c else 'absent'


def differing_ids(bare, other):
    ids = set(bare['cases']) | set(other['cases'])
    return sorted(t for t in ids if outcome_of(bare, t) != outcome_of(other, t))


def counts(run):
    n = {k: 0 for k in OUTCOMES}
    for outcome, _ in run['cases'].values():
        n[outcome] = n.get(outcome, 0) + 1
    return n


def short_counts(run):
    n = counts(run)
    s = '%d/%d/%d' % (n['passed'], n['failed'] + n['error'] + n['xpass'], n['skipped'])
    if run['status'] == 'timeout':
        s += ' TIMEOUT'
    return s


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--shim', default=os.environ.get('LINGER_SHIM',
                    os.path.join(ROOT, 'build', 'liblinger.so')),
                    help='liblinger.so to preload (default: build/liblinger.so)')
    ap.add_argument('--python', action='append', default=[],
                    help='interpreter to test (path; repeatable; default: all found)')
    ap.add_argument('--suite', action='append', default=[],
                    help='suite to run (repeatable; default: all eight)')
    ap.add_argument('--fast', action='store_true',
                    help='test_weakref, test_finalization, test_gc on Debian\'s '
                         'python3 and the newest pyenv interpreter')
    ap.add_argument('--match', action='append', default=[],
                    help='run only these test cases (regrtest -m; repeatable)')
    ap.add_argument('--native', action='store_true',
                    help='a third run with LINGER_NATIVE=1')
    ap.add_argument('--jobs', type=int, default=2, help='runs at once (default 2)')
    ap.add_argument('--confirm', type=int, default=2,
                    help='extra runs of each mode for a suite with a difference '
                         'that is not expected (default 2: three in all)')
    ap.add_argument('--timeout', type=int, default=1800,
                    help='seconds per suite run (default 1800)')
    ap.add_argument('--install', action='store_true',
                    help='as root, apt-get install Debian\'s libpython3.X-testsuite '
                         'when /usr/bin/python3 lacks its test suites')
    ap.add_argument('--json', help='write every result here')
    ap.add_argument('--keep', action='store_true',
                    help='keep the temporary directory (outputs, JUnit XML)')
    args = ap.parse_args()

    # A program started in the background by a shell ignores SIGINT, and
    # its children inherit that: then _thread.interrupt_main() does
    # nothing, test_threading's interrupt tests fail and
    # test_print_exception_gh_102056 never ends (bare as under the shim).
    # A Python handler is reset to the default in the children at exec.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    shim = os.path.abspath(args.shim)
    if not os.path.isfile(shim):
        log('cpython_suites: no shim at %s (build it, or give --shim)' % shim)
        return 2

    suites = args.suite or (FAST_SUITES if args.fast else SUITES)
    for s in suites:
        if s not in SUITES:
            log('cpython_suites: note: %s is not one of the usual suites' % s)

    if args.python:
        pythons = [(os.path.basename(p), p) for p in args.python]
    else:
        pythons = discover_pythons()
        if args.fast:
            chosen = [p for p in pythons if p[1] == DEBIAN_PYTHON]
            pyenvs = [p for p in pythons if p[1] != DEBIAN_PYTHON]
            if pyenvs:
                chosen.append(pyenvs[-1])
            pythons = chosen

    modes = ['bare', 'shim'] + (['native'] if args.native else [])

    # Which interpreters can run which suites.
    usable = []     # (name, path, version, [suites])
    missing_notes = []
    for name, path in pythons:
        version, missing = python_info(path, suites)
        if (version is not None and missing and args.install
                and path == DEBIAN_PYTHON and os.geteuid() == 0):
            package = 'libpython%d.%d-testsuite' % version
            log('cpython_suites: installing ' + package)
            subprocess.run(['apt-get', 'install', '-y', package],
                           env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
            version, missing = python_info(path, suites)
        if version is None:
            missing_notes.append('%s (%s): cannot run it: %s' % (name, path, missing))
            continue
        have = [s for s in suites if s not in missing]
        if missing:
            hint = ''
            if path == DEBIAN_PYTHON:
                hint = ' (apt-get install libpython%d.%d-testsuite)' % version
            missing_notes.append('%s (%s): no test package for %s%s'
                                 % (name, path, ', '.join(missing), hint))
        if have:
            usable.append((name, path, version, have))
    for note in missing_notes:
        log('cpython_suites: ' + note)
    if not usable:
        log('cpython_suites: no interpreter has the test suites: skipped')
        return 77

    workdir = tempfile.mkdtemp(prefix='linger-cpython-suites.')
    t0 = time.monotonic()
    runs = {}       # (name, suite, mode, attempt) -> run

    def submit_all(pool, items, matches={}):
        futures = {}
        for key in items:
            name, suite, mode, attempt = key
            path = next(u[1] for u in usable if u[0] == name)
            tag = '%s.%d' % (name, attempt)
            futures[pool.submit(run_suite, path, suite, mode, shim, workdir,
                                args.timeout, tag,
                                matches.get((name, suite), args.match))] = key
        for fut in concurrent.futures.as_completed(futures):
            key = futures[fut]
            run = fut.result()
            runs[key] = run
            log('cpython_suites: %-14s %-18s %-6s #%d  %6.1f s  %s  (%s)'
                % (key[0], key[1], key[2], key[3], run['seconds'],
                   short_counts(run), run['result']))

    # Long suites first, so that the pool ends evenly.
    weight = {'test_subprocess': 0, 'test_threading': 1, 'test_signal': 2}
    items = []
    for name, path, version, have in usable:
        for suite in have:
            for mode in modes:
                items.append((name, suite, mode, 0))
    items.sort(key=lambda k: (weight.get(k[1], 9), k[0]))

    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        submit_all(pool, items)

        # Re-run what differs and is not expected, in every mode: only
        # those test cases (regrtest -m TEST_ID) when they are real test
        # ids, else (module-level errors, a different overall result) the
        # whole suite.
        redo = []
        matches = {}    # (name, suite) -> [test ids] or None (whole suite)
        for name, path, version, have in usable:
            for suite in have:
                bare = runs[(name, suite, 'bare', 0)]
                wanted, whole = set(), False
                for mode in modes[1:]:
                    other = runs[(name, suite, mode, 0)]
                    all_diff = differing_ids(bare, other)
                    diff = [t for t in all_diff
                            if expected_reason(suite, t, version) is None]
                    for t in diff:
                        if re.match(r'^[\w.]+$', t) and t.startswith('test.') \
                                and not t.endswith(('setUpModule', 'tearDownModule',
                                                    'setUpClass', 'tearDownClass')):
                            wanted.add(t)
                        else:
                            whole = True
                    if not all_diff and bare['result'] != other['result']:
                        whole = True
                if wanted or whole:
                    matches[(name, suite)] = None if whole else sorted(wanted)
                    for m in modes:
                        for a in range(1, args.confirm + 1):
                            redo.append((name, suite, m, a))
        if redo:
            log('cpython_suites: re-running %d time(s) what differs: %s'
                % (args.confirm, '; '.join('%s %s %s' % (k[0], k[1], 'whole suite' if v is None
                                                          else ' '.join(v))
                                            for k, v in sorted(matches.items()))))
            submit_all(pool, redo, matches)

    total = time.monotonic() - t0

    # ------------------------------------------------------------ report
    unexpected_total = 0
    report = []
    print()
    print('CPython test suites bare vs. under the linger shim (%s)' % shim)
    print('counts are passed/failed/skipped test cases '
          '(failed includes errors and unexpected successes)')
    for name, path, version, have in usable:
        print()
        print('== %s (%s, Python %d.%d) ==' % ((name, path) + version))
        head = '%-18s %-16s' % ('suite', 'bare')
        for mode in modes[1:]:
            head += ' %-16s' % mode
        head += ' %-9s %s' % ('seconds', 'verdict')
        print(head)
        details = []
        for suite in have:
            bare = runs[(name, suite, 'bare', 0)]
            line = '%-18s %-16s' % (suite, short_counts(bare))
            secs = ['%.0f' % bare['seconds']]
            verdicts = []
            for mode in modes[1:]:
                other = runs[(name, suite, mode, 0)]
                line += ' %-16s' % short_counts(other)
                secs.append('%.0f' % other['seconds'])
                diff = differing_ids(bare, other)
                n_unexp = n_exp = n_flaky = 0
                for tid in diff:
                    reason = expected_reason(suite, tid, version)
                    seen_bare = {outcome_of(runs[k], tid) for k in runs
                                 if k[:3] == (name, suite, 'bare')}
                    seen_other = {outcome_of(runs[k], tid) for k in runs
                                  if k[:3] == (name, suite, mode)}
                    attempts = len([k for k in runs if k[:3] == (name, suite, mode)])
                    repro = len([k for k in runs if k[:3] == (name, suite, mode)
                                 and outcome_of(runs[k], tid) == outcome_of(other, tid)])
                    if reason is not None:
                        kind = 'expected'
                        n_exp += 1
                    elif outcome_of(other, tid) in seen_bare and attempts > 1:
                        kind = 'flaky'
                        n_flaky += 1
                    else:
                        kind = 'UNEXPECTED'
                        n_unexp += 1
                    detail = other['cases'].get(tid, ('', ''))[1]
                    details.append({
                        'python': name, 'version': '%d.%d' % version,
                        'suite': suite, 'mode': mode, 'test': tid,
                        'bare': outcome_of(bare, tid), 'shim': outcome_of(other, tid),
                        'class': kind, 'reason': reason,
                        'reproduced': '%d/%d' % (repro, attempts),
                        'seen_bare': sorted(seen_bare), 'seen_shim': sorted(seen_other),
                        'traceback': detail.strip()})
                if not diff and bare['result'] != other['result']:
                    # Same test cases, different overall result (a crash
                    # after the last test, "environment altered", ...).
                    results_bare = {runs[k]['result'] for k in runs
                                    if k[:3] == (name, suite, 'bare')}
                    results_other = {runs[k]['result'] for k in runs
                                     if k[:3] == (name, suite, mode)}
                    flaky = bool(results_bare & results_other)
                    kind = 'flaky' if flaky else 'UNEXPECTED'
                    if flaky:
                        n_flaky += 1
                    else:
                        n_unexp += 1
                    details.append({
                        'python': name, 'version': '%d.%d' % version,
                        'suite': suite, 'mode': mode, 'test': '(suite result)',
                        'bare': bare['result'], 'shim': other['result'],
                        'class': kind, 'reason': None,
                        'reproduced': '', 'seen_bare': sorted(results_bare),
                        'seen_shim': sorted(results_other),
                        'traceback': other['tail']})
                if not diff and bare['result'] == other['result']:
                    verdicts.append('same' if len(modes) == 2 else mode + ': same')
                else:
                    parts = []
                    if n_unexp:
                        parts.append('%d UNEXPECTED' % n_unexp)
                    if n_exp:
                        parts.append('%d expected' % n_exp)
                    if n_flaky:
                        parts.append('%d flaky' % n_flaky)
                    v = 'differs (%s)' % ', '.join(parts)
                    verdicts.append(v if len(modes) == 2 else mode + ': ' + v)
                unexpected_total += n_unexp
            line += ' %-9s %s' % ('/'.join(secs), '; '.join(verdicts))
            print(line)
        for d in details:
            print('  %s %s [%s] %s: bare %s, %s %s' % (
                d['class'], d['suite'], d['mode'], d['test'], d['bare'],
                d['mode'], d['shim']))
            if d['class'] == 'expected':
                print('      reason: ' + d['reason'])
            elif d['class'] == 'flaky':
                print('      also without the shim: bare gave %s, %s gave %s over the re-runs'
                      % ('/'.join(d['seen_bare']), d['mode'], '/'.join(d['seen_shim'])))
            else:
                if d['reproduced']:
                    print('      reproduced under the shim in %s runs; bare gave %s'
                          % (d['reproduced'], '/'.join(d['seen_bare'])))
                tb = d['traceback'] or '(no traceback recorded)'
                lines = tb.splitlines()
                if len(lines) > 40:
                    lines = lines[:10] + ['...'] + lines[-29:]
                for l in lines:
                    print('      | ' + l)
        report.extend(details)

    if missing_notes:
        print()
        print('not run:')
        for note in missing_notes:
            print('  ' + note)
    print()
    print('%d interpreter(s), %d suite run(s), %.0f s in all; %d unexpected difference(s)'
          % (len(usable), len(runs), total, unexpected_total))

    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump({'shim': shim, 'seconds': total, 'differences': report,
                       'runs': [{'python': k[0], 'suite': k[1], 'mode': k[2],
                                 'attempt': k[3], 'seconds': round(r['seconds'], 1),
                                 'result': r['result'], 'status': r['status'],
                                 'counts': counts(r), 'traces': r['traces'],
                                 'source': r['source']}
                                for k, r in sorted(runs.items())],
                       'not_run': missing_notes}, f, indent=1)
    if args.keep:
        print('outputs kept in ' + workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if unexpected_total else 0


if __name__ == '__main__':
    sys.exit(main())
