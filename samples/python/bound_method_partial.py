# linger-sample: functools.partial(self.send, ...) stored on self
# A partial object wrapping a bound method of the object, stored on the
# object: client -> __dict__ -> partial -> bound method -> __self__ =
# client.  Both clients are still referenced by a module-level list at
# exit, so the cycles are live.
#
# linger-expect: bound-method-cycle __main__.Client count=2 state=live
# linger-expect-path: bound-method-cycle __main__.Client: Client.send_with_retry → partial.func → <bound method Client.send>.__self__ → Client
# linger-expect-not: finalizer-keepalive

import functools
import gc


class Client:

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.sent = []
        self.send_with_retry = functools.partial(self.send, retries=3)   # the cycle

    def send(self, payload, retries=0):
        self.sent.append((payload, retries))


CLIENTS = [Client('orders'), Client('billing')]
for client in CLIENTS:
    client.send_with_retry('ping')
del client
gc.collect()
print('messages sent:', sum(len(c.sent) for c in CLIENTS))
