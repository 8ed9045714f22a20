#!/usr/bin/python3
"""Checks that `linger` feels like a command-line tool (stdlib only).

    check_cli_ux.py --linger L --source-root S --check CHECK [--build B] [--python PY]

CHECK is one of:
    man         docs/linger.1 renders without a warning (groff -ww, and
                man -l when man is there); it has the usual sections; every
                option that `linger run --help`, `linger report --help` and
                `linger --help` print, every option string of
                analyzer/linger_main.c and every option of the brief's CLI is
                in it, and so is every LINGER_ variable of preload/*.c but
                the internal ones (INTERNAL_VARIABLES says why).
    help        `linger --help` is short; `linger help COMMAND` and
                `linger COMMAND --help` print the same per-command text, with
                options, environment variables and examples.
    progress    `linger report` draws its progress on a terminal (a pty), not
                on a pipe or a file; --progress forces it, --no-progress
                turns it off; the report itself never has it.
    errors      each bad input gives one line naming the file, the problem
                and what to do: not a trace (hex and text of its start), a
                newer format, empty, a directory, no such file, permission
                denied; usage errors exit 2.
    newest      `linger report` without TRACE reads the newest *.trace here
                (ties: the last by name) and says so; none: an error naming
                the directory; `report --diff` without TRACE diffs the first
                and the last snapshot of the newest trace.
    run-env     `linger run --trace-all` sets LINGER_TRACE_ALL=1 for the
                program, and then a non-Python child writes a trace too.
    completion  scripts/linger-completion.bash, sourced in bash, completes
                commands, options, --format= and --fail-on= values, *.trace
                files and the command after `run --`.
    install     meson installs linger(1) and the completion (meson introspect).

Exit status: 0 pass, 1 fail, 77 skip (a tool it needs is missing).
"""

import argparse
import json
import os
import pty
import re
import select
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

# Variables the shim reads that are not for people: it sets them itself
# for its children (LINGER_ROOT_PID: who the root process is;
# LINGER_OUTPUT_PID: which process owns the exact LINGER_OUTPUT name) or
# `linger run` sets them (LINGER_MANIFEST: where the shim lists the traces
# it wrote).  Setting them by hand only confuses the shim, so linger(1)
# does not document them.
INTERNAL_VARIABLES = {'LINGER_ROOT_PID', 'LINGER_OUTPUT_PID', 'LINGER_MANIFEST'}

# The CLI of the brief (issue 6): linger(1) documents all of it, including
# options other branches implement.
BRIEF_OPTIONS = [
    '--format', '--output', '--fail-on', '--suppressions', '--no-default-suppressions',
    '--generate-suppressions', '--baseline', '--max-memory', '--progress', '--no-progress',
    '--all', '--instances', '--live-cycles', '--stacks', '--diff', '--snapshots',
    '--redact-keys', '--snapshot-interval', '--snapshot-signal', '--native', '--no-native',
    '--native-depth', '--python-depth', '--no-alloc', '--trace-all',
]
BRIEF_WORDS = ['text', 'json', 'dot', 'svg', 'html', 'pytest -p linger.pytest',
               '@pytest.mark.linger(fail_on=', '.linger-suppressions', 'NO_COLOR',
               'finalizer-keepalive', 'bound-method-cycle', 'weakref-callback-keepalive',
               'weak-container-keepalive', 'closure-cycle', 'reference-cycle', 'uncollectable',
               'resurrected', 'leak', 'gc-collected', 'LINGER_PRELOAD']
SECTIONS = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'ENVIRONMENT',
            'EXIT STATUS', 'FILES', 'EXAMPLES', 'SEE ALSO']

SKIP = 77


class Failed(Exception):
    pass


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('LINGER_') and k not in ('LD_PRELOAD', 'NO_COLOR')}
    env['LC_ALL'] = 'C.UTF-8'
    if extra:
        env.update(extra)
    return env


def run(argv, cwd=None, env=None, timeout=120, **kw):
    return subprocess.run(argv, cwd=cwd, env=env or clean_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, **kw)


