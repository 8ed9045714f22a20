/* linger_reader.c: validating reader of linger traces. */
#include "linger_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linger_error.h"
#include "linger_progress.h"
#include "linger_memlimit.h"

/* Records are copied out of the file with memcpy, field for field as they
 * are in memory: that is only right on a little-endian host, like the
 * writer. */
G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);

typedef struct
{
  const guint8   *data;
  gsize           len;
  LingerTrace    *trace;
  LingerSnapshot *open;             /* snapshot between BEGIN and END */
  guint32         last_snapshot_id;
  /* A SNAPSHOT_LABEL waiting for its SNAPSHOT_BEGIN (format 1.3). */
  gboolean        label_pending;
  guint32         label_snapshot_id;
  const char     *label_text;
  guint32         label_flags;
  gboolean        seen_end;
  /* A reader of minor version N knows the enum values of version N.  In a
   * newer minor, values it does not know are kept and handled
   * conservatively by the analysis (an unknown edge kind is not followed). */
  gboolean        strict_enums;
  /* Running sums of the amounts check_amount() bounds. */
  guint64         snapshot_bytes;   /* of the open snapshot's objects */
  guint64         live_bytes;       /* of LIVE_BLOCKS, whole trace */
  guint64         run_bytes;        /* of SITE_STATS and GC_FREES */
  guint64         run_counts;
  /* Bounded-memory reading: the open snapshot's entries (counted even
   * when they are not kept), its index in file order, the one snapshot
   * whose entries are kept (G_MAXUINT: all), and what the scan of the
   * record headers counted per snapshot (NULL without a scan). */
  guint64         open_counts[3];   /* objects, refs, roots */
  guint           n_begun;
  guint           keep_index;
  GArray         *scan;             /* ScanSnapshot */
} Reader;

/* One snapshot as the scan of the record headers sees it. */
typedef struct
{
  guint32 reason;
  guint64 entries[LINGER_REC_OBJECT_SITES + 1];  /* per batch record type */
  guint64 entry_bytes;                           /* all its entries, as stored */
} ScanSnapshot;

/* No size or count in a trace can exceed what a process can address:
 * 2^48 (x86_64's user space is 2^47 bytes).  Bounding each amount, and
 * their sums over a snapshot or a trace, keeps every total and difference
 * the analyzer and the reports compute from them (a snapshot's bytes, a
 * site's, the growth between two snapshots) far from overflowing 64 bits:
 * a larger value is damage, not a heap. */
#define MAX_AMOUNT (G_GUINT64_CONSTANT (1) << 48)
#define MAX_TOTAL  (G_GUINT64_CONSTANT (1) << 56)
/* Counts over the whole run (allocations at a site, bytes the GC freed)
 * are not bounded by the address space: each may reach MAX_TOTAL, their
 * sum over the trace MAX_RUN, which still fits a gint64. */
#define MAX_RUN    (G_GUINT64_CONSTANT (1) << 62)

static const char *
record_type_name (guint16 type)
{
  switch (type)
    {
    case LINGER_REC_PROCESS: return "PROCESS";
    case LINGER_REC_RUNTIME: return "RUNTIME";
    case LINGER_REC_STRING: return "STRING";
    case LINGER_REC_SNAPSHOT_BEGIN: return "SNAPSHOT_BEGIN";
    case LINGER_REC_OBJECTS: return "OBJECTS";
    case LINGER_REC_REFS: return "REFS";
    case LINGER_REC_ROOTS: return "ROOTS";
    case LINGER_REC_FINALIZERS: return "FINALIZERS";
    case LINGER_REC_WEAKREFS: return "WEAKREFS";
    case LINGER_REC_SNAPSHOT_END: return "SNAPSHOT_END";
    case LINGER_REC_MESSAGE: return "MESSAGE";
    case LINGER_REC_ATEXIT: return "ATEXIT";
    case LINGER_REC_OBJECT_SITES: return "OBJECT_SITES";
    case LINGER_REC_SNAPSHOT_LABEL: return "SNAPSHOT_LABEL";
    case LINGER_REC_ALLOC_INFO: return "ALLOC_INFO";
    case LINGER_REC_MODULES: return "MODULES";
    case LINGER_REC_NATIVE_STACK: return "NATIVE_STACK";
    case LINGER_REC_PY_FRAMES: return "PY_FRAMES";
    case LINGER_REC_PY_STACK: return "PY_STACK";
    case LINGER_REC_SITES: return "SITES";
    case LINGER_REC_SITE_STATS: return "SITE_STATS";
    case LINGER_REC_GC_FREES: return "GC_FREES";
    case LINGER_REC_LIVE_BLOCKS: return "LIVE_BLOCKS";
    case LINGER_REC_END: return "END";
    default: return "unknown";
    }
}

G_GNUC_PRINTF (4, 5)
static gboolean
corrupt (GError    **error,
         gsize       offset,
         guint16     type,
         const char *format,
         ...)
{
  g_autofree char *problem = NULL;
  va_list args;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT,
               "corrupted trace: %s record at byte offset %" G_GSIZE_FORMAT ": %s",
               record_type_name (type), offset, problem);
  return FALSE;
}

LingerSnapshot *
linger_snapshot_new (void)
{
  LingerSnapshot *s = g_new0 (LingerSnapshot, 1);

  s->status = LINGER_SNAPSHOT_PARTIAL;
  s->objects = g_array_new (FALSE, FALSE, sizeof (linger_object_entry));
  s->refs = g_array_new (FALSE, FALSE, sizeof (linger_ref_entry));
  s->roots = g_array_new (FALSE, FALSE, sizeof (linger_root_entry));
  s->finalizers = g_array_new (FALSE, FALSE, sizeof (linger_finalizer_entry));
  s->weakrefs = g_array_new (FALSE, FALSE, sizeof (linger_weakref_entry));
  s->atexits = g_array_new (FALSE, FALSE, sizeof (linger_atexit_entry));
  s->object_sites = g_array_new (FALSE, FALSE, sizeof (linger_object_site_entry));
  return s;
}

void
linger_snapshot_free (LingerSnapshot *s)
{
  if (s == NULL)
    return;
  g_array_unref (s->objects);
  g_array_unref (s->refs);
  g_array_unref (s->roots);
  g_array_unref (s->finalizers);
  g_array_unref (s->weakrefs);
  g_array_unref (s->atexits);
  g_array_unref (s->object_sites);
  g_free (s);
}

static void
message_free (gpointer p)
{
  LingerMessage *m = p;

  g_free (m->text);
  g_free (m);
}

static LingerTrace *
trace_new (void)
{
  LingerTrace *t = g_new0 (LingerTrace, 1);

  t->argv = g_new0 (char *, 1);
  t->program = "";
  t->messages = g_ptr_array_new_with_free_func (message_free);
  t->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_snapshot_free);
  t->string_chunk = g_string_chunk_new (4096);
  t->strings = g_ptr_array_new ();
  g_ptr_array_add (t->strings, NULL);
  t->alloc = linger_alloc_new ();
  return t;
}

void
linger_trace_free (LingerTrace *t)
{
  if (t == NULL)
    return;
  g_free (t->exe);
  g_strfreev (t->argv);
  g_ptr_array_unref (t->messages);
  g_ptr_array_unref (t->snapshots);
  g_ptr_array_unref (t->strings);
  g_string_chunk_free (t->string_chunk);
  g_free (t->incomplete_reason);
  linger_alloc_free (t->alloc);
  g_free (t);
}

const char *
linger_trace_string (const LingerTrace *t,
                     guint32            id)
{
  if (id == LINGER_STRING_NONE || id >= t->strings->len)
    return NULL;
  return g_ptr_array_index (t->strings, id);
}

LingerSnapshot *
linger_trace_pick_snapshot (const LingerTrace *t)
{
  for (guint i = t->snapshots->len; i > 0; i--)
    {
      LingerSnapshot *s = g_ptr_array_index (t->snapshots, i - 1);
      if (s->reason == LINGER_SNAPSHOT_AT_EXIT)
        return s;
    }
  /* An objects-only snapshot has no graph to judge. */
  for (guint i = t->snapshots->len; i > 0; i--)
    {
      LingerSnapshot *s = g_ptr_array_index (t->snapshots, i - 1);
      if (!s->objects_only)
        return s;
    }
  return NULL;
}

