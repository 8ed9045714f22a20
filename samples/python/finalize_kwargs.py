# linger-sample: the watched object passed to the finalizer as a keyword argument
# Variant of finalize_keepalive.py.  finalize() keeps kwargs in a dict
# held by the registry, so finalize(obj, func, resource=obj) keeps obj
# alive exactly like a positional argument would.
#
# linger-expect: finalizer-keepalive __main__.Lock count=1
# linger-expect-path: finalizer-keepalive __main__.Lock: weakref.finalize → _Info.kwargs → dict['resource'] → Lock
# linger-expect-not: bound-method-cycle

import gc
import weakref


class Lock:

    def __init__(self, path):
        self.path = path


def release(path, resource=None):
    print('releasing lock {}'.format(path))


def acquire(path):
    lock = Lock(path)
    weakref.finalize(lock, release, path, resource=lock)
    return weakref.ref(lock)


def main():
    ref = acquire('/run/example.lock')
    gc.collect()
    print('lock alive after use:', ref() is not None)


main()
print('main done')
