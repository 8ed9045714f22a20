"""A heap of about one million live objects at exit, for bench/snapshot_cost.py.

333,333 instances in a ternary tree, each with a children list and an int
(3.11+ keeps instance attributes without a dict, 3.8-3.10 add one dict per
instance).  Deterministic; prints one line.
"""
import sys


class Node:
    def __init__(self, i, parent):
        self.i = i
        self.parent = parent
        self.children = []


def build(n):
    nodes = [Node(0, None)]
    for i in range(1, n):
        node = Node(i, nodes[i // 3])
        nodes[i // 3].children.append(node)
        nodes.append(node)
    return nodes


NODES = build(int(sys.argv[1]) if len(sys.argv) > 1 else 333334)
print("built", len(NODES), "nodes")
