/* test_reader.c: the validating reader against traces from the writer,
 * cut short, and damaged on purpose. */
#include <string.h>

#include <glib/gstdio.h>

#include "linger_error.h"
#include "linger_reader.h"
#include "linger_test_trace.h"

/* One trace with every record type. */
static GBytes *
full_trace (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  linger_finalizer_entry fin = {
    .finalizer = 0x5000, .info = 0x5100, .weakref = 0x5200, .referent = 0x1000,
    .func = 0x3000, .args = 0x4000, .kwargs = 0, .index = 7, .flags = LINGER_FINALIZER_ATEXIT,
  };
  linger_weakref_entry wr = { .weakref = 0x5200, .referent = 0x1000, .callback = 0, .kind = LINGER_WEAKREF_REF };

  g_assert_true (linger_writer_message (&t->w, LINGER_MSG_WARNING, "frozen objects were not recorded"));
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  test_trace_object (t, 0x1000, "__main__.ExpensiveObject", NULL, LINGER_OBJ_GC_TRACKED, 1);
  test_trace_object (t, 0x3000, "builtins.function", "on_finalize", LINGER_OBJ_GC_TRACKED | LINGER_OBJ_FUNCTION, 1);
  test_trace_object (t, 0x4000, "builtins.tuple", NULL, LINGER_OBJ_GC_TRACKED, 1);
  test_trace_index (t, 0x4000, 0x1000, 0);
  test_trace_ref (t, 0x5200, 0x1000, LINGER_LABEL_REFERENT, NULL, LINGER_REF_WEAK);
  test_trace_root (t, 0x4000, LINGER_ROOT_MODULE, "__main__");
  g_assert_true (linger_writer_finalizer (&t->w, &fin));
  g_assert_true (linger_writer_weakref (&t->w, &wr));
  test_trace_snapshot_end (t);
  g_assert_true (linger_writer_message (&t->w, LINGER_MSG_INFO, "done"));
  return test_trace_finish (t, TRUE);
}

static LingerTrace *
read_bytes (GBytes  *bytes,
            GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return linger_trace_new_from_data (data, len, error);
}

/* Offset of the @nth record of @type, or 0. */
static gsize
find_record (const guint8 *data,
             gsize         len,
             guint16       type,
             guint         nth)
{
  gsize off = sizeof (linger_file_header);

  while (off + sizeof (linger_record_header) <= len)
    {
      linger_record_header h;
      memcpy (&h, data + off, sizeof h);
      if (h.type == type && nth-- == 0)
        return off;
      if (h.size == 0)
        break;
      off += h.size;
    }
  return 0;
}

