# linger-sample: a TempDir removed by weakref.finalize(self, rmtree, self.name) (clean)
# Scenario: seeds/002 section 3.  The finalizer receives only the
# directory name (a str), not the TempDir, so the TempDir is freed as
# soon as test() returns and the directory is removed then.  A second
# TempDir is removed explicitly.  No directory is left behind, and the
# lambda finalizer of test_finalize() does not capture its object.
#
# linger-expect-none

import gc
import os
import shutil
import tempfile
import weakref


def rmtree(name):
    print('removing temporary directory..')
    shutil.rmtree(name)


class TempDir:

    def __init__(self):
        self.name = tempfile.mkdtemp(prefix='linger-sample-')
        self._finalizer = weakref.finalize(self, rmtree, self.name)

    def remove(self):
        self._finalizer()

    @property
    def removed(self):
        return not self._finalizer.alive


class BigData:

    def __init__(self, value):
        self.value = value


def test_ref():
    b = BigData(3)
    weakref.ref(b, lambda ref: print('destroyed in test_ref'))
    del b


def test_finalize():
    b = BigData(3)
    weakref.finalize(b, lambda: print('destroyed in test_finalize'))
    del b


def test():
    temp = TempDir()
    print('directory exists:', os.path.isdir(temp.name))
    return temp.name


def test_explicit_remove():
    temp = TempDir()
    name = temp.name
    temp.remove()
    print('removed explicitly:', temp.removed, not os.path.exists(name))


test_ref()
test_finalize()
name = test()
print('directory left behind:', os.path.exists(name))
test_explicit_remove()
# Collect cyclic garbage left over by imports, so that the exit snapshot
# does not depend on when the cyclic GC last ran.
gc.collect()
