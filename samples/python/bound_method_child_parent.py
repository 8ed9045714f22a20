# linger-sample: a child object holding its parent's bound method
# A Window creates a Button and passes it self.on_click as the click
# callback; the window keeps the button: window -> __dict__ -> button ->
# __dict__ -> bound method -> __self__ = window.  Two windows are
# closed with the cyclic GC off, so two cycles are garbage at exit.
#
# linger-expect: bound-method-cycle __main__.Window count=2 state=garbage
# linger-expect-path: bound-method-cycle __main__.Window: Window.ok_button → Button.on_click → <bound method Window.on_click>.__self__ → Window
# linger-expect-not: finalizer-keepalive

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Button:

    def __init__(self, label, on_click):
        self.label = label
        self.on_click = on_click

    def click(self):
        self.on_click(self)


class Window:

    def __init__(self, title):
        self.title = title
        self.clicks = 0
        self.ok_button = Button('OK', self.on_click)    # the cycle

    def on_click(self, button):
        self.clicks += 1


def show(title):
    window = Window(title)
    window.ok_button.click()
    return weakref.ref(window)


def main():
    refs = [show('Preferences'), show('About')]
    print('windows still alive after closing:', sum(1 for r in refs if r() is not None))


main()
