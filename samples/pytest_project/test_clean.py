"""Tests that leave nothing behind: no finding may be attributed to them."""
import weakref


class Connection:
    def __init__(self, name):
        self.name = name
        self.open = True

    def close(self):
        self.open = False


def _close_handle(handle):
    handle["open"] = False


def test_plain_objects():
    conns = [Connection("c%d" % i) for i in range(10)]
    for c in conns:
        c.close()
    assert not any(c.open for c in conns)


def test_finalizer_done_right():
    # The finalizer holds only what the cleanup needs, never the object.
    handle = {"open": True}
    conn = Connection("db")
    fin = weakref.finalize(conn, _close_handle, handle)
    del conn
    assert not fin.alive
    assert handle == {"open": False}


def test_dict_and_lists():
    table = {i: [i] * 3 for i in range(100)}
    assert sum(len(v) for v in table.values()) == 300
