/* test_cycles.c: closure-cycle, reference-cycle, uncollectable and
 * resurrected on synthetic heaps, with the look-alikes that must not be
 * reported (a closure that is no cycle, a live tree, cycles only through
 * globals, classes or modules). */
#include <string.h>

#include "linger_analysis.h"
#include "linger_findings.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_test_heap.h"

/* self.get = lambda: self.x; returns the instance. */
static guint64
settings (Heap *h)
{
  guint64 d;
  guint64 s = heap_instance (h, "__main__.Settings", &d);

  heap_key (h, d, heap_obj (h, "builtins.int", NULL, 0), "'x'");
  heap_key (h, d, heap_closure (h, "Settings.__init__.<locals>.<lambda>", "self", s, NULL), "'get'");
  return s;
}

static void
test_closure_garbage (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 s = settings (h);
  const LingerFinding *f;

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  f = heap_find (a, LINGER_FINDING_CLOSURE_CYCLE, "__main__.Settings");
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_WARNING);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_null (f->held_by);
  g_assert_cmphex (g_array_index (f->objects, LingerFindingObject, 0).address, ==, s);
  g_assert_cmpuint (f->n_members, ==, 5);   /* instance, __dict__, function, closure, cell */
  g_assert_cmpuint (f->cycle_bytes, ==, 5 * 48);
  heap_assert_steps (f->path, "Settings.get", "<function Settings.__init__.<locals>.<lambda>> closure 'self'",
                     "Settings", NULL);
  test_assert_contains (f->hint, "closes over the Settings itself (variable 'self')");
  test_assert_contains (f->hint, "x = self.x; lambda: x");
}

static void
test_closure_live (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  const LingerFinding *f;

  heap_key (h, h->main_dict, settings (h), "'SETTINGS'");
  a = heap_analyse (h, FALSE);
  f = heap_find (a, LINGER_FINDING_CLOSURE_CYCLE, "__main__.Settings");
  g_assert_cmpstr (f->state, ==, "live");
  heap_assert_steps (f->held_by, "__main__.SETTINGS", "Settings", NULL);
}

/* def walk(n): ... walk(child): the nested function in its own cell. */
static void
test_closure_recursive (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 cell;
  guint64 walk = heap_closure (h, "count_nodes.<locals>.walk", "walk", 0, &cell);
  const LingerFinding *f;

  heap_attr (h, cell, walk, "cell_contents");
  a = heap_analyse (h, FALSE);
  f = heap_find (a, LINGER_FINDING_CLOSURE_CYCLE, "builtins.function");
  heap_assert_steps (f->path, "<function count_nodes.<locals>.walk> closure 'walk'",
                     "<function count_nodes.<locals>.walk>", NULL);
  test_assert_contains (f->hint, "refers to itself through its closure (variable 'walk')");
}

/* The same function kept by the program (functools.singledispatch's
 * register): a function the program keeps, no leak. */
static void
test_closure_recursive_live (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 cell;
  guint64 dispatch_d;
  guint64 dispatch = heap_instance (h, "builtins.function", &dispatch_d);
  guint64 reg = heap_closure (h, "singledispatch.<locals>.register", "register", 0, &cell);

  heap_attr (h, cell, reg, "cell_contents");
  heap_key (h, dispatch_d, reg, "'register'");
  heap_key (h, h->main_dict, dispatch, "'as_file'");
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 0);
}

/* A cycle through both a lambda over self and a bound method: one
 * bound-method-cycle, never also a closure-cycle. */
static void
test_closure_and_bound_method (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 d;
  guint64 c = heap_instance (h, "__main__.Channel", &d);
  guint64 handlers = heap_obj (h, "builtins.list", NULL, 0);

  heap_key (h, d, handlers, "'handlers'");
  heap_item (h, handlers, heap_bound_method (h, "Channel.count", c), 0);
  heap_item (h, handlers, heap_closure (h, "Channel.__init__.<locals>.<lambda>", "self", c, NULL), 1);
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  heap_find (a, LINGER_FINDING_BOUND_METHOD_CYCLE, "__main__.Channel");
}

/* A closure over an object that does not hold the function: no cycle.
 * Nor a closure cell of a function held only by a class. */
static void
test_closure_negative (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 conn = heap_obj (h, "__main__.Connection", NULL, 0);
  guint64 cls = heap_obj (h, "builtins.type", "Handler", LINGER_OBJ_TYPE);
  guint64 cls_d = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);

  heap_key (h, h->main_dict, conn, "'conn'");
  heap_key (h, h->main_dict, heap_closure (h, "make.<locals>.send", "conn", conn, NULL), "'send'");
  /* class Handler: f = closure over the class itself: edges to classes
   * are not part of cycles. */
  heap_attr (h, cls, cls_d, "__dict__");
  heap_key (h, cls_d, heap_closure (h, "Handler.f", "__class__", cls, NULL), "'f'");
  heap_key (h, h->main_dict, cls, "'Handler'");
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 0);
}

