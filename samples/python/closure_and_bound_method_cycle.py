# linger-sample: one cycle through both a closure and a bound method -- reported once, as bound-method-cycle
# A Channel keeps two handlers: its own bound method and a lambda over
# self.  Both close a cycle through the same object; the cycle that
# holds a bound method is a bound-method-cycle, and it must not also be
# reported as a closure-cycle.
#
# linger-expect: bound-method-cycle __main__.Channel count=2 state=garbage
# linger-expect-path: bound-method-cycle __main__.Channel: Channel.handlers → list[0] → <bound method Channel.count>.__self__ → Channel
# linger-expect-not: closure-cycle
# linger-expect-not: reference-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Channel:

    def __init__(self, name):
        self.name = name
        self.seen = 0
        self.handlers = [self.count, lambda message: self.count(message)]

    def count(self, message):
        self.seen += 1

    def publish(self, message):
        for handler in self.handlers:
            handler(message)


def run():
    refs = []
    for name in ('news', 'sport'):
        channel = Channel(name)
        channel.publish('hello')
        refs.append(weakref.ref(channel))
    return refs


refs = run()
print('channels alive after use:', sum(1 for r in refs if r() is not None))
del refs
