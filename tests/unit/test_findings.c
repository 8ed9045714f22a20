/* test_findings.c: finalizer-keepalive and bound-method-cycle on
 * synthetic heaps shaped like what the shim records for real programs,
 * including the look-alikes that must not be reported. */
#include <string.h>

#include "linger_analysis.h"
#include "linger_findings.h"
#include "linger_test_heap.h"

#define T LINGER_OBJ_GC_TRACKED

static guint
count_kind (const LingerAnalysis *a,
            const char           *kind)
{
  guint n = 0;

  for (guint i = 0; i < a->findings->len; i++)
    if (strcmp (((LingerFinding *) g_ptr_array_index (a->findings, i))->kind, kind) == 0)
      n++;
  return n;
}

static const LingerFinding *
only_finding (const LingerAnalysis *a,
              const char           *kind)
{
  g_assert_cmpuint (a->findings->len, ==, 1);
  g_assert_cmpstr (((LingerFinding *) g_ptr_array_index (a->findings, 0))->kind, ==, kind);
  return g_ptr_array_index (a->findings, 0);
}

static void
assert_path (const LingerFinding *f,
             ...)
{
  va_list args;
  const char *step;
  guint i = 0;
  g_autofree char *joined = NULL;

  g_ptr_array_add (f->path, NULL);
  joined = g_strjoinv (" → ", (char **) f->path->pdata);
  g_ptr_array_remove_index (f->path, f->path->len - 1);

  va_start (args, f);
  while ((step = va_arg (args, const char *)) != NULL)
    {
      if (i >= f->path->len || strcmp (g_ptr_array_index (f->path, i), step) != 0)
        g_error ("path step %u: want '%s' in: %s", i, step, joined);
      i++;
    }
  va_end (args);
  if (i != f->path->len)
    g_error ("path has %u steps, want %u: %s", f->path->len, i, joined);
}

static guint64
object_address (const LingerFinding *f,
                guint                i)
{
  return g_array_index (f->objects, LingerFindingObject, i).address;
}

/* --- finalizer-keepalive -------------------------------------------------- */

/* finalize(obj, on_finalize, obj): the seed's example. */
static void
test_finalizer_args (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.ExpensiveObject", NULL, LINGER_OBJ_HAS_DEL);
  guint64 func = heap_function (h, "on_finalize");
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  const LingerFinding *f;

  heap_key (h, h->main_dict, func, "'on_finalize'");
  heap_item (h, args, o, 0);
  heap_finalize (h, o, func, args, 0, TRUE);

  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_ERROR);
  g_assert_cmpuint (f->count, ==, 1);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_null (f->held_by);
  g_assert_cmphex (object_address (f, 0), ==, o);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.ExpensiveObject");
  g_assert_cmpuint (g_array_index (f->objects, LingerFindingObject, 0).size, ==, 48);
  g_assert_cmpstr (f->finalizer_via, ==, "args");
  g_assert_true (f->finalizer_atexit);
  assert_path (f, "weakref.finalize", "_Info.args", "tuple[0]", "ExpensiveObject", NULL);
  test_assert_contains (f->hint, "receives the ExpensiveObject itself in args[0]");
  test_assert_contains (f->hint, "never the object");
}

/* The same, but a global still refers to the object: live. */
static void
test_finalizer_args_live (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.ExpensiveObject", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  const LingerFinding *f;

  heap_key (h, h->main_dict, o, "'obj'");
  heap_item (h, args, heap_obj (h, "builtins.str", NULL, 0), 0);
  heap_item (h, args, o, 1);
  heap_finalize (h, o, heap_function (h, "on_finalize"), args, 0, FALSE);

  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpstr (f->state, ==, "live");
  g_assert_cmpstr (g_ptr_array_index (f->held_by, 0), ==, "__main__.obj");
  g_assert_false (f->finalizer_atexit);
  assert_path (f, "weakref.finalize", "_Info.args", "tuple[1]", "ExpensiveObject", NULL);
  test_assert_contains (f->hint, "args[1]");
}

/* finalize(conn, report_closed, {'connection': conn}) and through an
 * instance attribute: the path collapses __dict__ into Holder.conn. */
