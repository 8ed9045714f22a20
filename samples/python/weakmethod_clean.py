# linger-sample: weakref.WeakMethod instead of a bound method (clean look-alike)
# Looks like bound_method_cycle_*.py, but the object stores a
# WeakMethod of its own method, and a Button stores a WeakMethod of its
# window's method.  A WeakMethod does not hold __self__, so there is no
# cycle: the temporary objects are freed by reference counting alone
# (the cyclic GC is off), and the one kept by a module global on purpose
# is not part of any cycle.
#
# linger-expect-none

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Sensor:

    def __init__(self, name):
        self.name = name
        self.readings = []
        self.callback = weakref.WeakMethod(self.on_event)

    def on_event(self, value):
        self.readings.append(value)

    def fire(self, value):
        method = self.callback()
        if method is not None:
            method(value)


class Button:

    def __init__(self, on_click):
        self._on_click = weakref.WeakMethod(on_click)

    def click(self):
        handler = self._on_click()
        if handler is not None:
            handler(self)


class Window:

    def __init__(self, title):
        self.title = title
        self.clicks = 0
        self.ok_button = Button(self.on_click)

    def on_click(self, button):
        self.clicks += 1


def run():
    refs = []
    for name in ('temperature', 'pressure'):
        sensor = Sensor(name)
        sensor.fire(1)
        refs.append(weakref.ref(sensor))
    window = Window('About')
    window.ok_button.click()
    refs.append(weakref.ref(window))
    return refs


refs = run()
print('objects still alive after use:', sum(1 for r in refs if r() is not None))
del refs

kept = Sensor('kept on purpose')
kept.fire(42)
print('kept sensor readings:', kept.readings)
