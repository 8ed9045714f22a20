#!/usr/bin/python3
"""Security and write-failure checks of the shim, run as a user would.

  check_security.py --linger L --shim S --python P --check NAME

NAME is one of:
  mode        traces are 0600, whatever the umask
  symlink     a symlink planted under the trace's name (the default name,
              and a name given with LINGER_OUTPUT) is never followed: the
              file it points to is unchanged
  pid-reuse   an earlier trace under the same name is never overwritten
  replace     --output replaces an earlier regular file of ours
  secrets     a trace holds no value of a string, bytes, int or float of
              the program; dict keys are cut to 60 bytes
  redact      with --redact-keys, no dict key and no argument either, and
              the report still names attributes
  setgid      a setgid program is left untouched (no trace, same output)
  unwritable  a trace that cannot be created: the program runs as without
              linger and linger says so once on stderr
  disk-full   a full file system (a 64 KiB tmpfs in a user namespace):
              same output and status, one line on stderr, and a trace that
              reads up to the cut, marked incomplete
  file-size   RLIMIT_FSIZE: the trace stops at the limit instead of the
              kernel killing the program with SIGXFSZ

Each check prints what it verified and exits 0, 1 on a failure, 77 when it
cannot run here (not root, no user namespaces).
"""
import argparse
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile

SKIP = 77

SECRET_PROGRAM = r'''
import sys
TOKEN = "sk-live-SECRETTOKEN-0123456789abcdef"
class Holder:
    def __init__(self):
        self.token = TOKEN
        self.blob = b"BYTES-SECRET-PAYLOAD-xyz"
        self.number = 987654321987654321
        self.ratio = 2.718281828459045
        self.cb = self.on_event
        self.sessions = {
            "session-key-VISIBLEKEY-" + "k" * 60 + "-TAILOFKEY": TOKEN,
            "API-KEY-NAME-SHORT": "VALUE-OF-API-KEY-42",
        }
    def on_event(self):
        pass
keep = Holder()
print("secret program ok")
'''

CYCLE_PROGRAM = r'''
import sys
class Node:
    def __init__(self):
        self.cb = self.ping
        self.items = [bytes(100) for _ in range(200)]
    def ping(self):
        pass
keep = [Node() for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 50)]
print("cycle program ok", len(keep))
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
'''


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)
    print('ok:', what)


def env_with(shim, **extra):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith('LINGER_'):
            del env[k]
    env.pop('LD_PRELOAD', None)
    if shim:
        env['LD_PRELOAD'] = shim
    env.update(extra)
    return env


def run(argv, env, cwd, preexec=None):
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, preexec_fn=preexec, timeout=120)


def write(path, text):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def traces_in(d):
    return sorted(n for n in os.listdir(d) if n.endswith('.trace'))


def linger_lines(stderr):
    return [l for l in stderr.decode(errors='replace').splitlines() if l.startswith('linger:')]


def report(linger, trace, cwd, *opts):
    r = subprocess.run([linger, 'report', *opts, trace], cwd=cwd, capture_output=True, timeout=120)
    return r.returncode, r.stdout.decode(errors='replace'), r.stderr.decode(errors='replace')


def check_mode(a, tmp):
    prog = os.path.join(tmp, 'cycle.py')
    write(prog, CYCLE_PROGRAM)
    old = os.umask(0)   # the most permissive umask: the shim's own mode must still win
    try:
        r = run([a.python, prog], env_with(a.shim), tmp)
        r2 = run([a.linger, 'run', '--output', os.path.join(tmp, 'named.trace'), '--', a.python, prog],
                 env_with(None), tmp)
    finally:
        os.umask(old)
    expect(r.returncode == 0 and r2.returncode == 0, 'programs ran (status %d, %d)' % (r.returncode, r2.returncode))
    names = traces_in(tmp)
    expect(len(names) == 2, 'two traces written: %s' % names)
    for n in names:
        mode = stat.S_IMODE(os.lstat(os.path.join(tmp, n)).st_mode)
        expect(mode == 0o600, '%s has mode %o (umask 0)' % (n, mode))


