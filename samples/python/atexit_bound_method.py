# linger-sample: atexit.register(self.flush) keeps every object alive until exit
# Each MetricsBuffer registers its own flush() with atexit "so that no
# data is lost".  atexit holds the bound method, the bound method holds
# the buffer: every buffer created for a request lives until the
# program exits, although the program dropped it long ago.
#
# linger-expect: finalizer-keepalive __main__.MetricsBuffer count=3 state=garbage severity=error finalizer.via=atexit
# linger-expect-not: bound-method-cycle

import atexit
import gc
import weakref


class MetricsBuffer:

    def __init__(self, name):
        self.name = name
        self.points = []
        atexit.register(self.flush)          # keeps self alive until exit

    def flush(self):
        print('flushing {} ({} point(s))'.format(self.name, len(self.points)))


def handle_request(number):
    buffer = MetricsBuffer('request-{}'.format(number))
    buffer.points.append(number)
    return weakref.ref(buffer)


refs = [handle_request(n) for n in range(3)]
gc.collect()
print('buffers alive after the requests:', sum(1 for r in refs if r() is not None))
del refs
