/* linger_reader.h: validating reader of linger traces.
 *
 * The reader checks every byte of the file against the format described in
 * include/linger_trace_format.h before anything else looks at it, so the
 * rest of the analyzer works on entries it can trust: every string id is
 * defined, every enum is in range, every snapshot is paired.
 *
 * A trace cut short (the program was killed, the disk filled up) is not an
 * error: it is read up to its last complete record and flagged incomplete.
 * Damage that cannot come from truncation (a size that is not a multiple
 * of 8, a count that does not match its record, an undefined string id) is
 * an error naming the problem and the byte offset of the record.
 */
#pragma once

#include <glib.h>

#include "linger_alloc.h"
#include "linger_trace_format.h"

G_BEGIN_DECLS

typedef struct
{
  guint32     level;          /* linger_message_level */
  char       *text;
} LingerMessage;

typedef struct
{
  guint32     id;             /* snapshot_id of SNAPSHOT_BEGIN */
  guint32     reason;         /* linger_snapshot_reason */
  guint64     time_ns;
  /* From SNAPSHOT_LABEL (format 1.3): what the program named it, e.g. the
   * pytest test that had just ended; NULL if unlabelled.  Owned by the
   * trace.  objects_only: only the objects (LINGER_SNAPSHOT_OBJECTS_ONLY),
   * for attribution; never judged or compared. */
  const char *label;
  gboolean    objects_only;
  /* From SNAPSHOT_END; status stays PARTIAL and closed FALSE when the
   * trace ends before it. */
  gboolean    closed;
  guint32     status;         /* linger_snapshot_status */
  guint64     duration_ns;
  GArray     *objects;        /* linger_object_entry, file order */
  GArray     *refs;           /* linger_ref_entry */
  GArray     *roots;          /* linger_root_entry */
  GArray     *finalizers;     /* linger_finalizer_entry */
  GArray     *weakrefs;       /* linger_weakref_entry */
  GArray     *atexits;        /* linger_atexit_entry (format 1.1; empty in 1.0) */
  /* Object -> allocation site (format 1.2), sorted by address once the
   * trace is read (linger_object_sites_lookup()); empty without. */
  GArray     *object_sites;   /* linger_object_site_entry */

  /* Bounded-memory reading: TRUE when the reader checked this
   * snapshot's entries but did not keep them, because another snapshot
   * is the one analysed (LingerReadOptions.only_analysed_snapshot). */
  gboolean    entries_dropped;
} LingerSnapshot;

typedef struct
{
  /* File header. */
  guint16     version_major;
  guint16     version_minor;
  guint64     start_time_ns;
  guint32     file_flags;     /* LINGER_FILE_* */

  /* PROCESS; pid and ppid come from the file header when it is missing. */
  gboolean    has_process;
  guint32     pid;
  guint32     ppid;
  char       *exe;            /* NULL if unknown */
  char      **argv;           /* never NULL, maybe empty */
  const char *program;        /* never NULL; "" if unknown */

  /* RUNTIME: absent for a process that is not CPython. */
  gboolean    has_runtime;
  guint32     hexversion;
  guint32     runtime_flags;  /* LINGER_RUNTIME_* */
  const char *python_version; /* NULL without RUNTIME */
  const char *implementation;

  GPtrArray  *messages;       /* LingerMessage */
  GPtrArray  *snapshots;      /* LingerSnapshot, file order */

  gboolean    complete;       /* ended with an END record */
  guint32     exit_path;      /* linger_exit_path from END; UNKNOWN without END */
  char       *incomplete_reason; /* NULL when complete */
  guint64     n_unknown_records; /* skipped for forward compatibility */

  /* Allocation tracking (format 1.2): never NULL; alloc->present is
   * FALSE for a trace without allocation records. */
  LingerAlloc *alloc;

  /* String table: strings[id], strings[0] is NULL (LINGER_STRING_NONE). */
  GPtrArray  *strings;
  GStringChunk *string_chunk;
} LingerTrace;

/* Reads and validates a whole trace file.
 * Returns: (transfer full): the trace, or NULL with @error set
 * (LINGER_ERROR_IO, _NOT_A_TRACE, _UNSUPPORTED_VERSION, _CORRUPT); the
 * message starts with @path. */
LingerTrace *linger_trace_new_from_file (const char  *path,
                                         GError     **error);

/* Same, from bytes in memory (not kept after the call). */
LingerTrace *linger_trace_new_from_data (const guint8  *data,
                                         gsize          len,
                                         GError       **error);

/* Bounded-memory reading of a file (linger_memlimit.h). */
typedef struct
{
  /* Keep the entries of the snapshot linger_trace_pick_snapshot() will
   * pick, only check the others' (a report of a trace with many
   * snapshots then needs the memory of one). */
  gboolean only_analysed_snapshot;
} LingerReadOptions;

/* As linger_trace_new_from_file(); before reading, estimates from the
 * record headers the memory reading and analysing the trace will take,
 * and fails (LINGER_ERROR_FAILED, saying how much and why) when that is
 * more than linger_memlimit_get().  The file is read through a bounded
 * buffer, never held whole.  @options may be NULL. */
LingerTrace *linger_trace_new_from_file_with_options (const char               *path,
                                                      const LingerReadOptions  *options,
                                                      GError                  **error);

void         linger_trace_free          (LingerTrace *trace);

/* Returns the text of a string id, or NULL for LINGER_STRING_NONE.  Ids
 * were validated by the reader, so any id found in the trace resolves. */
const char  *linger_trace_string        (const LingerTrace *trace,
                                         guint32            id);

/* The snapshot the findings are computed on: the last AT_EXIT snapshot,
 * else the last snapshot that is not objects-only, else NULL. */
LingerSnapshot *linger_trace_pick_snapshot (const LingerTrace *trace);

/* Human-readable names of the format's enums ("at exit", "module", ...). */
const char  *linger_snapshot_reason_name (guint32 reason);
const char  *linger_root_kind_name       (guint32 kind);
const char  *linger_exit_path_name       (guint32 exit_path);

/* An empty snapshot, for tests that build graphs without a file. */
LingerSnapshot *linger_snapshot_new      (void);
void            linger_snapshot_free     (LingerSnapshot *snapshot);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerTrace, linger_trace_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerSnapshot, linger_snapshot_free)

G_END_DECLS
