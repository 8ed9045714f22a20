/* test_attribution.c: labelled snapshots (format 1.3) and which test
 * created each finding's object (linger_attribution.c). */
#include <string.h>

#include "linger_attribution.h"
#include "linger_test_trace.h"

#define T LINGER_OBJ_GC_TRACKED

/* A labelled snapshot of @n objects, each "address:type". */
static void
labelled (TestTrace          *t,
          const char         *label,
          guint32             flags,
          guint32             reason,
          const char * const *objects)
{
  if (label != NULL)
    g_assert_true (linger_writer_snapshot_label (&t->w, t->snapshot_id + 1, label, strlen (label), flags));
  test_trace_snapshot_begin (t, reason);
  for (guint i = 0; objects[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (objects[i], ":", 2);
      test_trace_object (t, g_ascii_strtoull (parts[0], NULL, 16), parts[1], NULL, T, 1);
    }
  test_trace_snapshot_end (t);
}

static LingerFinding *
finding (guint64     address,
         const char *type)
{
  LingerFinding *f = g_new0 (LingerFinding, 1);
  LingerFindingObject o = { .type = type, .address = address };

  f->kind = LINGER_FINDING_BOUND_METHOD_CYCLE;
  f->count = 1;
  f->objects = g_array_new (FALSE, TRUE, sizeof (LingerFindingObject));
  g_array_append_val (f->objects, o);
  f->path = g_ptr_array_new_with_free_func (g_free);
  return f;
}

/* The story of five addresses over a session of four tests:
 *   0x1000 m.Old     exists from collection on
 *   0x2000 m.Leak    a short-lived one in t::a, gone in t::b, then a new
 *                    m.Leak at the same address from t::c on
 *   0x3000 m.Keep    from t::b on
 *   0x4000 m.Other   in t::d, then an m.Changed at that address at exit
 *   0x5000 m.Late    only at exit */
static LingerTrace *
session (gboolean objects_only)
{
  TestTrace *t = test_trace_new ("3.11.2");
  guint32 flags = objects_only ? LINGER_SNAPSHOT_OBJECTS_ONLY : 0;
  const char *collection[] = { "1000:m.Old", NULL };
  const char *a[] = { "1000:m.Old", "2000:m.Leak", NULL };
  const char *b[] = { "1000:m.Old", "3000:m.Keep", NULL };
  const char *c[] = { "1000:m.Old", "3000:m.Keep", "2000:m.Leak", NULL };
  const char *d[] = { "1000:m.Old", "3000:m.Keep", "2000:m.Leak", "4000:m.Other", NULL };
  const char *exit_objects[] = { "1000:m.Old", "3000:m.Keep", "2000:m.Leak", "4000:m.Changed",
                                 "5000:m.Late", NULL };

  labelled (t, "<collection>", flags, LINGER_SNAPSHOT_ON_API, collection);
  labelled (t, "t.py::a", flags, LINGER_SNAPSHOT_ON_API, a);
  labelled (t, "t.py::b", flags, LINGER_SNAPSHOT_ON_API, b);
  labelled (t, "t.py::c", flags, LINGER_SNAPSHOT_ON_API, c);
  labelled (t, "t.py::d", flags, LINGER_SNAPSHOT_ON_API, d);
  labelled (t, NULL, 0, LINGER_SNAPSHOT_AT_EXIT, exit_objects);
  return test_trace_read (t);
}

static void
check_session (gboolean objects_only)
{
  g_autoptr(LingerTrace) trace = session (objects_only);
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);
  g_autoptr(GArray) rows = NULL;
  LingerSnapshot *judged = linger_trace_pick_snapshot (trace);
  const guint64 addresses[] = { 0x1000, 0x2000, 0x3000, 0x4000, 0x5000 };
  const char *types[] = { "m.Old", "m.Leak", "m.Keep", "m.Changed", "m.Late" };
  const char *expected[] = { "<collection>", "t.py::c", "t.py::b", NULL, NULL };

  g_assert_cmpuint (trace->snapshots->len, ==, 6);
  g_assert_nonnull (judged);
  g_assert_cmpuint (judged->id, ==, 6);
  g_assert_null (judged->label);
  g_assert_cmpstr (((LingerSnapshot *) g_ptr_array_index (trace->snapshots, 1))->label, ==, "t.py::a");
  g_assert_true (((LingerSnapshot *) g_ptr_array_index (trace->snapshots, 1))->objects_only == objects_only);
  g_assert_cmpuint (linger_attribution_n_labelled (trace, judged), ==, 5);

  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    g_ptr_array_add (findings, finding (addresses[i], types[i]));
  g_assert_cmpuint (linger_attribution_apply (trace, judged, findings), ==, 5);
  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    g_assert_cmpstr (((LingerFinding *) g_ptr_array_index (findings, i))->created_by, ==, expected[i]);

  /* In the order of the tests, the unattributed last. */
  rows = linger_attribution_by_test (trace, judged, findings);
  g_assert_cmpuint (rows->len, ==, 4);
  g_assert_cmpstr (g_array_index (rows, LingerTestFindings, 0).label, ==, "<collection>");
  g_assert_cmpstr (g_array_index (rows, LingerTestFindings, 1).label, ==, "t.py::b");
  g_assert_cmpstr (g_array_index (rows, LingerTestFindings, 2).label, ==, "t.py::c");
  g_assert_null (g_array_index (rows, LingerTestFindings, 3).label);
  g_assert_cmpuint (g_array_index (rows, LingerTestFindings, 3).findings, ==, 2);
}

