# linger-sample: native blocks leaked from Python code through ctypes (a mixed Python/native stack)
# ctypes.CDLL(None) is the program's global symbol scope, so its malloc
# and free are the ones the preloaded shim interposes, called from
# Python through libffi.  leak_buffers() mallocs 20 blocks of 3000 bytes
# and frees all but 6: with `linger run --native` they are one leak
# finding whose stack holds native frames and, spliced in where the
# stack enters the interpreter, this file's leak_buffers at the malloc
# line.  Without --native (the default for Python) no native block is
# tracked: no leak finding.  On the Python side nothing is kept alive.
#
# tests/check_c_sample.py reads the `linger-native` lines, which are
# about a run with --native; tests/check_sample.py does not read them:
# linger-native: leak * blocks=6 bytes=18000 python-site=ctypes-malloc
#
# linger-expect-none

import ctypes

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.restype = None
libc.free.argtypes = [ctypes.c_void_p]

SIZE = 3000


def leak_buffers(total, kept):
    leaked = 0
    for i in range(total):
        p = libc.malloc(SIZE)  # linger-site: ctypes-malloc
        ctypes.memset(p, i & 0xFF, SIZE)
        if i >= kept:
            libc.free(p)
        else:
            leaked += 1    # the address is dropped: the block is leaked
    return leaked


print('leaked', leak_buffers(20, 6), 'blocks of', SIZE, 'bytes')
