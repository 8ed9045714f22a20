# linger-sample: weakref.ref(self, self._forget) -- the callback is a bound method of its referent
# Each Worker registers a weak reference to itself in a module-level
# set, with a callback meant to remove the entry once the worker is
# gone.  But the callback is a bound method of the worker: the set
# holds the weak reference, the weak reference holds its callback, the
# callback's __self__ is the worker.  No worker is ever freed, and the
# set only grows.
#
# linger-expect: weakref-callback-keepalive __main__.Worker count=3 state=garbage
# linger-expect-not: bound-method-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports

LIVE_WORKERS = set()


class Worker:

    def __init__(self, name):
        self.name = name
        LIVE_WORKERS.add(weakref.ref(self, self._forget))    # wrong: keeps self

    def _forget(self, ref):
        LIVE_WORKERS.discard(ref)


def run_jobs():
    refs = []
    for name in ('fetch', 'parse', 'store'):
        worker = Worker(name)
        refs.append(weakref.ref(worker))
    return refs


refs = run_jobs()
gc.collect()
print('workers alive after the jobs:', sum(1 for r in refs if r() is not None))
print('registered workers:', len(LIVE_WORKERS))
del refs
