/* test_keepalive.c: objects kept alive by the mechanism meant to let them
 * go -- weakref callbacks, weak dictionaries, atexit callbacks, and the
 * finalizer hints -- on synthetic heaps shaped like the shim's, with the
 * look-alikes that must not be reported. */
#include <string.h>

#include "linger_analysis.h"
#include "linger_findings.h"
#include "linger_test_heap.h"

/* --- weakref-callback-keepalive ------------------------------------------- */

/* r = weakref.ref(obj, lambda ref: print(obj)) kept in a global, obj
 * dropped: the callback's closure is all that holds obj. */
static void
test_callback_closure (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.Obj", NULL, LINGER_OBJ_HAS_DEL);
  guint64 cb = heap_closure (h, "make.<locals>.<lambda>", "o", o, NULL);
  guint64 wr = heap_weakref (h, o, cb, LINGER_WEAKREF_REF);
  const LingerFinding *f;

  heap_key (h, h->main_dict, wr, "'keep'");
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  f = heap_find (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE, "__main__.Obj");
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_WARNING);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_null (f->held_by);
  heap_assert_steps (f->path, "ReferenceType.__callback__", "<function make.<locals>.<lambda>> closure 'o'",
                     "Obj", NULL);
  test_assert_contains (f->hint, "closes over 'o'");
  test_assert_contains (f->hint, "receives the dead weakref as its argument");
  test_assert_contains (f->hint, "Obj defines __del__, which will not run before exit either");
}

/* The same while the program still holds obj: live, and why. */
static void
test_callback_live (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.Obj", NULL, 0);
  guint64 cb = heap_closure (h, "make.<locals>.<lambda>", "o", o, NULL);
  const LingerFinding *f;

  heap_key (h, h->main_dict, heap_weakref (h, o, cb, LINGER_WEAKREF_REF), "'keep'");
  heap_key (h, h->main_dict, o, "'obj'");
  a = heap_analyse (h, FALSE);
  f = heap_find (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE, "__main__.Obj");
  g_assert_cmpstr (f->state, ==, "live");
  heap_assert_steps (f->held_by, "__main__.obj", "Obj", NULL);
  g_assert_cmpstr (f->held_by_root, ==, "module");
}

/* weakref.proxy(doc, doc.closed): the callback is a bound method of the
 * referent; and a functools.partial(cleanup, doc). */
static void
test_callback_method_and_partial (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 doc = heap_obj (h, "__main__.Document", NULL, 0);
  guint64 job = heap_obj (h, "__main__.Job", NULL, 0);
  guint64 partial = heap_obj (h, "functools.partial", NULL, LINGER_OBJ_PARTIAL);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 views = heap_obj (h, "builtins.list", NULL, 0);
  const LingerFinding *f;

  heap_key (h, h->main_dict, views, "'VIEWS'");
  heap_item (h, views, heap_weakref (h, doc, heap_bound_method (h, "Document.closed", doc), LINGER_WEAKREF_PROXY), 0);
  heap_attr (h, partial, heap_function (h, "cleanup"), "func");
  heap_attr (h, partial, args, "args");
  heap_item (h, args, job, 0);
  heap_item (h, views, heap_weakref (h, job, partial, LINGER_WEAKREF_REF), 1);

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (heap_count_kind (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE), ==, 2);
  f = heap_find (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE, "__main__.Document");
  heap_assert_steps (f->path, "ProxyType.__callback__", "<bound method Document.closed>.__self__", "Document", NULL);
  test_assert_contains (f->hint, "is a bound method of the Document itself");
  test_assert_contains (f->hint, "weakref.proxy");
  f = heap_find (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE, "__main__.Job");
  heap_assert_steps (f->path, "ReferenceType.__callback__", "partial.args", "tuple[0]", "Job", NULL);
  test_assert_contains (f->hint, "the callback functools.partial(cleanup, ...) of this weak reference passes it in args[0]");
}