const char *
linger_snapshot_reason_name (guint32 reason)
{
  switch (reason)
    {
    case LINGER_SNAPSHOT_AT_EXIT: return "at exit";
    case LINGER_SNAPSHOT_ON_SIGNAL: return "on signal";
    case LINGER_SNAPSHOT_INTERVAL: return "interval";
    case LINGER_SNAPSHOT_ON_API: return "on request";
    default: return "unknown";
    }
}

const char *
linger_root_kind_name (guint32 kind)
{
  switch (kind)
    {
    case LINGER_ROOT_MODULE: return "module";
    case LINGER_ROOT_THREAD: return "thread";
    case LINGER_ROOT_BUILTINS: return "builtins";
    case LINGER_ROOT_SYS: return "sys";
    case LINGER_ROOT_GARBAGE: return "gc.garbage";
    case LINGER_ROOT_ATEXIT: return "atexit";
    default: return "unknown";
    }
}

const char *
linger_exit_path_name (guint32 exit_path)
{
  switch (exit_path)
    {
    case LINGER_EXIT_NORMAL: return "exit";
    case LINGER_EXIT_UNDERSCORE: return "_exit";
    default: return "unknown";
    }
}

/* A string id may be used only once its STRING record was read: that is
 * what makes a trace cut anywhere self-consistent. */
static gboolean
check_string (Reader     *r,
              guint32     id,
              const char *what,
              gsize       offset,
              guint16     type,
              GError    **error)
{
  if (id < r->trace->strings->len)
    return TRUE;
  return corrupt (error, offset, type, "%s uses string id %u, but only %u strings are defined",
                  what, id, r->trace->strings->len - 1);
}

static gboolean
check_enum (Reader     *r,
            guint32     value,
            guint32     min,
            guint32     max,
            const char *what,
            gsize       offset,
            guint16     type,
            GError    **error)
{
  if (!r->strict_enums || (value >= min && value <= max))
    return TRUE;
  return corrupt (error, offset, type, "%s %u is out of range", what, value);
}

static gboolean
check_amount (guint64     value,
              guint64     max_value,
              guint64    *total,
              guint64     max_total,
              const char *what,
              gsize       offset,
              guint16     type,
              GError    **error)
{
  if (value > max_value)
    return corrupt (error, offset, type, "%s: %" G_GUINT64_FORMAT " is more than a process can address",
                    what, value);
  *total += value;
  if (*total > max_total)
    return corrupt (error, offset, type, "%s: their sum is more than a process can address", what);
  return TRUE;
}

static gboolean
read_process (Reader       *r,
              const guint8 *rec,
              guint32       size,
              gsize         offset,
              GError      **error)
{
  LingerTrace *t = r->trace;
  linger_rec_process p;
  const char *tail;

  if (size < sizeof p)
    return corrupt (error, offset, LINGER_REC_PROCESS, "size %u is smaller than the record", size);
  memcpy (&p, rec, sizeof p);
  if ((guint64) p.exe_len + p.cmdline_len > size - sizeof p)
    return corrupt (error, offset, LINGER_REC_PROCESS,
                    "exe (%u bytes) and command line (%u bytes) overflow the record of %u bytes",
                    p.exe_len, p.cmdline_len, size);
  if (!check_string (r, p.program, "program", offset, LINGER_REC_PROCESS, error))
    return FALSE;

  tail = (const char *) rec + sizeof p;
  t->has_process = TRUE;
  t->pid = p.pid;
  t->ppid = p.ppid;
  g_clear_pointer (&t->exe, g_free);
  if (p.exe_len > 0)
    t->exe = g_strndup (tail, p.exe_len);

  /* The command line is NUL-separated, usually with a trailing NUL. */
  {
    g_autoptr(GPtrArray) argv = g_ptr_array_new ();
    const char *arg = tail + p.exe_len;
    const char *end = arg + p.cmdline_len;

    while (arg < end)
      {
        const char *nul = memchr (arg, '\0', (gsize) (end - arg));
        const char *stop = nul ? nul : end;
        g_ptr_array_add (argv, g_strndup (arg, (gsize) (stop - arg)));
        arg = stop + 1;
      }
    g_ptr_array_add (argv, NULL);
    g_strfreev (t->argv);
    t->argv = (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
  }

  t->program = linger_trace_string (t, p.program);
  if (t->program == NULL)
    t->program = "";
  return TRUE;
}

static gboolean
read_runtime (Reader       *r,
              const guint8 *rec,
              guint32       size,
              gsize         offset,
              GError      **error)
{
  LingerTrace *t = r->trace;
  linger_rec_runtime rt;

  if (size < sizeof rt)
    return corrupt (error, offset, LINGER_REC_RUNTIME, "size %u is smaller than the record", size);
  memcpy (&rt, rec, sizeof rt);
  if (!check_string (r, rt.version, "version", offset, LINGER_REC_RUNTIME, error)
      || !check_string (r, rt.implementation, "implementation", offset, LINGER_REC_RUNTIME, error))
    return FALSE;
  t->has_runtime = TRUE;
  t->hexversion = rt.hexversion;
  t->runtime_flags = rt.flags;
  t->python_version = linger_trace_string (t, rt.version);
  t->implementation = linger_trace_string (t, rt.implementation);
  if (t->python_version == NULL)
    t->python_version = "unknown";
  return TRUE;
}

static gboolean
read_string (Reader       *r,
             const guint8 *rec,
             guint32       size,
             gsize         offset,
             GError      **error)
{
  LingerTrace *t = r->trace;
  linger_rec_string s;

  if (size < sizeof s)
    return corrupt (error, offset, LINGER_REC_STRING, "size %u is smaller than the record", size);
  memcpy (&s, rec, sizeof s);
  if (s.len > size - sizeof s)
    return corrupt (error, offset, LINGER_REC_STRING,
                    "text of %u bytes overflows the record of %u bytes", s.len, size);
  if (s.id != t->strings->len)
    return corrupt (error, offset, LINGER_REC_STRING,
                    "defines string id %u, expected %u (ids are dense and in order)",
                    s.id, t->strings->len);
  g_ptr_array_add (t->strings,
                   g_string_chunk_insert_len (t->string_chunk,
                                              (const char *) rec + sizeof s, s.len));
  return TRUE;
}

static gboolean
read_message (Reader       *r,
              const guint8 *rec,
              guint32       size,
              gsize         offset,
              GError      **error)
{
  linger_rec_message m;
  LingerMessage *msg;

  if (size < sizeof m)
    return corrupt (error, offset, LINGER_REC_MESSAGE, "size %u is smaller than the record", size);
  memcpy (&m, rec, sizeof m);
  if (m.len > size - sizeof m)
    return corrupt (error, offset, LINGER_REC_MESSAGE,
                    "text of %u bytes overflows the record of %u bytes", m.len, size);
  if (!check_enum (r, m.level, LINGER_MSG_INFO, LINGER_MSG_WARNING, "level",
                   offset, LINGER_REC_MESSAGE, error))
    return FALSE;
  msg = g_new0 (LingerMessage, 1);
  msg->level = m.level;
  msg->text = g_strndup ((const char *) rec + sizeof m, m.len);
  g_ptr_array_add (r->trace->messages, msg);
  return TRUE;
}

/* A new snapshot: its counts start at 0, and its entries are dropped
 * when another snapshot is the only one kept. */
static void
plan_snapshot (Reader         *r,
               LingerSnapshot *s)
{
  guint index = r->n_begun++;

  memset (r->open_counts, 0, sizeof r->open_counts);
  if (r->keep_index != G_MAXUINT && index != r->keep_index)
    s->entries_dropped = TRUE;
}

static gboolean
read_snapshot_begin (Reader       *r,
                     const guint8 *rec,
                     guint32       size,
                     gsize         offset,
                     GError      **error)
{
  linger_rec_snapshot_begin b;
  LingerSnapshot *s;

  if (size < sizeof b)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_BEGIN, "size %u is smaller than the record", size);
  memcpy (&b, rec, sizeof b);
  if (r->open != NULL)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_BEGIN,
                    "snapshot %u begins before snapshot %u ended", b.snapshot_id, r->open->id);
  if (b.snapshot_id <= r->last_snapshot_id)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_BEGIN,
                    "snapshot id %u does not follow %u", b.snapshot_id, r->last_snapshot_id);
  if (!check_enum (r, b.reason, LINGER_SNAPSHOT_AT_EXIT, LINGER_SNAPSHOT_ON_API, "reason",
                   offset, LINGER_REC_SNAPSHOT_BEGIN, error))
    return FALSE;

  if (r->label_pending && r->label_snapshot_id != b.snapshot_id)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_BEGIN,
                    "snapshot %u begins after a label for snapshot %u", b.snapshot_id, r->label_snapshot_id);

  s = linger_snapshot_new ();
  s->id = b.snapshot_id;
  s->reason = b.reason;
  s->time_ns = b.time_ns;
  if (r->label_pending)
    {
      s->label = r->label_text;
      s->objects_only = (r->label_flags & LINGER_SNAPSHOT_OBJECTS_ONLY) != 0;
      r->label_pending = FALSE;
    }
  g_ptr_array_add (r->trace->snapshots, s);
  r->open = s;
  r->snapshot_bytes = 0;
  plan_snapshot (r, s);
  r->last_snapshot_id = b.snapshot_id;
  return TRUE;
}

