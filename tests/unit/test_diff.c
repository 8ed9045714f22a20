/* test_diff.c: `linger report --diff` on synthetic traces with several
 * snapshots: growth by type, findings new in the later snapshot, the
 * choice of snapshots, and the traces it refuses. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "linger_diff.h"
#include "linger_error.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_test_trace.h"

#define T LINGER_OBJ_GC_TRACKED

#define MODULE   0x1000
#define DICT     0x1100
#define LIST     0x1200
#define REGISTRY 0x1300
#define CONN(i)   (0x20000 + 0x100 * (guint64) (i))
#define METHOD(i) (0x80000 + 0x100 * (guint64) (i))

/* One snapshot of a program that keeps @n_conns Connectors in a list of
 * its module, each holding a bound method of itself (a bound-method
 * cycle), and, with @keepalive, an Expensive object that its own
 * weakref.finalize keeps alive through args[@arg_index]. */
static void
write_snapshot (TestTrace *t,
                guint32    reason,
                guint      n_conns,
                gboolean   keepalive,
                guint32    arg_index,
                gboolean   close)
{
  test_trace_snapshot_begin (t, reason);
  test_trace_object (t, MODULE, "builtins.module", "__main__", T | LINGER_OBJ_MODULE, 0);
  test_trace_object (t, DICT, "builtins.dict", NULL, T | LINGER_OBJ_DICT, 1);
  test_trace_object (t, LIST, "builtins.list", NULL, T, 1);
  test_trace_object (t, REGISTRY, "builtins.dict", NULL, T | LINGER_OBJ_DICT, 0);
  test_trace_attr (t, MODULE, DICT, "__dict__");
  test_trace_ref (t, DICT, LIST, LINGER_LABEL_KEY, "'conns'", LINGER_REF_STRONG);
  test_trace_root (t, MODULE, LINGER_ROOT_MODULE, "__main__");
  test_trace_root (t, REGISTRY, LINGER_ROOT_SYS, "weakref.finalize._registry");
  for (guint i = 0; i < n_conns; i++)
    {
      test_trace_object (t, CONN (i), "__main__.Connector", NULL, T, 2);
      test_trace_object (t, METHOD (i), "builtins.method", "Connector.on_data", T | LINGER_OBJ_METHOD, 1);
      test_trace_index (t, LIST, CONN (i), i);
      test_trace_attr (t, CONN (i), METHOD (i), "callback");
      test_trace_attr (t, METHOD (i), CONN (i), "__self__");
    }
  if (keepalive)
    {
      const guint64 obj = 0x5000, fin = 0x5100, info = 0x5200, wr = 0x5300, args = 0x5400, fn = 0x5500;
      linger_finalizer_entry e = {
        .finalizer = fin, .info = info, .weakref = wr, .referent = obj,
        .func = fn, .args = args,
      };

      test_trace_object (t, obj, "__main__.Expensive", NULL, T, 1);
      test_trace_object (t, fin, "weakref.finalize", NULL, T | LINGER_OBJ_FINALIZE, 1);
      test_trace_object (t, info, "weakref.finalize._Info", NULL, T, 1);
      test_trace_object (t, wr, "weakref.ReferenceType", NULL, T | LINGER_OBJ_WEAKREF, 1);
      test_trace_object (t, args, "builtins.tuple", NULL, T, 1);
      test_trace_object (t, fn, "builtins.function", "cleanup", T | LINGER_OBJ_FUNCTION, 1);
      test_trace_ref (t, REGISTRY, fin, LINGER_LABEL_DICT_KEY, "<finalize>", LINGER_REF_STRONG);
      test_trace_ref (t, REGISTRY, info, LINGER_LABEL_KEY, "<finalize>", LINGER_REF_STRONG);
      test_trace_attr (t, info, wr, "weakref");
      test_trace_attr (t, info, fn, "func");
      test_trace_attr (t, info, args, "args");
      /* Unused slots of the tuple, so that the index can vary. */
      for (guint32 k = 0; k < arg_index; k++)
        {
          test_trace_object (t, 0x6000 + 0x100 * (guint64) k, "builtins.int", NULL, 0, 1);
          test_trace_index (t, args, 0x6000 + 0x100 * (guint64) k, k);
        }
      test_trace_index (t, args, obj, arg_index);
      test_trace_ref (t, wr, obj, LINGER_LABEL_REFERENT, NULL, LINGER_REF_WEAK);
      g_assert_true (linger_writer_finalizer (&t->w, &e));
    }
  if (close)
    test_trace_snapshot_end (t);
}

