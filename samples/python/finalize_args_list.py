# linger-sample: the watched object hidden in a list passed as an argument
# Variant of finalize_keepalive.py.  The finalizer's args are
# ([buffer],): the registry holds the args tuple, the tuple holds the
# list, the list holds the buffer.  The buffer is never collected.
#
# linger-expect: finalizer-keepalive __main__.Buffer count=1
# linger-expect-not: bound-method-cycle

import gc
import weakref


class Buffer:

    def __init__(self, size):
        self.data = bytearray(size)


def flush_all(buffers):
    print('flushing {} buffer(s)'.format(len(buffers)))


def make_buffer():
    buf = Buffer(4096)
    weakref.finalize(buf, flush_all, [buf])
    return weakref.ref(buf)


def main():
    ref = make_buffer()
    gc.collect()
    print('buffer alive after use:', ref() is not None)


main()
print('main done')
