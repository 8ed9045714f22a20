# linger-sample: a class with __del__ kept alive by its own finalizer's arguments, through another object
# TempFile defines __del__ to delete its file, and also registers a
# weakref.finalize as a safety net.  The finalizer's only argument is a
# Cleanup record that looks harmless, but the record keeps the TempFile:
# registry -> args tuple -> Cleanup -> TempFile.  So the TempFile never
# dies before exit: neither __del__ nor the finalizer runs while the
# program runs, and both run only at shutdown.
#
# linger-expect: finalizer-keepalive __main__.TempFile count=2 state=garbage finalizer.via=args
# linger-expect-path: finalizer-keepalive __main__.TempFile: weakref.finalize → _Info.args → tuple[0] → Cleanup.owner → TempFile
# linger-expect-not: bound-method-cycle
# linger-expect-not: resurrected

import gc
import weakref


class Cleanup:

    def __init__(self, owner, name):
        self.owner = owner               # wrong: reaches the TempFile
        self.name = name


def remove(cleanup):
    print('finalizer removes', cleanup.name)


class TempFile:

    def __init__(self, name):
        self.name = name
        weakref.finalize(self, remove, Cleanup(self, name))

    def __del__(self):
        print('__del__ removes', self.name)


def work():
    refs = []
    for name in ('a.tmp', 'b.tmp'):
        refs.append(weakref.ref(TempFile(name)))
    return refs


refs = work()
gc.collect()
print('temp files alive after use:', sum(1 for r in refs if r() is not None))
del refs
