# linger-sample: a lambda over self registered with a child -- a live closure cycle
# An App gives its Button a lambda that calls back into the app.  The
# lambda closes over `self`, and the app keeps the button: app ->
# button -> handlers list -> function -> closure cell -> app.  No bound
# method is involved; the cycle goes through a closure cell.  The app is
# a module global, so the cycle is live at exit: it would leak as soon
# as the global went away with the cyclic GC off.
#
# linger-expect: closure-cycle __main__.App count=1 state=live severity=warning
# linger-expect-path: closure-cycle __main__.App: App.ok → Button.handlers → list[0] → <function App.__init__.<locals>.<lambda>> closure 'self' → App
# linger-expect-held-by: closure-cycle __main__.App: __main__.app → App
# linger-expect-not: bound-method-cycle

import gc


class Button:

    def __init__(self, label):
        self.label = label
        self.handlers = []

    def click(self):
        for handler in self.handlers:
            handler()


class App:

    def __init__(self):
        self.clicks = 0
        self.ok = Button('OK')
        self.ok.handlers.append(lambda: self.on_ok())    # closure over self: the cycle

    def on_ok(self):
        self.clicks += 1


app = App()
app.ok.click()
app.ok.click()
gc.collect()   # reachable from the global: nothing is freed
print('clicks:', app.clicks)