static void
test_finalizer_args_nested (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 conn = heap_obj (h, "__main__.Connection", NULL, 0);
  guint64 state = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 holder_dict;
  guint64 holder = heap_instance (h, "__main__.Holder", &holder_dict);
  guint64 conn2 = heap_obj (h, "__main__.Session", NULL, 0);
  guint64 args2 = heap_obj (h, "builtins.tuple", NULL, 0);
  const LingerFinding *f;

  heap_key (h, state, conn, "'connection'");
  heap_item (h, args, state, 0);
  heap_finalize (h, conn, heap_function (h, "report_closed"), args, 0, TRUE);

  heap_key (h, holder_dict, conn2, "'session'");
  heap_item (h, args2, holder, 0);
  heap_finalize (h, conn2, heap_function (h, "cleanup"), args2, 0, TRUE);

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 2);
  /* Same count and severity: sorted by type. */
  f = g_ptr_array_index (a->findings, 0);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.Connection");
  assert_path (f, "weakref.finalize", "_Info.args", "tuple[0]", "dict['connection']", "Connection", NULL);
  test_assert_contains (f->hint, "reaches the Connection through args[0]");
  f = g_ptr_array_index (a->findings, 1);
  assert_path (f, "weakref.finalize", "_Info.args", "tuple[0]", "Holder.session", "Session", NULL);
}

static void
test_finalizer_kwargs (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.Lock", NULL, 0);
  guint64 kwargs = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  const LingerFinding *f;

  heap_key (h, kwargs, o, "'lock'");
  heap_finalize (h, o, heap_function (h, "release"), 0, kwargs, TRUE);

  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpstr (f->finalizer_via, ==, "kwargs");
  assert_path (f, "weakref.finalize", "_Info.kwargs", "dict['lock']", "Lock", NULL);
  test_assert_contains (f->hint, "kwargs['lock']");
}

/* finalize(self, self.close): the bound method's __self__. */
static void
test_finalizer_bound_method (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 d;
  guint64 o = heap_instance (h, "__main__.Resource", &d);
  guint64 m = heap_bound_method (h, "Resource.close", o);
  const LingerFinding *f;

  heap_key (h, d, heap_obj (h, "builtins.str", NULL, 0), "'name'");
  heap_finalize (h, o, m, heap_obj (h, "builtins.tuple", NULL, 0), 0, TRUE);

  a = heap_analyse (h, FALSE);
  /* No cycle: the object does not hold the method. */
  f = only_finding (a, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpstr (f->finalizer_via, ==, "__self__");
  assert_path (f, "weakref.finalize", "_Info.func", "<bound method Resource.close>.__self__", "Resource", NULL);
  test_assert_contains (f->hint, "finalize(self, self.close) keeps self alive through the bound method");
  test_assert_contains (f->hint, "weakref.finalize(self, Resource._close, self._handle)");
}

/* finalize(conn, pool.forget, n): the method's __self__ is an owner that
 * holds the object. */
static void
test_finalizer_owner_method (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 pool_dict;
  guint64 pool = heap_instance (h, "__main__.Pool", &pool_dict);
  guint64 list = heap_obj (h, "builtins.list", NULL, 0);
  const LingerFinding *f;

  heap_key (h, pool_dict, list, "'connections'");
  for (guint i = 0; i < 3; i++)
    {
      guint64 conn = heap_obj (h, "__main__.PooledConnection", NULL, 0);
      guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);

      heap_item (h, list, conn, i);
      heap_item (h, args, heap_obj (h, "builtins.int", NULL, 0), 0);
      heap_finalize (h, conn, heap_bound_method (h, "Pool.forget", pool), args, 0, TRUE);
    }

  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpuint (f->count, ==, 3);
  g_assert_cmpstr (f->finalizer_via, ==, "__self__");
  assert_path (f, "weakref.finalize", "_Info.func", "<bound method Pool.forget>.__self__",
               "Pool.connections", "list[0]", "PooledConnection", NULL);
  test_assert_contains (f->hint, "bound method of a Pool");
}

static void
test_finalizer_closure (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.Buffer", NULL, 0);
  guint64 cb = heap_function (h, "make.<locals>.cb");
  guint64 closure = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 cell = heap_obj (h, "builtins.cell", NULL, LINGER_OBJ_CELL);
  const LingerFinding *f;

  heap_attr (h, cb, closure, "__closure__");
  heap_ref (h, closure, cell, LINGER_LABEL_CLOSURE, "buf", LINGER_REF_STRONG);
  heap_attr (h, cell, o, "cell_contents");
  heap_finalize (h, o, cb, 0, 0, TRUE);

  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpstr (f->finalizer_via, ==, "closure");
  assert_path (f, "weakref.finalize", "_Info.func", "<function make.<locals>.cb> closure 'buf'", "Buffer", NULL);
  test_assert_contains (f->hint, "closes over 'buf'");
}