/* Look-alikes: a WeakMethod (weak edges only), a callback that gets only
 * the resource, a proxy without a callback, a callback whose globals
 * hold the object, a weak reference nothing holds, weak references to
 * classes, and a WeakSet registry, whose callback holds the set weakly. */
static void
test_callback_negative (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 d;
  guint64 c = heap_instance (h, "__main__.Connector", &d);
  guint64 wm = heap_weakref (h, c, 0, LINGER_WEAKREF_METHOD);
  guint64 r = heap_obj (h, "__main__.Resource", NULL, 0);
  guint64 handle = heap_obj (h, "builtins.int", NULL, 0);
  guint64 g = heap_obj (h, "__main__.Global", NULL, 0);
  guint64 dead = heap_obj (h, "__main__.Dropped", NULL, 0);
  guint64 cls = heap_obj (h, "builtins.type", "Base", LINGER_OBJ_TYPE);
  guint64 server = heap_obj (h, "__main__.Server", NULL, 0);
  guint64 weakset_d;
  guint64 weakset = heap_instance (h, "_weakrefset.WeakSet", &weakset_d);
  guint64 items = heap_obj (h, "builtins.set", NULL, 0);
  guint64 selfref = heap_weakref (h, weakset, 0, LINGER_WEAKREF_REF);
  guint64 remove = heap_closure (h, "WeakSet.__init__.<locals>._remove", "selfref", selfref, NULL);
  guint64 orphan;

  heap_hold_externally (h, c);
  heap_key (h, d, wm, "'callback'");
  heap_attr (h, wm, heap_weakref (h, heap_function (h, "Connector.on_data"), 0, LINGER_WEAKREF_REF), "_func_ref");
  heap_hold_externally (h, r);
  heap_key (h, h->main_dict, heap_weakref (h, r, heap_closure (h, "watch.<locals>.gone", "handle", handle, NULL),
                                           LINGER_WEAKREF_REF), "'watch'");
  heap_key (h, h->main_dict, heap_weakref (h, r, 0, LINGER_WEAKREF_PROXY), "'p'");
  heap_key (h, h->main_dict, g, "'G'");
  heap_key (h, h->main_dict, heap_weakref (h, g, heap_function (h, "on_gone"), LINGER_WEAKREF_REF), "'gw'");
  orphan = heap_weakref (h, dead, heap_closure (h, "f.<locals>.cb", "x", dead, NULL), LINGER_WEAKREF_REF);
  heap_hold_externally (h, cls);
  heap_key (h, h->main_dict, heap_weakref (h, cls, heap_bound_method (h, "Base.forget", cls), LINGER_WEAKREF_REF),
            "'sub'");
  heap_key (h, h->main_dict, weakset, "'registry'");
  heap_key (h, weakset_d, items, "'data'");
  heap_key (h, weakset_d, remove, "'_remove'");
  heap_ref (h, items, heap_weakref (h, server, remove, LINGER_WEAKREF_REF), LINGER_LABEL_ITEM, NULL, LINGER_REF_STRONG);
  heap_hold_externally (h, server);

  a = heap_analyse (h, FALSE);
  /* The orphaned weak reference goes, and its callback and object with
   * it: no keep-alive either. */
  g_assert_cmpuint (heap_count_kind (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE), ==, 0);
  (void) orphan;
}

/* A manager tracks many objects with weakref.ref(obj, self._gone): every
 * callback reaches the whole manager, none reaches its object.  Each
 * search gives up as soon as the object's few holders are exhausted, so
 * this stays linear; and a manager that does hold its objects is found,
 * by the same shortest path as a forward search would take. */
