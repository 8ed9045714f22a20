# linger-sample: mutually recursive nested functions -- one closure cycle per call, reported as one group
# make_counter() defines three nested functions that call each other by
# name, so each closes over the others: together they are one cycle
# through their closure cells (the pure-Python json encoder behind
# json.dumps(..., indent=...) does the same).  Each call of
# make_counter() leaves one such cycle for the cyclic GC, which is off
# here.  Five calls are five instances of the same cycle: one group of
# five, named after the same function whichever lies first in memory.
#
# linger-expect: closure-cycle builtins.function count=5 state=garbage
# linger-expect-path: closure-cycle builtins.function: <function make_counter.<locals>.count> closure 'count_list' → <function make_counter.<locals>.count_list> closure 'count' → <function make_counter.<locals>.count>

import gc

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


def make_counter():
    def count_list(items):
        return sum(count(item) for item in items)

    def count_dict(mapping):
        return sum(count(value) for value in mapping.values())

    def count(value):
        if isinstance(value, list):
            return count_list(value)
        if isinstance(value, dict):
            return count_dict(value)
        return 1

    return count


DATA = {'a': [1, 2, {'b': 3}], 'c': 4}
for _ in range(5):
    print('leaves:', make_counter()(DATA))
