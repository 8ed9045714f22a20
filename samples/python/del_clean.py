# linger-sample: objects with __del__ that are not resurrected (clean look-alike)
# __del__ runs for objects freed by reference counting and for a cycle
# freed by the cyclic GC; one __del__ copies data (not self) into a
# global; one object calls its own __del__ explicitly and stays alive
# (Python does not mark it finalized); one object with __del__ is simply
# alive at exit.  None of them is alive again after its finalizer ran.
#
# The Node pair below is a real cycle that gc.collect() frees: the report
# lists it as gc-collected; nothing else.
# linger-expect: gc-collected Node * count=2
# linger-expect-not: finalizer-keepalive
# linger-expect-not: uncollectable
# linger-expect-not: resurrected
# linger-expect-not: reference-cycle
# linger-expect-not: bound-method-cycle
# linger-expect-not: closure-cycle
# linger-expect-not: weakref-callback-keepalive
# linger-expect-not: weak-container-keepalive

import gc

gc.collect()   # start from a clean heap: nothing left over from imports

CLOSED = []


class Connection:

    def __init__(self, number):
        self.number = number

    def __del__(self, closed=CLOSED):
        closed.append(self.number)   # a copy of the data, not self


class Node:

    def __init__(self):
        self.other = None

    def __del__(self, closed=CLOSED):
        closed.append('node')


for n in range(3):
    Connection(n)
a, b = Node(), Node()
a.other, b.other = b, a
del a, b
print('collected cycles:', gc.collect() > 0)
explicit = Connection(99)
explicit.__del__()
kept = Connection(100)
print('closed:', CLOSED)
