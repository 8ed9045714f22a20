# linger-sample: plain reference cycles left for the cyclic GC
# A tree whose children point back to their parent, built and dropped
# twice with the cyclic GC off: each tree is one cycle through Parent
# and Child objects (and the children list) that reference counting can
# never free.  Plus a list that contains itself.  No bound method and no
# closure is involved, so they are reported as plain reference cycles,
# grouped by the set of types in the cycle.  The set is the same on
# every Python version: an instance's __dict__ (a separate object before
# 3.11) belongs to its instance and is not a type of the cycle.  The two
# trees are built in different orders (parent first, children first), so
# their objects lie in memory in different orders: they are still one
# group, named after the same type.  The same for two Owner <-> Account
# pairs, one made owner first, one account first, where neither type
# outnumbers the other, and for two Formatter <-> Section pairs shaped
# like argparse.HelpFormatter and its _root_section (whose name linger
# reads as a back reference, and Section.formatter as none).
#
# linger-expect: reference-cycle __main__.Parent count=2 state=garbage severity=info cycle_types=__main__.Child,__main__.Parent,builtins.list
# linger-expect: reference-cycle __main__.Owner count=2 state=garbage severity=info cycle_types=__main__.Account,__main__.Owner
# linger-expect-path: reference-cycle __main__.Owner: Owner.account → Account.owner → Owner
# linger-expect: reference-cycle __main__.Formatter count=2 state=garbage severity=info cycle_types=__main__.Formatter,__main__.Section
# linger-expect-path: reference-cycle __main__.Formatter: Formatter._root_section → Section.formatter → Formatter
# linger-expect: reference-cycle builtins.list count=1 state=garbage severity=info cycle_types=builtins.list
# linger-expect-path: reference-cycle builtins.list: list[0] → list
# linger-expect-not: bound-method-cycle
# linger-expect-not: closure-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class Parent:

    def __init__(self, name):
        self.name = name
        self.children = []

    def add(self, name):
        self.children.append(Child(name, self))


class Child:

    def __init__(self, name, parent):
        self.name = name
        self.parent = parent            # back-pointer: the cycle


def build(name):
    parent = Parent(name)
    for n in range(3):
        parent.add('{}.{}'.format(name, n))
    return weakref.ref(parent)


def build_children_first(name):
    children = [Child('{}.{}'.format(name, n), None) for n in range(3)]
    parent = Parent(name)
    for child in children:
        child.parent = parent
        parent.children.append(child)
    return weakref.ref(parent)


refs = [build('left'), build_children_first('right')]
print('trees alive after use:', sum(1 for r in refs if r() is not None))
del refs

class Owner:

    def __init__(self, name):
        self.name = name
        self.account = None


class Account:

    def __init__(self, number):
        self.number = number
        self.owner = None


def pair(owner_first):
    if owner_first:
        owner, account = Owner('ann'), Account(1)
    else:
        account, owner = Account(2), Owner('bob')
    owner.account, account.owner = account, owner
    return weakref.ref(owner)


refs = [pair(True), pair(False)]
print('owners alive after use:', sum(1 for r in refs if r() is not None))
del refs

class Section:

    def __init__(self, formatter, parent):
        self.formatter = formatter
        self.parent = parent
        self.items = []


class Formatter:

    def __init__(self, section=None):
        self._root_section = section or Section(self, None)
        self._root_section.formatter = self
        self._current_section = self._root_section


def formatter(section_first):
    if section_first:
        f = Formatter(Section(None, None))
    else:
        f = Formatter()
    return weakref.ref(f)


refs = [formatter(False), formatter(True)]
print('formatters alive after use:', sum(1 for r in refs if r() is not None))
del refs

loop = []
loop.append(loop)
loop_ref_count = len(loop)
del loop
print('self-referencing list made:', loop_ref_count)
