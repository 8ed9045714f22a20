# linger-sample: objects that only the cyclic GC frees (gc-collected), by allocation site
# 1000 Connection objects each store a bound method of themselves
# (self.on_data = self.handle): a bound-method cycle; 500 Node objects
# each store a lambda over self: a closure cycle (Node -> function ->
# __closure__ -> cell -> Node).  Both are dropped at once; reference
# counting cannot free them, the one gc.collect() does.  300 Plain
# objects are freed by reference counting as soon as they are dropped
# and must not be reported.  Nothing is left at exit: no graph finding.
# The classes use __slots__ so that no instance __dict__ (which 3.8-3.10
# allocate and 3.11+ do not) joins the cycles: with one, 3.8 sees the
# Connection cycles through their dicts and calls them "other".
#
# Each group is pinned to its allocation site.  The closure's __closure__
# tuple dies with it: 500 tuples, but on 3.8 one of them comes from the
# tuple freelist (allocated elsewhere, earlier).  The function objects'
# cycle_kind is left open (the analyzer calls them "other"; the Node and
# the cell carry the closure kind).
# linger-expect: gc-collected Connection bound-method count=1000 line=site:make-connection
# linger-expect: gc-collected method bound-method count=1000 line=site:bind
# linger-expect: gc-collected Node closure count=500 line=site:make-node
# linger-expect: gc-collected function * count=500 line=site:closure
# linger-expect: gc-collected cell closure count=500
# (The closure tuples die in the same cycles, but tuples are never listed
# as gc-collected: freelist clearing in full collections looks the same.)
# linger-expect-not: gc-collected tuple
# linger-expect-not: gc-collected Plain
# linger-expect-not: bound-method-cycle
# linger-expect-not: closure-cycle

import gc

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Connection:
    __slots__ = ('on_data',)

    def __init__(self):
        self.on_data = self.handle  # linger-site: bind

    def handle(self):
        return None


class Node:
    __slots__ = ('get',)

    def __init__(self):
        self.get = lambda: self  # linger-site: closure


class Plain:
    __slots__ = ()


def make_connections(n):
    for _ in range(n):
        Connection()  # linger-site: make-connection


def make_nodes(n):
    for _ in range(n):
        Node()  # linger-site: make-node


def make_plain(n):
    for _ in range(n):
        Plain()  # linger-site: make-plain


make_connections(1000)
make_nodes(500)
make_plain(300)
print('collected:', gc.collect() >= 1500)
