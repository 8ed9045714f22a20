# linger-sample: objects left in gc.garbage (gc.DEBUG_SAVEALL)
# A debugging session that turned on gc.DEBUG_SAVEALL and forgot to turn
# it off: the collector appends everything it finds unreachable to
# gc.garbage instead of freeing it, so two cycles of Peer objects (slots
# only, so that no instance dictionaries are involved) and one
# self-referencing list stay in gc.garbage, and alive, until exit.
#
# linger-expect: uncollectable __main__.Peer count=4
# linger-expect: uncollectable builtins.list count=1 severity=error
# linger-expect-path: uncollectable builtins.list: gc.garbage[4] → list
# linger-expect-not: reference-cycle

import gc

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Peer:
    __slots__ = ('name', 'other')

    def __init__(self, name):
        self.name = name
        self.other = None


def pair(a, b):
    x, y = Peer(a), Peer(b)
    x.other, y.other = y, x


pair('a', 'b')
pair('c', 'd')
loop = []
loop.append(loop)
del loop

gc.set_debug(gc.DEBUG_SAVEALL)
print('collected:', gc.collect())
gc.set_debug(0)
print('in gc.garbage:', len(gc.garbage))
