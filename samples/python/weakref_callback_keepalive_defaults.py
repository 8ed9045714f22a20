# linger-sample: a callback function whose default argument is its referent
# The callback is a nested function, but not a closure: it binds the job
# through a default argument value (job=job), a common way to "capture"
# a loop variable.  Defaults are stored in the function's __defaults__
# tuple: PENDING -> weakref -> function -> __defaults__ -> job.
#
# linger-expect: weakref-callback-keepalive __main__.Job count=3 state=garbage
# linger-expect-not: closure-cycle

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports


class Job:

    def __init__(self, number):
        self.number = number


PENDING = []


def submit(number):
    job = Job(number)

    def on_done(ref, job=job):          # the default value keeps the job
        print('job {} done'.format(job.number))

    PENDING.append(weakref.ref(job, on_done))
    return weakref.ref(job)


def main():
    refs = [submit(n) for n in range(3)]
    gc.collect()
    print('jobs alive after submission:', sum(1 for r in refs if r() is not None))


main()