static void
test_callback_manager (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 md;
  guint64 manager = heap_instance (h, "__main__.Manager", &md);
  guint64 refs = heap_obj (h, "builtins.list", NULL, 0);
  guint64 items = heap_obj (h, "builtins.list", NULL, 0);
  guint64 kept_d;
  guint64 keeper = heap_instance (h, "__main__.Keeper", &kept_d);
  guint64 owned = heap_obj (h, "builtins.list", NULL, 0);
  guint64 item = 0;
  const LingerFinding *f;
  gint64 start;

  heap_key (h, h->main_dict, manager, "'MANAGER'");
  heap_key (h, h->main_dict, items, "'ITEMS'");
  heap_key (h, md, refs, "'refs'");
  for (guint i = 0; i < 3000; i++)
    {
      item = heap_obj (h, "__main__.Item", NULL, 0);
      heap_item (h, items, item, i);
      heap_item (h, refs, heap_weakref (h, item, heap_bound_method (h, "Manager._gone", manager),
                                        LINGER_WEAKREF_REF), i);
    }
  /* A keeper that holds its objects itself: weak references in vain. */
  heap_key (h, h->main_dict, keeper, "'KEEPER'");
  heap_key (h, kept_d, owned, "'owned'");
  for (guint i = 0; i < 2; i++)
    {
      item = heap_obj (h, "__main__.Kept", NULL, 0);
      heap_item (h, owned, item, i);
      heap_key (h, kept_d, heap_weakref (h, item, heap_bound_method (h, "Keeper._gone", keeper),
                                         LINGER_WEAKREF_REF), i == 0 ? "'first'" : "'second'");
    }

  start = g_get_monotonic_time ();
  a = heap_analyse (h, FALSE);
  g_test_message ("analysed in %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpuint (heap_count_kind (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE), ==, 1);
  f = heap_find (a, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE, "__main__.Kept");
  g_assert_cmpuint (f->count, ==, 2);
  g_assert_cmpstr (f->state, ==, "live");
  heap_assert_steps (f->path, "ReferenceType.__callback__", "<bound method Keeper._gone>.__self__",
                     "Keeper.owned", "list[0]", "Kept", NULL);
}

/* --- weak-container-keepalive --------------------------------------------- */

/* A WeakKeyDictionary: data = {ref(key): value}, its key weakref with
 * the dictionary's remove callback. */
static guint64
weak_key_dict (Heap       *h,
               const char *type,
               guint64    *ret_data)
{
  guint64 d;
  guint64 wkd = heap_instance (h, type, &d);
  guint64 data = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);

  heap_key (h, d, data, "'data'");
  *ret_data = data;
  return wkd;
}

static void
weak_key_entry (Heap    *h,
                guint64  data,
                guint64  key,
                guint64  value)
{
  guint64 remove = heap_function (h, "WeakKeyDictionary.__init__.<locals>.remove");

  heap_ref (h, data, value, LINGER_LABEL_KEY, "<ReferenceType>", LINGER_REF_STRONG);
  heap_ref (h, data, heap_weakref (h, key, remove, LINGER_WEAKREF_REF), LINGER_LABEL_DICT_KEY,
            "<ReferenceType>", LINGER_REF_STRONG);
}

static void
test_weak_key_dict (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 data;
  guint64 wkd = weak_key_dict (h, "weakref.WeakKeyDictionary", &data);
  const LingerFinding *f;

  heap_key (h, h->main_dict, wkd, "'INFO'");
  for (guint i = 0; i < 2; i++)
    {
      guint64 widget = heap_obj (h, "__main__.Widget", NULL, 0);
      guint64 info_d;
      guint64 info = heap_instance (h, "__main__.WidgetInfo", &info_d);

      heap_key (h, info_d, widget, "'widget'");
      weak_key_entry (h, data, widget, info);
    }
  /* A value that does not reach its key, and one whose function reaches
   * it only through __globals__ (the program's own global). */
  {
    guint64 other = heap_obj (h, "__main__.Label", NULL, 0);
    guint64 g = heap_obj (h, "__main__.Label", NULL, 0);

    weak_key_entry (h, data, other, heap_obj (h, "builtins.str", NULL, 0));
    heap_hold_externally (h, other);
    heap_key (h, h->main_dict, g, "'current'");
    weak_key_entry (h, data, g, heap_function (h, "describe"));
  }

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  f = heap_find (a, LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE, "__main__.Widget");
  g_assert_cmpuint (f->count, ==, 2);
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_WARNING);
  g_assert_cmpstr (f->state, ==, "garbage");
  heap_assert_steps (f->path, "WeakKeyDictionary.data", "dict[<ReferenceType>]", "WidgetInfo.widget", "Widget", NULL);
  test_assert_contains (f->hint, "weakref.ref(key)");
}

