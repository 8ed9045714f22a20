# linger-sample: closures that are not in a cycle (clean look-alike)
# Closures everywhere, none of them in a cycle: a counter factory, a
# decorator whose wrapper closes over the decorated function (a module
# global reaches the wrapper, and the function's globals reach the
# module, but globals are the program's own names, not a cycle), a
# callback stored on an object that closes over a *different* object, a
# lambda over a plain value stored on self, and a handler list outside
# the object it closes over.  The cyclic GC is off: anything left for it
# would still be there at exit.
#
# linger-expect-none

import functools
import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


def make_counter():
    count = [0]

    def increment():
        count[0] += 1
        return count[0]
    return increment


def logged(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)
    return wrapper


@logged
def add(a, b):
    return a + b


class Model:

    def __init__(self, value):
        self.value = value


class View:

    def __init__(self, model):
        self.render = lambda: 'value={}'.format(model.value)   # closes over the model, not the view
        scale = 10
        self.scaled = lambda: model.value * scale


HANDLERS = []


def subscribe(model):
    HANDLERS.append(lambda: model.value)   # the list is outside the model


def temporary():
    counter = make_counter()
    counter()
    model = Model(3)
    view = View(model)
    print(view.render(), view.scaled())
    return weakref.ref(model), weakref.ref(view)


refs = temporary()
print('temporary objects alive:', sum(1 for r in refs if r() is not None))
del refs
counter = make_counter()
print('count:', counter(), counter())
print('add:', add(2, 3))
kept = Model(5)
subscribe(kept)
print('handlers:', [h() for h in HANDLERS])