static gboolean
read_snapshot_end (Reader       *r,
                   const guint8 *rec,
                   guint32       size,
                   gsize         offset,
                   GError      **error)
{
  linger_rec_snapshot_end e;
  LingerSnapshot *s = r->open;

  if (size < sizeof e)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_END, "size %u is smaller than the record", size);
  memcpy (&e, rec, sizeof e);
  if (s == NULL)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_END,
                    "snapshot %u ends but no snapshot is open", e.snapshot_id);
  if (e.snapshot_id != s->id)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_END,
                    "snapshot %u ends while snapshot %u is open", e.snapshot_id, s->id);
  if (!check_enum (r, e.status, LINGER_SNAPSHOT_OK, LINGER_SNAPSHOT_PARTIAL, "status",
                   offset, LINGER_REC_SNAPSHOT_END, error))
    return FALSE;
  /* The counts catch a lost or duplicated batch, which no other check
   * would see. */
  if (e.n_objects != r->open_counts[0] || e.n_refs != r->open_counts[1] || e.n_roots != r->open_counts[2])
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_END,
                    "snapshot %u counts %" G_GUINT64_FORMAT " objects, %" G_GUINT64_FORMAT
                    " refs, %" G_GUINT64_FORMAT " roots but %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                    ", %" G_GUINT64_FORMAT " were recorded",
                    s->id, e.n_objects, e.n_refs, e.n_roots,
                    r->open_counts[0], r->open_counts[1], r->open_counts[2]);
  s->closed = TRUE;
  s->status = e.status;
  s->duration_ns = e.duration_ns;
  r->open = NULL;
  return TRUE;
}

/* Format 1.3: the label of the snapshot that begins next. */
static gboolean
read_snapshot_label (Reader       *r,
                     const guint8 *rec,
                     guint32       size,
                     gsize         offset,
                     GError      **error)
{
  linger_rec_snapshot_label l;

  if (size < sizeof l)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_LABEL, "size %u is smaller than the record", size);
  memcpy (&l, rec, sizeof l);
  if (r->open != NULL)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_LABEL,
                    "snapshot %u is labelled while snapshot %u is open", l.snapshot_id, r->open->id);
  if (r->label_pending)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_LABEL,
                    "a second label before snapshot %u begins", r->label_snapshot_id);
  if (l.snapshot_id <= r->last_snapshot_id)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_LABEL,
                    "label for snapshot %u, which does not follow snapshot %u", l.snapshot_id,
                    r->last_snapshot_id);
  if (l.label == LINGER_STRING_NONE)
    return corrupt (error, offset, LINGER_REC_SNAPSHOT_LABEL,
                    "snapshot %u has an empty label id", l.snapshot_id);
  if (!check_string (r, l.label, "snapshot label", offset, LINGER_REC_SNAPSHOT_LABEL, error))
    return FALSE;
  r->label_pending = TRUE;
  r->label_snapshot_id = l.snapshot_id;
  r->label_text = linger_trace_string (r->trace, l.label);
  /* Unknown flags of a newer writer are kept: the snapshot is still
   * attributable. */
  r->label_flags = l.flags;
  return TRUE;
}

/* A site id in a block, a snapshot or totals: 0 (none) or defined. */
static gboolean
check_site (Reader     *r,
            guint32     site,
            const char *what,
            gsize       offset,
            guint16     type,
            GError    **error)
{
  if (site == 0 || linger_alloc_site (r->trace->alloc, site) != NULL)
    return TRUE;
  return corrupt (error, offset, type, "%s uses site id %u, which is not defined", what, site);
}

static gboolean
check_entries (Reader       *r,
               guint16       type,
               const guint8 *entries,
               guint32       count,
               gsize         offset,
               GError      **error)
{
  for (guint32 i = 0; i < count; i++)
    {
      switch (type)
        {
        case LINGER_REC_OBJECTS:
          {
            linger_object_entry o;
            memcpy (&o, entries + (gsize) i * sizeof o, sizeof o);
            if (!check_string (r, o.type_name, "object type_name", offset, type, error)
                || !check_string (r, o.name, "object name", offset, type, error)
                || !check_amount (o.size, MAX_AMOUNT, &r->snapshot_bytes, MAX_AMOUNT, "object sizes", offset, type, error))
              return FALSE;
            /* Refcounts are compared and subtracted: keep them in range. */
            if (o.refcount > (gint64) MAX_AMOUNT || o.refcount < -(gint64) MAX_AMOUNT)
              return corrupt (error, offset, type, "object refcount %" G_GINT64_FORMAT " is out of range",
                              o.refcount);
          }
          break;

        case LINGER_REC_REFS:
          {
            linger_ref_entry e;
            memcpy (&e, entries + (gsize) i * sizeof e, sizeof e);
            if (!check_enum (r, e.label_kind, LINGER_LABEL_NONE, LINGER_LABEL_REFERENT,
                             "label kind", offset, type, error)
                || !check_enum (r, e.ref_kind, LINGER_REF_STRONG, LINGER_REF_CALLBACK,
                                "ref kind", offset, type, error))
              return FALSE;
            switch (e.label_kind)
              {
              case LINGER_LABEL_ATTR:
              case LINGER_LABEL_KEY:
              case LINGER_LABEL_DICT_KEY:
              case LINGER_LABEL_CLOSURE:
              case LINGER_LABEL_LOCAL:
                if (!check_string (r, e.label, "ref label", offset, type, error))
                  return FALSE;
                break;
              default:
                /* INDEX carries a number; the others no label. */
                break;
              }
          }
          break;

        case LINGER_REC_ROOTS:
          {
            linger_root_entry e;
            /* ATEXIT roots came with format 1.1. */
            guint32 max_kind = r->trace->version_minor >= 1 ? LINGER_ROOT_ATEXIT : LINGER_ROOT_GARBAGE;

            memcpy (&e, entries + (gsize) i * sizeof e, sizeof e);
            if (!check_enum (r, e.kind, LINGER_ROOT_MODULE, max_kind,
                             "root kind", offset, type, error)
                || !check_string (r, e.label, "root label", offset, type, error))
              return FALSE;
          }
          break;

        case LINGER_REC_OBJECT_SITES:
          {
            linger_object_site_entry e;
            memcpy (&e, entries + (gsize) i * sizeof e, sizeof e);
            if (!check_site (r, e.site, "object site", offset, type, error))
              return FALSE;
          }
          break;

        case LINGER_REC_WEAKREFS:
          {
            linger_weakref_entry e;
            memcpy (&e, entries + (gsize) i * sizeof e, sizeof e);
            if (!check_enum (r, e.kind, LINGER_WEAKREF_REF, LINGER_WEAKREF_METHOD,
                             "weakref kind", offset, type, error))
              return FALSE;
          }
          break;

        default:
          break;
        }
    }
  return TRUE;
}

