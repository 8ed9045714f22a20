# linger-sample: weak-reference callbacks that do not reach their referent (clean look-alike)
# Callbacks of every shape -- a module function, a bound method of
# another object (a log that holds neither the referents nor the
# registry of weak references), a
# closure over a name string only, a functools.partial over a string, a
# proxy with a plain callback -- none of which refers to the object it
# watches.  Every referent is freed as soon as the program drops it (the
# callbacks run then); a few are kept by a module global on purpose,
# with their weak references still registered, and must not be
# reported either.
#
# linger-expect-none

import functools
import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports


class Resource:

    def __init__(self, name):
        self.name = name


def gone(ref):
    print('a resource went away')


def gone_named(name, ref):
    print('resource {} went away'.format(name))


class Log:

    def __init__(self):
        self.lines = []

    def resource_gone(self, ref):
        self.lines.append('a resource went away')


class Registry:
    """Holds weak references whose callback is a bound method of a Log:
    another object, which holds neither the resources nor the registry."""

    def __init__(self, log):
        self.refs = {}
        self.log = log

    def add(self, resource):
        self.refs[resource.name] = weakref.ref(resource, self.log.resource_gone)

    def alive(self):
        return sorted(name for name, r in self.refs.items() if r() is not None)


def named_callback(name):
    return lambda ref: print('closure saw {} go'.format(name))


LOG = Log()
REGISTRY = Registry(LOG)
KEPT = []
KEPT_REFS = []


def make(name, keep):
    resource = Resource(name)
    refs = [
        weakref.ref(resource, gone),
        weakref.ref(resource, named_callback(resource.name)),
        weakref.ref(resource, functools.partial(gone_named, resource.name)),
        weakref.proxy(resource, gone),
    ]
    REGISTRY.add(resource)
    if keep:
        KEPT.append(resource)
        KEPT_REFS.append(refs)
    return refs


for name, keep in (('a', False), ('b', False), ('kept', True)):
    refs = make(name, keep)
    del refs
print('registered:', sorted(REGISTRY.refs), 'alive:', REGISTRY.alive())
print('log:', len(LOG.lines), 'line(s)')
gc.collect()
