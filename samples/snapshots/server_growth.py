# linger-sample: a server-like program that leaks a little on every request
# Reads commands on standard input, one a line, and answers on standard
# output:
#   request N   handle N requests, answer "handled N (total T)"
#   open N      open N connections, answer "opened N (total T)"
#   quit        exit with status 0 after "bye"
# It starts with "ready PID", so that a test can send it the snapshot
# signal between requests.  Every request leaves behind
#   - a Session whose bound method is stored on itself (self.on_close =
#     self.close): a cycle the cyclic GC would free, but the GC is off,
#     so it is garbage that piles up;
#   - a Request record appended to a module-level history list: live
#     objects that grow without bound.
# and every connection registers weakref.finalize(conn, conn.close): its
# finalizer keeps it alive for ever (a finalizer-keepalive).
# So between two snapshots the number of __main__.Session and
# __main__.Request objects grows by the number of requests handled, the
# bound-method-cycle finding on Session grows with it, and the first
# "open" makes a new finding.
#
# The exit snapshot sees everything:
#   bound-method-cycle __main__.Session count=<requests> state=garbage
#   finalizer-keepalive __main__.Connection count=<connections> state=garbage

import gc
import os
import sys
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()

HISTORY = []


class Request:

    def __init__(self, number):
        self.number = number
        self.headers = {'id': str(number)}


class Session:

    def __init__(self, request):
        self.request_number = request.number
        self.on_close = self.close       # the cycle: a bound method of itself

    def close(self):
        self.closed = True


class Connection:

    def __init__(self, number):
        self.number = number
        weakref.finalize(self, self.close)   # keeps the connection alive

    def close(self):
        pass


def handle(number):
    request = Request(number)
    HISTORY.append(request)
    session = Session(request)
    session.on_close()


def main():
    total = opened = 0
    print('ready', os.getpid(), flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ['request'] and len(words) == 2:
            for _ in range(int(words[1])):
                total += 1
                handle(total)
            print('handled {} (total {})'.format(words[1], total), flush=True)
        elif words[:1] == ['open'] and len(words) == 2:
            for _ in range(int(words[1])):
                opened += 1
                Connection(opened)
            print('opened {} (total {})'.format(words[1], opened), flush=True)
        elif words == ['quit']:
            break
        else:
            print('unknown command: {!r}'.format(line.strip()), flush=True)
    print('bye', flush=True)


main()
