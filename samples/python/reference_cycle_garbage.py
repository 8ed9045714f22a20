# linger-sample: plain reference cycles left for the cyclic GC
# A tree whose children point back to their parent, built and dropped
# twice with the cyclic GC off: each tree is one cycle through Parent
# and Child objects (and the children list) that reference counting can
# never free.  Plus a list that contains itself.  No bound method and no
# closure is involved, so they are reported as plain reference cycles,
# grouped by the set of types in the cycle.  The set is the same on
# every Python version: an instance's __dict__ (a separate object before
# 3.11) belongs to its instance and is not a type of the cycle.
#
# linger-expect: reference-cycle __main__.Parent count=2 state=garbage severity=info cycle_types=__main__.Child,__main__.Parent,builtins.list
# linger-expect: reference-cycle builtins.list count=1 state=garbage severity=info cycle_types=builtins.list
# linger-expect-path: reference-cycle builtins.list: list[0] → list
# linger-expect-not: bound-method-cycle
# linger-expect-not: closure-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Parent:

    def __init__(self, name):
        self.name = name
        self.children = []

    def add(self, name):
        self.children.append(Child(name, self))


class Child:

    def __init__(self, name, parent):
        self.name = name
        self.parent = parent            # back-pointer: the cycle


def build(name):
    parent = Parent(name)
    for n in range(3):
        parent.add('{}.{}'.format(name, n))
    return weakref.ref(parent)


refs = [build('left'), build('right')]
print('trees alive after use:', sum(1 for r in refs if r() is not None))
del refs

loop = []
loop.append(loop)
loop_ref_count = len(loop)
del loop
print('self-referencing list made:', loop_ref_count)