static void
test_whole_snapshots (void)
{
  check_session (FALSE);
}

static void
test_objects_only_snapshots (void)
{
  check_session (TRUE);
}

/* Objects-only snapshots are never judged; without a whole one there is
 * nothing to judge. */
static void
test_objects_only_not_judged (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  const char *objects[] = { "1000:m.Old", NULL };
  g_autoptr(LingerTrace) trace = NULL;

  labelled (t, "t.py::a", 0, LINGER_SNAPSHOT_ON_API, objects);
  labelled (t, "t.py::b", LINGER_SNAPSHOT_OBJECTS_ONLY, LINGER_SNAPSHOT_ON_API, objects);
  trace = test_trace_read (t);
  g_assert_cmpuint (linger_trace_pick_snapshot (trace)->id, ==, 1);

  t = test_trace_new ("3.11.2");
  labelled (t, "t.py::a", LINGER_SNAPSHOT_OBJECTS_ONLY, LINGER_SNAPSHOT_ON_API, objects);
  g_clear_pointer (&trace, linger_trace_free);
  trace = test_trace_read (t);
  g_assert_null (linger_trace_pick_snapshot (trace));
}

/* Without labels nothing is attributed. */
static void
test_no_labels (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  const char *objects[] = { "1000:m.Old", NULL };
  g_autoptr(LingerTrace) trace = NULL;
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);

  labelled (t, NULL, 0, LINGER_SNAPSHOT_ON_SIGNAL, objects);
  labelled (t, NULL, 0, LINGER_SNAPSHOT_AT_EXIT, objects);
  trace = test_trace_read (t);
  g_ptr_array_add (findings, finding (0x1000, "m.Old"));
  g_assert_cmpuint (linger_attribution_apply (trace, linger_trace_pick_snapshot (trace), findings), ==, 0);
  g_assert_null (((LingerFinding *) g_ptr_array_index (findings, 0))->created_by);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/attribution/whole-snapshots", test_whole_snapshots);
  g_test_add_func ("/attribution/objects-only-snapshots", test_objects_only_snapshots);
  g_test_add_func ("/attribution/objects-only-not-judged", test_objects_only_not_judged);
  g_test_add_func ("/attribution/no-labels", test_no_labels);
  return g_test_run ();
}