/* --- reference-cycle ------------------------------------------------------ */

/* parent.children = [child]; child.parent = parent. */
static guint64
family (Heap       *h,
        const char *parent_type,
        const char *child_type)
{
  guint64 pd, cd;
  guint64 parent = heap_instance (h, parent_type, &pd);
  guint64 child = heap_instance (h, child_type, &cd);
  guint64 children = heap_obj (h, "builtins.list", NULL, 0);

  heap_key (h, pd, children, "'children'");
  heap_item (h, children, child, 0);
  heap_key (h, cd, parent, "'parent'");
  return parent;
}

static void
test_reference_garbage (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GString) json = g_string_new (NULL);
  guint64 first = family (h, "__main__.Parent", "__main__.Child");
  guint64 self_list = heap_obj (h, "builtins.list", NULL, 0);
  const LingerFinding *f;

  family (h, "__main__.Parent", "__main__.Child");
  family (h, "__main__.Parent", "__main__.Kid");
  heap_item (h, self_list, self_list, 0);

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (heap_count_kind (a, LINGER_FINDING_REFERENCE_CYCLE), ==, 3);
  /* Parent and Child, twice; Parent and Kid are another set of types. */
  f = NULL;
  for (guint i = 0; i < a->findings->len; i++)
    if (((LingerFinding *) g_ptr_array_index (a->findings, i))->count == 2)
      f = g_ptr_array_index (a->findings, i);
  g_assert_nonnull (f);
  g_assert_cmpstr (f->kind, ==, LINGER_FINDING_REFERENCE_CYCLE);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.Parent");
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_INFO);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_cmphex (g_array_index (f->objects, LingerFindingObject, 0).address, ==, first);
  g_assert_cmpuint (f->n_members, ==, 5);
  g_assert_cmpuint (f->cycle_bytes, ==, 2 * 5 * 48);
  /* Not builtins.dict: the instances' __dict__ belong to them. */
  g_assert_cmpuint (f->cycle_types->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (f->cycle_types, 0), ==, "__main__.Child");
  g_assert_cmpstr (g_ptr_array_index (f->cycle_types, 2), ==, "builtins.list");
  heap_assert_steps (f->path, "Parent.children", "list[0]", "Child.parent", "Parent", NULL);
  test_assert_contains (f->hint, "make the back reference (Child.parent) a weakref.ref");
  f = heap_find (a, LINGER_FINDING_REFERENCE_CYCLE, "builtins.list");
  g_assert_cmpuint (f->n_members, ==, 1);
  heap_assert_steps (f->path, "list[0]", "list", NULL);
  test_assert_contains (f->hint, "this list refers to itself");

  linger_report_json (a, json);
  test_assert_contains (json->str, "\"cycle_types\"");
  test_assert_contains (json->str, "\"cycle_bytes\": 480");
}

/* Two instances of one structure made in different orders (so their
 * addresses are in different orders) are one group, named after the
 * same type: the one the cycle hangs from (Owner: Account.owner points
 * back), else the first type name (Formatter, Section). */
static void
test_reference_order (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(LingerAnalysis) all = NULL;

  for (guint i = 0; i < 2; i++)
    {
      guint64 owner = 0, account = 0, formatter = 0, section = 0;

      if (i == 0)
        {
          owner = heap_obj (h, "__main__.Owner", NULL, 0);
          account = heap_obj (h, "__main__.Account", NULL, 0);
          formatter = heap_obj (h, "__main__.Formatter", NULL, 0);
          section = heap_obj (h, "__main__.Section", NULL, 0);
        }
      else
        {
          section = heap_obj (h, "__main__.Section", NULL, 0);
          formatter = heap_obj (h, "__main__.Formatter", NULL, 0);
          account = heap_obj (h, "__main__.Account", NULL, 0);
          owner = heap_obj (h, "__main__.Owner", NULL, 0);
        }
      heap_attr (h, owner, account, "account");
      heap_attr (h, account, owner, "owner");
      heap_attr (h, formatter, section, "_current_section");
      heap_attr (h, section, formatter, "formatter");
    }
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 2);
  g_assert_cmpuint (heap_find (a, LINGER_FINDING_REFERENCE_CYCLE, "__main__.Owner")->count, ==, 2);
  heap_assert_steps (heap_find (a, LINGER_FINDING_REFERENCE_CYCLE, "__main__.Owner")->path,
                     "Owner.account", "Account.owner", "Owner", NULL);
  g_assert_cmpuint (heap_find (a, LINGER_FINDING_REFERENCE_CYCLE, "__main__.Formatter")->count, ==, 2);
  /* --all names each instance after the same type as the group. */
  all = heap_analyse (h, TRUE);
  g_assert_cmpuint (all->findings->len, ==, 4);
  for (guint i = 0; i < all->findings->len; i++)
    {
      const char *type = g_array_index (((LingerFinding *) g_ptr_array_index (all->findings, i))->objects,
                                        LingerFindingObject, 0).type;
      g_assert_true (strcmp (type, "__main__.Owner") == 0 || strcmp (type, "__main__.Formatter") == 0);
    }
}

