# linger-sample: a program that runs for a few seconds, for interval snapshots
# Works in small steps for RUN_SECONDS (default 2.5; first argument),
# keeping a growing list of records, and prints only how many steps it
# made in whole numbers of batches, so that its output does not depend on
# timing.  With `linger run --snapshot-interval=0.5` the trace holds
# several interval snapshots and the exit snapshot.

import sys
import time

RUN_SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.5


class Record:

    def __init__(self, n):
        self.n = n


records = []
deadline = time.monotonic() + RUN_SECONDS
while time.monotonic() < deadline:
    records.append(Record(len(records)))
    time.sleep(0.01)
print('worked: at least one step:', len(records) > 0)