/* Writes @bytes to a new temporary file. */
static char *
save (GBytes *bytes)
{
  GError *error = NULL;
  char *path = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  int fd = g_file_open_tmp ("linger-diff-XXXXXX.trace", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

/* A trace with snapshots: 2 connectors (interval), 5 connectors and a
 * finalizer keep-alive (at exit). */
static char *
growing_trace (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(GBytes) bytes = NULL;

  write_snapshot (t, LINGER_SNAPSHOT_INTERVAL, 2, FALSE, 0, TRUE);
  write_snapshot (t, LINGER_SNAPSHOT_AT_EXIT, 5, TRUE, 0, TRUE);
  bytes = test_trace_finish (t, TRUE);
  return save (bytes);
}

static const LingerDiffRow *
row_of (const LingerDiff *d,
        const char       *type)
{
  for (guint i = 0; i < d->rows->len; i++)
    {
      const LingerDiffRow *row = &g_array_index (d->rows, LingerDiffRow, i);
      if (strcmp (row->type, type) == 0)
        return row;
    }
  return NULL;
}

static void
test_growth (void)
{
  g_autofree char *path = growing_trace ();
  const char * const paths[] = { path, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerDiff) d = linger_diff_new_for_files (paths, NULL, NULL, &error);
  const LingerDiffRow *row;
  const LingerFinding *f;
  const LingerDiffGrown *grown;

  g_assert_no_error (error);
  g_assert_cmpuint (d->before->snapshot->id, ==, 1);
  g_assert_cmpuint (d->after->snapshot->id, ==, 2);
  g_assert_null (d->trace_after);
  g_assert_false (d->sites_recorded);

  /* 3 connectors and their methods, and the 6 objects of the finalizer. */
  g_assert_cmpuint (d->objects_after - d->objects_before, ==, 3 + 3 + 6);
  g_assert_cmpuint (d->bytes_after - d->bytes_before, ==, 48 * (3 + 3 + 6));
  row = &g_array_index (d->rows, LingerDiffRow, 0);
  g_assert_cmpstr (row->type, ==, "__main__.Connector");
  g_assert_null (row->site);
  g_assert_cmpuint (row->objects_before, ==, 2);
  g_assert_cmpuint (row->objects_after, ==, 5);
  g_assert_cmpint (linger_diff_row_bytes (row), ==, 3 * 48);
  g_assert_cmpstr (g_array_index (d->rows, LingerDiffRow, 1).type, ==, "builtins.method");
  row = row_of (d, "weakref.finalize");
  g_assert_nonnull (row);
  g_assert_cmpuint (row->objects_before, ==, 0);
  g_assert_cmpint (linger_diff_row_objects (row), ==, 1);
  /* Unchanged types are counted, not listed. */
  g_assert_null (row_of (d, "builtins.module"));
  g_assert_null (row_of (d, "builtins.dict"));
  g_assert_cmpuint (d->n_unchanged_types, ==, 3);   /* module, dict, list */
  for (guint i = 1; i < d->rows->len; i++)
    g_assert_cmpint (linger_diff_row_bytes (&g_array_index (d->rows, LingerDiffRow, i - 1)), >=,
                     linger_diff_row_bytes (&g_array_index (d->rows, LingerDiffRow, i)));

  /* The cycles were there before, fewer of them; the keep-alive is new. */
  g_assert_cmpuint (d->before->findings->len, ==, 1);
  g_assert_cmpuint (d->after->findings->len, ==, 2);
  g_assert_cmpuint (d->new_findings->len, ==, 1);
  f = g_ptr_array_index (d->new_findings, 0);
  g_assert_cmpstr (f->kind, ==, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpuint (f->retained_objects, ==, 1);
  g_assert_cmpuint (d->grown_findings->len, ==, 1);
  grown = &g_array_index (d->grown_findings, LingerDiffGrown, 0);
  g_assert_cmpstr (grown->finding->kind, ==, LINGER_FINDING_BOUND_METHOD_CYCLE);
  g_assert_cmpuint (grown->count_before, ==, 2);
  g_assert_cmpuint (grown->count_after, ==, 5);
  g_assert_cmpuint (d->n_gone_findings, ==, 0);
  g_unlink (path);
}

static void
test_reports (void)
{
  g_autofree char *path = growing_trace ();
  const char * const paths[] = { path, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerDiff) d = linger_diff_new_for_files (paths, NULL, NULL, &error);
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(GString) again = g_string_new (NULL);
  g_autoptr(GString) text = g_string_new (NULL);

  g_assert_no_error (error);
  linger_report_json_diff (d, json);
  g_assert_true (g_str_has_prefix (json->str, "{\n  \"linger_version\": \""));
  g_assert_true (g_str_has_suffix (json->str, "}\n"));
  test_assert_contains (json->str, "\"before\": {");
  test_assert_contains (json->str, "\"after\": {");
  test_assert_contains (json->str, "\"reason\": \"interval\"");
  test_assert_contains (json->str, "\"reason\": \"at exit\"");
  test_assert_contains (json->str, "\"growth\": {\n    \"objects\": 12,\n    \"bytes\": 576,");
  test_assert_contains (json->str, "\"sites_recorded\": false");
  test_assert_contains (json->str, "\"types\": [\n    {\n      \"type\": \"__main__.Connector\",\n"
                                   "      \"allocated_at\": null,\n      \"objects\": 3,\n      \"bytes\": 144,");
  test_assert_contains (json->str, "\"unchanged_types\": 3");
  test_assert_contains (json->str, "\"new_findings\": [\n    {\n      \"kind\": \"finalizer-keepalive\"");
  test_assert_contains (json->str, "\"retained_bytes\": 48");
  test_assert_contains (json->str, "\"grown_findings\": [\n    {\n      \"count_before\": 2,\n"
                                   "      \"count_after\": 5,\n");
  test_assert_contains (json->str, "\"finding\": {\n        \"kind\": \"bound-method-cycle\"");
  test_assert_contains (json->str, "\"gone_findings\": 0");
  linger_report_json_diff (d, again);
  g_assert_cmpstr (json->str, ==, again->str);

  linger_report_text_diff (d, FALSE, text);
  test_assert_contains (text->str, "linger diff: app.py (pid 4242)\n");
  test_assert_contains (text->str, "snapshot #1 of 2 (interval), 8 objects, 384 bytes\n");
  test_assert_contains (text->str, "snapshot #2 of 2 (at exit), 20 objects, 960 bytes\n");
  test_assert_contains (text->str, "  growth:    +12 objects, +576 bytes");
  test_assert_contains (text->str, "        +3   +144 bytes  __main__.Connector");
  test_assert_contains (text->str, "new findings: 1 in snapshot #2 that snapshot #1 does not have (0 gone)\n"
                                   "error finalizer-keepalive:");
  test_assert_contains (text->str, "retains:   48 bytes in 1 object\n");
  test_assert_contains (text->str, "grown findings: 1 that snapshot #2 has more of\n"
                                   "  warning bound-method-cycle: 2 → 5 × __main__.Connector, retaining ");
  test_assert_contains (text->str, "    path:      Connector.callback → <bound method Connector.on_data>.__self__ → Connector\n");
  test_assert_not_contains (text->str, "\033[");
  g_unlink (path);
}

/* --snapshots picks by id, in the order given: backwards, everything
 * shrinks and the keep-alive is gone. */
static void
test_snapshot_ids (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *path = NULL;
  const char * const paths[] = { NULL, NULL };
  const guint32 backwards[2] = { 3, 2 };
  const guint32 missing[2] = { 1, 9 };
  const guint32 twice[2] = { 2, 2 };
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerDiff) d = NULL;
  const LingerDiffRow *last;

  write_snapshot (t, LINGER_SNAPSHOT_ON_SIGNAL, 1, FALSE, 0, TRUE);
  write_snapshot (t, LINGER_SNAPSHOT_ON_SIGNAL, 2, FALSE, 0, TRUE);
  write_snapshot (t, LINGER_SNAPSHOT_AT_EXIT, 4, TRUE, 0, TRUE);
  bytes = test_trace_finish (t, TRUE);
  path = save (bytes);
  ((const char **) paths)[0] = path;

  d = linger_diff_new_for_files (paths, backwards, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (d->before->snapshot->id, ==, 3);
  g_assert_cmpuint (d->after->snapshot->id, ==, 2);
  g_assert_cmpint ((gint64) d->objects_after - (gint64) d->objects_before, ==, -(2 + 2 + 6));
  last = &g_array_index (d->rows, LingerDiffRow, d->rows->len - 1);
  g_assert_cmpint (linger_diff_row_bytes (last), ==, -2 * 48);
  g_assert_cmpuint (d->new_findings->len, ==, 0);
  g_assert_cmpuint (d->grown_findings->len, ==, 0);
  g_assert_cmpuint (d->n_gone_findings, ==, 1);
  g_clear_pointer (&d, linger_diff_free);

  g_assert_null (linger_diff_new_for_files (paths, missing, NULL, &error));
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_FAILED);
  test_assert_contains (error->message, "has no snapshot #9 (its snapshots are #1 to #3)");
  g_clear_error (&error);

  g_assert_null (linger_diff_new_for_files (paths, twice, NULL, &error));
  test_assert_contains (error->message, "--snapshots names snapshot #2 twice");
  g_clear_error (&error);
  g_unlink (path);
}

/* Two traces: the last snapshot of each, whatever the reasons. */
static void
test_two_traces (void)
{
  TestTrace *a = test_trace_new ("3.11.2");
  TestTrace *b = test_trace_new ("3.12.1");
  g_autoptr(GBytes) bytes_a = NULL;
  g_autoptr(GBytes) bytes_b = NULL;
  g_autofree char *path_a = NULL;
  g_autofree char *path_b = NULL;
  const char *paths[] = { NULL, NULL, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerDiff) d = NULL;
  g_autoptr(GString) text = g_string_new (NULL);

  write_snapshot (a, LINGER_SNAPSHOT_ON_SIGNAL, 7, FALSE, 0, TRUE);
  write_snapshot (a, LINGER_SNAPSHOT_AT_EXIT, 1, TRUE, 0, TRUE);
  write_snapshot (b, LINGER_SNAPSHOT_AT_EXIT, 3, TRUE, 1, TRUE);
  bytes_a = test_trace_finish (a, TRUE);
  bytes_b = test_trace_finish (b, TRUE);
  path_a = save (bytes_a);
  path_b = save (bytes_b);
  paths[0] = path_a;
  paths[1] = path_b;

  d = linger_diff_new_for_files (paths, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (d->trace_after);
  g_assert_cmpuint (d->before->snapshot->id, ==, 2);
  g_assert_cmpuint (d->after->snapshot->id, ==, 1);
  g_assert_cmpint (linger_diff_row_objects (row_of (d, "__main__.Connector")), ==, 2);
  /* args[0] before, args[1] after: the same finding.  The cycles grew. */
  g_assert_cmpuint (d->new_findings->len, ==, 0);
  g_assert_cmpuint (d->grown_findings->len, ==, 1);
  g_assert_cmpuint (d->n_gone_findings, ==, 0);
  linger_report_text_diff (d, FALSE, text);
  test_assert_contains (text->str, "  before:    ");
  test_assert_contains (text->str, ", app.py (pid 4242), snapshot #2 of 2 (at exit)");
  test_assert_contains (text->str, "  python:    3.11.2 before, 3.12.1 after\n");
  test_assert_contains (text->str, "No new findings in snapshot #1 (2 in both, 0 gone).\n");
  g_unlink (path_a);
  g_unlink (path_b);
}

static void
test_finding_key (void)
{
  LingerFinding f = { .kind = "finalizer-keepalive" };
  LingerFindingObject o = { .type = "__main__.Expensive" };
  g_autofree char *key = NULL;

  f.objects = g_array_new (FALSE, FALSE, sizeof (LingerFindingObject));
  g_array_append_val (f.objects, o);
  f.path = g_ptr_array_new ();
  g_ptr_array_add (f.path, (gpointer) "weakref.finalize");
  g_ptr_array_add (f.path, (gpointer) "tuple[12]");
  g_ptr_array_add (f.path, (gpointer) "dict['k'][3]");
  g_ptr_array_add (f.path, (gpointer) "list[x1]");
  key = linger_diff_finding_key (&f);
  g_assert_cmpstr (key, ==, "finalizer-keepalive\n__main__.Expensive\n"
                            "weakref.finalize → tuple[*] → dict['k'][*] → list[x1]");
  g_array_unref (f.objects);
  g_ptr_array_unref (f.path);
}

/* What --diff refuses, and a snapshot cut short. */
static void
test_refused (void)
{
  g_autoptr(GError) error = NULL;
  const char *paths[] = { NULL, NULL, NULL };
  g_autofree char *one = NULL;
  g_autofree char *none = NULL;
  g_autofree char *early = NULL;
  TestTrace *t;

  t = test_trace_new ("3.11.2");
  write_snapshot (t, LINGER_SNAPSHOT_AT_EXIT, 1, FALSE, 0, TRUE);
  {
    g_autoptr(GBytes) bytes = test_trace_finish (t, TRUE);
    one = save (bytes);
  }
  paths[0] = one;
  g_assert_null (linger_diff_new_for_files (paths, NULL, NULL, &error));
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_FAILED);
  test_assert_contains (error->message, "has only one snapshot, and --diff compares two");
  test_assert_contains (error->message, "--snapshot-interval");
  g_clear_error (&error);

  t = test_trace_new (NULL);
  {
    g_autoptr(GBytes) bytes = test_trace_finish (t, TRUE);
    none = save (bytes);
  }
  paths[0] = none;
  g_assert_null (linger_diff_new_for_files (paths, NULL, NULL, &error));
  test_assert_contains (error->message, "no Python heap to compare");
  g_clear_error (&error);
  /* Also as the second of two traces. */
  paths[0] = one;
  paths[1] = none;
  g_assert_null (linger_diff_new_for_files (paths, NULL, NULL, &error));
  test_assert_contains (error->message, "no Python heap to compare");
  g_clear_error (&error);

  t = test_trace_new ("3.11.2");
  {
    g_autoptr(GBytes) bytes = test_trace_finish (t, TRUE);
    early = save (bytes);
  }
  paths[0] = early;
  paths[1] = NULL;
  g_assert_null (linger_diff_new_for_files (paths, NULL, NULL, &error));
  test_assert_contains (error->message, "no snapshot to compare (the program ended before one was taken)");
  g_clear_error (&error);

  paths[0] = "/nonexistent/linger.trace";
  g_assert_null (linger_diff_new_for_files (paths, NULL, NULL, &error));
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_IO);
  g_clear_error (&error);

  g_unlink (one);
  g_unlink (none);
  g_unlink (early);
}

static void
test_partial (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *path = NULL;
  const char *paths[] = { NULL, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerDiff) d = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new (NULL);

  write_snapshot (t, LINGER_SNAPSHOT_INTERVAL, 2, FALSE, 0, TRUE);
  write_snapshot (t, LINGER_SNAPSHOT_INTERVAL, 3, FALSE, 0, FALSE);   /* killed mid-walk */
  bytes = test_trace_finish (t, FALSE);
  path = save (bytes);
  paths[0] = path;

  d = linger_diff_new_for_files (paths, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (d->after->snapshot->closed);
  linger_report_text_diff (d, FALSE, text);
  test_assert_contains (text->str, "(partial: the snapshot was cut short, its counts are too low)");
  test_assert_contains (text->str, "  status:    incomplete: ");
  linger_report_json_diff (d, json);
  test_assert_contains (json->str, "\"closed\": false");
  test_assert_contains (json->str, "\"complete\": false");
  test_assert_contains (json->str, "\"incomplete_reason\": ");
  g_unlink (path);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/linger/diff/growth", test_growth);
  g_test_add_func ("/linger/diff/reports", test_reports);
  g_test_add_func ("/linger/diff/snapshot-ids", test_snapshot_ids);
  g_test_add_func ("/linger/diff/two-traces", test_two_traces);
  g_test_add_func ("/linger/diff/finding-key", test_finding_key);
  g_test_add_func ("/linger/diff/refused", test_refused);
  g_test_add_func ("/linger/diff/partial", test_partial);
  return g_test_run ();
}
