# linger-sample: a live tree with parent back-pointers (clean by default; reported with --live-cycles)
# A document tree held by a module global, whose nodes point back to
# their parent: a reference cycle, but the program still uses it, so it
# is not a leak and the default report says nothing.  With
# --live-cycles, linger lists live cycles too: one cycle, live, held by
# the global.
#
# linger-expect-none
# linger-expect [--live-cycles]: reference-cycle __main__.Node count=1 state=live severity=info cycle_types=__main__.Node,builtins.list
# linger-expect-held-by [--live-cycles]: reference-cycle __main__.Node: __main__.DOCUMENT → Node

import gc


class Node:

    def __init__(self, tag, parent=None):
        self.tag = tag
        self.parent = parent            # back-pointer
        self.children = []
        if parent is not None:
            parent.children.append(self)

    def depth(self):
        return 0 if self.parent is None else 1 + self.parent.depth()


DOCUMENT = Node('html')
body = Node('body', Node('head', DOCUMENT).parent)
paragraph = Node('p', body)
print('depth of <p>:', paragraph.depth())
del body, paragraph
gc.collect()   # reachable from the global: nothing is freed