def check_symlink(a, tmp):
    prog = os.path.join(tmp, 'cycle.py')
    write(prog, CYCLE_PROGRAM)
    victim = os.path.join(tmp, 'victim.txt')
    write(victim, 'precious\n')
    bare = run([a.python, prog, '5', '3'], env_with(None), tmp)

    # The default name linger.python3.<pid>.trace: the pid is known in
    # advance through a shell that execs the interpreter (same pid).
    program = os.path.basename(a.python)
    script = 'ln -s %s linger.%s.$$.trace && exec "$0" "$@"' % (victim, program)
    r = run(['sh', '-c', script, a.python, prog, '5', '3'], env_with(a.shim), tmp)
    expect(r.returncode == bare.returncode == 3, 'exit status unchanged (%d)' % r.returncode)
    expect(r.stdout == bare.stdout, 'output unchanged')
    with open(victim, encoding='utf-8') as f:
        expect(f.read() == 'precious\n', 'the symlink target is untouched (default name)')
    links = [n for n in traces_in(tmp) if os.path.islink(os.path.join(tmp, n))]
    regular = [n for n in traces_in(tmp) if not os.path.islink(os.path.join(tmp, n))]
    expect(len(links) == 1 and len(regular) == 1 and regular[0].endswith('.1.trace'),
           'the trace went to another name beside the planted link: %s' % regular)
    code, out, err = report(a.linger, regular[0], tmp)
    expect(code == 0 and 'bound-method-cycle' in out, 'that trace is a complete report')

    # A name given with LINGER_OUTPUT / --output that is a symlink.
    link = os.path.join(tmp, 'named.trace')
    os.symlink(victim, link)
    r = run([a.linger, 'run', '--output', link, '--', a.python, prog, '5', '3'], env_with(None), tmp)
    expect(r.returncode == 3 and r.stdout == bare.stdout, 'linger run: program status and output unchanged')
    with open(victim, encoding='utf-8') as f:
        expect(f.read() == 'precious\n', 'the symlink target is untouched (--output)')
    lines = linger_lines(r.stderr)
    expect(any('refusing to write trace' in l and 'symbolic link' in l for l in lines),
           'linger says why: %s' % lines)


def check_pid_reuse(a, tmp):
    prog = os.path.join(tmp, 'cycle.py')
    write(prog, CYCLE_PROGRAM)
    program = os.path.basename(a.python)
    # An earlier trace under the very name this process would use.
    script = 'echo EARLIER > linger.%s.$$.trace && exec "$0" "$@"' % program
    r = run(['sh', '-c', script, a.python, prog, '5'], env_with(a.shim), tmp)
    expect(r.returncode == 0, 'program ran')
    names = traces_in(tmp)
    expect(len(names) == 2, 'a second trace beside the earlier one: %s' % names)
    earlier = [n for n in names if not n.endswith('.1.trace')]
    with open(os.path.join(tmp, earlier[0]), encoding='utf-8', errors='replace') as f:
        expect(f.read() == 'EARLIER\n', 'the earlier trace is untouched')
    code, out, _ = report(a.linger, [n for n in names if n.endswith('.1.trace')][0], tmp)
    expect(code == 0 and 'bound-method-cycle' in out, 'the new trace is complete')


def check_replace(a, tmp):
    prog = os.path.join(tmp, 'cycle.py')
    write(prog, CYCLE_PROGRAM)
    out = os.path.join(tmp, 'out.trace')
    write(out, 'OLD CONTENT\n')
    os.chmod(out, 0o644)
    r = run([a.linger, 'run', '--output', out, '--', a.python, prog, '5'], env_with(None), tmp)
    expect(r.returncode == 0, 'program ran')
    mode = stat.S_IMODE(os.lstat(out).st_mode)
    expect(mode == 0o600, 'the replaced trace is 0600 (was 0644): %o' % mode)
    code, text, _ = report(a.linger, out, tmp)
    expect(code == 0 and 'bound-method-cycle' in text, 'the earlier file of ours was replaced by the trace')