static void
test_round_trip (void)
{
  g_autoptr(GBytes) bytes = full_trace ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = read_bytes (bytes, &error);
  LingerSnapshot *s;
  const linger_object_entry *o;
  const linger_ref_entry *r;
  const linger_root_entry *root;
  const linger_finalizer_entry *f;
  const linger_weakref_entry *w;
  const LingerMessage *m;

  g_assert_no_error (error);
  g_assert_nonnull (trace);
  g_assert_true (trace->complete);
  g_assert_null (trace->incomplete_reason);
  g_assert_cmpuint (trace->version_major, ==, LINGER_TRACE_VERSION_MAJOR);
  g_assert_cmpuint (trace->n_unknown_records, ==, 0);
  g_assert_cmpuint (trace->exit_path, ==, LINGER_EXIT_NORMAL);

  g_assert_true (trace->has_process);
  g_assert_cmpuint (trace->pid, ==, 4242);
  g_assert_cmpuint (trace->ppid, ==, 1);
  g_assert_cmpstr (trace->exe, ==, "/usr/bin/python3.11");
  g_assert_cmpuint (g_strv_length (trace->argv), ==, 3);
  g_assert_cmpstr (trace->argv[0], ==, "python3");
  g_assert_cmpstr (trace->argv[1], ==, "app.py");
  g_assert_cmpstr (trace->argv[2], ==, "--flag");
  g_assert_cmpstr (trace->program, ==, "app.py");

  g_assert_true (trace->has_runtime);
  g_assert_cmpstr (trace->python_version, ==, "3.11.2");
  g_assert_cmpstr (trace->implementation, ==, "cpython");
  g_assert_cmphex (trace->hexversion, ==, 0x030b02f0);

  g_assert_cmpuint (trace->messages->len, ==, 2);
  m = g_ptr_array_index (trace->messages, 0);
  g_assert_cmpuint (m->level, ==, LINGER_MSG_WARNING);
  g_assert_cmpstr (m->text, ==, "frozen objects were not recorded");
  m = g_ptr_array_index (trace->messages, 1);
  g_assert_cmpstr (m->text, ==, "done");

  g_assert_cmpuint (trace->snapshots->len, ==, 1);
  s = g_ptr_array_index (trace->snapshots, 0);
  g_assert_true (linger_trace_pick_snapshot (trace) == s);
  g_assert_cmpuint (s->id, ==, 1);
  g_assert_cmpuint (s->reason, ==, LINGER_SNAPSHOT_AT_EXIT);
  g_assert_true (s->closed);
  g_assert_cmpuint (s->status, ==, LINGER_SNAPSHOT_OK);
  g_assert_cmpuint (s->duration_ns, ==, 1000);

  g_assert_cmpuint (s->objects->len, ==, 3);
  o = &g_array_index (s->objects, linger_object_entry, 1);
  g_assert_cmphex (o->address, ==, 0x3000);
  g_assert_cmpstr (linger_trace_string (trace, o->type_name), ==, "builtins.function");
  g_assert_cmpstr (linger_trace_string (trace, o->name), ==, "on_finalize");
  g_assert_cmpuint (o->flags, ==, LINGER_OBJ_GC_TRACKED | LINGER_OBJ_FUNCTION);
  g_assert_null (linger_trace_string (trace, g_array_index (s->objects, linger_object_entry, 0).name));

  g_assert_cmpuint (s->refs->len, ==, 2);
  r = &g_array_index (s->refs, linger_ref_entry, 0);
  g_assert_cmphex (r->source, ==, 0x4000);
  g_assert_cmphex (r->target, ==, 0x1000);
  g_assert_cmpuint (r->label_kind, ==, LINGER_LABEL_INDEX);
  g_assert_cmpuint (r->label, ==, 0);
  r = &g_array_index (s->refs, linger_ref_entry, 1);
  g_assert_cmpuint (r->ref_kind, ==, LINGER_REF_WEAK);

  g_assert_cmpuint (s->roots->len, ==, 1);
  root = &g_array_index (s->roots, linger_root_entry, 0);
  g_assert_cmpuint (root->kind, ==, LINGER_ROOT_MODULE);
  g_assert_cmpstr (linger_trace_string (trace, root->label), ==, "__main__");

  g_assert_cmpuint (s->finalizers->len, ==, 1);
  f = &g_array_index (s->finalizers, linger_finalizer_entry, 0);
  g_assert_cmphex (f->referent, ==, 0x1000);
  g_assert_cmphex (f->args, ==, 0x4000);
  g_assert_cmpuint (f->index, ==, 7);
  g_assert_cmpuint (f->flags, ==, LINGER_FINALIZER_ATEXIT);

  g_assert_cmpuint (s->weakrefs->len, ==, 1);
  w = &g_array_index (s->weakrefs, linger_weakref_entry, 0);
  g_assert_cmphex (w->weakref, ==, 0x5200);
  g_assert_cmpuint (w->kind, ==, LINGER_WEAKREF_REF);
}

/* Cut at every byte: never a crash, an error only while the file header
 * itself is cut, otherwise an incomplete trace with what was complete. */
