# linger-sample: a WeakValueDictionary key that refers to its own value
# Results are cached in a WeakValueDictionary keyed by the Query that
# produced them, so that a result goes away once nobody uses it.  But
# each Query remembers its last result, and the dictionary holds its keys
# strongly: cache -> Query -> Result.  The results can never die and
# the cache only grows.
#
# linger-expect: weak-container-keepalive __main__.Result count=2 state=garbage severity=warning
# linger-expect-path: weak-container-keepalive __main__.Result: WeakValueDictionary.data → dict(key <Query>) → Query.last_result → Result

import gc
import weakref

gc.collect()   # start from a clean heap: nothing left over from imports

RESULTS = weakref.WeakValueDictionary()


class Query:

    def __init__(self, text):
        self.text = text
        self.last_result = None


class Result:

    def __init__(self, rows):
        self.rows = rows


def run(text):
    query = Query(text)
    result = Result([text.upper()])
    query.last_result = result       # wrong: the key refers to its value
    RESULTS[query] = result
    return weakref.ref(result)


def main():
    refs = [run('select a'), run('select b')]
    gc.collect()
    print('results alive after use:', sum(1 for r in refs if r() is not None))
    print('cache entries:', len(RESULTS))


main()
