# linger-sample: weakref.ref(obj, lambda ref: ... obj ...) -- the callback closes over its referent
# A watcher keeps weak references to sessions so that it can log when
# each session ends.  The callback is a lambda made inside watch(),
# where `session` is a parameter, so the lambda keeps `session` in a
# closure cell: WATCHED -> weakref -> callback -> cell -> session.  The
# weak reference keeps its own referent alive, for as long as the
# program keeps the weak reference (here: until exit), and the callback
# never runs.
#
# linger-expect: weakref-callback-keepalive __main__.Session count=2 state=garbage severity=warning
# linger-expect-not: finalizer-keepalive
# linger-expect-not: closure-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports


class Session:

    def __init__(self, user):
        self.user = user


WATCHED = []


def watch(session):
    WATCHED.append(weakref.ref(session, lambda ref: print('session of {} ended'.format(session.user))))


def open_session(user):
    session = Session(user)
    watch(session)
    return weakref.ref(session)


def main():
    probes = [open_session('alice'), open_session('bob')]
    gc.collect()
    print('sessions alive after use:', sum(1 for r in probes if r() is not None))
    print('weak references watched:', len(WATCHED))


main()