static void
test_truncated (void)
{
  g_autoptr(GBytes) bytes = full_trace ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  gsize snapshot_end = find_record (data, len, LINGER_REC_SNAPSHOT_END, 0);
  guint prev_objects = 0;

  g_assert_cmpuint (snapshot_end, >, 0);
  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(GError) error = NULL;
      /* A copy of exactly @cut bytes, so valgrind sees any overread. */
      g_autofree guint8 *copy = test_dup (data, MAX (cut, 1));
      g_autoptr(LingerTrace) trace = linger_trace_new_from_data (copy, cut, &error);

      if (cut < sizeof (linger_file_header))
        {
          g_assert_null (trace);
          g_assert_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE);
          continue;
        }
      g_assert_no_error (error);
      g_assert_nonnull (trace);
      if (cut == len)
        {
          g_assert_true (trace->complete);
          continue;
        }
      g_assert_false (trace->complete);
      g_assert_nonnull (trace->incomplete_reason);
      g_assert_cmpuint (trace->snapshots->len, <=, 1);
      if (trace->snapshots->len == 1)
        {
          LingerSnapshot *s = g_ptr_array_index (trace->snapshots, 0);

          /* Objects only ever grow as more of the file is there. */
          g_assert_cmpuint (s->objects->len, >=, prev_objects);
          prev_objects = s->objects->len;
          if (cut < snapshot_end + sizeof (linger_rec_snapshot_end))
            {
              g_assert_false (s->closed);
              g_assert_cmpuint (s->status, ==, LINGER_SNAPSHOT_PARTIAL);
            }
          else
            g_assert_true (s->closed);
        }
      /* A cut inside a record says so, with its offset. */
      if (cut % 8 != 0)
        g_assert_nonnull (strstr (trace->incomplete_reason, "byte offset"));
    }
}

static void
test_no_end (void)
{
  TestTrace *t = test_trace_new ("3.12.1");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = NULL;

  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_ON_SIGNAL);
  test_trace_object (t, 0x10, "builtins.list", NULL, 0, 1);
  bytes = test_trace_finish (t, FALSE);
  trace = read_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_false (trace->complete);
  g_assert_nonnull (strstr (trace->incomplete_reason, "no END record"));
  g_assert_cmpuint (trace->snapshots->len, ==, 1);
  g_assert_false (((LingerSnapshot *) g_ptr_array_index (trace->snapshots, 0))->closed);
  g_assert_cmpuint (((LingerSnapshot *) g_ptr_array_index (trace->snapshots, 0))->objects->len, ==, 1);
}

/* Reads @data after @patch changed it and checks the error. */
static void
expect_error (GByteArray *data,
              gint        code,
              const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = linger_trace_new_from_data (data->data, data->len, &error);

  g_assert_null (trace);
  g_assert_error (error, LINGER_ERROR, code);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("expected '%s' in: %s", needle, error->message);
  /* One line. */
  g_assert_null (strchr (error->message, '\n'));
}

static GByteArray *
full_copy (void)
{
  g_autoptr(GBytes) bytes = full_trace ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, data, (guint) len);
  return a;
}

static void
put_u32 (GByteArray *a,
         gsize       offset,
         guint32     value)
{
  memcpy (a->data + offset, &value, sizeof value);
}

static void
put_u16 (GByteArray *a,
         gsize       offset,
         guint16     value)
{
  memcpy (a->data + offset, &value, sizeof value);
}

static void
test_bad_magic (void)
{
  g_autoptr(GByteArray) a = full_copy ();
  g_autoptr(GError) error = NULL;
  const char text[] = "#!/bin/sh\necho hello, this is not a trace at all, but long enough\n";
  g_autoptr(LingerTrace) trace = NULL;

  a->data[3] = 'X';
  expect_error (a, LINGER_ERROR_NOT_A_TRACE, "bad magic at byte offset 0");

  trace = linger_trace_new_from_data ((const guint8 *) text, sizeof text, &error);
  g_assert_null (trace);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE);
  g_clear_error (&error);

  trace = linger_trace_new_from_data ((const guint8 *) "", 0, &error);
  g_assert_null (trace);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE);
  g_assert_nonnull (strstr (error->message, "empty"));
}

static void
test_bad_version (void)
{
  g_autoptr(GByteArray) a = full_copy ();

  put_u16 (a, offsetof (linger_file_header, version_major), LINGER_TRACE_VERSION_MAJOR + 1);
  put_u16 (a, offsetof (linger_file_header, version_minor), 0);
  expect_error (a, LINGER_ERROR_UNSUPPORTED_VERSION, "version 2.0");
}

static void
test_bad_header_size (void)
{
  g_autoptr(GByteArray) a = full_copy ();

  put_u32 (a, offsetof (linger_file_header, header_size), 60);
  expect_error (a, LINGER_ERROR_CORRUPT, "header size 60");
}

/* A newer minor version may add records and grow the header; both are
 * stepped over. */
