# Put on PYTHONPATH by the own-handler test: site imports this module
# before the main program runs, that is, before linger arms its snapshot
# signal, and it installs a SIGUSR2 handler of its own then.
import signal

calls = []


def early(signum, frame):
    calls.append(signum == signal.SIGUSR2)


signal.signal(signal.SIGUSR2, early)
