# linger-sample: weakref.proxy used after its object is gone (clean)
# Scenario: seeds/001 "weakref.proxy".  The proxy and the ref do not keep
# the object alive; using the proxy afterwards raises ReferenceError,
# which the program catches.
#
# linger-expect-none

import gc
import weakref


class ExpensiveObject:

    def __init__(self, name):
        self.name = name

    def __del__(self):
        print('(Deleting ExpensiveObject {})'.format(self.name))


def main():
    obj = ExpensiveObject('My Object')
    r = weakref.ref(obj)
    p = weakref.proxy(obj)

    print('via obj:', obj.name)
    print('via ref:', r().name)
    print('via proxy:', p.name)
    del obj
    try:
        print('via proxy:', p.name)
    except ReferenceError as error:
        print('ReferenceError:', error)


main()
# Collect cyclic garbage left over by imports, so that the exit snapshot
# does not depend on when the cyclic GC last ran.
gc.collect()
