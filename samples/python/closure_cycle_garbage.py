# linger-sample: self.get = lambda: self.x -- a closure cycle, not a bound method
# Looks like bound_method_cycle_garbage.py, but the object stores a
# lambda that closes over it: obj -> __dict__ -> function -> closure
# cell -> obj.  That is a real cycle (garbage at exit here, with the
# cyclic GC off), but it holds no bound method: it is a closure-cycle,
# and must never be reported as bound-method-cycle.
#
# linger-expect: closure-cycle __main__.Settings count=1 state=garbage severity=warning
# linger-expect-path: closure-cycle __main__.Settings: Settings.get → <function Settings.__init__.<locals>.<lambda>> closure 'self' → Settings
# linger-expect-allocated: closure-cycle __main__.Settings at=site:make-settings function=main
# linger-expect-not: bound-method-cycle
# linger-expect-not: finalizer-keepalive
# linger-expect-not: reference-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Settings:

    def __init__(self, x):
        self.x = x
        self.get = lambda: self.x     # closure over `self`


def main():
    settings = Settings(7)  # linger-site: make-settings
    print('value:', settings.get())
    ref = weakref.ref(settings)
    del settings
    print('settings still alive after use:', ref() is not None)


main()