/* A trace from a newer minor version: a longer file header, and records
 * of types this reader does not know, in the ranges the format reserves
 * for them (41..63 allocation tracking, 15..31 snapshot records, the
 * latter inside the snapshot), are stepped over and counted. */
static void
test_newer_minor (void)
{
  const guint16 alloc_types[] = { LINGER_REC_LIVE_BLOCKS + 1, 63 };
  const guint16 snapshot_types[] = { LINGER_REC_SNAPSHOT_LABEL + 1, 31 };

  G_STATIC_ASSERT (LINGER_REC_LIVE_BLOCKS + 1 < LINGER_REC_END);

  for (guint i = 0; i < G_N_ELEMENTS (alloc_types); i++)
    {
      g_autoptr(GByteArray) a = full_copy ();
      g_autoptr(GByteArray) b = g_byte_array_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(LingerTrace) trace = NULL;
      linger_file_header h;
      guint8 grown[16] = { 0 };
      guint8 unknown[24] = { 0 };
      guint8 unknown_snap[16] = { 0 };
      linger_record_header uh = { .type = alloc_types[i], .flags = 0, .size = sizeof unknown };
      linger_record_header sh = { .type = snapshot_types[i], .flags = 0, .size = sizeof unknown_snap };
      gsize end = a->len - sizeof (linger_rec_end);
      gsize snap_end = find_record (a->data, a->len, LINGER_REC_SNAPSHOT_END, 0);

      g_assert_cmpuint (snap_end, >, sizeof h);
      g_assert_cmpuint (snap_end, <, end);
      memcpy (&h, a->data, sizeof h);
      h.version_minor = LINGER_TRACE_VERSION_MINOR + 1;
      h.header_size = sizeof h + sizeof grown;
      memcpy (unknown, &uh, sizeof uh);
      memset (unknown + sizeof uh, 0xA5, sizeof unknown - sizeof uh);
      memcpy (unknown_snap, &sh, sizeof sh);
      memset (unknown_snap + sizeof sh, 0x5A, sizeof unknown_snap - sizeof sh);

      g_byte_array_append (b, (const guint8 *) &h, sizeof h);
      g_byte_array_append (b, grown, sizeof grown);
      /* ... records up to the snapshot's end, an unknown snapshot record,
       * the SNAPSHOT_END and what follows, an unknown allocation record,
       * END. */
      g_byte_array_append (b, a->data + sizeof h, (guint) (snap_end - sizeof h));
      g_byte_array_append (b, unknown_snap, sizeof unknown_snap);
      g_byte_array_append (b, a->data + snap_end, (guint) (end - snap_end));
      g_byte_array_append (b, unknown, sizeof unknown);
      g_byte_array_append (b, a->data + end, sizeof (linger_rec_end));

      trace = linger_trace_new_from_data (b->data, b->len, &error);
      g_assert_no_error (error);
      g_assert_true (trace->complete);
      g_assert_cmpuint (trace->n_unknown_records, ==, 2);
      g_assert_cmpuint (trace->version_minor, ==, LINGER_TRACE_VERSION_MINOR + 1);
      g_assert_cmpuint (trace->snapshots->len, ==, 1);
      g_assert_cmpuint (((LingerSnapshot *) g_ptr_array_index (trace->snapshots, 0))->objects->len, ==, 3);
    }
}

static void
test_bad_record_size (void)
{
  const guint32 sizes[] = { 0, 4, 12, 20, LINGER_RECORD_MAX_SIZE + 8, G_MAXUINT32 - 7 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GByteArray) a = full_copy ();
      gsize off = find_record (a->data, a->len, LINGER_REC_REFS, 0);
      g_autofree char *where = g_strdup_printf ("byte offset %" G_GSIZE_FORMAT, off);

      g_assert_cmpuint (off, >, 0);
      put_u32 (a, off + offsetof (linger_record_header, size), sizes[i]);
      expect_error (a, LINGER_ERROR_CORRUPT, where);
    }
}

