# linger-sample: weakref.proxy(doc, doc.closed) -- a proxy whose callback is a bound method of its referent
# Views hold a proxy to their document, so that they do not keep it
# open, with a callback to be told when it closes.  The callback is a
# bound method of the document itself: VIEWS -> View -> proxy ->
# callback -> __self__ = document.  The document is never closed.
#
# linger-expect: weakref-callback-keepalive __main__.Document count=2 state=garbage
# linger-expect-not: bound-method-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports


class Document:

    def __init__(self, title):
        self.title = title

    def closed(self, proxy):
        print('a document was closed')


class View:

    def __init__(self, document):
        self.document = weakref.proxy(document, document.closed)   # wrong: keeps the document

    def render(self):
        return '[{}]'.format(self.document.title)


VIEWS = []


def open_document(title):
    doc = Document(title)
    view = View(doc)
    VIEWS.append(view)
    print(view.render())
    return weakref.ref(doc)


def main():
    refs = [open_document('notes'), open_document('todo')]
    gc.collect()
    print('documents alive after closing:', sum(1 for r in refs if r() is not None))


main()
