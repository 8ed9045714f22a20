/* linger_test_trace.c: synthetic traces for the unit tests. */
#include "linger_test_trace.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

TestTrace *
test_trace_new (const char *python)
{
  TestTrace *t = g_new0 (TestTrace, 1);
  GError *error = NULL;
  static const char cmdline[] = "python3\0app.py\0--flag\0";
  int fd;

  fd = g_file_open_tmp ("linger-unit-XXXXXX.lngr", &t->path, &error);
  g_assert_no_error (error);
  g_assert_true (linger_writer_init (&t->w, fd, 0));
  t->exit_path = LINGER_EXIT_NORMAL;
  g_assert_true (linger_writer_process (&t->w, 4242, 1, "/usr/bin/python3.11",
                                        cmdline, sizeof cmdline - 1, "app.py"));
  if (python != NULL)
    g_assert_true (linger_writer_runtime (&t->w, 0x030b02f0, LINGER_RUNTIME_LAYOUT_KNOWN, python));
  return t;
}

void
test_trace_snapshot_begin (TestTrace *t,
                           guint32    reason)
{
  t->n_objects = t->n_refs = t->n_roots = 0;
  t->snapshot_id++;
  g_assert_true (linger_writer_snapshot_begin (&t->w, t->snapshot_id, reason));
}

void
test_trace_snapshot_end (TestTrace *t)
{
  linger_rec_snapshot_end end = {
    .snapshot_id = t->snapshot_id,
    .status = LINGER_SNAPSHOT_OK,
    .n_objects = t->n_objects,
    .n_refs = t->n_refs,
    .n_roots = t->n_roots,
    .duration_ns = 1000,
  };

  g_assert_true (linger_writer_snapshot_end (&t->w, &end));
}

void
test_trace_object (TestTrace  *t,
                   guint64     address,
                   const char *type_name,
                   const char *name,
                   guint32     flags,
                   gint64      refcount)
{
  linger_object_entry e = {
    .address = address,
    .size = 48,
    .refcount = refcount,
    .type_name = linger_writer_intern_cstr (&t->w, type_name),
    .flags = flags,
    .name = name != NULL ? linger_writer_intern_cstr (&t->w, name) : LINGER_STRING_NONE,
  };

  g_assert_true (linger_writer_object (&t->w, &e));
  t->n_objects++;
}

void
test_trace_ref (TestTrace  *t,
                guint64     source,
                guint64     target,
                guint16     label_kind,
                const char *label,
                guint16     ref_kind)
{
  linger_ref_entry e = {
    .source = source,
    .target = target,
    .label = label != NULL ? linger_writer_intern_cstr (&t->w, label) : 0,
    .label_kind = label_kind,
    .ref_kind = ref_kind,
  };

  g_assert_true (linger_writer_ref (&t->w, &e));
  t->n_refs++;
}

void
test_trace_index (TestTrace *t,
                  guint64    source,
                  guint64    target,
                  guint32    index)
{
  linger_ref_entry e = {
    .source = source,
    .target = target,
    .label = index,
    .label_kind = LINGER_LABEL_INDEX,
    .ref_kind = LINGER_REF_STRONG,
  };

  g_assert_true (linger_writer_ref (&t->w, &e));
  t->n_refs++;
}

void
test_trace_attr (TestTrace  *t,
                 guint64     source,
                 guint64     target,
                 const char *name)
{
  test_trace_ref (t, source, target, LINGER_LABEL_ATTR, name, LINGER_REF_STRONG);
}

void
test_trace_root (TestTrace  *t,
                 guint64     address,
                 guint32     kind,
                 const char *label)
{
  linger_root_entry e = {
    .address = address,
    .kind = kind,
    .label = linger_writer_intern_cstr (&t->w, label),
  };

  g_assert_true (linger_writer_root (&t->w, &e));
  t->n_roots++;
}

GBytes *
test_trace_finish (TestTrace *t,
                   gboolean   end)
{
  GError *error = NULL;
  char *contents = NULL;
  gsize len = 0;

  if (end)
    g_assert_true (linger_writer_end (&t->w, t->exit_path));
  g_assert_false (t->w.failed);
  linger_writer_close (&t->w);
  g_file_get_contents (t->path, &contents, &len, &error);
  g_assert_no_error (error);
  g_unlink (t->path);
  g_free (t->path);
  g_free (t);
  return g_bytes_new_take (contents, len);
}

LingerTrace *
test_trace_read (TestTrace *t)
{
  g_autoptr(GBytes) bytes = test_trace_finish (t, TRUE);
  GError *error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  LingerTrace *trace = linger_trace_new_from_data (data, len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (trace);
  return trace;
}

LingerTrace *
test_trace_empty (void)
{
  return test_trace_read (test_trace_new (NULL));
}

guint8 *
test_dup (const guint8 *data,
          gsize         len)
{
  guint8 *copy = g_malloc (MAX (len, 1));

  if (len > 0)
    memcpy (copy, data, len);
  return copy;
}

void
test_assert_contains (const char *haystack,
                      const char *needle)
{
  if (haystack == NULL || strstr (haystack, needle) == NULL)
    g_error ("want '%s' in:\n%s", needle, haystack);
}

void
test_assert_not_contains (const char *haystack,
                          const char *needle)
{
  if (strstr (haystack, needle) != NULL)
    g_error ("do not want '%s' in:\n%s", needle, haystack);
}
