# linger-sample: finalize(self, release, self._handle) -- the finalizer gets only the resource (clean)
# The right way to write finalize_bound_method.py: the finalizer's
# function is a plain function and its only argument is the resource
# (a Handle that knows nothing of its owner), so the owner is freed as
# soon as it is dropped and the handle is released then.  A builtin
# function with a plain value as argument is fine too.
#
# linger-expect-none

import gc
import weakref


class Handle:

    def __init__(self, number):
        self.number = number
        self.open = True


def release(handle):
    handle.open = False
    print('released handle {}'.format(handle.number))


class File:

    def __init__(self, number):
        self._handle = Handle(number)
        self._finalizer = weakref.finalize(self, release, self._handle)


class Counter:
    pass


def main():
    handles = []
    for number in (1, 2):
        f = File(number)
        handles.append(f._handle)
        del f
    print('handles still open:', sum(1 for h in handles if h.open))

    counter = Counter()
    weakref.finalize(counter, print, 'counter finalized')
    del counter


main()
# Collect cyclic garbage left over by imports, so that the exit snapshot
# does not depend on when the cyclic GC last ran.
gc.collect()