/* Nested functions that call each other: one closure cycle per call of
 * their outer function, one group whatever order they lie in memory. */
static void
test_closure_mutual (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  static const char * const names[3] = { "make.<locals>.even", "make.<locals>.odd", "make.<locals>.reset" };

  for (guint i = 0; i < 2; i++)
    {
      guint64 f[3];

      for (guint k = 0; k < 3; k++)
        {
          guint j = i == 0 ? k : 2 - k;
          f[j] = heap_obj (h, "builtins.function", names[j], LINGER_OBJ_FUNCTION);
        }
      for (guint k = 0; k < 3; k++)
        {
          guint64 closure = heap_obj (h, "builtins.tuple", NULL, 0);
          guint64 cell = heap_obj (h, "builtins.cell", NULL, LINGER_OBJ_CELL);

          heap_attr (h, f[k], closure, "__closure__");
          heap_ref (h, closure, cell, LINGER_LABEL_CLOSURE, strrchr (names[(k + 1) % 3], '.') + 1,
                    LINGER_REF_STRONG);
          heap_attr (h, cell, f[(k + 1) % 3], "cell_contents");
        }
    }
  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  g_assert_cmpuint (heap_find (a, LINGER_FINDING_CLOSURE_CYCLE, "builtins.function")->count, ==, 2);
}

/* A document tree held by a global, with parent pointers: normal, not
 * reported unless live cycles are asked for. */
static void
test_reference_live_tree (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) plain = NULL;
  g_autoptr(LingerAnalysis) live = NULL;
  LingerFindingsOptions options = { .live_cycles = TRUE };
  const LingerFinding *f;

  heap_key (h, h->main_dict, family (h, "__main__.Node", "__main__.Node"), "'DOC'");
  plain = heap_analyse (h, FALSE);
  g_assert_cmpuint (plain->findings->len, ==, 0);
  live = heap_analyse_with (h, &options);
  f = heap_find (live, LINGER_FINDING_REFERENCE_CYCLE, "__main__.Node");
  g_assert_cmpstr (f->state, ==, "live");
  heap_assert_steps (f->held_by, "__main__.DOC", "Node", NULL);
}

/* Cycles that are none once the cycle filters apply: a garbage globals
 * dict and its function (__globals__), an instance and its class, a
 * module and its dict, a frame and its locals. */
static void
test_reference_not_cycles (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 globals = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 f = heap_obj (h, "builtins.function", "helper", LINGER_OBJ_FUNCTION);
  guint64 cls = heap_obj (h, "builtins.type", "Plugin", LINGER_OBJ_TYPE);
  guint64 cls_d = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  guint64 inst = heap_obj (h, "__main__.Plugin", NULL, 0);
  guint64 mod_d;
  guint64 mod = heap_obj (h, "builtins.module", "plugins", LINGER_OBJ_MODULE);
  guint64 frame = heap_obj (h, "builtins.frame", "run", LINGER_OBJ_FRAME);
  guint64 local = heap_obj (h, "__main__.Task", NULL, 0);

  heap_key (h, globals, f, "'helper'");
  heap_attr (h, f, globals, "__globals__");
  heap_attr (h, f, heap_obj (h, "builtins.str", NULL, 0), "__module__");
  heap_attr (h, cls, cls_d, "__dict__");
  heap_key (h, cls_d, inst, "'default'");
  heap_ref (h, inst, cls, LINGER_LABEL_NONE, NULL, LINGER_REF_STRONG);
  mod_d = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  heap_attr (h, mod, mod_d, "__dict__");
  heap_key (h, mod_d, mod, "'plugins'");
  heap_ref (h, frame, local, LINGER_LABEL_LOCAL, "task", LINGER_REF_STRONG);
  heap_attr (h, local, frame, "frame");

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 0);
}

/* --- uncollectable and resurrected ---------------------------------------- */

