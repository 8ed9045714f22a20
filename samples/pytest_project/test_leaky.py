"""Tests that leak, each its own kind of object, so that `linger report`
can say which test created which finding (tests/check_pytest.py checks it):

  test_finalizer_keepalive   Resource:        finalizer-keepalive
  test_bound_method_cycle    Listener:        bound-method-cycle, kept in KEPT
  test_marked_leak           MarkedResource:  finalizer-keepalive, and the
                             marker fails the test under the shim
  test_marked_clean          Handler:         bound-method-cycle, kept in KEPT;
                             the marker asks only about finalizer-keepalive,
                             so the test passes
"""
import weakref

import pytest

# A module-level list outlives every test: what the tests put in it stays.
KEPT = []


def _release(obj):
    obj.released = True


class Resource:
    def __init__(self, name):
        self.name = name
        # The finalizer's argument is the object itself: it can never die.
        self._finalizer = weakref.finalize(self, _release, self)


class MarkedResource(Resource):
    pass


class Listener:
    def __init__(self):
        # A bound method of itself: a reference cycle.
        self.callback = self.on_event

    def on_event(self):
        pass


class Handler(Listener):
    pass


def test_finalizer_keepalive():
    r = Resource("unmarked")
    assert r.name == "unmarked"


def test_bound_method_cycle():
    KEPT.append(Listener())
    assert len(KEPT) == 1


@pytest.mark.linger(fail_on=["finalizer-keepalive"])
def test_marked_leak():
    r = MarkedResource("marked")
    assert r.name == "marked"


@pytest.mark.linger(fail_on=["finalizer-keepalive"])
def test_marked_clean():
    KEPT.append(Handler())
    handle = {"open": True}
    owner = Listener.__new__(Listener)
    fin = weakref.finalize(owner, dict.clear, handle)
    del owner
    assert not fin.alive