static gboolean
read_batch (Reader       *r,
            guint16       type,
            const guint8 *rec,
            guint32       size,
            gsize         offset,
            GError      **error)
{
  linger_rec_batch b;
  gsize entry_size;
  GArray *dest;

  switch (type)
    {
    case LINGER_REC_OBJECTS: entry_size = sizeof (linger_object_entry); break;
    case LINGER_REC_REFS: entry_size = sizeof (linger_ref_entry); break;
    case LINGER_REC_ROOTS: entry_size = sizeof (linger_root_entry); break;
    case LINGER_REC_FINALIZERS: entry_size = sizeof (linger_finalizer_entry); break;
    case LINGER_REC_WEAKREFS: entry_size = sizeof (linger_weakref_entry); break;
    case LINGER_REC_ATEXIT: entry_size = sizeof (linger_atexit_entry); break;
    case LINGER_REC_OBJECT_SITES: entry_size = sizeof (linger_object_site_entry); break;
    default: g_assert_not_reached ();
    }

  if (size < sizeof b)
    return corrupt (error, offset, type, "size %u is smaller than the batch head", size);
  memcpy (&b, rec, sizeof b);
  /* Entry sizes are multiples of 8, so a batch has no padding: the
   * count must fill the record exactly. */
  if ((guint64) b.count * entry_size + sizeof b != size)
    return corrupt (error, offset, type,
                    "%u entries of %" G_GSIZE_FORMAT " bytes do not fill the record of %u bytes",
                    b.count, entry_size, size);
  if (r->open == NULL)
    return corrupt (error, offset, type, "batch outside a snapshot");
  if (!check_entries (r, type, rec + sizeof b, b.count, offset, error))
    return FALSE;
  /* Node and edge indices are 32 bits, with two values reserved. */
  if ((guint64) r->open_counts[0] + r->open_counts[1] + r->open_counts[2] + b.count >= G_MAXUINT32 - 1)
    return corrupt (error, offset, type, "snapshot %u has more entries than linger can analyse (2^32)",
                    r->open->id);

  switch (type)
    {
    case LINGER_REC_OBJECTS: dest = r->open->objects; break;
    case LINGER_REC_REFS: dest = r->open->refs; break;
    case LINGER_REC_ROOTS: dest = r->open->roots; break;
    case LINGER_REC_FINALIZERS: dest = r->open->finalizers; break;
    case LINGER_REC_WEAKREFS: dest = r->open->weakrefs; break;
    case LINGER_REC_ATEXIT: dest = r->open->atexits; break;
    case LINGER_REC_OBJECT_SITES: dest = r->open->object_sites; break;
    default: g_assert_not_reached ();
    }
  if (type == LINGER_REC_OBJECTS || type == LINGER_REC_REFS || type == LINGER_REC_ROOTS)
    r->open_counts[type == LINGER_REC_OBJECTS ? 0 : type == LINGER_REC_REFS ? 1 : 2] += b.count;
  if (!r->open->entries_dropped)
    g_array_append_vals (dest, rec + sizeof b, b.count);
  return TRUE;
}

/* ---- Allocation tracking (format 1.2) ------------------------------------ */

/* Ids of frames, stacks and sites are dense from 1, and each definition
 * takes at least 16 bytes of the file: an id beyond that bound is damage,
 * and refusing it keeps the id-indexed arrays bounded by the file size. */
static gboolean
check_new_id (Reader     *r,
              guint32     id,
              guint       defined_len,
              gboolean    already,
              const char *what,
              gsize       offset,
              guint16     type,
              GError    **error)
{
  if (id == 0)
    return corrupt (error, offset, type, "%s id 0 is reserved for \"none\"", what);
  if (id > r->len / 16)
    return corrupt (error, offset, type, "%s id %u is out of range for a file of %" G_GSIZE_FORMAT " bytes",
                    what, id, r->len);
  if (id < defined_len && already)
    return corrupt (error, offset, type, "%s id %u is defined twice", what, id);
  return TRUE;
}

static void
ensure_len (GArray *array,
            guint32 id)
{
  if (array->len <= id)
    g_array_set_size (array, id + 1);
}

static gboolean
read_alloc_info (Reader       *r,
                 const guint8 *rec,
                 guint32       size,
                 gsize         offset,
                 GError      **error)
{
  LingerAlloc *a = r->trace->alloc;
  linger_rec_alloc_info info;

  if (size < sizeof info)
    return corrupt (error, offset, LINGER_REC_ALLOC_INFO, "size %u is smaller than the record", size);
  memcpy (&info, rec, sizeof info);
  {
    /* Each at most MAX_TOTAL, so the report's sums of them fit. */
    const guint64 totals[] = { info.python_allocs, info.native_allocs, info.untracked,
                               info.peak_live_blocks, info.table_bytes, info.gc_collections };

    for (guint i = 0; i < G_N_ELEMENTS (totals); i++)
      if (totals[i] > MAX_TOTAL)
        return corrupt (error, offset, LINGER_REC_ALLOC_INFO,
                        "allocation total %" G_GUINT64_FORMAT " is out of range", totals[i]);
  }
  /* The latest is the most complete: totals grow from flush to flush. */
  a->info = info;
  a->has_info = TRUE;
  a->present = TRUE;
  return TRUE;
}

static gboolean
read_native_stack (Reader       *r,
                   const guint8 *rec,
                   guint32       size,
                   gsize         offset,
                   GError      **error)
{
  LingerAlloc *a = r->trace->alloc;
  linger_rec_native_stack h;
  LingerStackRef *ref;

  if (size < sizeof h)
    return corrupt (error, offset, LINGER_REC_NATIVE_STACK, "size %u is smaller than the record", size);
  memcpy (&h, rec, sizeof h);
  if ((guint64) h.depth * sizeof (guint64) > size - sizeof h)
    return corrupt (error, offset, LINGER_REC_NATIVE_STACK,
                    "%u addresses overflow the record of %u bytes", h.depth, size);
  if (!check_new_id (r, h.id, a->native_stacks->len,
                     h.id < a->native_stacks->len && g_array_index (a->native_stacks, LingerStackRef, h.id).defined,
                     "native stack", offset, LINGER_REC_NATIVE_STACK, error))
    return FALSE;
  ensure_len (a->native_stacks, h.id);
  ref = &g_array_index (a->native_stacks, LingerStackRef, h.id);
  ref->start = a->native_pool->len;
  ref->depth = h.depth;
  ref->flags = h.flags;
  ref->generation = h.generation;
  ref->defined = 1;
  g_array_append_vals (a->native_pool, rec + sizeof h, h.depth);
  a->present = TRUE;
  return TRUE;
}

static gboolean
read_py_stack (Reader       *r,
               const guint8 *rec,
               guint32       size,
               gsize         offset,
               GError      **error)
{
  LingerAlloc *a = r->trace->alloc;
  linger_rec_py_stack h;
  LingerStackRef *ref;

  if (size < sizeof h)
    return corrupt (error, offset, LINGER_REC_PY_STACK, "size %u is smaller than the record", size);
  memcpy (&h, rec, sizeof h);
  if ((guint64) h.depth * sizeof (guint32) > size - sizeof h)
    return corrupt (error, offset, LINGER_REC_PY_STACK,
                    "%u frame ids overflow the record of %u bytes", h.depth, size);
  if (!check_new_id (r, h.id, a->py_stacks->len,
                     h.id < a->py_stacks->len && g_array_index (a->py_stacks, LingerStackRef, h.id).defined,
                     "Python stack", offset, LINGER_REC_PY_STACK, error))
    return FALSE;
  for (guint32 i = 0; i < h.depth; i++)
    {
      guint32 frame;

      memcpy (&frame, rec + sizeof h + (gsize) i * sizeof frame, sizeof frame);
      if (linger_alloc_py_frame (a, frame) == NULL)
        return corrupt (error, offset, LINGER_REC_PY_STACK,
                        "Python stack %u uses frame id %u, which is not defined", h.id, frame);
    }
  ensure_len (a->py_stacks, h.id);
  ref = &g_array_index (a->py_stacks, LingerStackRef, h.id);
  ref->start = a->py_pool->len;
  ref->depth = h.depth;
  ref->flags = h.flags;
  ref->defined = 1;
  g_array_append_vals (a->py_pool, rec + sizeof h, h.depth);
  a->present = TRUE;
  return TRUE;
}

