# linger-sample: a finalizer keep-alive in a program that ends with sys.exit(3)
# Same leak as finalize_keepalive.py, but the program leaves through
# sys.exit(3): the exit snapshot must still be taken, and the exit
# status must reach the caller unchanged.
#
# linger-expect: finalizer-keepalive __main__.Report count=1
# linger-expect-not: bound-method-cycle

import sys
import weakref


class Report:

    def __init__(self, title):
        self.title = title


def publish(report):
    print('publishing {}'.format(report.title))


def main():
    report = Report('quarterly')
    weakref.finalize(report, publish, report)
    print('exiting with status 3')
    return 3


sys.exit(main())
