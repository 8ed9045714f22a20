# linger-sample: weakref.ref with and without a callback on an ExpensiveObject (clean)
# Scenario: seeds/001 "weakref.ref" and "callbacks".  The reference dies
# with the object and the callback runs at once; nothing survives.
#
# linger-expect-none

import gc
import weakref


class ExpensiveObject:

    def __del__(self):
        print('(Deleting ExpensiveObject)')


def callback(reference):
    """Called when the referent is deleted."""
    print('callback(dead reference: {})'.format(reference() is None))


def plain_ref():
    obj = ExpensiveObject()
    r = weakref.ref(obj)
    print('r() is obj:', r() is obj)
    print('deleting obj')
    del obj
    print('r():', r())


def ref_with_callback():
    obj = ExpensiveObject()
    r = weakref.ref(obj, callback)
    print('r() is obj:', r() is obj)
    print('deleting obj')
    del obj
    print('r():', r())


plain_ref()
ref_with_callback()
# Collect cyclic garbage left over by imports, so that the exit snapshot
# does not depend on when the cyclic GC last ran.
gc.collect()
