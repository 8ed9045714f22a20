# linger-sample: atexit callbacks that keep nothing the program dropped (clean look-alike)
# atexit.register() with a plain function and a string argument; with a
# bound method of an object the program keeps in a module global on
# purpose; and with a bound method of a temporary object that is
# unregistered (atexit.unregister) once it is done, so it is freed.
#
# linger-expect-none

import atexit
import gc
import weakref


def goodbye(name):
    print('goodbye from', name)


class Service:

    def __init__(self, name):
        self.name = name

    def stop(self):
        print('stopping', self.name)


class Job:

    def __init__(self, number):
        self.number = number
        atexit.register(self.abort)

    def abort(self):
        print('aborting job', self.number)

    def finish(self):
        atexit.unregister(self.abort)


atexit.register(goodbye, 'main')
SERVICE = Service('api')
atexit.register(SERVICE.stop)

job = Job(1)
job.finish()
ref = weakref.ref(job)
del job
print('finished job alive:', ref() is not None)
del ref
gc.collect()
