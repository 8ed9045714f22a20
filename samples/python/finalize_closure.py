# linger-sample: a finalizer lambda that closes over the object it watches
# Variant of finalize_keepalive.py.  The lambda is created inside
# open_session(), where `session` is a local variable; the lambda refers
# to it, so Python stores `session` in a closure cell that the lambda
# keeps.  The finalizer registry holds the lambda, the lambda holds the
# cell, the cell holds the session: neither session is ever collected
# before exit.
#
# linger-expect: finalizer-keepalive __main__.Session count=2
# linger-expect-path: finalizer-keepalive __main__.Session: weakref.finalize → _Info.func → <function open_session.<locals>.<lambda>> closure 'session' → Session
# linger-expect-not: bound-method-cycle

import gc
import weakref


class Session:

    def __init__(self, user):
        self.user = user


def open_session(user):
    session = Session(user)
    weakref.finalize(session, lambda: print('session of {} closed'.format(session.user)))
    return weakref.ref(session)


def main():
    refs = [open_session('alice'), open_session('bob')]
    gc.collect()
    print('sessions alive after use:', sum(1 for r in refs if r() is not None))


main()
print('main done')
