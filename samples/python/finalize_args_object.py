# linger-sample: the watched object hidden inside another object passed as an argument
# Variant of finalize_keepalive.py.  The finalizer's only argument is a
# JobContext, which looks harmless, but the context keeps a reference to
# the job: registry -> args tuple -> JobContext -> its __dict__ -> Job.
#
# linger-expect: finalizer-keepalive __main__.Job count=3
# linger-expect-path: finalizer-keepalive __main__.Job: weakref.finalize → _Info.args → tuple[0] → JobContext.job → Job
# linger-expect-not: bound-method-cycle

import gc
import weakref


class Job:

    def __init__(self, number):
        self.number = number


class JobContext:

    def __init__(self, job):
        self.job = job
        self.log = []


def finish(context):
    print('job {} finished'.format(context.job.number))


def submit(number):
    job = Job(number)
    weakref.finalize(job, finish, JobContext(job))
    return weakref.ref(job)


def main():
    refs = [submit(n) for n in range(3)]
    gc.collect()
    print('jobs alive after use:', sum(1 for r in refs if r() is not None))


main()
print('main done')
