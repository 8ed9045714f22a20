# linger-sample: a program with its own SIGUSR2 handlers
# linger takes snapshots on SIGUSR2, but a program that uses SIGUSR2
# itself must not notice: it sees the disposition it inherited, its own
# handlers are called with the right signal number, it can replace them
# and ignore the signal, and its output and exit status do not change.
#
# Driven by the test through standard input and output: each time the
# program prints "ready PID", the test sends it SIGUSR2 (and, under
# linger, waits for the snapshot in the trace), then writes a line.
#   1. prints the disposition it started with (SIG_DFL normally;
#      SIG_IGN when the test starts it with SIGUSR2 ignored);
#   2. installs a handler at start-up; signal;
#   3. after some work replaces it with a second handler, checking that
#      signal.signal() returns the first one; signal;
#   4. ignores the signal (SIG_IGN); signal;
#   5. exits with status 7.
# After each line it waits until its handler has run (the handler runs
# when the main thread next executes Python code), so its output does not
# depend on timing.

import os
import signal
import sys
import time

calls = []


def name(handler):
    if handler is signal.SIG_DFL:
        return 'SIG_DFL'
    if handler is signal.SIG_IGN:
        return 'SIG_IGN'
    if handler is None:
        return 'None'
    return getattr(handler, '__name__', repr(handler))


def first(signum, frame):
    calls.append(('first', signum == signal.SIGUSR2))


def second(signum, frame):
    calls.append(('second', signum == signal.SIGUSR2))


def signalled(expected_calls):
    print('ready', os.getpid(), flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + 10
    while len(calls) < expected_calls and time.monotonic() < deadline:
        time.sleep(0.01)


print('initial disposition:', name(signal.getsignal(signal.SIGUSR2)))

previous = signal.signal(signal.SIGUSR2, first)
print('replaced at start-up:', name(previous))
signalled(1)
print('calls after the first signal:', calls)

sum(range(100000))      # "after start-up": some work first
previous = signal.signal(signal.SIGUSR2, second)
print('replaced later:', name(previous))
print('current:', name(signal.getsignal(signal.SIGUSR2)))
signalled(2)
print('calls after the second signal:', calls)

previous = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
print('ignoring, replaced:', name(previous))
signalled(2)
print('calls after the ignored signal:', calls)
print('final disposition:', name(signal.getsignal(signal.SIGUSR2)))
sys.stdout.flush()
sys.exit(7)