/* One entry of an allocation batch: validated, then kept. */
static gboolean
read_alloc_entry (Reader       *r,
                  guint16       type,
                  const guint8 *entry,
                  gsize         offset,
                  GError      **error)
{
  LingerAlloc *a = r->trace->alloc;

  switch (type)
    {
    case LINGER_REC_MODULES:
      {
        linger_module_entry e;
        memcpy (&e, entry, sizeof e);
        if (!check_string (r, e.path, "module path", offset, type, error)
            || !check_string (r, e.build_id, "module build id", offset, type, error))
          return FALSE;
        if (e.start > e.end)
          return corrupt (error, offset, type, "module starts at 0x%" G_GINT64_MODIFIER "x, after its end 0x%"
                          G_GINT64_MODIFIER "x", e.start, e.end);
        g_array_append_val (a->modules, e);
      }
      break;

    case LINGER_REC_PY_FRAMES:
      {
        linger_py_frame_entry e;
        memcpy (&e, entry, sizeof e);
        if (!check_new_id (r, e.id, a->py_frames->len, linger_alloc_py_frame (a, e.id) != NULL,
                           "Python frame", offset, type, error)
            || !check_string (r, e.filename, "frame file name", offset, type, error)
            || !check_string (r, e.function, "frame function", offset, type, error))
          return FALSE;
        ensure_len (a->py_frames, e.id);
        g_array_index (a->py_frames, linger_py_frame_entry, e.id) = e;
      }
      break;

    case LINGER_REC_SITES:
      {
        linger_site_entry e;
        guint32 depth;
        guint32 generation;
        memcpy (&e, entry, sizeof e);
        if (!check_new_id (r, e.id, a->sites->len, linger_alloc_site (a, e.id) != NULL,
                           "site", offset, type, error)
            || !check_enum (r, e.domain, LINGER_DOMAIN_PY_RAW, LINGER_DOMAIN_NATIVE,
                            "site domain", offset, type, error))
          return FALSE;
        /* Stacks are defined before a site refers to them. */
        if (e.py_stack != 0 && linger_alloc_py_stack (a, e.py_stack, &depth) == NULL)
          return corrupt (error, offset, type, "site %u uses Python stack id %u, which is not defined",
                          e.id, e.py_stack);
        if (e.native_stack != 0 && linger_alloc_native_stack (a, e.native_stack, &depth, &generation) == NULL)
          return corrupt (error, offset, type, "site %u uses native stack id %u, which is not defined",
                          e.id, e.native_stack);
        ensure_len (a->sites, e.id);
        g_array_index (a->sites, linger_site_entry, e.id) = e;
      }
      break;

    case LINGER_REC_SITE_STATS:
      {
        linger_site_stats_entry e;
        memcpy (&e, entry, sizeof e);
        if (e.site == 0)
          return corrupt (error, offset, type, "site totals for site id 0");
        if (!check_site (r, e.site, "site totals", offset, type, error)
            || !check_amount (e.allocs, MAX_TOTAL, &r->run_counts, MAX_RUN, "site allocations", offset, type, error)
            || !check_amount (e.alloc_bytes, MAX_TOTAL, &r->run_bytes, MAX_RUN, "site bytes", offset, type, error)
            || !check_amount (e.frees, MAX_TOTAL, &r->run_counts, MAX_RUN, "site frees", offset, type, error)
            || !check_amount (e.gc_frees, MAX_TOTAL, &r->run_counts, MAX_RUN, "site GC frees", offset, type, error)
            || !check_amount (e.gc_free_bytes, MAX_TOTAL, &r->run_bytes, MAX_RUN, "site GC-freed bytes", offset, type, error))
          return FALSE;
        ensure_len (a->site_stats, e.site);
        g_array_index (a->site_stats, linger_site_stats_entry, e.site) = e;
      }
      break;

    case LINGER_REC_GC_FREES:
      {
        linger_gc_free_entry e;
        memcpy (&e, entry, sizeof e);
        /* Site 0: objects allocated before tracking started. */
        if (!check_site (r, e.site, "GC frees", offset, type, error)
            || !check_string (r, e.type_name, "GC frees type name", offset, type, error)
            || !check_enum (r, e.kind, LINGER_CYCLE_OTHER, LINGER_CYCLE_CLOSURE,
                            "cycle kind", offset, type, error)
            || !check_amount (e.count, MAX_TOTAL, &r->run_counts, MAX_RUN, "GC-freed objects", offset, type, error)
            || !check_amount (e.bytes, MAX_TOTAL, &r->run_bytes, MAX_RUN, "GC-freed bytes", offset, type, error))
          return FALSE;
        g_array_append_val (a->gc_frees, e);
      }
      break;

    case LINGER_REC_LIVE_BLOCKS:
      {
        linger_block_entry e;
        memcpy (&e, entry, sizeof e);
        if (!check_site (r, e.site, "live block", offset, type, error)
            || !check_amount (e.size, MAX_AMOUNT, &r->live_bytes, MAX_TOTAL, "live block sizes", offset, type, error))
          return FALSE;
        g_array_append_val (a->live_blocks, e);
      }
      break;

    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

/* Allocation batches may come inside a snapshot or outside: the shim
 * writes them at flush points, which a snapshot is one of. */
static gboolean
read_alloc_batch (Reader       *r,
                  guint16       type,
                  const guint8 *rec,
                  guint32       size,
                  gsize         offset,
                  GError      **error)
{
  linger_rec_batch b;
  gsize entry_size;

  switch (type)
    {
    case LINGER_REC_MODULES: entry_size = sizeof (linger_module_entry); break;
    case LINGER_REC_PY_FRAMES: entry_size = sizeof (linger_py_frame_entry); break;
    case LINGER_REC_SITES: entry_size = sizeof (linger_site_entry); break;
    case LINGER_REC_SITE_STATS: entry_size = sizeof (linger_site_stats_entry); break;
    case LINGER_REC_GC_FREES: entry_size = sizeof (linger_gc_free_entry); break;
    case LINGER_REC_LIVE_BLOCKS: entry_size = sizeof (linger_block_entry); break;
    default: g_assert_not_reached ();
    }

  if (size < sizeof b)
    return corrupt (error, offset, type, "size %u is smaller than the batch head", size);
  memcpy (&b, rec, sizeof b);
  if ((guint64) b.count * entry_size + sizeof b != size)
    return corrupt (error, offset, type,
                    "%u entries of %" G_GSIZE_FORMAT " bytes do not fill the record of %u bytes",
                    b.count, entry_size, size);
  for (guint32 i = 0; i < b.count; i++)
    if (!read_alloc_entry (r, type, rec + sizeof b + (gsize) i * entry_size, offset, error))
      return FALSE;
  if (type == LINGER_REC_LIVE_BLOCKS)
    r->trace->alloc->saw_live_blocks = TRUE;
  r->trace->alloc->present = TRUE;
  return TRUE;
}

static int
compare_object_sites (const void *a,
                      const void *b)
{
  const linger_object_site_entry *x = a;
  const linger_object_site_entry *y = b;

  return x->address < y->address ? -1 : x->address > y->address;
}

/* Once every record is read: the lookups want sorted arrays. */
static void
finish_alloc (LingerTrace *t)
{
  linger_alloc_finish (t->alloc);
  for (guint i = 0; i < t->snapshots->len; i++)
    {
      LingerSnapshot *s = g_ptr_array_index (t->snapshots, i);

      if (s->object_sites->len > 1)
        qsort (s->object_sites->data, s->object_sites->len, sizeof (linger_object_site_entry),
               compare_object_sites);
    }
}

static gboolean
read_end (Reader       *r,
          const guint8 *rec,
          guint32       size,
          gsize         offset,
          GError      **error)
{
  linger_rec_end e;

  if (size < sizeof e)
    return corrupt (error, offset, LINGER_REC_END, "size %u is smaller than the record", size);
  memcpy (&e, rec, sizeof e);
  if (!check_enum (r, e.exit_path, LINGER_EXIT_UNKNOWN, LINGER_EXIT_UNDERSCORE, "exit path",
                   offset, LINGER_REC_END, error))
    return FALSE;
  if (e.n_strings != r->trace->strings->len - 1)
    return corrupt (error, offset, LINGER_REC_END,
                    "counts %u strings but %u were defined", e.n_strings, r->trace->strings->len - 1);
  /* A shim that stops in the middle of a snapshot still closes the trace:
   * the snapshot stays flagged partial rather than failing the file. */
  r->open = NULL;
  r->seen_end = TRUE;
  r->trace->exit_path = e.exit_path;
  return TRUE;
}

static gboolean
read_record (Reader       *r,
             guint16       type,
             const guint8 *rec,
             guint32       size,
             gsize         offset,
             GError      **error)
{
  switch (type)
    {
    case LINGER_REC_PROCESS: return read_process (r, rec, size, offset, error);
    case LINGER_REC_RUNTIME: return read_runtime (r, rec, size, offset, error);
    case LINGER_REC_STRING: return read_string (r, rec, size, offset, error);
    case LINGER_REC_SNAPSHOT_BEGIN: return read_snapshot_begin (r, rec, size, offset, error);
    case LINGER_REC_OBJECTS:
    case LINGER_REC_REFS:
    case LINGER_REC_ROOTS:
    case LINGER_REC_FINALIZERS:
    case LINGER_REC_WEAKREFS:
    case LINGER_REC_ATEXIT:
    case LINGER_REC_OBJECT_SITES:
      return read_batch (r, type, rec, size, offset, error);
    case LINGER_REC_ALLOC_INFO: return read_alloc_info (r, rec, size, offset, error);
    case LINGER_REC_NATIVE_STACK: return read_native_stack (r, rec, size, offset, error);
    case LINGER_REC_PY_STACK: return read_py_stack (r, rec, size, offset, error);
    case LINGER_REC_MODULES:
    case LINGER_REC_PY_FRAMES:
    case LINGER_REC_SITES:
    case LINGER_REC_SITE_STATS:
    case LINGER_REC_GC_FREES:
    case LINGER_REC_LIVE_BLOCKS:
      return read_alloc_batch (r, type, rec, size, offset, error);
    case LINGER_REC_SNAPSHOT_END: return read_snapshot_end (r, rec, size, offset, error);
    case LINGER_REC_SNAPSHOT_LABEL: return read_snapshot_label (r, rec, size, offset, error);
    case LINGER_REC_MESSAGE: return read_message (r, rec, size, offset, error);
    case LINGER_REC_END: return read_end (r, rec, size, offset, error);
    default:
      /* Forward compatibility: a newer shim may add records; their size
       * was checked, so they can be stepped over. */
      r->trace->n_unknown_records++;
      return TRUE;
    }
}

/* The first bytes of a foreign file, in hex and as text: "'7f 45 4c 46
 * 02 01 01 00' (.ELF....)" tells an ELF file or a script at a glance. */
static char *
describe_start (const guint8 *data,
                gsize         len)
{
  GString *s = g_string_new ("'");
  gsize n = MIN (len, (gsize) LINGER_TRACE_MAGIC_LEN);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, i == 0 ? "%02x" : " %02x", data[i]);
  g_string_append (s, "' (");
  for (gsize i = 0; i < n; i++)
    g_string_append_c (s, g_ascii_isprint (data[i]) ? (char) data[i] : '.');
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

static gboolean
read_file_header (Reader   *r,
                  gsize    *ret_records_offset,
                  GError  **error)
{
  linger_file_header h;

  if (r->len == 0)
    {
      g_set_error_literal (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE,
                           "the file is empty, not a linger trace (was the program killed before "
                           "it wrote anything, or is it still starting?)");
      return FALSE;
    }
  if (memcmp (r->data, LINGER_TRACE_MAGIC, MIN (r->len, LINGER_TRACE_MAGIC_LEN)) != 0)
    {
      g_autofree char *start = describe_start (r->data, r->len);

      g_set_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE,
                   "not a linger trace: it starts with %s (expected '%s'; bad magic at byte offset 0)",
                   start, LINGER_TRACE_MAGIC);
      return FALSE;
    }
  if (r->len < offsetof (linger_file_header, header_size))
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE,
                   "not a usable linger trace: the file ends inside its header, at byte offset %" G_GSIZE_FORMAT,
                   r->len);
      return FALSE;
    }

  /* The version is read before the rest of the header, so that a future
   * major version with another header layout gets the right message. */
  memset (&h, 0, sizeof h);
  memcpy (&h, r->data, MIN (r->len, sizeof h));
  if (h.version_major != LINGER_TRACE_VERSION_MAJOR)
    {
      /* Which of the two programs to upgrade is the useful part. */
      if (h.version_major > LINGER_TRACE_VERSION_MAJOR)
        g_set_error (error, LINGER_ERROR, LINGER_ERROR_UNSUPPORTED_VERSION,
                     "trace from a newer linger (format version %u.%u); this linger reads format "
                     "%u.x (up to %u.%u): upgrade linger",
                     h.version_major, h.version_minor, LINGER_TRACE_VERSION_MAJOR,
                     LINGER_TRACE_VERSION_MAJOR, LINGER_TRACE_VERSION_MINOR);
      else
        g_set_error (error, LINGER_ERROR, LINGER_ERROR_UNSUPPORTED_VERSION,
                     "trace from an older linger (format version %u.%u); this linger reads format "
                     "%u.x only: record the program again with this linger's `linger run`",
                     h.version_major, h.version_minor, LINGER_TRACE_VERSION_MAJOR);
      return FALSE;
    }
  if (r->len < sizeof h)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE,
                   "not a usable linger trace: the file ends inside its header, at byte offset %" G_GSIZE_FORMAT,
                   r->len);
      return FALSE;
    }
  /* A newer minor version may grow the header; records start after it. */
  if (h.header_size < sizeof h || h.header_size % LINGER_RECORD_ALIGN != 0
      || h.header_size > LINGER_RECORD_MAX_SIZE)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT,
                   "corrupted trace: header size %u at byte offset %" G_GSIZE_FORMAT " is invalid",
                   h.header_size, (gsize) offsetof (linger_file_header, header_size));
      return FALSE;
    }
  if (h.header_size > r->len)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_NOT_A_TRACE,
                   "not a usable linger trace: the file ends inside its header, at byte offset %" G_GSIZE_FORMAT,
                   r->len);
      return FALSE;
    }
  if (h.pointer_size != 8 && h.pointer_size != 4)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT,
                   "corrupted trace: pointer size %u at byte offset %" G_GSIZE_FORMAT " is invalid",
                   h.pointer_size, (gsize) offsetof (linger_file_header, pointer_size));
      return FALSE;
    }

  r->trace->version_major = h.version_major;
  r->trace->version_minor = h.version_minor;
  r->trace->start_time_ns = h.start_time_ns;
  r->trace->file_flags = h.flags;
  r->trace->pid = h.pid;
  r->trace->ppid = h.ppid;
  r->strict_enums = h.version_minor <= LINGER_TRACE_VERSION_MINOR;
  *ret_records_offset = h.header_size;
  return TRUE;
}

