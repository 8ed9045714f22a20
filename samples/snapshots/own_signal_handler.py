# linger-sample: a program with its own SIGUSR2 handlers
# linger takes snapshots on SIGUSR2, but a program that uses SIGUSR2
# itself must not notice: it sees the disposition it inherited, its own
# handlers are called with the right signal number, it can replace them
# and ignore the signal, and its output and exit status do not change.
# The program signals itself, so the test needs no timing:
#   1. prints the disposition it started with (SIG_DFL normally;
#      SIG_IGN when the test starts it with SIGUSR2 ignored);
#   2. installs a handler at start-up and sends itself SIGUSR2;
#   3. later replaces it with a second handler, checks that
#      signal.signal() returned the first one, and signals again;
#   4. ignores the signal (SIG_IGN) and signals once more;
#   5. exits with status 7.
# Under linger each of the three signals also takes a snapshot.

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


def signal_self_and_wait(expected_calls):
    os.kill(os.getpid(), signal.SIGUSR2)
    deadline = time.monotonic() + 10
    while len(calls) < expected_calls and time.monotonic() < deadline:
        time.sleep(0.01)


print('initial disposition:', name(signal.getsignal(signal.SIGUSR2)))

previous = signal.signal(signal.SIGUSR2, first)
print('replaced at start-up:', name(previous))
signal_self_and_wait(1)
print('calls after the first signal:', calls)

sum(range(100000))      # "after start-up": some work first
previous = signal.signal(signal.SIGUSR2, second)
print('replaced later:', name(previous))
print('current:', name(signal.getsignal(signal.SIGUSR2)))
signal_self_and_wait(2)
print('calls after the second signal:', calls)

previous = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
print('ignoring, replaced:', name(previous))
os.kill(os.getpid(), signal.SIGUSR2)
time.sleep(0.1)
print('calls after the ignored signal:', calls)
print('final disposition:', name(signal.getsignal(signal.SIGUSR2)))
sys.stdout.flush()
sys.exit(7)
