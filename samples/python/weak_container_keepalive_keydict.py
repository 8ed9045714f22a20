# linger-sample: WeakKeyDictionary values that refer back to their own key
# Metadata is attached to widgets with a WeakKeyDictionary so that it
# goes away with the widget.  But each value reaches its own key: a
# WidgetInfo keeps a back-reference to its widget, and a Button's entry
# is the button's own bound method.  The dictionary holds its values
# strongly, so the keys can never die and the entries are never removed
# (the WeakKeyDictionary documentation warns about exactly this).
# What a finding retains is the keys (and what only they hold), at most
# their entries: never the dictionaries, which module globals hold.
#
# linger-expect: weak-container-keepalive __main__.Widget count=2 state=garbage retained_objects<=12
# linger-expect: weak-container-keepalive __main__.Button count=1 state=garbage retained_objects<=6
# linger-expect-not: bound-method-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports

METADATA = weakref.WeakKeyDictionary()
CLICK_HANDLERS = weakref.WeakKeyDictionary()


class Widget:

    def __init__(self, name):
        self.name = name


class WidgetInfo:

    def __init__(self, widget):
        self.widget = widget           # wrong: the value refers to its key
        self.clicks = 0


class Button:

    def __init__(self, label):
        self.label = label

    def click(self):
        return 'clicked ' + self.label


def build():
    refs = []
    for name in ('header', 'footer'):
        widget = Widget(name)
        METADATA[widget] = WidgetInfo(widget)
        refs.append(weakref.ref(widget))
    button = Button('OK')
    CLICK_HANDLERS[button] = button.click     # the value is a bound method of the key
    print(CLICK_HANDLERS[button]())
    refs.append(weakref.ref(button))
    return refs


refs = build()
gc.collect()
print('widgets and buttons alive after the window closed:', sum(1 for r in refs if r() is not None))
print('entries:', len(METADATA), len(CLICK_HANDLERS))
del refs