/* WeakValueDictionary {Query: KeyedRef(result)} where the key holds its
 * value; a cache keyed by names is fine.  Also a subclass, recognised by
 * its __mro__. */
static void
test_weak_value_dict (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 weakref_d;
  guint64 d;
  guint64 base = heap_obj (h, "abc.ABCMeta", "WeakValueDictionary", LINGER_OBJ_TYPE);
  guint64 sub = heap_obj (h, "abc.ABCMeta", "ResultCache", LINGER_OBJ_TYPE);
  guint64 mro = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 cache = heap_instance (h, "__main__.ResultCache", &d);
  guint64 data = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 named_d;
  guint64 named = heap_instance (h, "weakref.WeakValueDictionary", &named_d);
  guint64 named_data = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 query_d;
  guint64 query = heap_instance (h, "__main__.Query", &query_d);
  guint64 result = heap_obj (h, "__main__.Result", NULL, 0);
  guint64 keyed;
  const LingerFinding *f;

  heap_module (h, "weakref", &weakref_d);
  heap_key (h, weakref_d, base, "'WeakValueDictionary'");
  heap_attr (h, sub, mro, "__mro__");
  heap_item (h, mro, sub, 0);
  heap_item (h, mro, base, 1);
  heap_hold_externally (h, sub);
  heap_ref (h, cache, sub, LINGER_LABEL_NONE, NULL, LINGER_REF_STRONG);
  heap_key (h, d, data, "'data'");
  heap_key (h, h->main_dict, cache, "'RESULTS'");

  heap_key (h, query_d, result, "'last_result'");
  keyed = heap_weakref (h, result, heap_function (h, "WeakValueDictionary.__init__.<locals>.remove"),
                        LINGER_WEAKREF_REF);
  heap_attr (h, keyed, query, "key");
  heap_ref (h, data, keyed, LINGER_LABEL_KEY, "<Query>", LINGER_REF_STRONG);
  heap_ref (h, data, query, LINGER_LABEL_DICT_KEY, "<Query>", LINGER_REF_STRONG);

  /* {'b1': KeyedRef(big)}: str keys are no edges. */
  {
    guint64 big = heap_obj (h, "__main__.BigData", NULL, 0);

    heap_hold_externally (h, big);
    heap_key (h, named_d, named_data, "'data'");
    heap_key (h, named_data, heap_weakref (h, big, 0, LINGER_WEAKREF_REF), "'b1'");
    heap_key (h, h->main_dict, named, "'d'");
  }

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  f = heap_find (a, LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE, "__main__.Result");
  g_assert_cmpstr (f->state, ==, "garbage");
  heap_assert_steps (f->path, "ResultCache.data", "dict(key <Query>)", "Query.last_result", "Result", NULL);
  test_assert_contains (f->hint, "refers to its own value, a Result");
}

/* Subclasses where the shim could not name the __mro__ slot (3.13): the
 * unlabelled tuple that starts with the class, else the __base__ chain. */
