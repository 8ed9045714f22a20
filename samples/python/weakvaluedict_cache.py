# linger-sample: a cache built on WeakValueDictionary, compared with a dict (clean)
# Scenarios: seeds/001 "WeakValueDictionary" and seeds/002 section 1.
# With a plain dict the cache keeps its values alive; with a
# WeakValueDictionary the values go away once the program drops them.
# Both caches are local and are gone by exit: linger must report nothing.
#
# linger-expect-none

import gc
from pprint import pprint
import weakref

gc.set_debug(gc.DEBUG_UNCOLLECTABLE)


class ExpensiveObject:

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'ExpensiveObject({})'.format(self.name)

    def __del__(self):
        print('    (Deleting {})'.format(self))


def demo(cache_factory):
    # Hold the objects so the weak references do not die at once.
    all_refs = {}
    print('CACHE TYPE:', cache_factory.__name__)
    cache = cache_factory()
    for name in ['one', 'two', 'three']:
        o = ExpensiveObject(name)
        cache[name] = o
        all_refs[name] = o
        del o  # drop the loop variable's reference

    print('  all_refs =', end=' ')
    pprint(all_refs)
    print('\n  Before, cache contains:', list(cache.keys()))
    for name, value in cache.items():
        print('    {} = {}'.format(name, value))
        del value  # drop the loop variable's reference

    # Drop every reference except the cache's.
    print('\n  Cleanup:')
    del all_refs
    gc.collect()

    print('\n  After, cache contains:', list(cache.keys()))
    for name, value in cache.items():
        print('    {} = {}'.format(name, value))
    print('  demo returning')
    return


class BigData:
    pass


def big_data_demo(cache_factory):
    d = cache_factory()

    def test():
        b1 = BigData()
        d["b1"] = b1
        b2 = BigData()
        d["b2"] = b2
        print('  inside test():', len(d))

    print('BigData in', cache_factory.__name__)
    test()
    print('  after test():', len(d))


demo(dict)
print()
demo(weakref.WeakValueDictionary)
print()
big_data_demo(dict)
big_data_demo(weakref.WeakValueDictionary)
# Collect cyclic garbage left over by imports, so that the exit snapshot
# does not depend on when the cyclic GC last ran.
gc.collect()
