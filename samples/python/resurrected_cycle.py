# linger-sample: a garbage cycle resurrected by the __del__ of one of its members
# A Parent and its Child refer to each other and both define __del__.
# The cycle is dropped and the cyclic GC runs both finalizers; the
# Parent's __del__ stores the parent in a global, which brings the whole
# cycle back to life: both objects have been finalized and are alive
# again, and their __del__ will never run again.
#
# linger-expect: resurrected __main__.Parent count=1 state=live severity=warning
# linger-expect-held-by: resurrected __main__.Parent: __main__.SAVED[0] → Parent
# linger-expect: resurrected __main__.Child count=1 state=live
# linger-expect-held-by: resurrected __main__.Child: __main__.SAVED[0] → Parent.child → Child

import gc

gc.collect()   # start from a clean heap: nothing left over from imports


class Parent:

    def __init__(self):
        self.child = Child(self)

    def __del__(self):
        SAVED.append(self)           # resurrects the parent, and the child with it


class Child:

    def __init__(self, parent):
        self.parent = parent

    def __del__(self):
        pass


SAVED = []
Parent()
print('collected:', gc.collect())
print('saved:', len(SAVED), type(SAVED[0].child).__name__)
gc.collect()
