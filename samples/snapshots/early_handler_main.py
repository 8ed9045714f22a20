# linger-sample: a SIGUSR2 handler installed before the program starts
# Run without -S and with samples/snapshots/early_handler on PYTHONPATH:
# its sitecustomize.py installs a SIGUSR2 handler while site runs, before
# this script (and before linger arms its snapshot signal).  The handler
# must still be the one in place, and be called, when the test sends
# SIGUSR2 (after "ready PID"; it then writes a line); under linger that
# signal also takes a snapshot.

import os
import signal
import sys
import time

import sitecustomize

handler = signal.getsignal(signal.SIGUSR2)
print('handler at start:', getattr(handler, '__name__', handler))
print('ready', os.getpid(), flush=True)
sys.stdin.readline()
deadline = time.monotonic() + 10
while not sitecustomize.calls and time.monotonic() < deadline:
    time.sleep(0.01)
print('early handler calls:', sitecustomize.calls)
