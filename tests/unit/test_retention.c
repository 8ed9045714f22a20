/* test_retention.c: why an object is alive, said the way a person would,
 * and findings grouped by the shape of their paths. */
#include <string.h>

#include "linger_analysis.h"
#include "linger_findings.h"
#include "linger_report_json.h"
#include "linger_retention.h"
#include "linger_test_heap.h"

/* The retention path of @target in @h, and the kind of its root. */
static GPtrArray *
describe (Heap        *h,
          guint64      target,
          const char **ret_kind,
          LingerAnalysis **ret_analysis)
{
  LingerAnalysis *a = heap_analyse (h, FALSE);
  g_autoptr(LingerRetention) r = linger_retention_new (a->graph, NULL, NULL, NULL, 0);
  guint32 node = linger_graph_lookup (a->graph, target);
  GPtrArray *steps;

  g_assert_cmpuint (node, !=, LINGER_NODE_NONE);
  steps = linger_retention_describe (r, node, ret_kind);
  *ret_analysis = a;
  return steps;
}

/* app.cache['k'] → Session.handlers[0] → <bound method Session.on_x>.__self__ → Session:
 * a module's globals collapsed, subscripts folded into the step before. */
static void
test_module_globals (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) steps = NULL;
  guint64 app_d;
  guint64 cache = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 owner = heap_obj (h, "__main__.Session", NULL, 0);
  guint64 handlers = heap_obj (h, "builtins.list", NULL, 0);
  guint64 target = heap_obj (h, "__main__.Session", NULL, 0);
  const char *kind = NULL;

  heap_module (h, "app", &app_d);
  heap_key (h, app_d, cache, "'cache'");
  heap_key (h, cache, owner, "'k'");
  heap_attr (h, owner, handlers, "handlers");
  heap_item (h, handlers, heap_bound_method (h, "Session.on_x", target), 0);
  steps = describe (h, target, &kind, &a);
  heap_assert_steps (steps, "app.cache['k']", "Session.handlers[0]", "<bound method Session.on_x>.__self__",
                     "Session", NULL);
  g_assert_cmpstr (kind, ==, "module");
}

/* Class attributes read Class.attr; a global that is not an identifier
 * keeps its brackets. */
static void
test_class_attribute (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) steps = NULL;
  guint64 cls = heap_obj (h, "builtins.type", "Registry", LINGER_OBJ_TYPE);
  guint64 cls_d = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 items = heap_obj (h, "builtins.list", NULL, 0);
  guint64 target = heap_obj (h, "__main__.Plugin", NULL, 0);
  const char *kind = NULL;

  heap_key (h, h->main_dict, cls, "'Registry'");
  heap_attr (h, cls, cls_d, "__dict__");
  heap_key (h, cls_d, items, "'instances'");
  heap_item (h, items, target, 0);
  steps = describe (h, target, &kind, &a);
  heap_assert_steps (steps, "__main__.Registry", "Registry.instances[0]", "Plugin", NULL);
}

/* A thread's frame by its root label, then the local variable. */
static void
test_thread_frame (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) steps = NULL;
  guint64 frame = heap_obj (h, "builtins.frame", "main", LINGER_OBJ_FRAME);
  guint64 rd;
  guint64 registry = heap_instance (h, "__main__.Registry", &rd);
  guint64 items = heap_obj (h, "builtins.list", NULL, 0);
  guint64 target = heap_obj (h, "__main__.Session", NULL, 0);
  const char *kind = NULL;

  heap_root (h, frame, LINGER_ROOT_THREAD, "thread MainThread, main() at app.py:12");
  heap_hold_externally (h, frame);
  heap_ref (h, frame, registry, LINGER_LABEL_LOCAL, "registry", LINGER_REF_STRONG);
  heap_key (h, rd, items, "'items'");
  heap_item (h, items, target, 3);
  steps = describe (h, target, &kind, &a);
  heap_assert_steps (steps, "thread MainThread, main() at app.py:12", "local 'registry'", "Registry.items[3]",
                     "Session", NULL);
  g_assert_cmpstr (kind, ==, "thread");
}

/* What only a finalizer holds: the registry, then which argument of
 * which finalizer. */
static void
test_finalize_registry (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) steps = NULL;
  guint64 session = heap_obj (h, "__main__.Session", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 sock = heap_obj (h, "socket.socket", NULL, 0);
  const char *kind = NULL;

  heap_hold_externally (h, session);
  heap_item (h, args, heap_obj (h, "builtins.str", NULL, 0), 0);
  heap_item (h, args, sock, 1);
  heap_finalize (h, session, heap_function (h, "close_session"), args, 0, TRUE);
  steps = describe (h, sock, &kind, &a);
  heap_assert_steps (steps, "weakref.finalize registry", "finalize(<Session>, close_session).args[1]", "socket",
                     NULL);
  g_assert_cmpstr (kind, ==, "module");
}

/* atexit callbacks by their label; what nothing explains as C code's. */
static void
test_atexit_and_external (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) steps = NULL;
  g_autoptr(GPtrArray) external = NULL;
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 target = heap_obj (h, "__main__.Cache", NULL, 0);
  guint64 held = heap_obj (h, "__main__.Buffer", NULL, 0);
  const char *kind = NULL;

  heap_item (h, args, target, 0);
  heap_atexit (h, "save", heap_function (h, "save"), args, 0);
  heap_hold_externally (h, held);
  heap_hold_externally (h, held);
  steps = describe (h, target, &kind, &a);
  heap_assert_steps (steps, "atexit callback #1: save", "args[0]", "Cache", NULL);
  g_assert_cmpstr (kind, ==, "atexit");
  {
    g_autoptr(LingerRetention) r = linger_retention_new (a->graph, NULL, NULL, NULL, 0);

    external = linger_retention_describe (r, linger_graph_lookup (a->graph, held), &kind);
    heap_assert_steps (external, "held by C code or the interpreter (2 references not seen)", "Buffer", NULL);
    g_assert_cmpstr (kind, ==, "external");
  }
}

