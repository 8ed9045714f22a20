# linger-sample: self.handlers.append(self.on_message): a bound method in a handler list
# A dispatcher registers one of its own methods in its handler list next
# to plain functions: dispatcher -> __dict__ -> handlers list -> bound
# method -> __self__ = dispatcher.  Three dispatchers are dropped with
# the cyclic GC off, so three cycles are garbage at exit.
#
# linger-expect: bound-method-cycle __main__.Dispatcher count=3 state=garbage
# linger-expect-allocated: bound-method-cycle __main__.Dispatcher at=site:make-dispatcher
# linger-expect-path: bound-method-cycle __main__.Dispatcher: Dispatcher.handlers → list[1] → <bound method Dispatcher.on_message>.__self__ → Dispatcher
# linger-expect-not: finalizer-keepalive

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


def log_message(message):
    pass


class Dispatcher:

    def __init__(self, channel):
        self.channel = channel
        self.received = 0
        self.handlers = [log_message]
        self.handlers.append(self.on_message)    # the cycle

    def on_message(self, message):
        self.received += 1

    def dispatch(self, message):
        for handler in self.handlers:
            handler(message)


def run():
    refs = []
    for channel in ('alerts', 'metrics', 'audit'):
        dispatcher = Dispatcher(channel)  # linger-site: make-dispatcher
        dispatcher.dispatch('hello')
        refs.append(weakref.ref(dispatcher))
    return refs


def main():
    refs = run()
    print('dispatchers still alive after use:', sum(1 for r in refs if r() is not None))


main()