def text(b):
    return b.decode('utf-8', 'replace')


def expect(cond, message, problems):
    if not cond:
        problems.append(message)


def make_trace(args, directory, name='app.trace', code=None):
    """A real trace, written by `linger run` on a small Python program."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    if code is None:
        code = ('import weakref\n'
                'class Resource:\n'
                '    def close(self): pass\n'
                'r = Resource()\n'
                'weakref.finalize(r, r.close)\n'
                'keep = [Resource() for _ in range(2000)]\n')
    r = run([args.linger, 'run', '--output', path, '--', args.python, '-S', '-c', code], cwd=directory)
    if r.returncode != 0 or not os.path.isfile(path):
        raise Failed('linger run did not write {}: status {}, stderr {}'.format(
            path, r.returncode, text(r.stderr)))
    return path


# ----------------------------------------------------------------------------
# man

def render_man(path):
    """linger(1) as plain text, and the warnings of the renderers."""
    warnings = []
    groff = shutil.which('groff')
    man = shutil.which('man')
    if groff is None and man is None:
        raise SystemExit(SKIP)
    env = clean_env({'MANWIDTH': '200'})
    if groff is not None:
        r = run([groff, '-man', '-Tutf8', '-ww', '-z', path], env=env)
        if r.returncode != 0 or r.stderr:
            warnings.append('groff -man -ww: status {}: {}'.format(r.returncode, text(r.stderr)))
    if man is not None:
        # man-db passes --warnings on to groff.
        r = run([man, '--warnings=w', '-l', path], env=dict(env, MAN_KEEP_FORMATTING='0'))
        if r.returncode != 0 or r.stderr.strip():
            warnings.append('man -l: status {}: {}'.format(r.returncode, text(r.stderr)))
    if groff is not None:
        # ASCII, wide lines: an option is never broken over two lines, and
        # \- comes out as '-'.
        r = run([groff, '-man', '-Tascii', '-rLL=200n', '-P-c', '-P-b', '-P-u', '-P-o', path], env=env)
        out = text(r.stdout)
    else:
        out = text(run([man, '-l', path], env=env).stdout)
    out = re.sub('.\b', '', out)
    return out, warnings


def options_in(help_text):
    """Long and short options of a help text (each as printed: --format)."""
    found = set(re.findall(r'(?<![\w-])(--[a-z][a-z0-9-]*)', help_text))
    found |= set(re.findall(r'(?m)^\s+(-[a-zA-Z])[, ]', help_text))
    return found


def check_man(args):
    problems = []
    page = os.path.join(args.source_root, 'docs', 'linger.1')
    rendered, warnings = render_man(page)
    problems += warnings
    words = set(re.findall(r'(?<![\w-])(-{1,2}[a-zA-Z][a-z0-9-]*)', rendered))
    for section in SECTIONS:
        expect(re.search(r'(?m)^' + section + r'\s*$', rendered), 'no section ' + section, problems)

    sources = {}
    for command in (['--help'], ['run', '--help'], ['report', '--help']):
        r = run([args.linger] + command)
        label = 'linger ' + ' '.join(command)
        if r.returncode != 0:
            problems.append('{} exits {}'.format(label, r.returncode))
        for option in options_in(text(r.stdout)):
            sources.setdefault(option, label)
    main_c = open(os.path.join(args.source_root, 'analyzer', 'linger_main.c'), encoding='utf-8').read()
    for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', main_c):
        for option in re.findall(r'^(--[a-z][a-z0-9-]*)', literal):
            sources.setdefault(option, 'a string of analyzer/linger_main.c')
    for option in BRIEF_OPTIONS:
        sources.setdefault(option, "the brief's CLI")
    for option, where in sorted(sources.items()):
        expect(option in words, '{} (from {}) is not in linger(1)'.format(option, where), problems)
    expect(len(sources) >= 25, 'only {} options found in the help texts'.format(len(sources)), problems)

    variables = set()
    for name in sorted(os.listdir(os.path.join(args.source_root, 'preload'))):
        if name.endswith('.c'):
            src = open(os.path.join(args.source_root, 'preload', name), encoding='utf-8').read()
            for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', src):
                variables |= set(re.findall(r'\bLINGER_[A-Z][A-Z0-9_]*', literal))
    expect({'LINGER_OUTPUT', 'LINGER_ALLOC', 'LINGER_SNAPSHOT_SIGNAL'} <= variables,
           'the grep of preload/*.c found too little: {}'.format(sorted(variables)), problems)
    env_section = rendered.split('ENVIRONMENT', 1)[-1].split('EXIT STATUS', 1)[0]
    for var in sorted(variables - INTERNAL_VARIABLES) + ['LINGER_REDACT_KEYS', 'LINGER_PRELOAD',
                                                           'NO_COLOR']:
        expect(re.search(r'(?m)^\s+' + var + r'\s*$', env_section),
               '{} is not described in the ENVIRONMENT section'.format(var), problems)
    for var in sorted(INTERNAL_VARIABLES):
        expect(var not in rendered, 'internal {} is documented'.format(var), problems)
    for word in BRIEF_WORDS:
        expect(word in rendered, '{!r} is not in linger(1)'.format(word), problems)

    status = rendered.split('EXIT STATUS', 1)[-1].split('FILES', 1)[0]
    for code in '0123':
        expect(re.search(r'(?m)^\s+' + code + r'\s', status), 'EXIT STATUS lacks ' + code, problems)
    expect('128' in status, 'EXIT STATUS does not say 128+N', problems)
    return problems


# ----------------------------------------------------------------------------
# help

def check_help(args):
    problems = []
    glob = run([args.linger, '--help'])
    g = text(glob.stdout)
    expect(glob.returncode == 0, 'linger --help exits {}'.format(glob.returncode), problems)
    expect(len(g.splitlines()) <= 30, 'linger --help is {} lines, want 30 at most'.format(
        len(g.splitlines())), problems)
    for word in ('run', 'report', '--diff', 'linger COMMAND --help', 'Exit status', '0 success',
                 '1 error', '2 usage', '3 findings matched --fail-on'):
        expect(word in g, 'linger --help lacks {!r}'.format(word), problems)
    expect(text(run([args.linger, 'help']).stdout) == g, '`linger help` differs from --help', problems)

    for command, words in (
            ('run', ['--output', '--snapshot-signal', '--snapshot-interval', '--native',
                     '--no-native', '--native-depth', '--python-depth', '--no-alloc', '--trace-all',
                     '--redact-keys', '--fail-on', '--suppressions', 'LINGER_OUTPUT',
                     'LINGER_SNAPSHOT_SIGNAL', 'LINGER_SNAPSHOT_INTERVAL', 'LINGER_ALLOC',
                     'LINGER_NATIVE', 'LINGER_NATIVE_DEPTH', 'LINGER_PYTHON_DEPTH',
                     'LINGER_TRACE_ALL', 'LINGER_REDACT_KEYS', 'LINGER_PRELOAD', 'Examples',
                     'linger run -- python3']),
            ('report', ['--format', '--all', '--instances', '--live-cycles', '--stacks',
                        '--diff', '--snapshots', '--progress', '--no-progress', 'NO_COLOR',
                        '.linger-suppressions', 'finalizer-keepalive', 'Examples',
                        'linger report --diff', 'newest *.trace'])):
        a = run([args.linger, command, '--help'])
        b = run([args.linger, 'help', command])
        h = text(a.stdout)
        expect(a.returncode == 0 and b.returncode == 0,
               '{} --help / help {} exit {} / {}'.format(command, command, a.returncode,
                                                         b.returncode), problems)
        expect(h == text(b.stdout), '`linger help {0}` differs from `linger {0} --help`'.format(command),
               problems)
        expect(h != g, '`linger {} --help` prints the global usage'.format(command), problems)
        expect(('linger ' + command) in h.splitlines()[0] + h.splitlines()[1] if len(h.splitlines()) > 1
               else False, '`linger {} --help` does not start with its usage'.format(command), problems)
        for word in words:
            expect(word in h, '`linger {} --help` lacks {!r}'.format(command, word), problems)
    r = run([args.linger, 'help', 'frobnicate'])
    expect(r.returncode == 2 and text(r.stderr).startswith('linger: error: '),
           '`linger help frobnicate`: want status 2 and an error, got {} {!r}'.format(
               r.returncode, text(r.stderr)), problems)
    return problems


# ----------------------------------------------------------------------------
# progress

def run_on_pty(argv, cwd, stdout_path):
    """Runs argv with its stderr on a pty and its stdout in a file; returns
    (status, what the terminal got)."""
    master, slave = pty.openpty()
    with open(stdout_path, 'wb') as out:
        p = subprocess.Popen(argv, cwd=cwd, env=clean_env(), stdin=subprocess.DEVNULL, stdout=out,
                             stderr=slave)
    os.close(slave)
    got = b''
    deadline = time.time() + 120
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:   # EIO: the other side is closed
                break
            if not chunk:
                break
            got += chunk
        elif p.poll() is not None:
            break
    status = p.wait(timeout=60)
    os.close(master)
    return status, text(got)


STAGES = ['reading', 'graph', 'dominators', 'findings']


def check_progress(args):
    problems = []
    tmp = tempfile.mkdtemp(prefix='linger-cli-ux-')
    try:
        trace = make_trace(args, tmp)
        report = os.path.join(tmp, 'report.txt')

        status, tty = run_on_pty([args.linger, 'report', trace], tmp, report)
        expect(status == 0, 'report on a pty: status {}'.format(status), problems)
        for stage in STAGES:
            expect('linger: ' + stage in tty, 'no {!r} stage on the terminal: {!r}'.format(stage, tty),
                   problems)
        expect('\r' in tty, 'the progress line is not redrawn with \\r: {!r}'.format(tty), problems)
        expect(re.search(r'reading [^\r]*\(\d+%\)', tty), 'reading shows no percentage: {!r}'.format(tty),
               problems)
        # Erased at the end: the last thing on the terminal is a blank line
        # being returned to its start.
        expect(re.search(r'\r +\r$', tty), 'the progress line is not erased at the end: {!r}'.format(
            tty[-200:]), problems)
        rep = open(report, encoding='utf-8', errors='replace').read()
        expect('linger report' in rep and 'linger: reading' not in rep and '\r' not in rep,
               'the report file has progress in it or is not a report: {!r}'.format(rep[:300]), problems)

        status, tty = run_on_pty([args.linger, 'report', '--no-progress', trace], tmp, report)
        expect(status == 0 and tty == '', '--no-progress on a pty: status {}, terminal got {!r}'.format(
            status, tty), problems)

        # Not a terminal: a pipe, then a file.
        r = run([args.linger, 'report', trace], cwd=tmp)
        expect(r.returncode == 0 and r.stderr == b'', 'stderr a pipe: status {}, stderr {!r}'.format(
            r.returncode, text(r.stderr)), problems)
        err_path = os.path.join(tmp, 'stderr.txt')
        with open(err_path, 'wb') as err:
            s = subprocess.run([args.linger, 'report', '--format=json', trace], cwd=tmp, env=clean_env(),
                               stdout=subprocess.DEVNULL, stderr=err, timeout=120)
        got = open(err_path, 'rb').read()
        expect(s.returncode == 0 and got == b'', 'stderr a file: status {}, stderr {!r}'.format(
            s.returncode, got), problems)

        # --progress forces it on a pipe.
        r = run([args.linger, 'report', '--progress', trace], cwd=tmp)
        err = text(r.stderr)
        expect(r.returncode == 0, '--progress: status {}'.format(r.returncode), problems)
        for stage in STAGES:
            expect('\rlinger: ' + stage in err, '--progress: no {!r} stage: {!r}'.format(stage, err),
                   problems)
        expect('linger: ' not in text(r.stdout).replace('linger report', ''),
               '--progress: the report has progress text', problems)
        # A diff reads two snapshots: progress for it too.
        r = run([args.linger, 'report', '--diff', '--progress', trace, trace], cwd=tmp)
        expect(r.returncode == 0 and '\rlinger: reading' in text(r.stderr),
               'report --diff --progress: status {}, stderr {!r}'.format(r.returncode, text(r.stderr)),
               problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


# ----------------------------------------------------------------------------
# errors

def expect_error(args, argv, cwd, want, problems, label, status=1, user=None):
    kw = {}
    if user is not None:
        def drop():
            os.setgid(user)
            os.setuid(user)
        kw['preexec_fn'] = drop
    r = run([args.linger] + argv, cwd=cwd, **kw)
    err = text(r.stderr)
    lines = err.splitlines()
    ok = (r.returncode == status and len(lines) == 1 and lines[0].startswith('linger: error: ')
          and all(w in lines[0] for w in want))
    expect(ok, '{}: want status {} and one line "linger: error: ..." with {!r}; got status {}, stderr {!r}'
           .format(label, status, want, r.returncode, err), problems)


def check_errors(args):
    problems = []
    tmp = tempfile.mkdtemp(prefix='linger-cli-ux-')
    os.chmod(tmp, 0o755)
    try:
        trace = make_trace(args, tmp)
        data = open(trace, 'rb').read()

        elf = os.path.join(tmp, 'program.trace')
        shutil.copyfile(sys.executable, elf)
        head = open(elf, 'rb').read(8)
        hexed = ' '.join('{:02x}'.format(b) for b in head)
        printable = ''.join(chr(b) if 32 <= b < 127 else '.' for b in head)
        expect_error(args, ['report', elf], tmp,
                     [elf + ': not a linger trace', "starts with '{}' ({})".format(hexed, printable),
                      "expected 'LINGERTR'"], problems, 'an ELF file')

        script = os.path.join(tmp, 'script.trace')
        with open(script, 'w') as f:
            f.write('#!/bin/sh\necho hello\n')
        expect_error(args, ['report', '--format=json', script], tmp,
                     [script + ': not a linger trace', "'23 21 2f 62 69 6e 2f 73' (#!/bin/s)"],
                     problems, 'a shell script')

        newer = os.path.join(tmp, 'newer.trace')
        with open(newer, 'wb') as f:
            f.write(data[:8] + struct.pack('<HH', 3, 0) + data[12:])
        expect_error(args, ['report', newer], tmp,
                     [newer + ': trace from a newer linger (format version 3.0)', 'upgrade linger'],
                     problems, 'a trace of format 3.0')

        empty = os.path.join(tmp, 'empty.trace')
        open(empty, 'wb').close()
        expect_error(args, ['report', empty], tmp, [empty + ': the file is empty'], problems, 'empty file')

        directory = os.path.join(tmp, 'traces')
        os.mkdir(directory)
        expect_error(args, ['report', directory], tmp,
                     [directory + ': is a directory', 'ls {}/*.trace'.format(directory)],
                     problems, 'a directory')

        missing = os.path.join(tmp, 'nothere.trace')
        expect_error(args, ['report', missing], tmp,
                     [missing + ': no such file', '`linger report` without a file name', '`ls *.trace`'],
                     problems, 'a missing file')
        expect_error(args, ['report', '--diff', missing], tmp, [missing + ': no such file'],
                     problems, 'a missing file (--diff)')

        # Permission denied: root reads anything, so as root the check runs
        # linger as nobody.
        secret = os.path.join(tmp, 'secret.trace')
        shutil.copyfile(trace, secret)
        os.chmod(secret, 0)
        user = 65534 if os.geteuid() == 0 else None
        expect_error(args, ['report', secret], tmp,
                     [secret + ': permission denied', 'ls -l ' + secret], problems, 'an unreadable file',
                     user=user)

        expect_error(args, ['report', '--frobnicate', trace], tmp, ['--frobnicate'], problems,
                     'an unknown report option', status=2)
        expect_error(args, ['run', '--frobnicate', 'true'], tmp, ['--frobnicate'], problems,
                     'an unknown run option', status=2)
        expect_error(args, ['frobnicate'], tmp, ["unknown command 'frobnicate'"], problems,
                     'an unknown command', status=2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


# ----------------------------------------------------------------------------
# newest

def check_newest(args):
    problems = []
    tmp = tempfile.mkdtemp(prefix='linger-cli-ux-')
    try:
        empty_dir = os.path.join(tmp, 'nothing')
        os.mkdir(empty_dir)
        open(os.path.join(empty_dir, 'notes.txt'), 'w').close()
        os.mkdir(os.path.join(empty_dir, 'dir.trace'))
        want = 'no *.trace file in {}; run `linger run -- COMMAND` first or name a trace'.format(empty_dir)
        for argv in (['report'], ['report', '--diff'], ['report', '--format=json']):
            expect_error(args, argv, empty_dir, [want], problems, 'linger {} with no trace'.format(
                ' '.join(argv)))

        # Two snapshots (the signal's and the exit one) in the newest trace,
        # one in the older ones.
        work = os.path.join(tmp, 'work')
        make_trace(args, work, 'a-old.trace')
        make_trace(args, work, 'z-older.trace')
        make_trace(args, work, 'm-new.trace', code=(
            'import os, signal, time\n'
            'class Grows: pass\n'
            'os.kill(os.getpid(), signal.SIGUSR2)\n'
            'time.sleep(1)\n'
            'keep = [Grows() for _ in range(500)]\n'))
        now = time.time()
        os.utime(os.path.join(work, 'a-old.trace'), (now - 100, now - 100))
        os.utime(os.path.join(work, 'z-older.trace'), (now - 200, now - 200))
        os.utime(os.path.join(work, 'm-new.trace'), (now - 10, now - 10))
        # A directory named *.trace, newer still, is not a trace.
        os.mkdir(os.path.join(work, 'zz-dir.trace'))

        r = run([args.linger, 'report', '--format=json'], cwd=work)
        err = text(r.stderr)
        expect(r.returncode == 0 and err == 'linger: reading m-new.trace\n',
               'report without TRACE: status {}, stderr {!r}'.format(r.returncode, err), problems)
        try:
            path = json.loads(text(r.stdout))['trace']['path']
            expect(path == 'm-new.trace', 'report without TRACE read {}'.format(path), problems)
        except (ValueError, KeyError) as e:
            problems.append('report without TRACE: no JSON report ({})'.format(e))

        r = run([args.linger, 'report', '--diff', '--format=json'], cwd=work)
        err = text(r.stderr)
        expect(r.returncode == 0 and err == 'linger: reading m-new.trace\n',
               'report --diff without TRACE: status {}, stderr {!r}'.format(r.returncode, err), problems)
        out = text(r.stdout)
        expect('Grows' in out, 'report --diff without TRACE: Grows did not grow: {!r}'.format(out[:500]),
               problems)

        # A tie on the modification time: the last by name.
        for name in ('a-old.trace', 'z-older.trace', 'm-new.trace'):
            os.utime(os.path.join(work, name), (now, now))
        r = run([args.linger, 'report'], cwd=work)
        expect(r.returncode == 0 and text(r.stderr) == 'linger: reading z-older.trace\n',
               'a tie: status {}, stderr {!r}'.format(r.returncode, text(r.stderr)), problems)

        # A named trace is read without a word about it.
        r = run([args.linger, 'report', 'a-old.trace'], cwd=work)
        expect(r.returncode == 0 and r.stderr == b'', 'a named trace: status {}, stderr {!r}'.format(
            r.returncode, text(r.stderr)), problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


# ----------------------------------------------------------------------------
# run-env

def check_run_env(args):
    problems = []
    tmp = tempfile.mkdtemp(prefix='linger-cli-ux-')
    try:
        # sh is the root (it writes a trace anyway); `env` is its child, a
        # program that is not Python: it writes one only with --trace-all.
        counts = {}
        for flag in ([], ['--trace-all']):
            d = os.path.join(tmp, 'with' if flag else 'without')
            os.mkdir(d)
            r = run([args.linger, 'run'] + flag + ['--', 'sh', '-c', 'env; true'], cwd=d)
            out = text(r.stdout)
            expect(r.returncode == 0, 'linger run {}: status {}'.format(flag, r.returncode), problems)
            has = 'LINGER_TRACE_ALL=1' in out.splitlines()
            expect(has == bool(flag), 'linger run {}: LINGER_TRACE_ALL=1 {} the environment'.format(
                flag, 'in' if has else 'not in'), problems)
            counts[bool(flag)] = len([n for n in os.listdir(d) if n.endswith('.trace')])
        expect(counts[False] == 1 and counts[True] == 2,
               'traces written: {} without --trace-all (want 1), {} with it (want 2)'.format(
                   counts[False], counts[True]), problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


# ----------------------------------------------------------------------------
# completion

COMPLETION_DRIVER = r'''
source "$1" || exit 3
shift
complete -p linger >/dev/null || { echo "no completion for linger"; exit 4; }
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_linger
printf '%s\n' "${COMPREPLY[@]}"
'''


def check_completion(args):
    problems = []
    bash = shutil.which('bash')
    if bash is None:
        raise SystemExit(SKIP)
    script = os.path.join(args.source_root, 'scripts', 'linger-completion.bash')
    tmp = tempfile.mkdtemp(prefix='linger-cli-ux-')
    try:
        for name in ('b.trace', 'a.trace', 'notes.txt', 'old.json'):
            open(os.path.join(tmp, name), 'w').close()
        os.mkdir(os.path.join(tmp, 'sub'))
        kinds = ['finalizer-keepalive', 'bound-method-cycle', 'weakref-callback-keepalive',
                 'weak-container-keepalive', 'closure-cycle', 'reference-cycle', 'uncollectable',
                 'resurrected', 'leak', 'gc-collected', 'error', 'warning', 'info', 'any']
        cases = [
            (['linger', ''], {'run', 'report', 'help', '--help', '--version'}, 'exact'),
            (['linger', 're'], {'report'}, 'exact'),
            (['linger', 'help', ''], {'run', 'report'}, 'exact'),
            (['linger', 'report', '--f'], {'--format=', '--fail-on='}, 'exact'),
            (['linger', 'report', '--no-'], {'--no-default-suppressions', '--no-progress'}, 'exact'),
            (['linger', 'report', '--'], {'--format=', '--fail-on=', '--suppressions=',
                                          '--no-default-suppressions', '--generate-suppressions',
                                          '--baseline=', '--max-memory=', '--progress', '--no-progress',
                                          '--all', '--instances', '--live-cycles', '--stacks', '--diff',
                                          '--snapshots=', '--output=', '--help'}, 'exact'),
            (['linger', 'report', '--format='], {'--format=' + f for f in
                                                 ('text', 'json', 'dot', 'svg', 'html')}, 'exact'),
            # bash splits at '=' (COMP_WORDBREAKS): replies are bare values.
            (['linger', 'report', '--format', '=', 's'], {'svg'}, 'exact'),
            (['linger', 'report', '--format', '='], {'text', 'json', 'dot', 'svg', 'html'}, 'exact'),
            (['linger', 'report', '--format', 'h'], {'html'}, 'exact'),
            (['linger', 'report', '--fail-on='], {'--fail-on=' + k for k in kinds}, 'exact'),
            (['linger', 'report', '--fail-on=error,clo'], {'--fail-on=error,closure-cycle'}, 'exact'),
            (['linger', 'report', '--fail-on', '=', 'leak,w'],
             {'leak,weakref-callback-keepalive', 'leak,weak-container-keepalive', 'leak,warning'},
             'exact'),
            (['linger', 'report', ''], {'a.trace', 'b.trace', 'sub/'}, 'exact'),
            (['linger', 'report', '--diff', 'a.trace', ''], {'a.trace', 'b.trace', 'sub/'}, 'exact'),
            (['linger', 'report', '--baseline='], {'--baseline=old.json', '--baseline=sub/'}, 'exact'),
            (['linger', 'report', '-o', 'no'], {'notes.txt'}, 'exact'),
            (['linger', 'run', '--'], {'--output=', '--snapshot-signal=', '--snapshot-interval=',
                                       '--native', '--no-native', '--native-depth=', '--python-depth=',
                                       '--no-alloc', '--trace-all', '--redact-keys', '--fail-on=',
                                       '--suppressions=', '--help'}, 'exact'),
            (['linger', 'run', '--snapshot-signal=SIGU'],
             {'--snapshot-signal=SIGUSR1', '--snapshot-signal=SIGUSR2'}, 'exact'),
            (['linger', 'run', '--fail-on=u'], {'--fail-on=uncollectable'}, 'exact'),
            (['linger', 'run', '--', 'pytho'], {'python3'}, 'contains'),
            (['linger', 'run', '--native', '-o', 'x.trace', 'pytho'], {'python3'}, 'contains'),
            (['linger', 'run', '--', 'python3', 'no'], {'notes.txt'}, 'contains'),
        ]
        for words, want, how in cases:
            r = run([bash, '--norc', '--noprofile', '-c', COMPLETION_DRIVER, 'driver', script] + words,
                    cwd=tmp)
            got = set(l for l in text(r.stdout).splitlines() if l)
            ok = r.returncode == 0 and (got == want if how == 'exact' else want <= got)
            expect(ok, 'completing {!r}: want {} {}, got {} (status {}, stderr {!r})'.format(
                ' '.join(words), 'exactly' if how == 'exact' else 'at least', sorted(want), sorted(got),
                r.returncode, text(r.stderr)), problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


# ----------------------------------------------------------------------------
# install

def check_install(args):
    problems = []
    if not args.build:
        raise Failed('--check install needs --build')
    meson = shutil.which('meson')
    if meson is None:
        raise SystemExit(SKIP)
    r = run([meson, 'introspect', '--installed', args.build])
    try:
        installed = json.loads(text(r.stdout))
    except ValueError:
        raise Failed('meson introspect --installed: {!r}'.format(text(r.stdout) + text(r.stderr)))
    by_source = {os.path.realpath(k): v for k, v in installed.items()}
    man = by_source.get(os.path.realpath(os.path.join(args.source_root, 'docs', 'linger.1')))
    expect(man is not None and man.endswith('/man1/linger.1'),
           'linger.1 is installed as {!r}'.format(man), problems)
    comp = by_source.get(os.path.realpath(os.path.join(args.source_root, 'scripts',
                                                       'linger-completion.bash')))
    expect(comp is not None and comp.endswith('/bash-completion/completions/linger'),
           'the completion is installed as {!r}'.format(comp), problems)
    return problems


CHECKS = {'man': check_man, 'help': check_help, 'progress': check_progress, 'errors': check_errors,
          'newest': check_newest, 'run-env': check_run_env, 'completion': check_completion,
          'install': check_install}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--linger', required=True)
    parser.add_argument('--source-root', required=True)
    parser.add_argument('--build')
    parser.add_argument('--python', default='/usr/bin/python3')
    parser.add_argument('--check', required=True, choices=sorted(CHECKS))
    args = parser.parse_args()
    args.linger = os.path.abspath(args.linger)
    try:
        problems = CHECKS[args.check](args)
    except Failed as e:
        problems = [str(e)]
    for p in problems:
        print('FAIL: ' + p)
    if problems:
        print('{}: {} problem(s)'.format(args.check, len(problems)))
        return 1
    print('{}: ok'.format(args.check))
    return 0


if __name__ == '__main__':
    sys.exit(main())