def trace_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def check_secrets(a, tmp):
    prog = os.path.join(tmp, 'secret.py')
    write(prog, SECRET_PROGRAM)
    out = os.path.join(tmp, 's.trace')
    r = run([a.linger, 'run', '--output', out, '--', a.python, prog, '--password=hunter2-ARG'],
            env_with(None), tmp)
    expect(r.returncode == 0 and b'secret program ok' in r.stdout, 'program ran')
    data = trace_bytes(out)
    for value in (b'SECRETTOKEN', b'BYTES-SECRET-PAYLOAD', b'987654321987654321', b'2.718281828',
                  b'VALUE-OF-API-KEY-42', b'TAILOFKEY'):
        expect(value not in data, 'no %r in the trace' % value.decode())
    expect(b'session-key-VISIBLEKEY' in data, 'dict keys are kept, cut short (60 bytes)')
    expect(b'hunter2-ARG' in data, 'the command line is kept without --redact-keys')
    code, text, _ = report(a.linger, out, tmp)
    expect(code == 0 and 'Holder.cb' in text, 'the report names the attribute')


def check_redact(a, tmp):
    prog = os.path.join(tmp, 'secret.py')
    write(prog, SECRET_PROGRAM)
    out = os.path.join(tmp, 'r.trace')
    r = run([a.linger, 'run', '--redact-keys', '--output', out, '--', a.python, prog, '--password=hunter2-ARG'],
            env_with(None), tmp)
    expect(r.returncode == 0 and b'secret program ok' in r.stdout, 'program ran')
    data = trace_bytes(out)
    for value in (b'SECRETTOKEN', b'VISIBLEKEY', b'API-KEY-NAME-SHORT', b'hunter2-ARG'):
        expect(value not in data, 'no %r in the trace' % value.decode())
    expect(b'sessions' in data and b'on_event' in data, 'attribute and function names are kept')
    code, text, _ = report(a.linger, out, tmp)
    expect(code == 0 and 'Holder.cb' in text and 'bound-method-cycle' in text,
           'the report still finds the cycle and names the attribute')


def check_setgid(a, tmp):
    if os.geteuid() != 0:
        print('skip: making a setgid program needs root')
        return SKIP
    src = os.path.join(tmp, 'prog.c')
    write(src, '#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n'
               'int main(void){ char *p = malloc(64); (void)p;\n'
               '  printf("egid=%d gid=%d\\n", (int) getegid(), (int) getgid()); return 6; }\n')
    exe = os.path.join(tmp, 'prog')
    cc = shutil.which('cc') or shutil.which('gcc')
    if cc is None:
        print('skip: no C compiler')
        return SKIP
    subprocess.run([cc, '-O0', '-o', exe, src], check=True)
    os.chown(exe, 0, 65534)
    os.chmod(exe, 0o2755)
    os.chmod(tmp, 0o755)
    bare = run([exe], env_with(None), tmp)
    r = run([exe], env_with(a.shim, LINGER_NATIVE='1', LINGER_TRACE_ALL='1'), tmp)
    expect(bare.returncode == 6 and r.returncode == 6, 'exit status unchanged')
    expect(r.stdout == bare.stdout and b'egid=65534' in r.stdout, 'output unchanged (the program is setgid)')
    expect(traces_in(tmp) == [], 'no trace of the setgid process')
    expect(linger_lines(r.stderr) == [], 'linger says nothing')


def check_unwritable(a, tmp):
    prog = os.path.join(tmp, 'cycle.py')
    write(prog, CYCLE_PROGRAM)
    bare = run([a.python, prog, '20', '4'], env_with(None), tmp)
    missing = os.path.join(tmp, 'no', 'such', 'dir', 't.trace')
    r = run([a.python, prog, '20', '4'], env_with(a.shim, LINGER_OUTPUT=missing), tmp)
    expect(r.returncode == bare.returncode == 4, 'exit status unchanged (%d)' % r.returncode)
    expect(r.stdout == bare.stdout, 'output unchanged')
    lines = linger_lines(r.stderr)
    expect(len(lines) == 1 and 'cannot create trace' in lines[0] and 'not recorded' in lines[0],
           'one line on stderr says what was lost: %s' % lines)
    # A read-only directory: root ignores permissions, so a read-only
    # tmpfs in a user namespace when there is one.
    if shutil.which('unshare') and subprocess.run(['unshare', '-rm', 'true']).returncode == 0:
        ro = os.path.join(tmp, 'ro')
        os.mkdir(ro)
        script = ('mount -t tmpfs -o ro,size=64k tmpfs "$1" && cd "$1" && shift && exec "$@"')
        r = run(['unshare', '-rm', 'sh', '-c', script, 'sh', ro, a.python, prog, '20', '4'],
                env_with(a.shim), tmp)
        expect(r.returncode == 4 and r.stdout == bare.stdout, 'read-only directory: status and output unchanged')
        lines = linger_lines(r.stderr)
        expect(len(lines) == 1 and 'Read-only file system' in lines[0], 'read-only directory: one line: %s' % lines)