static void
mark_incomplete (LingerTrace *t,
                 char        *reason)
{
  t->complete = FALSE;
  g_free (t->incomplete_reason);
  t->incomplete_reason = reason;
}

/* ---- Where the records come from ----------------------------------------- */

/* The bytes of a trace: all in memory, or read from a file through a
 * window.  A record is at most LINGER_RECORD_MAX_SIZE, so a window of a
 * few of them always holds a whole one: a trace of any size is read in
 * bounded memory, record after record. */
#define FEED_WINDOW (4u * LINGER_RECORD_MAX_SIZE)

typedef struct
{
  int           fd;       /* -1: the whole trace is at data */
  const guint8 *data;     /* the window */
  guint8       *buf;      /* its storage when reading fd */
  gsize         start;    /* file offset of data[0] */
  gsize         avail;    /* bytes at data */
  gboolean      eof;
} Feed;

/* The bytes from @offset on (never before the last call's offset), at
 * least @want of them unless the trace ends first; *@got says how many
 * there are.  NULL with @error set on a read error. */
static const guint8 *
feed_at (Feed     *f,
         gsize     offset,
         gsize     want,
         gsize    *got,
         GError  **error)
{
  g_assert (offset >= f->start && offset <= f->start + f->avail && want <= FEED_WINDOW);
  if (f->fd >= 0 && !f->eof && offset + want > f->start + f->avail)
    {
      gsize keep = f->start + f->avail - offset;

      memmove (f->buf, f->buf + (offset - f->start), keep);
      f->start = offset;
      f->avail = keep;
      f->data = f->buf;
      while (f->avail < FEED_WINDOW)
        {
          ssize_t n = read (f->fd, f->buf + f->avail, FEED_WINDOW - f->avail);

          if (n < 0)
            {
              int errsv = errno;

              if (errsv == EINTR)
                continue;
              g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO, "cannot read at byte offset %" G_GSIZE_FORMAT ": %s",
                           f->start + f->avail, g_strerror (errsv));
              return NULL;
            }
          if (n == 0)
            {
              f->eof = TRUE;
              break;
            }
          f->avail += (gsize) n;
        }
    }
  *got = f->start + f->avail - offset;
  return f->data + (offset - f->start);
}

/* Reads the trace from @feed; @file_len is the length of the file (of the
 * data in memory); the entries of snapshot @keep_index (file order) are
 * the only ones kept unless it is G_MAXUINT. */
