#!/usr/bin/env python3
"""An allocation-heavy, deterministic Python workload for bench/alloc_bench.py.

Makes and drops millions of objects of the kinds linger's allocation
tracking has to follow: instances with a __dict__ and with __slots__,
dicts, lists, tuples, strings, closures, bound methods stored on self
(reference cycles only the cyclic GC frees, so it runs often), weak
references with callbacks, weakref.finalize, and a class with __del__.
Keeps a working set of a few thousand objects alive at any time and a
small fraction until exit.  About 1-2 s with --scale 1 on Debian's
python3; prints one checksum line (the same on every run).

Usage: alloc_workload.py [--scale S]
"""
import argparse
import weakref


class Node:
    def __init__(self, key, parent=None):
        self.key = key
        self.parent = parent
        self.children = []
        self.label = 'node-%d' % key


class Point:
    __slots__ = ('x', 'y', 'z')

    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z


class Handler:
    """self.callback = self.on_event: a bound-method cycle."""

    def __init__(self, n):
        self.n = n
        self.callback = self.on_event

    def on_event(self, value):
        return self.n + value


class Counter:
    """A closure over self stored on self: a closure cycle."""

    def __init__(self, n):
        self.n = n
        self.get = lambda: self.n


class Resource:
    closed = 0

    def __del__(self):
        Resource.closed += 1


finalized = [0]
collected_refs = [0]


def on_finalize(tag):
    finalized[0] += len(tag)


def on_ref_dead(ref):
    collected_refs[0] += 1


def make_adder(k):
    def add(v):
        return v + k
    return add


def trees(rounds):
    total = 0
    for r in range(rounds):
        root = Node(r)
        for i in range(20):
            child = Node(i, root)       # child.parent -> root: a cycle
            root.children.append(child)
            child.children.append(Point(i, r, i * r))
        total += sum(len(c.label) for c in root.children)
    return total


def containers(rounds):
    total = 0
    working = [None] * 512
    for r in range(rounds):
        d = {'id': r, 'name': 'item%d' % r, 'tags': [r, r + 1, r + 2], 'pos': (r, -r)}
        s = ('%s:%d' % (d['name'], r)).upper()
        t = tuple(d['tags']) + (s,)
        working[r % 512] = [d, t, s.lower()]
        total += len(t) + len(s)
    return total


def cycles(rounds):
    total = 0
    for r in range(rounds):
        h = Handler(r)
        c = Counter(r)
        total += h.callback(1) + c.get()
        adders = [make_adder(k) for k in range(4)]
        total += sum(a(r) for a in adders)
    return total


def weak_things(rounds, keep):
    total = 0
    for r in range(rounds):
        target = Node(r)
        ref = weakref.ref(target, on_ref_dead)
        fin = weakref.finalize(target, on_finalize, 'tag%d' % (r % 10))
        res = Resource()
        if r % 1000 == 0:
            keep.append((target, fin, res))   # a few live until exit
        total += ref() is not None
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--scale', type=float, default=1.0)
    args = ap.parse_args()
    n = lambda base: max(1, int(base * args.scale))   # noqa: E731
    keep = []
    total = trees(n(50000))
    total += containers(n(400000))
    total += cycles(n(150000))
    total += weak_things(n(100000), keep)
    print('checksum', total, 'kept', len(keep), 'finalized', finalized[0] > 0,
          'refs', collected_refs[0] > 0, 'closed', Resource.closed > 0)


if __name__ == '__main__':
    main()
