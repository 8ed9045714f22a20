# linger-sample: weakref.finalize(obj, on_finalize, obj) keeps obj alive for ever
# Scenario: the "weakref.finalize" / "atexit" section of the weakref seed
# (seeds/001).  Giving the finalizer a reference to the object it watches
# means the object can never be collected: the finalizer registry holds
# `args` strongly, and `args` holds the object.  With atexit False the
# callback never runs at all; the object lingers until the interpreter
# tears itself down.
#
# linger-expect: finalizer-keepalive __main__.ExpensiveObject count=1
# linger-expect-path: finalizer-keepalive __main__.ExpensiveObject: weakref.finalize → _Info.args → tuple[0] → ExpensiveObject
# linger-expect-not: bound-method-cycle

import gc
import weakref


class ExpensiveObject:

    def __del__(self):
        print('(Deleting ExpensiveObject)')


def on_finalize(*args):
    print('on_finalize({} argument(s))'.format(len(args)))


def still_in_gc(obj_id):
    for o in gc.get_objects():
        if id(o) == obj_id:
            return True
    return False


obj = ExpensiveObject()
obj_id = id(obj)

f = weakref.finalize(obj, on_finalize, obj)
f.atexit = False

del obj
gc.collect()

if still_in_gc(obj_id):
    print('found uncollected object in gc')
print('finalizer alive:', f.alive)