/* finalize(obj, on_finalize) where `obj` is also a global: the function's
 * __globals__ reach the object, but that is the program's global, not the
 * finalizer.  Likewise through a module or a class in a closure. */
static void
test_finalizer_globals_not_counted (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.ExpensiveObject", NULL, 0);
  guint64 o2 = heap_obj (h, "__main__.ExpensiveObject", NULL, 0);
  guint64 o3 = heap_obj (h, "__main__.ExpensiveObject", NULL, 0);
  guint64 mod = heap_obj (h, "builtins.module", "app", LINGER_OBJ_MODULE);
  guint64 mod_dict = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 cls = heap_obj (h, "builtins.type", "Registry", LINGER_OBJ_TYPE);
  guint64 cls_dict = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 cb = heap_function (h, "make.<locals>.cb");
  guint64 closure = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 cell1 = heap_obj (h, "builtins.cell", NULL, LINGER_OBJ_CELL);
  guint64 cell2 = heap_obj (h, "builtins.cell", NULL, LINGER_OBJ_CELL);
  guint64 builtins = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 plain = heap_function (h, "on_finalize");

  /* o is a global; the callback's __globals__ and __builtins__ reach it. */
  heap_key (h, h->main_dict, o, "'obj'");
  heap_key (h, builtins, o, "'sneaky'");
  heap_attr (h, plain, builtins, "__builtins__");
  heap_finalize (h, o, plain, heap_obj (h, "builtins.tuple", NULL, 0), 0, TRUE);

  /* o2 is held by module app, o3 by class Registry; the callback's
   * closure refers to the module and the class. */
  heap_attr (h, mod, mod_dict, "__dict__");
  heap_key (h, mod_dict, o2, "'current'");
  heap_attr (h, cls, cls_dict, "__dict__");
  heap_key (h, cls_dict, o3, "'instance'");
  heap_hold_externally (h, mod);
  heap_hold_externally (h, cls);
  heap_attr (h, cb, closure, "__closure__");
  heap_ref (h, closure, cell1, LINGER_LABEL_CLOSURE, "app", LINGER_REF_STRONG);
  heap_ref (h, closure, cell2, LINGER_LABEL_CLOSURE, "Registry", LINGER_REF_STRONG);
  heap_attr (h, cell1, mod, "cell_contents");
  heap_attr (h, cell2, cls, "cell_contents");
  heap_finalize (h, o2, cb, 0, 0, TRUE);
  heap_finalize (h, o3, cb, 0, 0, TRUE);

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 0);
}

/* The finalizer already ran or its object died: referent 0.  A weak
 * reference in args is not a strong path either. */
static void
test_finalizer_negative (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.TempDir", NULL, 0);
  guint64 name = heap_obj (h, "builtins.str", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 args2 = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 wr = heap_obj (h, "weakref.ReferenceType", NULL, LINGER_OBJ_WEAKREF);

  heap_hold_externally (h, o);
  heap_item (h, args, name, 0);
  heap_finalize (h, o, heap_function (h, "rmtree"), args, 0, TRUE);
  heap_finalize (h, 0, heap_function (h, "rmtree"), args, 0, TRUE);
  heap_item (h, args2, wr, 0);
  heap_ref (h, wr, o, LINGER_LABEL_REFERENT, NULL, LINGER_REF_WEAK);
  heap_finalize (h, o, heap_function (h, "rmtree"), args2, 0, TRUE);

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 0);
}

/* Three objects of one type, written out of address order: one entry,
 * count 3, the lowest address as the example; --all lists each. */
