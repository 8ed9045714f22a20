# linger-sample: a nested function that calls itself by name -- a closure cycle of one function
# walk() refers to itself, so Python keeps `walk` in a closure cell of
# its own: function -> __closure__ -> cell -> the same function.  Every
# call of count_nodes() leaves that cycle behind for the cyclic GC; with
# the GC off (as here) the functions pile up.  One more such function,
# made by make_walker(), is kept by a module global on purpose: a live
# cycle of functions alone is just a function the program keeps (as
# functools.singledispatch's register() is), so the default report
# leaves it out; --live-cycles, which asks for every live cycle, shows
# it.
#
# linger-expect: closure-cycle builtins.function count=3 state=garbage
# linger-expect-path: closure-cycle builtins.function: <function count_nodes.<locals>.walk> closure 'walk' → <function count_nodes.<locals>.walk>
# linger-expect-not: bound-method-cycle
# linger-expect [--live-cycles]: closure-cycle builtins.function count=3 state=garbage
# linger-expect [--live-cycles]: closure-cycle builtins.function count=1 state=live
# linger-expect-held-by [--live-cycles]: closure-cycle builtins.function: __main__.WALK → <function make_walker.<locals>.walk>

import gc

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


def count_nodes(tree):
    def walk(node):
        return 1 + sum(walk(child) for child in node.get('children', ()))
    return walk(tree)


def make_walker():
    def walk(node):
        return 1 + sum(walk(child) for child in node.get('children', ()))
    return walk


TREE = {'children': [{'children': [{}]}, {}]}
for _ in range(3):
    print('nodes:', count_nodes(TREE))
WALK = make_walker()
print('nodes (kept walker):', WALK(TREE))
