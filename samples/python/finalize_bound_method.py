# linger-sample: weakref.finalize(self, self.close) -- func is a bound method of obj
# Variant of finalize_keepalive.py.  The weakref docs warn that func
# "should not be a bound method of obj": the bound method holds
# __self__, so the finalizer registry keeps every Resource alive until
# exit, when the atexit handler finally calls close().
#
# linger-expect: finalizer-keepalive __main__.Resource count=2
# linger-expect-allocated: finalizer-keepalive __main__.Resource at=site:make-resource
# linger-expect-path: finalizer-keepalive __main__.Resource: weakref.finalize → _Info.func → <bound method Resource.close>.__self__ → Resource
# linger-expect-not: bound-method-cycle

import gc
import weakref


class Resource:

    def __init__(self, name):
        self.name = name
        self.closed = False
        # Wrong: self.close is bound to self.
        self._finalizer = weakref.finalize(self, self.close)

    def close(self):
        if not self.closed:
            self.closed = True
            print('closing resource {}'.format(self.name))


def use_resources():
    refs = []
    for name in ('db', 'cache'):
        resource = Resource(name)  # linger-site: make-resource
        refs.append(weakref.ref(resource))
    return refs


def main():
    refs = use_resources()
    gc.collect()
    alive = [r().name for r in refs if r() is not None]
    print('resources still alive after use:', alive)


main()
print('main done')
