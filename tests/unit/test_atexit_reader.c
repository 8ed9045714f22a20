/* test_atexit_reader.c: the ATEXIT batch and the atexit root kind of
 * format 1.1, read back from traces written with the shim's writer, cut
 * short and damaged on purpose. */
#include <string.h>

#include "linger_error.h"
#include "linger_reader.h"
#include "linger_test_trace.h"

/* atexit.register(session.close) and atexit.register(print, session). */
static GBytes *
atexit_trace (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  linger_atexit_entry first = { .func = 0x2000, .args = 0x3000, .kwargs = 0, .index = 0 };
  linger_atexit_entry second = { .func = 0x4000, .args = 0x5000, .kwargs = 0x6000, .index = 1 };

  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  test_trace_object (t, 0x1000, "__main__.Session", NULL, LINGER_OBJ_GC_TRACKED, 2);
  test_trace_object (t, 0x2000, "builtins.method", "Session.close", LINGER_OBJ_GC_TRACKED | LINGER_OBJ_METHOD, 1);
  test_trace_object (t, 0x3000, "builtins.tuple", NULL, 0, 1);
  test_trace_object (t, 0x4000, "builtins.builtin_function_or_method", "print", LINGER_OBJ_BUILTIN_METHOD, 1);
  test_trace_object (t, 0x5000, "builtins.tuple", NULL, LINGER_OBJ_GC_TRACKED, 1);
  test_trace_object (t, 0x6000, "builtins.dict", NULL, LINGER_OBJ_GC_TRACKED | LINGER_OBJ_DICT, 1);
  test_trace_attr (t, 0x2000, 0x1000, "__self__");
  test_trace_index (t, 0x5000, 0x1000, 0);
  test_trace_root (t, 0x2000, LINGER_ROOT_ATEXIT, "atexit callback #1: Session.close");
  test_trace_root (t, 0x3000, LINGER_ROOT_ATEXIT, "atexit callback #1: Session.close");
  test_trace_root (t, 0x4000, LINGER_ROOT_ATEXIT, "atexit callback #2: <builtin_function_or_method>");
  test_trace_root (t, 0x5000, LINGER_ROOT_ATEXIT, "atexit callback #2: <builtin_function_or_method>");
  test_trace_root (t, 0x6000, LINGER_ROOT_ATEXIT, "atexit callback #2: <builtin_function_or_method>");
  g_assert_true (linger_writer_atexit (&t->w, &first));
  g_assert_true (linger_writer_atexit (&t->w, &second));
  test_trace_snapshot_end (t);
  return test_trace_finish (t, TRUE);
}

static GByteArray *
copy_of (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, data, (guint) len);
  return a;
}

/* Offset of the first record of @type, or 0. */
static gsize
find_record (const GByteArray *a,
             guint16           type)
{
  gsize off = sizeof (linger_file_header);

  while (off + sizeof (linger_record_header) <= a->len)
    {
      linger_record_header h;

      memcpy (&h, a->data + off, sizeof h);
      if (h.type == type)
        return off;
      if (h.size == 0)
        break;
      off += h.size;
    }
  return 0;
}

static void
put_u16 (GByteArray *a,
         gsize       offset,
         guint16     value)
{
  memcpy (a->data + offset, &value, sizeof value);
}

static void
put_u32 (GByteArray *a,
         gsize       offset,
         guint32     value)
{
  memcpy (a->data + offset, &value, sizeof value);
}

static void
expect_corrupt (const GByteArray *a,
                const char       *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = linger_trace_new_from_data (a->data, a->len, &error);

  g_assert_null (trace);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected '%s' in: %s", needle, error->message);
  g_assert_null (strchr (error->message, '\n'));
}

static void
test_round_trip (void)
{
  g_autoptr(GBytes) bytes = atexit_trace ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  const linger_atexit_entry *e;
  const linger_root_entry *root;
  LingerSnapshot *s;

  trace = linger_trace_new_from_data (data, len, &error);
  g_assert_no_error (error);
  /* Written by the current writer: its minor version, which has ATEXIT
   * records (minor 1 and later). */
  g_assert_cmpuint (trace->version_minor, ==, LINGER_TRACE_VERSION_MINOR);
  g_assert_cmpuint (trace->version_minor, >=, 1);
  g_assert_cmpuint (trace->n_unknown_records, ==, 0);
  s = linger_trace_pick_snapshot (trace);
  g_assert_cmpuint (s->atexits->len, ==, 2);
  e = &g_array_index (s->atexits, linger_atexit_entry, 0);
  g_assert_cmphex (e->func, ==, 0x2000);
  g_assert_cmphex (e->args, ==, 0x3000);
  g_assert_cmphex (e->kwargs, ==, 0);
  g_assert_cmpuint (e->index, ==, 0);
  e = &g_array_index (s->atexits, linger_atexit_entry, 1);
  g_assert_cmphex (e->kwargs, ==, 0x6000);
  g_assert_cmpuint (e->index, ==, 1);
  g_assert_cmpuint (s->roots->len, ==, 5);
  root = &g_array_index (s->roots, linger_root_entry, 0);
  g_assert_cmpuint (root->kind, ==, LINGER_ROOT_ATEXIT);
  g_assert_cmpstr (linger_trace_string (trace, root->label), ==, "atexit callback #1: Session.close");
  g_assert_cmpstr (linger_root_kind_name (LINGER_ROOT_ATEXIT), ==, "atexit");
}