static void
test_bad_batch_count (void)
{
  const guint16 types[] = { LINGER_REC_OBJECTS, LINGER_REC_REFS, LINGER_REC_ROOTS,
                            LINGER_REC_FINALIZERS, LINGER_REC_WEAKREFS };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GByteArray) a = full_copy ();
      g_autoptr(GByteArray) b = full_copy ();
      gsize off = find_record (a->data, a->len, types[i], 0);

      g_assert_cmpuint (off, >, 0);
      put_u32 (a, off + offsetof (linger_rec_batch, count), 1000000);
      expect_error (a, LINGER_ERROR_CORRUPT, "do not fill the record");
      /* A count of 2^32-1 must not overflow the check. */
      put_u32 (b, off + offsetof (linger_rec_batch, count), G_MAXUINT32);
      expect_error (b, LINGER_ERROR_CORRUPT, "do not fill the record");
    }
}

static void
test_bad_string_id (void)
{
  g_autoptr(GByteArray) a = full_copy ();
  g_autoptr(GByteArray) b = full_copy ();
  g_autoptr(GByteArray) c = full_copy ();
  gsize objects = find_record (a->data, a->len, LINGER_REC_OBJECTS, 0);
  gsize string = find_record (b->data, b->len, LINGER_REC_STRING, 1);
  gsize roots = find_record (c->data, c->len, LINGER_REC_ROOTS, 0);

  /* Object type_name id past the strings defined so far. */
  put_u32 (a, objects + sizeof (linger_rec_batch) + offsetof (linger_object_entry, type_name), 999);
  expect_error (a, LINGER_ERROR_CORRUPT, "string id 999");

  /* Ids must be dense and in order. */
  put_u32 (b, string + offsetof (linger_rec_string, id), 7);
  expect_error (b, LINGER_ERROR_CORRUPT, "expected 2");

  put_u32 (c, roots + sizeof (linger_rec_batch) + offsetof (linger_root_entry, label), 12345);
  expect_error (c, LINGER_ERROR_CORRUPT, "string id 12345");
}

static void
test_bad_string_length (void)
{
  g_autoptr(GByteArray) a = full_copy ();
  g_autoptr(GByteArray) b = full_copy ();
  gsize string = find_record (a->data, a->len, LINGER_REC_STRING, 0);
  gsize process = find_record (b->data, b->len, LINGER_REC_PROCESS, 0);

  put_u32 (a, string + offsetof (linger_rec_string, len), 4000);
  expect_error (a, LINGER_ERROR_CORRUPT, "overflows");
  put_u32 (b, process + offsetof (linger_rec_process, exe_len), G_MAXUINT32);
  expect_error (b, LINGER_ERROR_CORRUPT, "overflow");
}