static void
test_weak_container_subclass (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 weakref_d;
  guint64 base = heap_obj (h, "abc.ABCMeta", "WeakKeyDictionary", LINGER_OBJ_TYPE);
  guint64 registry = heap_obj (h, "abc.ABCMeta", "Registry", LINGER_OBJ_TYPE);
  guint64 mro = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 mid = heap_obj (h, "abc.ABCMeta", "Middle", LINGER_OBJ_TYPE);
  guint64 leaf = heap_obj (h, "abc.ABCMeta", "Leaf", LINGER_OBJ_TYPE);

  heap_module (h, "weakref", &weakref_d);
  heap_key (h, weakref_d, base, "'WeakKeyDictionary'");
  heap_ref (h, registry, mro, LINGER_LABEL_NONE, NULL, LINGER_REF_STRONG);
  heap_item (h, mro, registry, 0);
  heap_item (h, mro, base, 1);
  heap_attr (h, mid, base, "__base__");
  heap_attr (h, leaf, mid, "__base__");
  for (guint i = 0; i < 2; i++)
    {
      guint64 data;
      guint64 wkd = weak_key_dict (h, i == 0 ? "__main__.Registry" : "__main__.Leaf", &data);
      guint64 widget = heap_obj (h, i == 0 ? "__main__.Widget" : "__main__.Button", NULL, 0);
      guint64 info_d;
      guint64 info = heap_instance (h, "__main__.WidgetInfo", &info_d);

      heap_hold_externally (h, i == 0 ? registry : leaf);
      heap_ref (h, wkd, i == 0 ? registry : leaf, LINGER_LABEL_NONE, NULL, LINGER_REF_STRONG);
      heap_key (h, h->main_dict, wkd, i == 0 ? "'REG'" : "'LEAVES'");
      heap_key (h, info_d, widget, "'widget'");
      weak_key_entry (h, data, widget, info);
    }
  heap_hold_externally (h, mid);
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 2);
  heap_assert_steps (heap_find (a, LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE, "__main__.Widget")->path,
                     "Registry.data", "dict[<ReferenceType>]", "WidgetInfo.widget", "Widget", NULL);
  heap_find (a, LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE, "__main__.Button");
}

/* --- atexit --------------------------------------------------------------- */

/* atexit.register(buf.flush) for three buffers the program dropped. */
static void
test_atexit_bound_method (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(LingerAnalysis) all = NULL;
  guint64 first = 0;
  const LingerFinding *f;

  for (guint i = 0; i < 3; i++)
    {
      guint64 d;
      guint64 buf = heap_instance (h, "__main__.MetricsBuffer", &d);

      heap_key (h, d, heap_obj (h, "builtins.list", NULL, 0), "'pending'");
      heap_atexit (h, "MetricsBuffer.flush", heap_bound_method (h, "MetricsBuffer.flush", buf),
                   heap_obj (h, "builtins.tuple", NULL, 0), 0);
      if (first == 0)
        first = buf;
    }

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  f = heap_find (a, LINGER_FINDING_FINALIZER_KEEPALIVE, "__main__.MetricsBuffer");
  g_assert_cmpuint (f->count, ==, 3);
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_ERROR);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_null (f->held_by);
  g_assert_cmpstr (f->finalizer_via, ==, "atexit");
  g_assert_true (f->finalizer_atexit);
  g_assert_cmpstr (f->atexit_callback, ==, "atexit callback #1: MetricsBuffer.flush");
  g_assert_cmphex (g_array_index (f->objects, LingerFindingObject, 0).address, ==, first);
  heap_assert_steps (f->path, "atexit callback #1: MetricsBuffer.flush",
                     "<bound method MetricsBuffer.flush>.__self__", "MetricsBuffer", NULL);
  test_assert_contains (f->hint, "atexit.register(obj.flush) registers a bound method of the MetricsBuffer itself");
  test_assert_contains (f->hint, "atexit.unregister()");

  all = heap_analyse (h, TRUE);
  g_assert_cmpuint (all->findings->len, ==, 3);
}

/* atexit.register(save, cache) and atexit.register(partial(close, conn));
 * not the objects the program still holds, nor a plain function, nor
 * weakref.finalize's own _exitfunc (a classmethod: its __self__ is a
 * class). */