static void
test_finalizer_grouping (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) grouped = NULL;
  g_autoptr(LingerAnalysis) all = NULL;
  guint64 jobs[3];
  guint64 other = heap_obj (h, "__main__.Other", NULL, 0);
  guint64 other_args = heap_obj (h, "builtins.tuple", NULL, 0);
  const LingerFinding *f;

  for (guint i = 0; i < 3; i++)
    jobs[i] = heap_obj (h, "__main__.Job", NULL, 0);
  for (guint i = 3; i > 0; i--)
    {
      guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
      heap_item (h, args, jobs[i - 1], 0);
      heap_finalize (h, jobs[i - 1], heap_function (h, "done"), args, 0, TRUE);
    }
  heap_item (h, other_args, other, 0);
  heap_finalize (h, other, heap_function (h, "done"), other_args, 0, TRUE);

  grouped = heap_analyse (h, FALSE);
  g_assert_cmpuint (grouped->findings->len, ==, 2);
  f = g_ptr_array_index (grouped->findings, 0);
  g_assert_cmpuint (f->count, ==, 3);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.Job");
  g_assert_cmphex (object_address (f, 0), ==, jobs[0]);
  f = g_ptr_array_index (grouped->findings, 1);
  g_assert_cmpuint (f->count, ==, 1);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.Other");

  all = heap_analyse (h, TRUE);
  g_assert_cmpuint (all->findings->len, ==, 4);
  g_assert_cmpuint (count_kind (all, LINGER_FINDING_FINALIZER_KEEPALIVE), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (((LingerFinding *) g_ptr_array_index (all->findings, i))->count, ==, 1);
  /* Job entries in address order. */
  g_assert_cmphex (object_address (g_ptr_array_index (all->findings, 0), 0), ==, jobs[0]);
  g_assert_cmphex (object_address (g_ptr_array_index (all->findings, 1), 0), ==, jobs[1]);
  g_assert_cmphex (object_address (g_ptr_array_index (all->findings, 2), 0), ==, jobs[2]);
}

/* --- bound-method-cycle --------------------------------------------------- */

/* self.callback = self.on_data; returns the instance. */
static guint64
connector (Heap       *h,
           const char *type,
           guint64    *ret_method)
{
  guint64 d;
  guint64 c = heap_instance (h, type, &d);
  guint64 cls = heap_obj (h, "builtins.type", "Connector", LINGER_OBJ_TYPE);
  guint64 m = heap_bound_method (h, "Connector.on_data", c);

  heap_hold_externally (h, cls);
  heap_attr (h, c, cls, "__class__");   /* instances visit their type */
  heap_key (h, d, m, "'callback'");
  if (ret_method != NULL)
    *ret_method = m;
  return c;
}

static void
test_cycle_garbage (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 m;
  guint64 c = connector (h, "__main__.Connector", &m);
  const LingerFinding *f;

  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_BOUND_METHOD_CYCLE);
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_WARNING);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_cmpuint (f->count, ==, 1);
  g_assert_cmpuint (f->n_members, ==, 3);   /* instance, its __dict__, the method */
  g_assert_cmpuint (f->objects->len, ==, 3);
  g_assert_cmphex (object_address (f, 0), ==, c);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.Connector");
  g_assert_null (f->finalizer_via);
  g_assert_null (f->held_by);
  assert_path (f, "Connector.callback", "<bound method Connector.on_data>.__self__", "Connector", NULL);
  g_assert_cmpstr (f->hint, ==, "Connector.callback holds a bound method of the same object: store "
                   "weakref.WeakMethod(self.on_data) or break the cycle in close()");
  (void) m;
}

static void
test_cycle_live (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 c = connector (h, "__main__.Connector", NULL);
  const LingerFinding *f;

  heap_key (h, h->main_dict, c, "'conn'");
  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_BOUND_METHOD_CYCLE);
  g_assert_cmpstr (f->state, ==, "live");
  /* Why it is live: the module's global `conn`. */
  g_assert_nonnull (f->held_by);
  g_assert_cmpuint (f->held_by->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->held_by, 0), ==, "__main__.conn");
  g_assert_cmpstr (g_ptr_array_index (f->held_by, 1), ==, "Connector");
  g_assert_cmpstr (f->held_by_root, ==, "module");
}

/* Held from outside the graph (refcount larger than the recorded
 * references): live as well. */
static void
test_cycle_live_external (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 c = connector (h, "__main__.Connector", NULL);
  const LingerFinding *f;

  heap_hold_externally (h, c);
  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_BOUND_METHOD_CYCLE);
  g_assert_cmpstr (f->state, ==, "live");
  g_assert_cmpuint (f->held_by->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->held_by, 0), ==, "held by C code or the interpreter (1 reference not seen)");
  g_assert_cmpstr (g_ptr_array_index (f->held_by, 1), ==, "Connector");
  g_assert_cmpstr (f->held_by_root, ==, "external");
}

/* Two garbage cycles and one live one of the same type: two entries. */
static void
test_cycle_grouping (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 first = connector (h, "__main__.Widget", NULL);
  guint64 live = connector (h, "__main__.Widget", NULL);
  const LingerFinding *f;

  connector (h, "__main__.Widget", NULL);
  heap_key (h, h->main_dict, live, "'w'");
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 2);
  f = g_ptr_array_index (a->findings, 0);
  g_assert_cmpuint (f->count, ==, 2);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_cmphex (object_address (f, 0), ==, first);
  f = g_ptr_array_index (a->findings, 1);
  g_assert_cmpuint (f->count, ==, 1);
  g_assert_cmpstr (f->state, ==, "live");
  g_assert_cmphex (object_address (f, 0), ==, live);
}

