# linger-sample: bound methods held from outside the object (clean look-alike)
# Bound methods that do not form a cycle: a module global bound method
# of a module global object (both alive at exit on purpose), and a
# Timer that holds a Clock's bound method while the Clock does not hold
# the Timer.  Nothing refers back, so there is no cycle to report; the
# temporary timer and clock are freed by reference counting alone.
#
# linger-expect-none

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Clock:

    def __init__(self):
        self.ticks = 0

    def tick(self):
        self.ticks += 1


class Timer:

    def __init__(self, callback):
        self.callback = callback

    def fire(self):
        self.callback()


def temporary():
    clock = Clock()
    timer = Timer(clock.tick)
    timer.fire()
    return weakref.ref(clock), weakref.ref(timer)


clock_ref, timer_ref = temporary()
print('temporary clock alive:', clock_ref() is not None)
print('temporary timer alive:', timer_ref() is not None)
del clock_ref, timer_ref

clock = Clock()
on_tick = clock.tick
for _ in range(3):
    on_tick()
print('ticks:', clock.ticks)
