"""Host-behaviour scenarios for tests/check_host.py.

    python3 scenario.py SCENARIO [ARG...]

Each scenario prints only what is the same from run to run (no pid, no
address, no timing), so that its output under linger can be compared
byte for byte with its output without.  Most leave a bound-method cycle
on purpose (a class named after the process that made it) so that each
trace can be checked for its own process's finding.  Runs on 3.8+.
"""

import gc
import os
import sys


def make_cycle_class(name):
    """A class whose instances hold a bound method of themselves."""
    def __init__(self):
        self.callback = self.on_event
        self.payload = [bytearray(64) for _ in range(16)]

    def on_event(self):
        return len(self.payload)

    return type(name, (), {'__init__': __init__, 'on_event': on_event})


KEEP = []


def leave_cycle(name, live=True):
    """One bound-method cycle of class NAME: held by a global if live,
    else garbage (only the cyclic GC can free it)."""
    obj = make_cycle_class(name)()
    if live:
        KEEP.append(obj)
    return obj.callback()


def work(n=20000, seed=1):
    """Allocations of the usual kinds; returns a checksum."""
    total = 0
    box = []
    for i in range(n):
        d = {'i': i, 's': str(i * seed)}
        lst = [i, d, (i, seed)]
        box.append(lst)
        if len(box) > 100:
            total += sum(len(x[1]['s']) for x in box)
            box = []
    return total


def out(*args):
    print(*args)
    sys.stdout.flush()


# ----------------------------------------------------------------------------
# Processes


def sc_fork_exit():
    """os.fork children: one ends with os._exit, one with sys.exit."""
    out('parent start')
    pid = os.fork()
    if pid == 0:
        leave_cycle('ForkChildUnderscore')
        out('child 1 work', work(seed=2))
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    out('child 1 status', os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
    pid = os.fork()
    if pid == 0:
        leave_cycle('ForkChildSysExit')
        out('child 2 work', work(seed=3))
        sys.exit(5)
    _, status = os.waitpid(pid, 0)
    out('child 2 status', os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
    leave_cycle('ForkParent')
    out('parent work', work())


def sc_fork_exec():
    """os.fork then os.execv of another interpreter run of this file."""
    out('parent start')
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), 'exec_child'])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    out('exec child status', os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
    leave_cycle('ExecParent')
    out('parent work', work())


def sc_exec_child():
    leave_cycle('ExecChild')
    out('exec child work', work(seed=5))
    sys.exit(6)


def square_work(n):
    return n * n + work(2000, seed=n) % 7


def run_pool(method):
    import multiprocessing
    ctx = multiprocessing.get_context(method)
    pool = ctx.Pool(2)
    results = pool.map(square_work, range(20))
    pool.close()
    pool.join()
    out(method, 'results', results)
    leave_cycle('PoolParent')


def sc_mp_fork():
    run_pool('fork')


def sc_mp_spawn():
    run_pool('spawn')


def sc_mp_forkserver():
    run_pool('forkserver')


def sc_chain(level='0'):
    """python -> python -> python, each with a cycle of its own class."""
    import subprocess
    level = int(level)
    leave_cycle('ChainLevel{}'.format(level))
    out('level', level, 'work', work(seed=level + 1))
    if level < 2:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), 'chain', str(level + 1)])
        out('level', level, 'child status', r.returncode)
    return 0


# ----------------------------------------------------------------------------
# Ways to end


def sc_os_exit():
    leave_cycle('OsExit')
    out('before os._exit', work())
    os._exit(3)


def sc_sys_exit():
    leave_cycle('SysExit')
    out('before sys.exit', work())
    sys.exit(4)


def sc_thread_sys_exit():
    import threading
    seen = []

    def body():
        seen.append(work(5000))
        sys.exit(9)          # ends this thread only
        seen.append('not reached')

    t = threading.Thread(target=body)
    t.start()
    t.join()
    leave_cycle('ThreadSysExit')
    out('thread ended', seen, 'main still running', work())


def sc_exception():
    leave_cycle('Uncaught')
    out('before raise', work())

    def inner():
        raise ValueError('deliberate failure')
    inner()


def snapshot_first(flag):
    """With 'snapshot': a SIGUSR2 handler of the program's own, then
    SIGUSR2 to itself, so that under linger a snapshot is in the trace
    before the process is killed (the handler runs alike with and without
    linger; linger's snapshot thread writes the snapshot meanwhile)."""
    if flag != 'snapshot':
        return
    import signal
    import time
    calls = []
    signal.signal(signal.SIGUSR2, lambda signum, frame: calls.append(signum))
    os.kill(os.getpid(), signal.SIGUSR2)
    for _ in range(20):     # let the snapshot thread take its snapshot
        time.sleep(0.05)
    out('own SIGUSR2 handler calls', len(calls))