static void
test_uncollectable (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 gc_d;
  guint64 garbage = heap_obj (h, "builtins.list", NULL, 0);
  guint64 peers[2];
  const LingerFinding *f;

  heap_module (h, "gc", &gc_d);
  heap_key (h, gc_d, garbage, "'garbage'");
  for (guint i = 0; i < 2; i++)
    {
      peers[i] = heap_obj (h, "__main__.Peer", NULL, LINGER_OBJ_IN_GARBAGE);
      heap_item (h, garbage, peers[i], i);
    }
  heap_attr (h, peers[0], peers[1], "other");
  heap_attr (h, peers[1], peers[0], "other");
  /* The program holds the second one too. */
  heap_key (h, h->main_dict, peers[1], "'last'");

  a = heap_analyse (h, FALSE);
  g_assert_cmpuint (a->findings->len, ==, 1);
  f = heap_find (a, LINGER_FINDING_UNCOLLECTABLE, "__main__.Peer");
  g_assert_cmpuint (f->count, ==, 2);
  g_assert_cmpuint (f->severity, ==, LINGER_SEVERITY_ERROR);
  /* The example is reached through the other peer. */
  g_assert_cmpstr (f->state, ==, "live");
  heap_assert_steps (f->path, "gc.garbage[0]", "Peer", NULL);
  heap_assert_steps (f->held_by, "__main__.last", "Peer.other", "Peer", NULL);
}

static void
test_resurrected (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  guint64 to_close = heap_obj (h, "builtins.list", NULL, 0);
  guint64 gone = heap_obj (h, "__main__.Ghost", NULL, LINGER_OBJ_FINALIZED);
  const LingerFinding *f;

  heap_key (h, h->main_dict, to_close, "'TO_CLOSE'");
  for (guint i = 0; i < 3; i++)
    heap_item (h, to_close, heap_obj (h, "__main__.Connection", NULL, LINGER_OBJ_FINALIZED | LINGER_OBJ_HAS_DEL), i);
  heap_attr (h, gone, gone, "me");
  /* Objects with __del__ that did not run yet are fine. */
  heap_key (h, h->main_dict, heap_obj (h, "__main__.Connection", NULL, LINGER_OBJ_HAS_DEL), "'conn'");

  a = heap_analyse (h, FALSE);
  f = heap_find (a, LINGER_FINDING_RESURRECTED, "__main__.Connection");
  g_assert_cmpuint (f->count, ==, 3);
  g_assert_cmpstr (f->state, ==, "live");
  heap_assert_steps (f->path, "__main__.TO_CLOSE[0]", "Connection", NULL);
  heap_assert_steps (f->held_by, "__main__.TO_CLOSE[0]", "Connection", NULL);
  test_assert_contains (f->hint, "(now __main__.TO_CLOSE[0])");
  f = heap_find (a, LINGER_FINDING_RESURRECTED, "__main__.Ghost");
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_null (f->held_by);
  /* It is a garbage cycle of its own as well. */
  heap_find (a, LINGER_FINDING_REFERENCE_CYCLE, "__main__.Ghost");
  g_assert_cmpuint (a->findings->len, ==, 3);
}

/* Reports of every kind at once render, and the text report has one
 * heading per kind whatever the order of the findings. */
static void
test_reports (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new (NULL);
  LingerFindingsOptions options = { .instances = TRUE };

  settings (h);
  settings (h);
  family (h, "__main__.Parent", "__main__.Child");
  heap_key (h, h->main_dict, settings (h), "'S'");
  a = heap_analyse_with (h, &options);
  linger_report_text (a, FALSE, text);
  linger_report_json (a, json);
  g_assert_nonnull (strstr (text->str, "warning closure-cycle"));
  g_assert_null (strstr (strstr (text->str, "warning closure-cycle") + 1, "warning closure-cycle"));
  test_assert_contains (text->str, "info reference-cycle");
  test_assert_contains (text->str, "instances:");
  test_assert_contains (json->str, "\"instances\": [");
  g_assert_true (g_utf8_validate (json->str, (gssize) json->len, NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linger/cycles/closure/garbage", test_closure_garbage);
  g_test_add_func ("/linger/cycles/closure/live", test_closure_live);
  g_test_add_func ("/linger/cycles/closure/recursive", test_closure_recursive);
  g_test_add_func ("/linger/cycles/closure/recursive-live", test_closure_recursive_live);
  g_test_add_func ("/linger/cycles/closure/and-bound-method", test_closure_and_bound_method);
  g_test_add_func ("/linger/cycles/closure/negative", test_closure_negative);
  g_test_add_func ("/linger/cycles/reference/garbage", test_reference_garbage);
  g_test_add_func ("/linger/cycles/reference/order", test_reference_order);
  g_test_add_func ("/linger/cycles/closure/mutual", test_closure_mutual);
  g_test_add_func ("/linger/cycles/reference/live-tree", test_reference_live_tree);
  g_test_add_func ("/linger/cycles/reference/not-cycles", test_reference_not_cycles);
  g_test_add_func ("/linger/cycles/uncollectable", test_uncollectable);
  g_test_add_func ("/linger/cycles/resurrected", test_resurrected);
  g_test_add_func ("/linger/cycles/reports", test_reports);

  return g_test_run ();
}