static void
test_bad_enum (void)
{
  g_autoptr(GByteArray) a = full_copy ();
  g_autoptr(GByteArray) b = full_copy ();
  g_autoptr(GByteArray) c = full_copy ();
  g_autoptr(GByteArray) d = full_copy ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = NULL;
  gsize refs = find_record (a->data, a->len, LINGER_REC_REFS, 0);
  gsize begin = find_record (b->data, b->len, LINGER_REC_SNAPSHOT_BEGIN, 0);
  gsize weakrefs = find_record (c->data, c->len, LINGER_REC_WEAKREFS, 0);

  put_u16 (a, refs + sizeof (linger_rec_batch) + offsetof (linger_ref_entry, ref_kind), 9);
  expect_error (a, LINGER_ERROR_CORRUPT, "ref kind 9");
  put_u32 (b, begin + offsetof (linger_rec_snapshot_begin, reason), 0);
  expect_error (b, LINGER_ERROR_CORRUPT, "reason 0");
  put_u32 (c, weakrefs + sizeof (linger_rec_batch) + offsetof (linger_weakref_entry, kind), 5);
  expect_error (c, LINGER_ERROR_CORRUPT, "weakref kind 5");

  /* In a newer minor version an unknown value is kept, not an error. */
  put_u16 (d, refs + sizeof (linger_rec_batch) + offsetof (linger_ref_entry, ref_kind), 9);
  put_u16 (d, offsetof (linger_file_header, version_minor), LINGER_TRACE_VERSION_MINOR + 1);
  trace = linger_trace_new_from_data (d->data, d->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (trace);
}

static void
test_snapshot_pairing (void)
{
  /* END of a snapshot that is not open. */
  {
    TestTrace *t = test_trace_new (NULL);
    linger_rec_snapshot_end end = { .snapshot_id = 1 };
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(LingerTrace) trace = NULL;

    g_assert_true (linger_writer_snapshot_end (&t->w, &end));
    bytes = test_trace_finish (t, TRUE);
    trace = read_bytes (bytes, &error);
    g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "no snapshot is open"));
  }
  /* BEGIN inside an open snapshot. */
  {
    TestTrace *t = test_trace_new (NULL);
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(LingerTrace) trace = NULL;

    test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
    test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
    bytes = test_trace_finish (t, TRUE);
    trace = read_bytes (bytes, &error);
    g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "before snapshot 1 ended"));
  }
  /* END naming another snapshot. */
  {
    TestTrace *t = test_trace_new (NULL);
    linger_rec_snapshot_end end = { .snapshot_id = 9 };
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(LingerTrace) trace = NULL;

    test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
    g_assert_true (linger_writer_snapshot_end (&t->w, &end));
    bytes = test_trace_finish (t, TRUE);
    trace = read_bytes (bytes, &error);
    g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
  }
  /* Entries outside a snapshot. */
  {
    TestTrace *t = test_trace_new (NULL);
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(LingerTrace) trace = NULL;

    test_trace_object (t, 0x10, "builtins.list", NULL, 0, 1);
    bytes = test_trace_finish (t, TRUE);
    trace = read_bytes (bytes, &error);
    g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "outside a snapshot"));
  }
  /* SNAPSHOT_END counts that do not match what was recorded. */
  {
    TestTrace *t = test_trace_new (NULL);
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(LingerTrace) trace = NULL;

    test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
    test_trace_object (t, 0x10, "builtins.list", NULL, 0, 1);
    t->n_objects = 5;
    test_trace_snapshot_end (t);
    bytes = test_trace_finish (t, TRUE);
    trace = read_bytes (bytes, &error);
    g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "5 objects"));
  }
  /* The END record closes a snapshot left open: partial, not an error. */
  {
    TestTrace *t = test_trace_new (NULL);
    g_autoptr(LingerTrace) trace = NULL;
    LingerSnapshot *s;

    test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
    test_trace_object (t, 0x10, "builtins.list", NULL, 0, 1);
    trace = test_trace_read (t);
    g_assert_true (trace->complete);
    s = g_ptr_array_index (trace->snapshots, 0);
    g_assert_false (s->closed);
    g_assert_cmpuint (s->status, ==, LINGER_SNAPSHOT_PARTIAL);
  }
}

static void
test_data_after_end (void)
{
  g_autoptr(GByteArray) a = full_copy ();
  guint8 extra[16] = { 0 };
  linger_record_header h = { .type = LINGER_REC_MESSAGE, .size = 16 };

  memcpy (extra, &h, sizeof h);
  g_byte_array_append (a, extra, sizeof extra);
  expect_error (a, LINGER_ERROR_CORRUPT, "after the END record");
}

static void
test_end_string_count (void)
{
  g_autoptr(GByteArray) a = full_copy ();
  gsize end = find_record (a->data, a->len, LINGER_REC_END, 0);

  put_u32 (a, end + offsetof (linger_rec_end, n_strings), 1);
  expect_error (a, LINGER_ERROR_CORRUPT, "strings");
}

static void
test_exit_path (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(LingerTrace) trace = NULL;
  g_autoptr(GByteArray) a = full_copy ();
  gsize end = find_record (a->data, a->len, LINGER_REC_END, 0);

  t->exit_path = LINGER_EXIT_UNDERSCORE;
  trace = test_trace_read (t);
  g_assert_true (trace->complete);
  g_assert_cmpuint (trace->exit_path, ==, LINGER_EXIT_UNDERSCORE);
  g_assert_cmpstr (linger_exit_path_name (trace->exit_path), ==, "_exit");

  put_u32 (a, end + offsetof (linger_rec_end, exit_path), 77);
  expect_error (a, LINGER_ERROR_CORRUPT, "exit path 77");
}

