# linger-sample: the Connectors package's circular reference (bound method kept by a connector)
# Scenario: seeds/003 "Connector proxies - avoiding circular references".
# A ConnectorProxy is created on each access and refers to the object,
# not vice versa, so it is freed at once (first part, no leak).  Once a
# connection is configured, the method is replaced by a persistent
# Connector stored on the object, and the Connector keeps the original
# bound method: object -> __dict__ -> Connector -> bound method ->
# __self__ = object.  Reference counting can never free that cycle.
# The cyclic GC is disabled here (as latency-sensitive programs do), so
# the three configured objects are still garbage at exit.
#
# linger-expect: bound-method-cycle __main__.ExampleClass count=3 state=garbage
# linger-expect-path: bound-method-cycle __main__.ExampleClass: ExampleClass.compute → Connector._method → <bound method ExampleClass.compute>.__self__ → ExampleClass
# linger-expect-allocated: bound-method-cycle __main__.ExampleClass at=site:make-example function=use_connectors
# linger-expect-not: finalizer-keepalive

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports
gc.disable()


class ConnectorProxy:
    """Created on every access, like a bound method: refers to the object only."""

    def __init__(self, instance, method_name):
        self._instance = instance
        self._method_name = method_name

    def __call__(self, *args):
        method = getattr(type(self._instance), self._method_name)
        return method(self._instance, *args)


class Connector:
    """Replaces a method once per-object state (connections, config) is needed."""

    def __init__(self, bound_method):
        self._method = bound_method      # strong: this is the circular reference
        self._connections = []
        self._parallelization = 'sequential'

    def connect(self, target):
        self._connections.append(target)

    def set_parallelization(self, mode):
        self._parallelization = mode

    def __call__(self, *args):
        result = self._method(*args)
        for target in self._connections:
            target(result)
        return result


class ExampleClass:

    def __init__(self, value):
        self.value = value

    def compute(self):
        return self.value * 2

    def connector(self):
        """Like the package: a proxy unless a Connector was installed."""
        installed = self.__dict__.get('compute')
        if installed is not None:
            return installed
        return ConnectorProxy(self, 'compute')

    def configure(self, mode):
        connector = Connector(self.compute)
        connector.set_parallelization(mode)
        self.compute = connector


def printer(result):
    print('  connected printer got', result)


def use_proxies():
    # result = ExampleClass().connector()(): works, and nothing leaks.
    refs = []
    for value in (1, 2, 3):
        obj = ExampleClass(value)
        print('proxy result:', obj.connector()())
        refs.append(weakref.ref(obj))
    return refs


def use_connectors():
    refs = []
    for value in (10, 20, 30):
        obj = ExampleClass(value)  # linger-site: make-example
        obj.configure('parallel')
        obj.compute.connect(printer)
        print('connector result:', obj.compute())
        refs.append(weakref.ref(obj))
    return refs


def main():
    proxied = use_proxies()
    print('objects used through proxies still alive:',
          sum(1 for r in proxied if r() is not None))
    connected = use_connectors()
    print('objects with connectors still alive:',
          sum(1 for r in connected if r() is not None))


main()
