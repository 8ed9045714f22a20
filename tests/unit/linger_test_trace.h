/* linger_test_trace.h: synthetic traces for the unit tests, written with
 * the shim's own writer so the tests exercise the real encoding. */
#pragma once

#include <glib.h>

#include "linger_reader.h"
#include "linger_writer.h"

G_BEGIN_DECLS

typedef struct
{
  linger_writer w;
  char         *path;
  guint64       n_objects;  /* of the open snapshot, for SNAPSHOT_END */
  guint64       n_refs;
  guint64       n_roots;
  guint32       snapshot_id;
  guint32       exit_path;  /* written in END; LINGER_EXIT_NORMAL by default */
} TestTrace;

/* A trace with a PROCESS record (pid 4242, program "app.py") and, unless
 * @python is NULL, a RUNTIME record with that version. */
TestTrace *test_trace_new             (const char *python);

void       test_trace_snapshot_begin  (TestTrace *t,
                                       guint32    reason);
void       test_trace_snapshot_end    (TestTrace *t);

/* An object; refcount is what the shim would write. */
void       test_trace_object          (TestTrace  *t,
                                       guint64     address,
                                       const char *type_name,
                                       const char *name,
                                       guint32     flags,
                                       gint64      refcount);
void       test_trace_ref             (TestTrace  *t,
                                       guint64     source,
                                       guint64     target,
                                       guint16     label_kind,
                                       const char *label,
                                       guint16     ref_kind);
void       test_trace_index           (TestTrace  *t,
                                       guint64     source,
                                       guint64     target,
                                       guint32     index);
/* ATTR edge, STRONG. */
void       test_trace_attr            (TestTrace  *t,
                                       guint64     source,
                                       guint64     target,
                                       const char *name);
void       test_trace_root            (TestTrace  *t,
                                       guint64     address,
                                       guint32     kind,
                                       const char *label);

/* Writes END if @end, closes the writer and returns the file's bytes. */
GBytes    *test_trace_finish          (TestTrace *t,
                                       gboolean   end);

/* finish + read; asserts the read succeeds. */
LingerTrace *test_trace_read          (TestTrace *t);

/* A valid empty trace (header + END), to hang in-memory snapshots on. */
LingerTrace *test_trace_empty         (void);

/* A heap copy of exactly @len bytes (at least one allocated), so that
 * valgrind catches a read past the end. */
guint8      *test_dup                 (const guint8 *data,
                                       gsize         len);

/* Fail the test unless @haystack contains @needle, or unless it does not. */
void         test_assert_contains     (const char *haystack,
                                       const char *needle);
void         test_assert_not_contains (const char *haystack,
                                       const char *needle);

G_END_DECLS