/* self.handlers = [self.on_a, self.on_b]: longer cycle through a list. */
static void
test_cycle_through_list (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 d;
  guint64 c = heap_instance (h, "__main__.Dispatcher", &d);
  guint64 list = heap_obj (h, "builtins.list", NULL, 0);
  const LingerFinding *f;

  heap_key (h, d, list, "'handlers'");
  heap_item (h, list, heap_bound_method (h, "Dispatcher.on_a", c), 0);
  heap_item (h, list, heap_bound_method (h, "Dispatcher.on_b", c), 1);
  a = heap_analyse (h, FALSE);
  f = only_finding (a, LINGER_FINDING_BOUND_METHOD_CYCLE);
  g_assert_cmpuint (f->n_members, ==, 5);
  assert_path (f, "Dispatcher.handlers", "list[0]", "<bound method Dispatcher.on_a>.__self__", "Dispatcher", NULL);
  test_assert_contains (f->hint, "Dispatcher.handlers holds a bound method of the same object (through list[0]): "
                        "store weakref.WeakMethod(self.on_a)");
}

/* self._cb = weakref.WeakMethod(self.on_data): the WeakMethod refers to
 * its object weakly, there is no cycle. */
static void
test_cycle_weakmethod (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 d;
  guint64 c = heap_instance (h, "__main__.Connector", &d);
  guint64 wm = heap_obj (h, "weakref.WeakMethod", NULL, LINGER_OBJ_WEAKREF | LINGER_OBJ_WEAKMETHOD);
  guint64 func_ref = heap_obj (h, "weakref.ReferenceType", NULL, LINGER_OBJ_WEAKREF);

  heap_key (h, d, wm, "'callback'");
  heap_ref (h, wm, c, LINGER_LABEL_REFERENT, NULL, LINGER_REF_WEAK);
  heap_attr (h, wm, func_ref, "_func_ref");
  heap_ref (h, func_ref, heap_function (h, "Connector.on_data"), LINGER_LABEL_REFERENT, NULL, LINGER_REF_WEAK);
  heap_hold_externally (h, c);
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 0);
}

/* self.get = lambda: self.x is a cycle through a closure, not through a
 * bound method: a closure-cycle, never this finding. */
static void
test_cycle_closure_only (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 d;
  guint64 c = heap_instance (h, "__main__.Lazy", &d);
  guint64 lambda = heap_function (h, "Lazy.__init__.<locals>.<lambda>");
  guint64 closure = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 cell = heap_obj (h, "builtins.cell", NULL, LINGER_OBJ_CELL);

  heap_key (h, d, lambda, "'get'");
  heap_attr (h, lambda, closure, "__closure__");
  heap_ref (h, closure, cell, LINGER_LABEL_CLOSURE, "self", LINGER_REF_STRONG);
  heap_attr (h, cell, c, "cell_contents");
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (count_kind (a, LINGER_FINDING_BOUND_METHOD_CYCLE), ==, 0);
  only_finding (a, LINGER_FINDING_CLOSURE_CYCLE);
}

/* A bound method stored on the class, or on another object, is not a
 * cycle through the instance: edges to classes are not followed. */
static void
test_cycle_not_through_class (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 d;
  guint64 c = heap_instance (h, "__main__.Handler", &d);
  guint64 cls = heap_obj (h, "builtins.type", "Handler", LINGER_OBJ_TYPE);
  guint64 cls_dict = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 d2;
  guint64 other = heap_instance (h, "__main__.Button", &d2);

  heap_attr (h, c, cls, "__class__");
  heap_attr (h, cls, cls_dict, "__dict__");
  heap_key (h, cls_dict, heap_bound_method (h, "Handler.handle", c), "'default'");
  heap_key (h, d2, heap_bound_method (h, "Handler.handle", c), "'on_click'");
  heap_key (h, h->main_dict, cls, "'Handler'");
  heap_key (h, h->main_dict, other, "'button'");
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 0);
}

