# linger-sample: finalizers whose arguments do not reference the object (clean)
# Scenario: seeds/001 "weakref.finalize" and "atexit".  The first
# finalizer runs as soon as its object is deleted.  The second object is
# still a module global at exit, so its finalizer (atexit True) is still
# pending when the exit snapshot is taken and runs afterwards, from the
# atexit handler.  Its only argument is a string: the finalizer does not
# keep the object alive (the global does, on purpose), so linger must
# report nothing.
#
# linger-expect-none

import gc
import weakref


class ExpensiveObject:

    def __del__(self):
        print('(Deleting ExpensiveObject)')


def on_finalize(*args):
    print('on_finalize({!r})'.format(args))


temporary = ExpensiveObject()
weakref.finalize(temporary, on_finalize, 'extra argument')
del temporary

obj = ExpensiveObject()
f = weakref.finalize(obj, on_finalize, 'extra argument')
f.atexit = True
print('finalizer pending at exit:', f.alive)
# Collect cyclic garbage left over by imports, so that the exit snapshot
# does not depend on when the cyclic GC last ran.
gc.collect()
