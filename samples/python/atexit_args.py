# linger-sample: atexit.register(save, cache) keeps an object the program dropped
# A cache is saved at exit by passing it to atexit.register() as an
# argument; the program later replaces the cache and drops the old
# one, but atexit still holds it (and will save stale data at exit).
#
# linger-expect: finalizer-keepalive __main__.Cache count=1 state=garbage finalizer.via=atexit
# linger-expect-path: finalizer-keepalive __main__.Cache: atexit callback #1: save → args[0] → Cache
# linger-expect-not: bound-method-cycle

import atexit
import gc
import weakref


class Cache:

    def __init__(self, generation):
        self.generation = generation
        self.entries = {'generation': generation}


def save(cache):
    print('saving cache generation', cache.generation)


current = Cache(1)
atexit.register(save, current)
old = weakref.ref(current)
current = Cache(2)                    # the old cache is dropped by the program
gc.collect()
print('old cache alive:', old() is not None)
del old
