# linger-sample: __del__ stores self in a global -- resurrected objects
# Each Connection's __del__ appends the connection to a module-level
# list, "to close it later".  When reference counting frees a
# connection, __del__ runs and the object is alive again.  Python runs
# __del__ only once per object, so these connections are never
# finalized again: when the list is dropped they go away silently.
#
# linger-expect: resurrected __main__.Connection count=3 state=live

import gc


class Connection:

    def __init__(self, number):
        self.number = number

    def __del__(self):
        TO_CLOSE.append(self)        # resurrects self


TO_CLOSE = []


def handle(number):
    conn = Connection(number)
    return conn.number


for n in range(3):
    handle(n)
print('connections waiting to be closed:', [c.number for c in TO_CLOSE])
gc.collect()