static void
test_pick_snapshot (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(LingerTrace) trace = NULL;
  LingerSnapshot *s;

  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_ON_SIGNAL);
  test_trace_snapshot_end (t);
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  test_trace_snapshot_end (t);
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_INTERVAL);
  test_trace_snapshot_end (t);
  trace = test_trace_read (t);
  s = linger_trace_pick_snapshot (trace);
  g_assert_cmpuint (s->id, ==, 2);
  g_assert_cmpuint (s->reason, ==, LINGER_SNAPSHOT_AT_EXIT);
}

static void
test_file (void)
{
  g_autoptr(GBytes) bytes = full_trace ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerTrace) trace = NULL;
  g_autofree char *dir = g_dir_make_tmp ("linger-unit-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "t.lngr", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.lngr", NULL);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_assert_no_error (error);
  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);

  trace = linger_trace_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_true (trace->complete);
  g_clear_pointer (&trace, linger_trace_free);

  trace = linger_trace_new_from_file (missing, &error);
  g_assert_null (trace);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, missing));
  g_clear_error (&error);

  trace = linger_trace_new_from_file (dir, &error);
  g_assert_null (trace);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_IO);
  g_clear_error (&error);

  /* Errors from the content name the file too. */
  g_file_set_contents (path, "not a trace", -1, &error);
  g_assert_no_error (error);
  trace = linger_trace_new_from_file (path, &error);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE);
  g_assert_true (g_str_has_prefix (error->message, path));

  g_unlink (path);
  g_rmdir (dir);
}

/* Random damage anywhere after the header: an error or a trace, never a
 * crash (valgrind checks the reads). */
static void
test_fuzz (void)
{
  g_autoptr(GBytes) bytes = full_trace ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GRand *rand = g_rand_new_with_seed (42);
  guint n_errors = 0;
  guint n_traces = 0;

  for (guint round = 0; round < 2000; round++)
    {
      g_autofree guint8 *copy = test_dup (data, len);
      g_autoptr(GError) error = NULL;
      g_autoptr(LingerTrace) trace = NULL;
      guint n_flips = (guint) g_rand_int_range (rand, 1, 4);
      gsize cut = len - (gsize) g_rand_int_range (rand, 0, 64);

      for (guint k = 0; k < n_flips; k++)
        {
          gsize at = (gsize) g_rand_int_range (rand, (gint32) sizeof (linger_file_header), (gint32) len);
          copy[at] = (guint8) g_rand_int_range (rand, 0, 256);
        }
      trace = linger_trace_new_from_data (copy, cut, &error);
      g_assert_true ((trace == NULL) != (error == NULL));
      if (trace != NULL)
        n_traces++;
      else
        n_errors++;
    }
  g_rand_free (rand);
  /* Both outcomes happen: the damage is real and not always fatal. */
  g_assert_cmpuint (n_errors, >, 0);
  g_assert_cmpuint (n_traces, >, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linger/reader/round-trip", test_round_trip);
  g_test_add_func ("/linger/reader/truncated", test_truncated);
  g_test_add_func ("/linger/reader/no-end", test_no_end);
  g_test_add_func ("/linger/reader/bad-magic", test_bad_magic);
  g_test_add_func ("/linger/reader/bad-version", test_bad_version);
  g_test_add_func ("/linger/reader/bad-header-size", test_bad_header_size);
  g_test_add_func ("/linger/reader/newer-minor", test_newer_minor);
  g_test_add_func ("/linger/reader/bad-record-size", test_bad_record_size);
  g_test_add_func ("/linger/reader/bad-batch-count", test_bad_batch_count);
  g_test_add_func ("/linger/reader/bad-string-id", test_bad_string_id);
  g_test_add_func ("/linger/reader/bad-string-length", test_bad_string_length);
  g_test_add_func ("/linger/reader/bad-enum", test_bad_enum);
  g_test_add_func ("/linger/reader/snapshot-pairing", test_snapshot_pairing);
  g_test_add_func ("/linger/reader/data-after-end", test_data_after_end);
  g_test_add_func ("/linger/reader/end-string-count", test_end_string_count);
  g_test_add_func ("/linger/reader/exit-path", test_exit_path);
  g_test_add_func ("/linger/reader/pick-snapshot", test_pick_snapshot);
  g_test_add_func ("/linger/reader/file", test_file);
  g_test_add_func ("/linger/reader/fuzz", test_fuzz);

  return g_test_run ();
}