static void
test_atexit_args (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 cache = heap_obj (h, "__main__.Cache", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 conn = heap_obj (h, "__main__.Connection", NULL, 0);
  guint64 partial = heap_obj (h, "functools.partial", NULL, LINGER_OBJ_PARTIAL);
  guint64 pargs = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 kept = heap_obj (h, "__main__.Cache", NULL, 0);
  guint64 kept_args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 finalize_class = heap_obj (h, "builtins.type", "finalize", LINGER_OBJ_TYPE);
  const LingerFinding *f;

  heap_item (h, args, cache, 0);
  heap_atexit (h, "save", heap_function (h, "save"), args, 0);
  heap_attr (h, partial, heap_function (h, "close"), "func");
  heap_attr (h, partial, pargs, "args");
  heap_item (h, pargs, conn, 0);
  heap_atexit (h, "<functools.partial>", partial, heap_obj (h, "builtins.tuple", NULL, 0), 0);
  heap_key (h, h->main_dict, kept, "'cache'");
  heap_item (h, kept_args, kept, 0);
  heap_atexit (h, "save", heap_function (h, "save"), kept_args, 0);
  heap_atexit (h, "shutdown", heap_function (h, "shutdown"), 0, 0);
  heap_hold_externally (h, finalize_class);
  heap_atexit (h, "finalize._exitfunc", heap_bound_method (h, "finalize._exitfunc", finalize_class), 0, 0);

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 2);
  f = heap_find (a, LINGER_FINDING_FINALIZER_KEEPALIVE, "__main__.Cache");
  g_assert_cmpuint (f->count, ==, 1);
  heap_assert_steps (f->path, "atexit callback #1: save", "args[0]", "Cache", NULL);
  test_assert_contains (f->hint, "atexit.register(save, ...) passes the Cache itself in args[0]");
  f = heap_find (a, LINGER_FINDING_FINALIZER_KEEPALIVE, "__main__.Connection");
  heap_assert_steps (f->path, "atexit callback #2: <functools.partial>", "partial.args", "tuple[0]",
                     "Connection", NULL);
  test_assert_contains (f->hint, "the atexit callback functools.partial(close, ...) passes it in args[0] (the Connection)");
}

/* Before 3.10 the atexit module's state holds the callbacks, and the
 * module object traverses them: that is still the atexit registry, not
 * another root. */