static LingerTrace *
read_trace (Feed     *feed,
            gsize     file_len,
            guint     keep_index,
            GError  **error)
{
  g_autoptr(LingerTrace) trace = trace_new ();
  Reader r = { .len = file_len, .trace = trace, .keep_index = keep_index };
  gsize offset;
  gsize got;

  /* The header is at most LINGER_RECORD_MAX_SIZE: it is in the first window. */
  r.data = feed_at (feed, 0, LINGER_RECORD_MAX_SIZE, &got, error);
  if (r.data == NULL)
    return NULL;
  if (got < LINGER_RECORD_MAX_SIZE)
    r.len = got;
  if (!read_file_header (&r, &offset, error))
    return NULL;
  r.len = MAX (r.len, file_len);

  linger_progress_begin ("reading", file_len);
  for (;;)
    {
      linger_record_header h;
      const guint8 *rec = feed_at (feed, offset, sizeof h, &got, error);

      if (rec == NULL)
        return NULL;
      if (got == 0)
        break;
      linger_progress_update (offset);
      if (got < sizeof h)
        {
          mark_incomplete (trace, g_strdup_printf ("the file ends inside a record header at byte offset %"
                                                   G_GSIZE_FORMAT " (the program was probably killed)",
                                                   offset));
          break;
        }
      memcpy (&h, rec, sizeof h);
      /* A size that no writer produces is damage, not truncation. */
      if (h.size < sizeof h || h.size % LINGER_RECORD_ALIGN != 0 || h.size > LINGER_RECORD_MAX_SIZE)
        {
          corrupt (error, offset, h.type, "invalid record size %u", h.size);
          return NULL;
        }
      rec = feed_at (feed, offset, h.size, &got, error);
      if (rec == NULL)
        return NULL;
      if (h.size > got)
        {
          mark_incomplete (trace, g_strdup_printf ("the file ends inside a %s record at byte offset %"
                                                   G_GSIZE_FORMAT " (the program was probably killed)",
                                                   record_type_name (h.type), offset));
          break;
        }
      if (r.seen_end)
        {
          corrupt (error, offset, h.type, "data after the END record");
          return NULL;
        }
      if (!read_record (&r, h.type, rec, h.size, offset, error))
        return NULL;
      offset += h.size;
    }

  finish_alloc (trace);

  if (r.seen_end)
    {
      trace->complete = TRUE;
    }
  else if (trace->incomplete_reason == NULL)
    {
      mark_incomplete (trace, g_strdup ("the trace has no END record (the program did not exit normally, "
                                        "or is still running)"));
    }

  return g_steal_pointer (&trace);
}

LingerTrace *
linger_trace_new_from_data (const guint8  *data,
                            gsize          len,
                            GError       **error)
{
  /* feed_at() returns NULL for an error only: an empty trace (data may
   * be NULL then) is bytes of nowhere, not NULL. */
  static const guint8 nothing[1];
  Feed feed = { .fd = -1, .data = data != NULL ? data : nothing, .avail = len, .eof = TRUE };

  return read_trace (&feed, len, G_MAXUINT, error);
}

/* ---- Memory needs, from the record headers alone ------------------------- */

/* Bytes of one entry of a snapshot's batch record, 0 for other records. */
static gsize
snapshot_entry_size (guint16 type)
{
  switch (type)
    {
    case LINGER_REC_OBJECTS: return sizeof (linger_object_entry);
    case LINGER_REC_REFS: return sizeof (linger_ref_entry);
    case LINGER_REC_ROOTS: return sizeof (linger_root_entry);
    case LINGER_REC_FINALIZERS: return sizeof (linger_finalizer_entry);
    case LINGER_REC_WEAKREFS: return sizeof (linger_weakref_entry);
    case LINGER_REC_ATEXIT: return sizeof (linger_atexit_entry);
    case LINGER_REC_OBJECT_SITES: return sizeof (linger_object_site_entry);
    default: return 0;
    }
}

/* Walks the record headers of a regular file (a read of 64 KB covers
 * many small records; a batch of a megabyte is stepped over) and counts
 * each snapshot's entries by record size, not by the counts the records
 * claim, so the counts are bounded by the file.  Stops, without an
 * error, where the reader will stop or fail: this is an estimate.
 * *@other_bytes: the bytes of every record that is not a snapshot's
 * batch. */
static gboolean
scan_headers (int       fd,
              gsize     len,
              GArray   *snapshots,
              guint64  *other_bytes,
              gboolean *labelled)
{
  g_autofree guint8 *block = g_malloc (65536);
  gsize block_start = 0;
  gsize block_len = 0;
  linger_file_header fh;
  ScanSnapshot *open = NULL;
  gsize offset;

  *other_bytes = 0;
  if (pread (fd, &fh, sizeof fh, 0) != (ssize_t) sizeof fh
      || memcmp (&fh, LINGER_TRACE_MAGIC, LINGER_TRACE_MAGIC_LEN) != 0
      || fh.header_size < sizeof fh || fh.header_size % LINGER_RECORD_ALIGN != 0
      || fh.header_size > LINGER_RECORD_MAX_SIZE)
    return FALSE;

  for (offset = fh.header_size; len - offset >= sizeof (linger_record_header);)
    {
      linger_record_header h;
      const guint8 *p;
      gsize entry_size;

      if (offset < block_start || offset + sizeof (linger_rec_snapshot_begin) > block_start + block_len)
        {
          ssize_t n = pread (fd, block, MIN (65536, len - offset), (off_t) offset);

          if (n < (ssize_t) sizeof h)
            break;
          block_start = offset;
          block_len = (gsize) n;
        }
      p = block + (offset - block_start);
      memcpy (&h, p, sizeof h);
      if (h.size < sizeof h || h.size % LINGER_RECORD_ALIGN != 0 || h.size > LINGER_RECORD_MAX_SIZE
          || h.size > len - offset)
        break;
      entry_size = snapshot_entry_size (h.type);
      if (h.type == LINGER_REC_SNAPSHOT_BEGIN && h.size >= sizeof (linger_rec_snapshot_begin)
          && offset + sizeof (linger_rec_snapshot_begin) <= block_start + block_len)
        {
          linger_rec_snapshot_begin b;
          ScanSnapshot s = { 0 };

          memcpy (&b, p, sizeof b);
          s.reason = b.reason;
          g_array_append_val (snapshots, s);
          open = &g_array_index (snapshots, ScanSnapshot, snapshots->len - 1);
        }
      else if (h.type == LINGER_REC_SNAPSHOT_END)
        open = NULL;
      if (h.type == LINGER_REC_SNAPSHOT_LABEL)
        *labelled = TRUE;
      else if (entry_size != 0 && open != NULL && h.size >= sizeof (linger_rec_batch))
        {
          open->entries[h.type] += (h.size - sizeof (linger_rec_batch)) / entry_size;
          open->entry_bytes += h.size - sizeof (linger_rec_batch);
        }
      else
        *other_bytes += h.size;
      if (h.type == LINGER_REC_END)
        break;
      offset += h.size;
    }
  return TRUE;
}

/* The snapshot linger_trace_pick_snapshot() will pick: the last at exit,
 * else the last. */
static guint
scan_pick (GArray *snapshots)
{
  for (guint i = snapshots->len; i > 0; i--)
    if (g_array_index (snapshots, ScanSnapshot, i - 1).reason == LINGER_SNAPSHOT_AT_EXIT)
      return i - 1;
  return snapshots->len - 1;
}

/* "9.1 GiB": as g_format_size_full() without its no-break space, which
 * a script grepping the message would not expect. */
static char *
size_text (guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double value = bytes / 1024.0;
  guint unit = 0;

  while (value >= 1024 && unit + 1 < G_N_ELEMENTS (units))
    {
      value /= 1024;
      unit++;
    }
  return g_strdup_printf ("%.1f %s", value, units[unit]);
}

/* "12.3 M", "45.6 k", "789". */
static char *
count_text (guint64 n)
{
  if (n >= 1000000)
    return g_strdup_printf ("%.1f M", n / 1e6);
  if (n >= 10000)
    return g_strdup_printf ("%.1f k", n / 1e3);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
}

/* FALSE, with the error linger_trace_new_from_file_with_options()
 * documents, when @needs is over the limit. */
