# linger-sample: weak dictionaries whose entries do not keep themselves alive (clean look-alike)
# A WeakKeyDictionary whose values do not refer to their keys (a counter
# object, a string, the key's name), and a WeakValueDictionary keyed by
# strings and by a key object that does not refer to the value.  The
# entries go away with their objects; the one kept by a module global on
# purpose stays, and is not a finding either.  A value that refers to
# another key (not its own) is fine too.
#
# linger-expect-none

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports


class Widget:

    def __init__(self, name):
        self.name = name


class Stats:

    def __init__(self, name):
        self.name = name          # a copy of the name, not the widget
        self.clicks = 0


class CacheKey:

    def __init__(self, text):
        self.text = text


class Result:

    def __init__(self, rows):
        self.rows = rows


STATS = weakref.WeakKeyDictionary()
LABELS = weakref.WeakKeyDictionary()
BY_NAME = weakref.WeakValueDictionary()
BY_KEY = weakref.WeakValueDictionary()
KEPT = []


def use(name, keep):
    widget = Widget(name)
    STATS[widget] = Stats(widget.name)
    LABELS[widget] = 'label of ' + name
    result = Result([name])
    BY_NAME[name] = result
    BY_KEY[CacheKey(name)] = result
    if keep:
        KEPT.append((widget, result))


for name, keep in (('a', False), ('b', False), ('kept', True)):
    use(name, keep)

first, second = Widget('first'), Widget('second')
LABELS[first] = second            # refers to another key, not its own
KEPT.append(first)
KEPT.append(second)
print('entries:', len(STATS), len(LABELS), len(BY_NAME), len(BY_KEY))
gc.collect()