/* Among paths of the same length the program's module wins over the
 * interpreter's; a path from a recorded root wins over a shorter one from
 * C code. */
static void
test_root_order (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) steps = NULL;
  g_autoptr(GPtrArray) both = NULL;
  guint64 sys_d;
  guint64 cache = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 target = heap_obj (h, "__main__.Finder", NULL, 0);
  guint64 pinned = heap_obj (h, "__main__.Pinned", NULL, 0);
  const char *kind = NULL;

  /* sys comes first in the trace, as in sys.modules. */
  g_array_prepend_val (h->roots, h->next);
  {
    guint64 sys = heap_obj (h, "builtins.module", "sys", LINGER_OBJ_MODULE);
    sys_d = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
    heap_attr (h, sys, sys_d, "__dict__");
  }
  heap_key (h, sys_d, cache, "'path_importer_cache'");
  heap_key (h, cache, target, "'/srv'");
  heap_key (h, h->main_dict, cache, "'finders'");
  heap_hold_externally (h, pinned);
  heap_key (h, h->main_dict, pinned, "'pinned'");

  steps = describe (h, target, &kind, &a);
  heap_assert_steps (steps, "__main__.finders['/srv']", "Finder", NULL);
  {
    g_autoptr(LingerRetention) r = linger_retention_new (a->graph, NULL, NULL, NULL, 0);

    both = linger_retention_describe (r, linger_graph_lookup (a->graph, pinned), &kind);
    heap_assert_steps (both, "__main__.pinned", "Pinned", NULL);
  }
}

/* A SYS root: its label names the container. */
static void
test_sys_root (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) steps = NULL;
  guint64 modules = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 target = heap_obj (h, "__main__.Loader", NULL, 0);
  const char *kind = NULL;

  heap_root (h, modules, LINGER_ROOT_SYS, "sys.meta_path");
  heap_hold_externally (h, modules);
  heap_key (h, modules, target, "'loader'");
  steps = describe (h, target, &kind, &a);
  heap_assert_steps (steps, "sys.meta_path['loader']", "Loader", NULL);
  g_assert_cmpstr (kind, ==, "sys");
}

/* --- grouping by path shape ----------------------------------------------- */

/* Jobs in args[0] and args[1] group together (tuple[*]); a Job reached
 * through a dict is another group; --instances lists every instance. */
static void
test_grouping_shape (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) grouped = NULL;
  g_autoptr(LingerAnalysis) listed = NULL;
  g_autoptr(GString) json = g_string_new (NULL);
  LingerFindingsOptions options = { .instances = TRUE };
  guint64 first = 0;
  const LingerFinding *f = NULL;

  for (guint i = 0; i < 3; i++)
    {
      guint64 job = heap_obj (h, "__main__.Job", NULL, 0);
      guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);

      if (i == 0)
        first = job;
      if (i == 1)
        heap_item (h, args, heap_obj (h, "builtins.str", NULL, 0), 0);
      heap_item (h, args, job, i == 1 ? 1 : 0);
      heap_finalize (h, job, heap_function (h, "done"), args, 0, TRUE);
    }
  {
    guint64 job = heap_obj (h, "__main__.Job", NULL, 0);
    guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);
    guint64 state = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);

    heap_key (h, state, job, "'job'");
    heap_item (h, args, state, 0);
    heap_finalize (h, job, heap_function (h, "done"), args, 0, TRUE);
  }

  grouped = heap_analyse (h, FALSE);
  g_assert_cmpuint (grouped->findings->len, ==, 2);
  for (guint i = 0; i < grouped->findings->len; i++)
    if (((LingerFinding *) g_ptr_array_index (grouped->findings, i))->count == 3)
      f = g_ptr_array_index (grouped->findings, i);
  g_assert_nonnull (f);
  g_assert_cmpstr (f->shape, ==, "weakref.finalize → _Info.args → tuple[*] → Job");
  g_assert_null (f->instances);

  listed = heap_analyse_with (h, &options);
  f = NULL;
  for (guint i = 0; i < listed->findings->len; i++)
    if (((LingerFinding *) g_ptr_array_index (listed->findings, i))->count == 3)
      f = g_ptr_array_index (listed->findings, i);
  g_assert_nonnull (f);
  g_assert_cmpuint (f->instances->len, ==, 3);
  g_assert_true (g_ptr_array_index (f->instances, 0) == f);
  g_assert_cmphex (g_array_index (f->objects, LingerFindingObject, 0).address, ==, first);
  heap_assert_steps (((LingerFinding *) g_ptr_array_index (f->instances, 1))->path,
                     "weakref.finalize", "_Info.args", "tuple[1]", "Job", NULL);
  linger_report_json (listed, json);
  test_assert_contains (json->str, "\"instances\": [");
  test_assert_contains (json->str, "\"tuple[1]\"");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linger/retention/module-globals", test_module_globals);
  g_test_add_func ("/linger/retention/class-attribute", test_class_attribute);
  g_test_add_func ("/linger/retention/thread-frame", test_thread_frame);
  g_test_add_func ("/linger/retention/finalize-registry", test_finalize_registry);
  g_test_add_func ("/linger/retention/atexit-and-external", test_atexit_and_external);
  g_test_add_func ("/linger/retention/root-order", test_root_order);
  g_test_add_func ("/linger/retention/sys-root", test_sys_root);
  g_test_add_func ("/linger/retention/grouping-shape", test_grouping_shape);

  return g_test_run ();
}