static gboolean
check_needs (const LingerMemNeeds *needs,
             guint                 n_snapshots_kept,
             GError              **error)
{
  LingerMemLimit limit = linger_memlimit_get ();
  guint64 estimate = linger_memlimit_estimate (needs, limit.address_space);
  g_autofree char *need_text = NULL;
  g_autofree char *limit_text = NULL;
  g_autofree char *objects = NULL;
  g_autofree char *refs = NULL;

  if (limit.bytes == 0 || estimate <= limit.bytes)
    return TRUE;
  need_text = size_text (estimate);
  limit_text = size_text (limit.bytes);
  objects = count_text (needs->kept_objects);
  refs = count_text (needs->kept_refs);
  g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
               "analysing this trace needs about %s of memory (%s objects, %s references%s); "
               "the limit is %s (%s); %s",
               need_text, objects, refs, n_snapshots_kept > 1 ? " over its snapshots" : "",
               limit_text, limit.origin,
               n_snapshots_kept > 1 ? "analyse it on a larger machine or take fewer snapshots"
                                    : "analyse it on a larger machine or raise --max-memory");
  return FALSE;
}

/* What reading and analysing the scanned trace needs: the snapshots kept
 * (one, or all), and the analysis of the one picked (or, with all kept,
 * of the two largest, which a diff analyses side by side). */
static void
scan_needs (GArray        *snapshots,
            guint          keep_index,
            guint64        other_bytes,
            LingerMemNeeds *needs)
{
  guint64 largest[2][2] = { { 0, 0 }, { 0, 0 } };   /* [rank][objects, refs] */

  memset (needs, 0, sizeof *needs);
  needs->other_bytes = other_bytes;
  for (guint i = 0; i < snapshots->len; i++)
    {
      const ScanSnapshot *s = &g_array_index (snapshots, ScanSnapshot, i);
      guint64 objects = s->entries[LINGER_REC_OBJECTS];
      guint64 refs = s->entries[LINGER_REC_REFS];

      if (keep_index != G_MAXUINT && i != keep_index)
        continue;
      needs->kept_objects = linger_sat_add (needs->kept_objects, objects);
      needs->kept_refs = linger_sat_add (needs->kept_refs, refs);
      needs->kept_other_entry_bytes =
        linger_sat_add (needs->kept_other_entry_bytes,
                        s->entry_bytes - objects * sizeof (linger_object_entry) - refs * sizeof (linger_ref_entry));
      if (objects + refs > largest[0][0] + largest[0][1])
        {
          memcpy (largest[1], largest[0], sizeof largest[0]);
          largest[0][0] = objects;
          largest[0][1] = refs;
        }
      else if (objects + refs > largest[1][0] + largest[1][1])
        {
          largest[1][0] = objects;
          largest[1][1] = refs;
        }
    }
  needs->analysed_objects = largest[0][0] + largest[1][0];
  needs->analysed_refs = largest[0][1] + largest[1][1];
}

/* The same needs, of a trace already in memory (read from a pipe). */
static void
trace_needs (const LingerTrace *t,
             LingerMemNeeds    *needs)
{
  LingerSnapshot *picked = linger_trace_pick_snapshot (t);

  memset (needs, 0, sizeof *needs);
  for (guint i = 0; i < t->snapshots->len; i++)
    {
      LingerSnapshot *s = g_ptr_array_index (t->snapshots, i);

      needs->kept_objects += s->objects->len;
      needs->kept_refs += s->refs->len;
    }
  if (picked != NULL)
    {
      needs->analysed_objects = picked->objects->len;
      needs->analysed_refs = picked->refs->len;
    }
}

/* Reads a non-regular file (a pipe) into memory, up to the memory limit. */
static GByteArray *
read_all (int      fd,
          GError **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  LingerMemLimit limit = linger_memlimit_get ();
  guint8 buf[65536];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0)
        {
          int errsv = errno;
          if (errsv == EINTR)
            continue;
          g_set_error_literal (error, LINGER_ERROR, LINGER_ERROR_IO, g_strerror (errsv));
          return NULL;
        }
      if (n == 0)
        break;
      if ((limit.bytes != 0 && bytes->len + (guint64) n > limit.bytes) || bytes->len + (guint64) n > G_MAXUINT)
        {
          g_autofree char *limit_text = size_text (limit.bytes);

          g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                       "the trace is larger than the memory limit, %s (%s); "
                       "give linger a regular file, which it reads in bounded memory",
                       limit_text, limit.origin);
          return NULL;
        }
      g_byte_array_append (bytes, buf, (guint) n);
    }
  return g_steal_pointer (&bytes);
}

/* The errors people meet when they name the trace by hand, each with what
 * to do about it. */
static void
set_open_error (GError    **error,
                const char *path,
                int         errsv)
{
  switch (errsv)
    {
    case ENOENT:
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO,
                   "%s: no such file (`linger report` without a file name reads the newest "
                   "*.trace of the current directory; `ls *.trace` lists them)", path);
      break;
    case EACCES:
    case EPERM:
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO,
                   "%s: permission denied: you may not read it (`ls -l %s` shows its owner; "
                   "a trace written by another user or by sudo needs their rights)", path, path);
      break;
    case EISDIR:
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO,
                   "%s: is a directory, not a trace (name a trace in it, `ls %s/*.trace`, or run "
                   "`linger report` inside it without a file name)", path, path);
      break;
    default:
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO, "%s: %s", path, g_strerror (errsv));
      break;
    }
}

LingerTrace *
linger_trace_new_from_file_with_options (const char               *path,
                                         const LingerReadOptions  *options,
                                         GError                  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(LingerTrace) trace = NULL;
  struct stat st;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      set_open_error (error, path, errsv);
      return NULL;
    }
  if (fstat (fd, &st) != 0)
    {
      int errsv = errno;
      close (fd);
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO, "%s: %s", path, g_strerror (errsv));
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      close (fd);
      set_open_error (error, path, EISDIR);
      return NULL;
    }

  if (S_ISREG (st.st_mode) && st.st_size > 0)
    {
      gsize len = (gsize) st.st_size;
      g_autoptr(GArray) scan = g_array_new (FALSE, TRUE, sizeof (ScanSnapshot));
      guint64 other_bytes;
      guint keep_index = G_MAXUINT;
      Feed feed = { .fd = fd };
      gboolean labelled = FALSE;

      /* The estimate comes before any large allocation. */
      if (scan_headers (fd, len, scan, &other_bytes, &labelled))
        {
          LingerMemNeeds needs;

          /* Per-test attribution (labelled snapshots of the pytest
           * plugin) looks for each finding's object in the earlier
           * snapshots: they are all kept, and counted in the estimate. */
          if (options != NULL && options->only_analysed_snapshot && scan->len > 0 && !labelled)
            keep_index = scan_pick (scan);
          scan_needs (scan, keep_index, other_bytes, &needs);
          if (!check_needs (&needs, keep_index == G_MAXUINT ? scan->len : 1, &local_error))
            {
              close (fd);
              g_set_error (error, LINGER_ERROR, local_error->code, "%s: %s", path, local_error->message);
              return NULL;
            }
        }
      if (lseek (fd, 0, SEEK_SET) == 0)
        {
#ifdef POSIX_FADV_SEQUENTIAL
          posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
          feed.buf = g_malloc (FEED_WINDOW);
          feed.data = feed.buf;
          trace = read_trace (&feed, len, keep_index, &local_error);
          g_free (feed.buf);
        }
      else
        {
          int errsv = errno;
          g_set_error_literal (&local_error, LINGER_ERROR, LINGER_ERROR_IO, g_strerror (errsv));
        }
      close (fd);
      /* The scan and the reader stop at the same record, so they pick the
       * same snapshot; if not, the picked one must not lack its entries. */
      if (trace != NULL && keep_index != G_MAXUINT)
        {
          LingerSnapshot *picked = linger_trace_pick_snapshot (trace);

          if (picked != NULL && picked->entries_dropped)
            {
              g_clear_pointer (&trace, linger_trace_free);
              return linger_trace_new_from_file_with_options (path, NULL, error);
            }
        }
    }
  else
    {
      g_autoptr(GByteArray) bytes = read_all (fd, &local_error);

      close (fd);
      if (bytes != NULL)
        trace = linger_trace_new_from_data (bytes->data, bytes->len, &local_error);
      if (trace != NULL)
        {
          LingerMemNeeds needs;

          trace_needs (trace, &needs);
          if (!check_needs (&needs, trace->snapshots->len, &local_error))
            g_clear_pointer (&trace, linger_trace_free);
        }
    }

  if (trace == NULL)
    {
      g_set_error (error, LINGER_ERROR, local_error->code, "%s: %s", path, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&trace);
}

LingerTrace *
linger_trace_new_from_file (const char  *path,
                            GError     **error)
{
  return linger_trace_new_from_file_with_options (path, NULL, error);
}