/* Both kinds at once: errors sort first. */
static void
test_order (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 o = heap_obj (h, "__main__.ExpensiveObject", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);

  connector (h, "__main__.Connector", NULL);
  heap_item (h, args, o, 0);
  heap_finalize (h, o, heap_function (h, "on_finalize"), args, 0, TRUE);
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 2);
  g_assert_cmpstr (((LingerFinding *) g_ptr_array_index (a->findings, 0))->kind, ==,
                   LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpstr (((LingerFinding *) g_ptr_array_index (a->findings, 1))->kind, ==,
                   LINGER_FINDING_BOUND_METHOD_CYCLE);
}

/* The last AT_EXIT snapshot is the one judged, not a later periodic one. */
static void
test_exit_snapshot_chosen (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(LingerAnalysis) a = NULL;

  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  test_trace_object (t, 0x10, "builtins.list", NULL, T, 1);
  test_trace_object (t, 0x20, "builtins.list", NULL, T, 1);
  test_trace_snapshot_end (t);
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_INTERVAL);
  test_trace_object (t, 0x10, "builtins.list", NULL, T, 1);
  test_trace_snapshot_end (t);
  a = linger_analysis_new_for_trace (test_trace_read (t), FALSE);
  g_assert_cmpuint (a->snapshot->id, ==, 1);
  g_assert_cmpuint (a->graph->n_nodes, ==, 2);
}

/* For test_fuzz: grouped or not, at random. */
static LingerAnalysis *
analyse_grouped_or_not (LingerTrace *trace,
                        GRand       *rand)
{
  return linger_analysis_new_for_trace (trace, g_rand_boolean (rand));
}

/* Damaged heaps that the reader still accepts (addresses, flags,
 * refcounts and labels scrambled, objects named as their own args):
 * the analysis and both reports must cope. */
static void
test_fuzz (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint64 d;
  guint64 o = heap_obj (h, "__main__.ExpensiveObject", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 kwargs = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 c = connector (h, "__main__.Connector", NULL);
  guint64 r = heap_instance (h, "__main__.Resource", &d);
  guint n_analysed;

  heap_item (h, args, o, 0);
  heap_key (h, kwargs, c, "'c'");
  heap_finalize (h, o, heap_function (h, "on_finalize"), args, kwargs, TRUE);
  heap_finalize (h, r, heap_bound_method (h, "Resource.close", r), 0, 0, TRUE);
  heap_finalize (h, o, o, o, o, FALSE);      /* nonsense, but well-formed */
  heap_finalize (h, c, args, kwargs, args, FALSE);
  bytes = heap_write (h);
  n_analysed = heap_fuzz_analysis (bytes, 3000, rand, analyse_grouped_or_not);
  g_assert_cmpuint (n_analysed, >, 100);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linger/findings/finalizer/args", test_finalizer_args);
  g_test_add_func ("/linger/findings/finalizer/args-live", test_finalizer_args_live);
  g_test_add_func ("/linger/findings/finalizer/args-nested", test_finalizer_args_nested);
  g_test_add_func ("/linger/findings/finalizer/kwargs", test_finalizer_kwargs);
  g_test_add_func ("/linger/findings/finalizer/bound-method", test_finalizer_bound_method);
  g_test_add_func ("/linger/findings/finalizer/owner-method", test_finalizer_owner_method);
  g_test_add_func ("/linger/findings/finalizer/closure", test_finalizer_closure);
  g_test_add_func ("/linger/findings/finalizer/globals-not-counted", test_finalizer_globals_not_counted);
  g_test_add_func ("/linger/findings/finalizer/negative", test_finalizer_negative);
  g_test_add_func ("/linger/findings/finalizer/grouping", test_finalizer_grouping);
  g_test_add_func ("/linger/findings/cycle/garbage", test_cycle_garbage);
  g_test_add_func ("/linger/findings/cycle/live", test_cycle_live);
  g_test_add_func ("/linger/findings/cycle/live-external", test_cycle_live_external);
  g_test_add_func ("/linger/findings/cycle/grouping", test_cycle_grouping);
  g_test_add_func ("/linger/findings/cycle/through-list", test_cycle_through_list);
  g_test_add_func ("/linger/findings/cycle/weakmethod", test_cycle_weakmethod);
  g_test_add_func ("/linger/findings/cycle/closure-only", test_cycle_closure_only);
  g_test_add_func ("/linger/findings/cycle/not-through-class", test_cycle_not_through_class);
  g_test_add_func ("/linger/findings/order", test_order);
  g_test_add_func ("/linger/findings/exit-snapshot-chosen", test_exit_snapshot_chosen);
  g_test_add_func ("/linger/findings/fuzz", test_fuzz);

  return g_test_run ();
}