/* A 1.0 trace has no ATEXIT records, and an atexit root in it is out of
 * range: version 1.0 did not have the kind. */
static void
test_format_1_0 (void)
{
  g_autoptr(GBytes) bytes = atexit_trace ();
  g_autoptr(GByteArray) a = copy_of (bytes);
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = NULL;
  TestTrace *t;

  put_u16 (a, offsetof (linger_file_header, version_minor), 0);
  expect_corrupt (a, "root kind 6 is out of range");

  t = test_trace_new ("3.8.18");
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  test_trace_object (t, 0x1000, "__main__.Session", NULL, LINGER_OBJ_GC_TRACKED, 1);
  test_trace_root (t, 0x1000, LINGER_ROOT_MODULE, "__main__");
  test_trace_snapshot_end (t);
  {
    g_autoptr(GBytes) old = test_trace_finish (t, TRUE);
    g_autoptr(GByteArray) b = copy_of (old);

    put_u16 (b, offsetof (linger_file_header, version_minor), 0);
    trace = linger_trace_new_from_data (b->data, b->len, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (linger_trace_pick_snapshot (trace)->atexits->len, ==, 0);
  }
}

/* Damage is reported like in the other batches. */
static void
test_damaged (void)
{
  g_autoptr(GBytes) bytes = atexit_trace ();

  /* A count that does not fill the record. */
  {
    g_autoptr(GByteArray) a = copy_of (bytes);
    gsize at = find_record (a, LINGER_REC_ATEXIT);

    g_assert_cmpuint (at, >, 0);
    put_u32 (a, at + offsetof (linger_rec_batch, count), 3);
    expect_corrupt (a, "ATEXIT record at byte offset");
    put_u32 (a, at + offsetof (linger_rec_batch, count), 1);
    expect_corrupt (a, "do not fill the record");
  }
  /* A batch outside a snapshot. */
  {
    TestTrace *t = test_trace_new (NULL);
    linger_atexit_entry e = { .func = 0x2000 };
    g_autoptr(GBytes) b = NULL;
    g_autoptr(GByteArray) a = NULL;

    g_assert_true (linger_writer_atexit (&t->w, &e));
    b = test_trace_finish (t, TRUE);
    a = copy_of (b);
    expect_corrupt (a, "batch outside a snapshot");
  }
  /* A root kind past ATEXIT is out of range in 1.1 too. */
  {
    g_autoptr(GByteArray) a = copy_of (bytes);
    gsize at = find_record (a, LINGER_REC_ROOTS);

    put_u32 (a, at + sizeof (linger_rec_batch) + offsetof (linger_root_entry, kind), LINGER_ROOT_ATEXIT + 1);
    expect_corrupt (a, "root kind 7");
  }
}

/* Cut anywhere, the trace reads as far as it goes: never an error, and
 * never an ATEXIT entry that was not written whole. */
static void
test_truncated (void)
{
  g_autoptr(GBytes) bytes = atexit_trace ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  for (gsize cut = sizeof (linger_file_header); cut < len; cut += 8)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *copy = test_dup (data, cut);
      g_autoptr(LingerTrace) trace = linger_trace_new_from_data (copy, cut, &error);
      LingerSnapshot *s;

      g_assert_no_error (error);
      g_assert_false (trace->complete);
      s = linger_trace_pick_snapshot (trace);
      if (s != NULL)
        g_assert_true (s->atexits->len == 0 || s->atexits->len == 2);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linger/reader/atexit/round-trip", test_round_trip);
  g_test_add_func ("/linger/reader/atexit/format-1.0", test_format_1_0);
  g_test_add_func ("/linger/reader/atexit/damaged", test_damaged);
  g_test_add_func ("/linger/reader/atexit/truncated", test_truncated);

  return g_test_run ();
}
