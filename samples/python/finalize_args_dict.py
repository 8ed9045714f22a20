# linger-sample: the watched object hidden in a dict passed as an argument
# Variant of finalize_keepalive.py.  The finalizer's args are
# ({'connection': conn, ...},): registry -> args tuple -> dict -> conn.
#
# linger-expect: finalizer-keepalive __main__.Connection count=1
# linger-expect-path: finalizer-keepalive __main__.Connection: weakref.finalize → _Info.args → tuple[0] → dict['connection'] → Connection
# linger-expect-not: bound-method-cycle

import gc
import weakref


class Connection:

    def __init__(self, host):
        self.host = host


def report_closed(state):
    print('connection to {} closed'.format(state['host']))


def connect(host):
    conn = Connection(host)
    state = {'host': host, 'connection': conn}
    weakref.finalize(conn, report_closed, state)
    return weakref.ref(conn)


def main():
    ref = connect('db.example')
    gc.collect()
    print('connection alive after use:', ref() is not None)


main()
print('main done')
