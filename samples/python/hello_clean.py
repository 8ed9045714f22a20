# linger-sample: a program that uses no weak references at all (clean baseline)
# The interpreter's own objects (modules, types, builtins) must never
# show up as findings.
#
# linger-expect-none

import gc

squares = [n * n for n in range(10)]
print('hello from linger sample, sum of squares:', sum(squares))
# Collect cyclic garbage left over by imports, so that the exit snapshot
# does not depend on when the cyclic GC last ran.
gc.collect()
