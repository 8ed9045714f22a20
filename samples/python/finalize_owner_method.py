# linger-sample: func is a bound method of an owner that holds the watched objects
# Variant of finalize_keepalive.py.  Each pooled connection registers
# finalize(conn, pool.forget, conn.number).  The args are harmless, but
# func.__self__ is the pool, and the pool keeps a strong list of its
# connections: registry -> pool.forget -> pool -> pool.connections ->
# conn.  Dropping the pool does not help: the registry keeps it alive,
# and with it all three connections.
#
# linger-expect: finalizer-keepalive __main__.PooledConnection count=3
# linger-expect-not: bound-method-cycle

import gc
import weakref


class PooledConnection:

    def __init__(self, number):
        self.number = number


class Pool:

    def __init__(self):
        self.connections = []

    def open(self):
        conn = PooledConnection(len(self.connections))
        self.connections.append(conn)
        weakref.finalize(conn, self.forget, conn.number)
        return conn

    def forget(self, number):
        print('pool forgets connection {}'.format(number))


def main():
    pool = Pool()
    refs = [weakref.ref(pool.open()) for _ in range(3)]
    del pool
    gc.collect()
    print('connections alive after the pool was dropped:',
          sum(1 for r in refs if r() is not None))


main()
print('main done')
