#!/usr/bin/python3
"""The shim's dlopen() must not change what dlopen() finds.

  check_dlopen.py --linger L --shim S [--libpython PATH]

1. A C program whose DT_RUNPATH is $ORIGIN/lib dlopen()s "libfoo.so" by
   its bare name: the C library searches the *caller's* RUNPATH, so a
   wrapper that called dlopen from inside the shim would not find it.
   Checked bare and under the shim (same output and status).
2. With a shared libpython (pyenv's): an embedder that dlopen()s
   "libpythonX.Y.so" by bare name through its RUNPATH, with RTLD_LOCAL,
   and runs a script leaving a bound-method cycle: same output and
   status, and its trace reports the cycle.

Exit status: 0 pass, 1 fail, 77 when there is no C compiler.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

LIBFOO = 'int foo(void) { return 42; }\n'
MAIN = r'''
#include <dlfcn.h>
#include <stdio.h>
int main(void)
{
  void *h = dlopen("libfoo.so", RTLD_NOW);
  if (!h) { printf("dlopen failed: %s\n", dlerror()); return 1; }
  int (*f)(void) = (int (*)(void)) dlsym(h, "foo");
  printf("foo=%d\n", f());
  return 0;
}
'''
EMBED = r'''
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) { printf("dlopen failed: %s\n", dlerror()); return 2; }
  void (*init)(void) = (void (*)(void)) dlsym(h, "Py_Initialize");
  int (*run)(const char *) = (int (*)(const char *)) dlsym(h, "PyRun_SimpleString");
  int (*fini)(void) = (int (*)(void)) dlsym(h, "Py_FinalizeEx");
  init();
  int s = run("class RunpathEmbedded:\n"
              "    def __init__(self):\n"
              "        self.cb = self.m\n"
              "    def m(self):\n"
              "        pass\n"
              "keep = [RunpathEmbedded() for _ in range(3)]\n"
              "print('embedded ok')\n");
  return fini() < 0 ? 3 : (s != 0 ? 4 : 0);
}
'''

failures = []


def expect(cond, what, detail=''):
    print(('ok: ' if cond else 'FAILED: ') + what)
    if not cond:
        failures.append(what)
        if detail:
            print('   ', detail.replace('\n', '\n    '))


def clean_env(shim=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith('LINGER_') and k != 'LD_PRELOAD'}
    if shim:
        env['LD_PRELOAD'] = shim
    return env


def build(cc, out, src, *flags):
    p = subprocess.run([cc, '-o', out, src, *flags, '-ldl'], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
        raise SystemExit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--linger', required=True)
    ap.add_argument('--shim', required=True)
    ap.add_argument('--libpython', help='a shared libpython (default: the newest pyenv one found)')
    a = ap.parse_args()
    cc = shutil.which('cc') or shutil.which('gcc')
    if cc is None:
        print('skip: no C compiler')
        return 77
    tmp = tempfile.mkdtemp(prefix='linger-dlopen-')
    try:
        os.mkdir(os.path.join(tmp, 'lib'))
        with open(os.path.join(tmp, 'foo.c'), 'w') as f:
            f.write(LIBFOO)
        with open(os.path.join(tmp, 'main.c'), 'w') as f:
            f.write(MAIN)
        subprocess.run([cc, '-shared', '-fPIC', '-o', os.path.join(tmp, 'lib', 'libfoo.so'),
                        os.path.join(tmp, 'foo.c')], check=True)
        exe = os.path.join(tmp, 'main')
        build(cc, exe, os.path.join(tmp, 'main.c'), '-Wl,--enable-new-dtags', '-Wl,-rpath,$ORIGIN/lib')
        bare = subprocess.run([exe], capture_output=True, env=clean_env(), cwd=tmp)
        shim = subprocess.run([exe], capture_output=True, env=clean_env(os.path.abspath(a.shim)), cwd=tmp)
        expect(bare.returncode == 0 and bare.stdout == b'foo=42\n', 'bare: dlopen finds libfoo.so by RUNPATH')
        expect(shim.returncode == 0 and shim.stdout == bare.stdout,
               'under the shim: dlopen still searches the caller\'s RUNPATH',
               shim.stdout.decode(errors='replace'))

        lib = a.libpython
        if lib is None:
            found = sorted(glob.glob(os.path.expanduser('~/.pyenv/versions/3.*/lib/libpython3.*.so')))
            lib = found[-1] if found else None
        if lib is None:
            print('note: no shared libpython here: the embedder part is not run')
        else:
            emb = os.path.join(tmp, 'embed')
            with open(os.path.join(tmp, 'embed.c'), 'w') as f:
                f.write(EMBED)
            build(cc, emb, os.path.join(tmp, 'embed.c'), '-Wl,--enable-new-dtags',
                  '-Wl,-rpath,' + os.path.dirname(lib))
            name = os.path.basename(lib)
            bare = subprocess.run([emb, name], capture_output=True, env=clean_env(), cwd=tmp)
            trace = os.path.join(tmp, 'embed.trace')
            env = clean_env(os.path.abspath(a.shim))
            env['LINGER_OUTPUT'] = trace
            shim = subprocess.run([emb, name], capture_output=True, env=env, cwd=tmp)
            expect(bare.returncode == 0 and b'embedded ok' in bare.stdout,
                   'bare: the embedder loads %s by RUNPATH' % name, bare.stdout.decode(errors='replace'))
            expect(shim.returncode == bare.returncode and shim.stdout == bare.stdout,
                   'under the shim: same output and status', shim.stdout.decode(errors='replace'))
            r = subprocess.run([a.linger, 'report', '--format=json', trace], capture_output=True, text=True)
            expect(r.returncode == 0 and 'RunpathEmbedded' in r.stdout and 'bound-method-cycle' in r.stdout,
                   'the embedded interpreter is traced: its bound-method cycle is reported',
                   r.stderr[-500:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failed' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
