# linger-sample: self.check = self.run_check on an object held by a module global
# The same cycle as bound_method_cycle_garbage.py, but the object is
# still referenced by a module global at exit, so the cycle is live: it
# would leak if the global were dropped with the cyclic GC off.
#
# linger-expect: bound-method-cycle __main__.HealthMonitor count=1 state=live
# linger-expect-not: finalizer-keepalive

import gc


class HealthMonitor:

    def __init__(self, service):
        self.service = service
        self.failures = 0
        self.check = self.run_check      # the cycle

    def run_check(self, ok):
        if not ok:
            self.failures += 1
        return ok


monitor = HealthMonitor('api')
for ok in (True, False, True):
    monitor.check(ok)
gc.collect()   # the cycle is reachable from the global, so nothing is freed
print('failures:', monitor.failures)
