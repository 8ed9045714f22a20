# linger-sample: self.callback = self.on_event, dropped while the cyclic GC is off
# Storing a bound method of an object on the object itself makes a
# reference cycle: obj -> __dict__ -> bound method -> __self__ = obj.
# Reference counting never frees it; only the cyclic GC can, and it is
# disabled here, so both sensors are unreachable garbage at exit.  The
# module-level weak references must not count as references.
#
# linger-expect: bound-method-cycle __main__.Sensor count=2 state=garbage
# linger-expect-allocated: bound-method-cycle __main__.Sensor at=site:make-sensor function=run
# linger-expect-not: finalizer-keepalive

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Sensor:

    def __init__(self, name):
        self.name = name
        self.readings = []
        self.callback = self.on_event    # the cycle

    def on_event(self, value):
        self.readings.append(value)

    def fire(self, value):
        self.callback(value)


def run():
    refs = []
    for name in ('temperature', 'pressure'):
        sensor = Sensor(name)  # linger-site: make-sensor
        sensor.fire(1)
        sensor.fire(2)
        refs.append(weakref.ref(sensor))
    return refs


sensor_refs = run()
print('sensors still alive after use:', sum(1 for r in sensor_refs if r() is not None))