def sc_sigterm(flag=None):
    import signal
    leave_cycle('Sigterm')
    out('before SIGTERM', work())
    snapshot_first(flag)
    os.kill(os.getpid(), signal.SIGTERM)
    import time
    time.sleep(5)
    out('not reached')


def sc_sigkill(flag=None):
    import signal
    leave_cycle('Sigkill')
    out('before SIGKILL', work())
    snapshot_first(flag)
    os.kill(os.getpid(), signal.SIGKILL)
    import time
    time.sleep(5)
    out('not reached')


def sc_abort(flag=None):
    leave_cycle('Abort')
    out('before abort', work())
    snapshot_first(flag)
    os.abort()


def sc_segv(flag=None):
    import ctypes
    leave_cycle('Segv')
    out('before segfault', work())
    snapshot_first(flag)
    ctypes.string_at(0)
    out('not reached')


# ----------------------------------------------------------------------------
# Interplay with what the program does itself


def sc_tracemalloc():
    import tracemalloc
    if tracemalloc.is_tracing():
        out('tracing before start: unexpected')
        return 2
    tracemalloc.start(5)
    before, _ = tracemalloc.get_traced_memory()
    blocks = [bytearray(1000) for _ in range(2000)]  # tracemalloc-site
    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    tb = tracemalloc.get_object_traceback(blocks[7])
    tracemalloc.stop()
    after_stop = tracemalloc.is_tracing()
    this_file = os.path.abspath(__file__)
    with open(this_file) as f:
        site_line = next(n for n, line in enumerate(f, 1) if line.rstrip().endswith('# tracemalloc-site')
                         and 'blocks' in line)
    stats = snapshot.filter_traces([tracemalloc.Filter(True, this_file)]).statistics('lineno')
    at_site = [s for s in stats if s.traceback[0].lineno == site_line]
    checks = {
        'one site line': len(at_site) == 1,
        'site >= 2000 blocks': bool(at_site) and at_site[0].count >= 2000,
        'site >= 2 MB': bool(at_site) and at_site[0].size >= 2000 * 1000,
        'traced memory grew': current - before >= 2000 * 1000,
        'peak >= current': peak >= current,
        'object traceback at site': tb is not None and tb[-1].lineno == site_line
        if sys.version_info >= (3, 7) else True,
        'stopped': not after_stop,
    }
    for k, v in checks.items():
        out('tracemalloc', k, v)
    del blocks
    leave_cycle('Tracemalloc')
    return 0 if all(checks.values()) else 2


def sc_gc_disable():
    gc.disable()
    for _ in range(50):
        leave_cycle('GcDisabledGarbage', live=False)
    out('gc enabled', gc.isenabled(), 'work', work())
    out('gc enabled at end', gc.isenabled())


def sc_gc_freeze():
    leave_cycle('GcFrozen')
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    for _ in range(10):
        leave_cycle('AfterFreezeGarbage', live=False)
    collected = gc.collect()
    out('frozen > 0', frozen > 0, 'collected >= 10 cycles', collected >= 10 * 3)
    gc.unfreeze()
    out('unfrozen', gc.get_freeze_count() == 0, 'work', work())


def sc_profile():
    import threading
    counts = {}

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def prof(frame, event, arg):
        if frame.f_code is fib.__code__:
            counts[('profile', event)] = counts.get(('profile', event), 0) + 1

    def tracer(frame, event, arg):
        if frame.f_code is fib.__code__:
            counts[('trace', event)] = counts.get(('trace', event), 0) + 1
            return tracer
        return None

    sys.setprofile(prof)
    fib(15)
    sys.setprofile(None)
    sys.settrace(tracer)
    fib(12)
    sys.settrace(None)
    calls15 = 1973   # calls of fib(15)
    calls12 = 465
    ok = (counts.get(('profile', 'call')) == calls15 and counts.get(('profile', 'return')) == calls15
          and counts.get(('trace', 'call')) == calls12 and counts.get(('trace', 'return')) == calls12)
    out('profile/trace counts', sorted(counts.items()), 'ok', ok)
    # A profiler on other threads too.
    seen = []
    threading.setprofile(lambda f, e, a: seen.append(e) if f.f_code is fib.__code__ else None)
    t = threading.Thread(target=fib, args=(5,))
    t.start()
    t.join()
    threading.setprofile(None)
    out('thread profile calls', seen.count('call'))
    leave_cycle('Profiled')
    return 0 if ok and seen.count('call') == 15 else 2