static void
test_atexit_module_state (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 atexit_d;
  guint64 atexit_module = heap_module (h, "atexit", &atexit_d);
  guint64 cache = heap_obj (h, "__main__.Cache", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 save = heap_function (h, "save");
  const LingerFinding *f;

  heap_item (h, args, cache, 0);
  heap_atexit (h, "save", save, args, 0);
  heap_ref (h, atexit_module, save, LINGER_LABEL_NONE, NULL, LINGER_REF_STRONG);
  heap_ref (h, atexit_module, args, LINGER_LABEL_NONE, NULL, LINGER_REF_STRONG);
  a = heap_analyse (h, FALSE);
  f = heap_find (a, LINGER_FINDING_FINALIZER_KEEPALIVE, "__main__.Cache");
  g_assert_cmpstr (f->finalizer_via, ==, "atexit");
  heap_assert_steps (f->path, "atexit callback #1: save", "args[0]", "Cache", NULL);
}

/* --- finalizer-keepalive hints -------------------------------------------- */

/* finalize(session, close_session, sock, session): which argument of
 * which finalizer, and a class with __del__ that will not run either. */
static void
test_finalizer_hint (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 s = heap_obj (h, "__main__.Session", NULL, LINGER_OBJ_HAS_DEL);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  const LingerFinding *f;

  heap_item (h, args, heap_obj (h, "socket.socket", NULL, 0), 0);
  heap_item (h, args, s, 1);
  heap_finalize (h, s, heap_function (h, "close_session"), args, 0, TRUE);
  a = heap_analyse (h, FALSE);
  f = heap_find (a, LINGER_FINDING_FINALIZER_KEEPALIVE, "__main__.Session");
  test_assert_contains (f->hint, "finalize(<Session>, close_session, ...) receives the Session itself in args[1]");
  test_assert_contains (f->hint, "Session defines __del__, which will not run before exit either");
}

/* For test_fuzz: every option of the findings, at random. */
static LingerAnalysis *
analyse_with_random_options (LingerTrace *trace,
                             GRand       *rand)
{
  LingerFindingsOptions options = {
    .ungrouped = g_rand_int_range (rand, 0, 4) == 0,
    .instances = g_rand_boolean (rand),
    .live_cycles = g_rand_boolean (rand),
  };

  return linger_analysis_new_for_trace_with_options (trace, &options);
}

/* A heap with every kind of finding, damaged at random where the reader
 * still accepts it (addresses, flags, refcounts, labels, entries naming
 * the wrong objects): every pass and both reports must cope. */
static void
test_fuzz (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  guint64 gc_d;
  guint64 data;
  guint64 wkd = weak_key_dict (h, "weakref.WeakKeyDictionary", &data);
  guint64 o = heap_obj (h, "__main__.Obj", NULL, LINGER_OBJ_HAS_DEL | LINGER_OBJ_FINALIZED);
  guint64 garbage = heap_obj (h, "builtins.list", NULL, 0);
  guint64 d;
  guint64 s = heap_instance (h, "__main__.Settings", &d);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint n_analysed;

  heap_key (h, h->main_dict, heap_weakref (h, o, heap_closure (h, "f.<locals>.cb", "o", o, NULL), LINGER_WEAKREF_REF),
            "'keep'");
  heap_key (h, h->main_dict, wkd, "'INFO'");
  weak_key_entry (h, data, o, o);
  heap_key (h, d, heap_closure (h, "Settings.__init__.<locals>.<lambda>", "self", s, NULL), "'get'");
  heap_module (h, "gc", &gc_d);
  heap_key (h, gc_d, garbage, "'garbage'");
  heap_item (h, garbage, heap_obj (h, "__main__.Peer", NULL, LINGER_OBJ_IN_GARBAGE), 0);
  heap_item (h, args, s, 0);
  heap_atexit (h, "save", heap_function (h, "save"), args, 0);
  heap_atexit (h, "Obj.close", heap_bound_method (h, "Obj.close", o), 0, 0);
  heap_finalize (h, s, heap_bound_method (h, "Settings.close", s), args, 0, TRUE);
  bytes = heap_write (h);
  n_analysed = heap_fuzz_analysis (bytes, 3000, rand, analyse_with_random_options);
  g_assert_cmpuint (n_analysed, >, 100);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linger/keepalive/callback/closure", test_callback_closure);
  g_test_add_func ("/linger/keepalive/callback/live", test_callback_live);
  g_test_add_func ("/linger/keepalive/callback/method-and-partial", test_callback_method_and_partial);
  g_test_add_func ("/linger/keepalive/callback/negative", test_callback_negative);
  g_test_add_func ("/linger/keepalive/callback/manager", test_callback_manager);
  g_test_add_func ("/linger/keepalive/container/weak-keys", test_weak_key_dict);
  g_test_add_func ("/linger/keepalive/container/weak-values", test_weak_value_dict);
  g_test_add_func ("/linger/keepalive/container/subclass", test_weak_container_subclass);
  g_test_add_func ("/linger/keepalive/atexit/bound-method", test_atexit_bound_method);
  g_test_add_func ("/linger/keepalive/atexit/args", test_atexit_args);
  g_test_add_func ("/linger/keepalive/atexit/module-state", test_atexit_module_state);
  g_test_add_func ("/linger/keepalive/finalizer/hint", test_finalizer_hint);
  g_test_add_func ("/linger/keepalive/fuzz", test_fuzz);

  return g_test_run ();
}
