# linger-sample: weakref.ref(conn, functools.partial(report, conn)) -- the callback's partial holds its referent
# A connection monitor wants to log which connection went away, so it
# binds the connection into the callback with functools.partial.  The
# partial's args hold the connection: MONITORED -> weakref -> partial
# -> args tuple -> connection.  The connection can never go away.
#
# linger-expect: weakref-callback-keepalive __main__.Connection count=1 state=garbage

import functools
import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports


class Connection:

    def __init__(self, host):
        self.host = host


def report_gone(conn, ref):
    print('connection to {} went away'.format(conn.host))


MONITORED = []


def connect(host):
    conn = Connection(host)
    MONITORED.append(weakref.ref(conn, functools.partial(report_gone, conn)))
    return weakref.ref(conn)


def main():
    ref = connect('db.example')
    gc.collect()
    print('connection alive after use:', ref() is not None)


main()