def sc_faulthandler():
    import faulthandler
    faulthandler.enable()
    out('faulthandler enabled', faulthandler.is_enabled())

    def deep(n):
        if n == 0:
            faulthandler.dump_traceback(file=sys.stdout, all_threads=False)
            sys.stdout.flush()
            return 0
        return deep(n - 1)

    deep(3)
    faulthandler.disable()
    faulthandler.enable(file=sys.stderr, all_threads=True)
    leave_cycle('FaultHandlerOn')
    out('work', work(), 'enabled', faulthandler.is_enabled())


def sc_own_signals():
    import signal
    calls = []

    def on_usr1(signum, frame):
        calls.append(('usr1', signum == signal.SIGUSR1))

    def on_int(signum, frame):
        calls.append(('int', signum == signal.SIGINT))

    signal.signal(signal.SIGUSR1, on_usr1)
    out('handler kept', signal.getsignal(signal.SIGUSR1) is on_usr1)
    for _ in range(3):
        signal.raise_signal(signal.SIGUSR1)
    # Python's own SIGINT handler: KeyboardInterrupt.
    try:
        signal.raise_signal(signal.SIGINT)
        out('no KeyboardInterrupt')
    except KeyboardInterrupt:
        out('KeyboardInterrupt raised')
    signal.signal(signal.SIGINT, on_int)
    signal.raise_signal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.raise_signal(signal.SIGINT)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    signal.raise_signal(signal.SIGUSR1)
    out('calls', calls)
    out('SIGUSR1 now', signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN)
    leave_cycle('OwnSignals')
    return 0 if calls == [('usr1', True)] * 3 + [('int', True)] else 2


def sc_workload():
    """Plain work: for PYTHONMALLOC=..., -X dev, -I, -E."""
    import warnings
    out('flags', sys.flags.isolated, sys.flags.ignore_environment, sys.flags.dev_mode,
        'PYTHONMALLOC' in os.environ)
    out('path[0] is script dir', sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
    out('HOST_MARKER seen', 'HOST_MARKER' in os.environ)
    leave_cycle('Workload')
    leave_cycle('WorkloadGarbage', live=False)
    out('work', work(50000))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        open(os.devnull).close()
        warnings.warn('a user warning', UserWarning)
    out('warnings', [str(x.message) for x in w])


def sc_subinterp():
    mod = None
    for name in ('_interpreters', '_xxsubinterpreters'):
        try:
            mod = __import__(name)
            break
        except ImportError:
            continue
    if mod is None or sys.version_info < (3, 12):
        out('SKIP no subinterpreter module')
        return 77
    code = ('class Sub:\n'
            '    def __init__(self): self.cb = self.run\n'
            '    def run(self): return 1\n'
            'keep = [Sub() for _ in range(10)]\n'
            'data = [dict(a=i) for i in range(20000)]\n'
            'del data\n')
    results = []
    for _ in range(2):
        interp = mod.create()
        r = mod.run_string(interp, code)
        results.append(r is None or r == (None, None) or not r)
        mod.destroy(interp)
    leave_cycle('MainInterp')
    out('subinterpreters ran', results, 'work', work())
    return 0


def sc_threads():
    import threading
    n_threads, per_thread = 8, 200000
    results = [None] * n_threads
    barrier = threading.Barrier(n_threads + 1)

    class Item:
        __slots__ = ('a', 'b')

        def __init__(self, a, b):
            self.a = a
            self.b = b

    def body(k):
        barrier.wait()
        keep = []
        total = 0
        for i in range(per_thread // 4):   # 4 allocations a round
            lst = [i, k]
            d = {'k': k}
            o = Item(lst, d)
            s = (i, o)
            keep.append(s)
            if len(keep) >= 64:
                total += sum(x[1].a[0] for x in keep)
                keep = []
        results[k] = total

    threads = [threading.Thread(target=body, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    barrier.wait()
    main_total = work(50000)
    for t in threads:
        t.join()
    leave_cycle('Threads')
    out('threads', results, 'main', main_total)


SCENARIOS = {name[3:]: fn for name, fn in globals().items() if name.startswith('sc_')}

if __name__ == '__main__':
    status = SCENARIOS[sys.argv[1].replace('-', '_')](*sys.argv[2:])
    sys.exit(status or 0)