def check_disk_full(a, tmp):
    if not shutil.which('unshare') or subprocess.run(['unshare', '-rm', 'true']).returncode != 0:
        print('skip: no user namespaces here (unshare -rm) to mount a small tmpfs')
        return SKIP
    prog = os.path.join(tmp, 'cycle.py')
    write(prog, CYCLE_PROGRAM)
    bare = run([a.python, prog, '3000', '5'], env_with(None), tmp)
    full = os.path.join(tmp, 'full')
    os.mkdir(full)
    keep = os.path.join(tmp, 'kept.trace')
    # The trace is copied out before the namespace (and its tmpfs) ends.
    script = ('mount -t tmpfs -o size=64k tmpfs "$1" && cd "$1" && keep="$2" && shift 2 && '
              '"$@"; s=$?; cp linger.*.trace "$keep"; exit $s')
    r = run(['unshare', '-rm', 'sh', '-c', script, 'sh', full, keep, a.python, prog, '3000', '5'],
            env_with(a.shim), tmp)
    expect(r.returncode == bare.returncode == 5, 'exit status unchanged (%d)' % r.returncode)
    expect(r.stdout == bare.stdout, 'output unchanged')
    lines = linger_lines(r.stderr)
    expect(len(lines) == 1 and 'No space left on device' in lines[0] and 'incomplete' in lines[0],
           'one line on stderr says what was lost: %s' % lines)
    code, text, err = report(a.linger, keep, tmp)
    expect(code == 0 and 'incomplete' in text, 'the cut trace reads, marked incomplete')


def check_file_size(a, tmp):
    prog = os.path.join(tmp, 'cycle.py')
    write(prog, CYCLE_PROGRAM)
    bare = run([a.python, prog, '3000', '5'], env_with(None), tmp)
    limit = 64 * 1024

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = os.path.join(tmp, 'f.trace')
    r = run([a.python, prog, '3000', '5'], env_with(a.shim, LINGER_OUTPUT=out), tmp, preexec=cap)
    expect(r.returncode == bare.returncode == 5, 'not killed by SIGXFSZ: status %d' % r.returncode)
    expect(r.stdout == bare.stdout, 'output unchanged')
    expect(os.path.getsize(out) == limit, 'the trace stops at the limit (%d bytes)' % os.path.getsize(out))
    lines = linger_lines(r.stderr)
    expect(len(lines) == 1 and 'File too large' in lines[0], 'one line on stderr: %s' % lines)
    code, text, _ = report(a.linger, out, tmp)
    expect(code == 0 and 'incomplete' in text, 'the cut trace reads, marked incomplete')


CHECKS = {
    'mode': check_mode, 'symlink': check_symlink, 'pid-reuse': check_pid_reuse, 'replace': check_replace,
    'secrets': check_secrets, 'redact': check_redact, 'setgid': check_setgid,
    'unwritable': check_unwritable, 'disk-full': check_disk_full, 'file-size': check_file_size,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--linger', required=True)
    p.add_argument('--shim', required=True)
    p.add_argument('--python', default='/usr/bin/python3')
    p.add_argument('--check', required=True, choices=sorted(CHECKS))
    a = p.parse_args()
    a.linger = os.path.abspath(a.linger)
    a.shim = os.path.abspath(a.shim)
    tmp = tempfile.mkdtemp(prefix='linger-sec-')
    try:
        status = CHECKS[a.check](a, tmp)
    except Failed as e:
        print('FAILED:', e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return status or 0


if __name__ == '__main__':
    sys.exit(main())
