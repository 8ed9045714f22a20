# linger-sample: the same bound-method cycle, twice as garbage and once live
# Three Widgets store a bound method of their own.  Two are dropped with
# the cyclic GC off (garbage at exit); one is kept by a module global
# (live at exit).  A report must keep the two states apart.
#
# linger-expect: bound-method-cycle __main__.Widget count=2 state=garbage
# linger-expect: bound-method-cycle __main__.Widget count=1 state=live
# linger-expect-not: finalizer-keepalive

import gc

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Widget:

    def __init__(self, name):
        self.name = name
        self.redraw = self.paint     # the cycle

    def paint(self):
        return 'painted ' + self.name


def make_temporary_widgets():
    for name in ('tooltip', 'popup'):
        print(Widget(name).redraw())


make_temporary_widgets()
main_widget = Widget('main')
print(main_widget.redraw())
