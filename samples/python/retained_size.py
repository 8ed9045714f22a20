# linger-sample: what a finding keeps alive: retained_bytes and retained_objects
# A finalizer keep-alive on a Report that owns a 2 MB payload: the
# finding's retained size is the memory freed if the leak were fixed,
# the Report with everything only it keeps alive (its payload), at
# least 2 000 000 bytes and well under 3 000 000 (the rest of the
# heap is not counted).
#
# linger-expect: finalizer-keepalive __main__.Report count=1 state=garbage retained_bytes>=2000000 retained_bytes<=3000000 retained_objects>=2
# linger-expect-not: bound-method-cycle

import gc
import weakref

PAYLOAD_BYTES = 2 * 1000 * 1000


class Report:

    def __init__(self, title):
        self.title = title
        self.payload = bytearray(PAYLOAD_BYTES)


def publish(report):
    print('publishing', report.title)


def make():
    report = Report('weekly')
    weakref.finalize(report, publish, report).atexit = False
    return weakref.ref(report)


ref = make()
gc.collect()
print('report alive:', ref() is not None)
del ref
