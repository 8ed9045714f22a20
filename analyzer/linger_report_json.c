/* linger_report_json.c: the machine-readable report. */
#include "linger_report_json.h"

#include <string.h>

#include "linger_attribution.h"
#include "linger_config.h"
#include "linger_identity.h"
#include "linger_policy.h"

void
linger_json_append_string (GString    *out,
                           const char *text)
{
  const char *p;
  const char *end;

  if (text == NULL)
    {
      g_string_append (out, "null");
      return;
    }

  g_string_append_c (out, '"');
  end = text + strlen (text);
  for (p = text; p < end; )
    {
      guchar c = (guchar) *p;
      gunichar u;

      if (c < 0x80)
        {
          switch (c)
            {
            case '"': g_string_append (out, "\\\""); break;
            case '\\': g_string_append (out, "\\\\"); break;
            case '\n': g_string_append (out, "\\n"); break;
            case '\r': g_string_append (out, "\\r"); break;
            case '\t': g_string_append (out, "\\t"); break;
            case '\b': g_string_append (out, "\\b"); break;
            case '\f': g_string_append (out, "\\f"); break;
            default:
              if (c < 0x20 || c == 0x7f)
                g_string_append_printf (out, "\\u%04x", c);
              else
                g_string_append_c (out, (char) c);
              break;
            }
          p++;
          continue;
        }

      u = g_utf8_get_char_validated (p, end - p);
      if (u == (gunichar) -1 || u == (gunichar) -2)
        {
          /* One replacement character per invalid byte, like a lenient
           * decoder: the rest of the text stays readable. */
          g_string_append (out, "\\ufffd");
          p++;
          continue;
        }
      {
        const char *next = g_utf8_next_char (p);
        g_string_append_len (out, p, next - p);
        p = next;
      }
    }
  g_string_append_c (out, '"');
}

/* A small pretty-printer: one value per line, two spaces per level. */
typedef struct
{
  GString *out;
  guint    depth;
  gboolean has_items;   /* the open container has at least one value */
  LingerSites *sites;   /* resolves allocation sites; NULL: all null */
  gboolean labelled;    /* the trace has labelled snapshots: findings say created_by */
} Json;

static void
json_item (Json       *j,
           const char *key)
{
  if (j->has_items)
    g_string_append_c (j->out, ',');
  g_string_append_c (j->out, '\n');
  for (guint i = 0; i < j->depth; i++)
    g_string_append (j->out, "  ");
  if (key != NULL)
    {
      linger_json_append_string (j->out, key);
      g_string_append (j->out, ": ");
    }
  j->has_items = TRUE;
}

static void
json_open (Json       *j,
           const char *key,
           char        bracket)
{
  if (j->depth > 0 || j->has_items)
    json_item (j, key);
  g_string_append_c (j->out, bracket);
  j->depth++;
  j->has_items = FALSE;
}

static void
json_close (Json *j,
            char  bracket)
{
  j->depth--;
  if (j->has_items)
    {
      g_string_append_c (j->out, '\n');
      for (guint i = 0; i < j->depth; i++)
        g_string_append (j->out, "  ");
    }
  g_string_append_c (j->out, bracket);
  j->has_items = TRUE;
}

static void
json_string (Json       *j,
             const char *key,
             const char *value)
{
  json_item (j, key);
  linger_json_append_string (j->out, value);
}

static void
json_uint (Json       *j,
           const char *key,
           guint64     value)
{
  json_item (j, key);
  g_string_append_printf (j->out, "%" G_GUINT64_FORMAT, value);
}

static void
json_int (Json       *j,
          const char *key,
          gint64      value)
{
  json_item (j, key);
  g_string_append_printf (j->out, "%" G_GINT64_FORMAT, value);
}

static void
json_bool (Json       *j,
           const char *key,
           gboolean    value)
{
  json_item (j, key);
  g_string_append (j->out, value ? "true" : "false");
}

static void
json_double (Json       *j,
             const char *key,
             double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  json_item (j, key);
  /* Locale-independent, and short: 0.5, not 0.50000000000000000. */
  g_string_append (j->out, g_ascii_formatd (buf, sizeof buf, "%.4g", value));
}

static void
json_address (Json       *j,
              const char *key,
              guint64     address)
{
  g_autofree char *text = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", address);

  json_string (j, key, text);
}

static void
write_trace (Json                 *j,
             const LingerAnalysis *a)
{
  const LingerTrace *t = a->trace;
  g_autofree char *format_version = g_strdup_printf ("%u.%u", t->version_major, t->version_minor);

  json_open (j, "trace", '{');
  json_string (j, "path", a->path);
  json_string (j, "program", t->program);
  json_uint (j, "pid", t->pid);
  json_uint (j, "ppid", t->ppid);
  json_string (j, "exe", t->exe);
  json_open (j, "argv", '[');
  for (guint i = 0; t->argv[i] != NULL; i++)
    json_string (j, NULL, t->argv[i]);
  json_close (j, ']');
  json_string (j, "python", t->has_runtime ? t->python_version : NULL);
  json_bool (j, "complete", t->complete);
  if (!t->complete)
    json_string (j, "incomplete_reason", t->incomplete_reason);
  /* How the process ended: "exit", "_exit" (no exit snapshot possible)
   * or "unknown" (no END record, or an older shim). */
  json_string (j, "exit_path", linger_exit_path_name (t->exit_path));
  json_string (j, "format_version", format_version);
  json_uint (j, "objects", a->graph != NULL ? a->graph->n_nodes : 0);
  /* Reachable from a root or not: the garbage is cycles the collector
   * has not freed yet. */
  json_uint (j, "live_objects", a->dominators != NULL ? a->dominators->live_objects : 0);
  json_uint (j, "live_bytes", a->dominators != NULL ? a->dominators->live_bytes : 0);
  json_uint (j, "garbage_objects", a->dominators != NULL ? a->dominators->garbage_objects : 0);
  json_uint (j, "garbage_bytes", a->dominators != NULL ? a->dominators->garbage_bytes : 0);
  json_uint (j, "snapshots", t->snapshots->len);
  if (a->snapshot != NULL)
    {
      json_open (j, "snapshot", '{');
      json_uint (j, "id", a->snapshot->id);
      json_string (j, "reason", linger_snapshot_reason_name (a->snapshot->reason));
      json_bool (j, "closed", a->snapshot->closed);
      json_bool (j, "partial", a->snapshot->status != LINGER_SNAPSHOT_OK);
      json_uint (j, "refs", a->snapshot->refs->len);
      json_uint (j, "roots", a->graph->roots->len);
      json_close (j, '}');
    }
  else
    {
      json_string (j, "snapshot", NULL);
    }
  json_open (j, "messages", '[');
  for (guint i = 0; i < t->messages->len; i++)
    {
      const LingerMessage *m = g_ptr_array_index (t->messages, i);

      json_open (j, NULL, '{');
      json_string (j, "level", m->level == LINGER_MSG_WARNING ? "warning" : "info");
      json_string (j, "text", m->text);
      json_close (j, '}');
    }
  json_close (j, ']');
  json_close (j, '}');
}

static void
write_frame (Json              *j,
             const LingerFrame *f)
{
  json_open (j, NULL, '{');
  json_string (j, "kind", f->kind == LINGER_FRAME_PYTHON ? "python" : "native");
  json_string (j, "function", f->function);
  json_string (j, "file", f->file);
  json_uint (j, "line", f->line);
  json_string (j, "module", f->module);
  if (f->has_address)
    json_address (j, "address", f->address);
  else
    json_string (j, "address", NULL);
  json_close (j, '}');
}

/* "allocated_at": null, or where the allocation site's code is and its
 * whole stack, innermost first. */
static void
write_allocated_at (Json       *j,
                    const char *key,
                    guint32     site_id)
{
  const LingerSite *site = j->sites != NULL && site_id != 0 ? linger_sites_get (j->sites, site_id) : NULL;
  const LingerFrame *at;

  if (site == NULL)
    {
      json_string (j, key, NULL);
      return;
    }
  at = site->at >= 0 ? &g_array_index (site->frames, LingerFrame, site->at) : NULL;
  json_open (j, key, '{');
  json_string (j, "file", at != NULL ? at->file : NULL);
  json_uint (j, "line", at != NULL ? at->line : 0);
  json_string (j, "function", at != NULL ? at->function : NULL);
  json_string (j, "module", at != NULL ? at->module : NULL);
  json_string (j, "through", site->through);
  json_open (j, "stack", '[');
  for (guint i = 0; i < site->frames->len; i++)
    write_frame (j, &g_array_index (site->frames, LingerFrame, i));
  json_close (j, ']');
  json_close (j, '}');
}

static void
write_strings (Json            *j,
               const char      *key,
               const GPtrArray *strings)
{
  json_open (j, key, '[');
  for (guint i = 0; i < strings->len; i++)
    json_string (j, NULL, g_ptr_array_index (strings, i));
  json_close (j, ']');
}

/* The objects of a finding, the same in the finding and its instances. */
static void
write_objects (Json         *j,
               const GArray *objects)
{
  json_open (j, "objects", '[');
  for (guint i = 0; i < objects->len; i++)
    {
      const LingerFindingObject *o = &g_array_index (objects, LingerFindingObject, i);

      json_open (j, NULL, '{');
      json_string (j, "type", o->type);
      json_address (j, "address", o->address);
      json_uint (j, "size", o->size);
      write_allocated_at (j, "allocated_at", o->site);
      json_close (j, '}');
    }
  json_close (j, ']');
}

/* One instance of a group (--instances): what differs between them. */
static void
write_instance (Json                *j,
                const LingerFinding *f)
{
  json_open (j, NULL, '{');
  if (f->state != NULL)
    json_string (j, "state", f->state);
  write_objects (j, f->objects);
  if (j->labelled)
    json_string (j, "created_by", f->created_by);
  if (f->n_members > 0)
    json_uint (j, "cycle_size", f->n_members);
  write_strings (j, "path", f->path);
  if (f->held_by != NULL)
    {
      write_strings (j, "held_by", f->held_by);
      json_string (j, "held_by_root", f->held_by_root);
    }
  if (f->finalizer_via != NULL)
    json_address (j, "finalizer", f->finalizer_address);
  json_close (j, '}');
}

/* Who the finding is across runs (linger_identity.h): what --baseline
 * matches findings by. */
static void
write_fingerprint (Json                *j,
                   const LingerFinding *f)
{
  g_autofree char *fingerprint = linger_finding_fingerprint (f, j->sites);

  json_string (j, "fingerprint", fingerprint);
}

/* leak and gc-collected: no objects, a site and totals instead. */
static void
write_alloc_finding (Json                *j,
                     const char          *key,
                     const LingerFinding *f)
{
  json_open (j, key, '{');
  json_string (j, "kind", f->kind);
  json_string (j, "severity", linger_severity_name (f->severity));
  write_fingerprint (j, f);
  if (strcmp (f->kind, LINGER_FINDING_LEAK) == 0)
    {
      json_uint (j, "blocks", f->blocks);
      json_uint (j, "bytes", f->bytes);
      write_allocated_at (j, "allocated_at", f->site);
      json_string (j, "hint", f->hint);
    }
  else
    {
      json_string (j, "type", f->alloc_type);
      json_string (j, "cycle_kind", f->cycle_kind);
      json_uint (j, "count", f->blocks);
      json_uint (j, "bytes", f->bytes);
      json_uint (j, "allocs", f->allocs);
      json_double (j, "gc_share", f->gc_share);
      write_allocated_at (j, "allocated_at", f->site);
      json_string (j, "example", f->example);
      json_bool (j, "example_is_generic", f->example_is_generic);
      json_bool (j, "in_library", f->in_library);
      json_string (j, "hint", f->hint);
    }
  json_close (j, '}');
}

static void
write_finding_keyed (Json                *j,
                     const char          *key,
                     const LingerFinding *f)
{
  if (f->objects->len == 0)
    {
      write_alloc_finding (j, key, f);
      return;
    }
  json_open (j, key, '{');
  json_string (j, "kind", f->kind);
  json_string (j, "severity", linger_severity_name (f->severity));
  write_fingerprint (j, f);
  json_uint (j, "count", f->count);
  if (f->state != NULL)
    json_string (j, "state", f->state);
  write_objects (j, f->objects);
  /* Only for a trace with labelled snapshots (the pytest plugin): the
   * test that created objects[0], null if none did. */
  if (j->labelled)
    json_string (j, "created_by", f->created_by);
  if (f->n_members > 0)
    json_uint (j, "cycle_size", f->n_members);
  json_uint (j, "retained_bytes", f->retained_bytes);
  json_uint (j, "retained_objects", f->retained_objects);
  write_strings (j, "path", f->path);
  json_string (j, "hint", f->hint);
  if (f->held_by != NULL)
    {
      write_strings (j, "held_by", f->held_by);
      json_string (j, "held_by_root", f->held_by_root);
    }
  if (f->finalizer_via != NULL)
    {
      json_open (j, "finalizer", '{');
      json_address (j, "address", f->finalizer_address);
      json_bool (j, "atexit", f->finalizer_atexit);
      json_string (j, "via", f->finalizer_via);
      if (f->atexit_callback != NULL)
        json_string (j, "callback", f->atexit_callback);
      json_close (j, '}');
    }
  /* Cycles: the bytes of all the group's cycles, the example's types. */
  if (f->n_members > 0)
    json_uint (j, "cycle_bytes", f->cycle_bytes);
  if (f->cycle_types != NULL)
    write_strings (j, "cycle_types", f->cycle_types);
  if (f->instances != NULL)
    {
      json_open (j, "instances", '[');
      for (guint i = 0; i < f->instances->len; i++)
        write_instance (j, g_ptr_array_index (f->instances, i));
      json_close (j, ']');
    }
  json_close (j, '}');
}

static void
write_finding (Json                *j,
               const LingerFinding *f)
{
  write_finding_keyed (j, NULL, f);
}

/* What allocation tracking saw and could not see. */
static void
write_allocations (Json                 *j,
                   const LingerAnalysis *a)
{
  const LingerAlloc *al = a->trace->alloc;
  const linger_rec_alloc_info *info = &al->info;
  g_autoptr(GPtrArray) blind = NULL;

  if (!al->has_info)
    {
      json_string (j, "allocations", NULL);
      return;
    }
  blind = linger_alloc_blind_spots (al);
  json_open (j, "allocations", '{');
  json_bool (j, "python", (info->flags & LINGER_ALLOC_PYTHON) != 0);
  json_bool (j, "native", (info->flags & LINGER_ALLOC_NATIVE) != 0);
  json_bool (j, "native_stacks", (info->flags & LINGER_ALLOC_NATIVE_STACKS) != 0);
  json_uint (j, "python_depth", info->python_depth);
  json_uint (j, "native_depth", info->native_depth);
  json_uint (j, "python_allocs", info->python_allocs);
  json_uint (j, "native_allocs", info->native_allocs);
  json_uint (j, "untracked", info->untracked);
  json_uint (j, "peak_live_blocks", info->peak_live_blocks);
  json_uint (j, "table_bytes", info->table_bytes);
  json_uint (j, "gc_collections", info->gc_collections);
  {
    /* Distinct sites and stacks, for sizing (trace bytes per site). */
    guint64 n_sites = 0, n_py = 0, n_native = 0;
    for (guint i = 0; i < al->sites->len; i++)
      n_sites += g_array_index (al->sites, linger_site_entry, i).id != 0;
    for (guint i = 0; i < al->py_stacks->len; i++)
      n_py += g_array_index (al->py_stacks, LingerStackRef, i).defined != 0;
    for (guint i = 0; i < al->native_stacks->len; i++)
      n_native += g_array_index (al->native_stacks, LingerStackRef, i).defined != 0;
    json_uint (j, "sites", n_sites);
    json_uint (j, "python_stack_count", n_py);
    json_uint (j, "native_stack_count", n_native);
  }
  json_uint (j, "not_counted_blocks", a->alloc_summary.not_counted_blocks);
  json_uint (j, "not_counted_bytes", a->alloc_summary.not_counted_bytes);
  /* Whether the leak findings mean anything: native tracking was on
   * and the trace has the end of the process. */
  json_bool (j, "leaks_known", a->alloc_summary.leaks_known);
  json_uint (j, "hidden_leaks", a->alloc_summary.hidden_leaks);
  json_uint (j, "hidden_gc_collected", a->alloc_summary.hidden_gc_collected);
  /* Native blocks left at exit that are the C runtime's, not leaks. */
  json_uint (j, "loader_blocks", a->alloc_summary.loader_blocks);
  json_uint (j, "loader_bytes", a->alloc_summary.loader_bytes);
  json_uint (j, "loader_libraries", a->alloc_summary.loader_libraries);
  json_uint (j, "libc_cache_blocks", a->alloc_summary.libc_cache_blocks);
  json_uint (j, "libc_cache_bytes", a->alloc_summary.libc_cache_bytes);
  write_strings (j, "blind_spots", blind);
  json_close (j, '}');
}

/* gc-collected objects without a site (interpreter start-up), lumped:
 * null without allocation tracking. */
static void
write_gc_unattributed (Json                 *j,
                       const LingerAnalysis *a)
{
  const LingerAllocSummary *sum = &a->alloc_summary;

  if (!a->trace->alloc->has_info)
    {
      json_string (j, "gc_collected_unattributed", NULL);
      return;
    }
  json_open (j, "gc_collected_unattributed", '{');
  json_uint (j, "objects", sum->gc_unattributed_objects);
  json_uint (j, "bytes", sum->gc_unattributed_bytes);
  json_uint (j, "types", sum->gc_unattributed_types);
  json_close (j, '}');
}

/* What suppressions and a baseline took out: "suppressed" (always, a
 * count and the findings with the entry that matched each),
 * "unused_suppressions", and "baseline" (null without --baseline). */
static void
write_filtered (Json                 *j,
                const LingerFiltered *f)
{
  json_open (j, "suppressed", '{');
  json_uint (j, "count", f != NULL ? f->suppressed->len : 0);
  json_open (j, "files", '[');
  for (guint i = 0; f != NULL && i < f->suppression_files->len; i++)
    json_string (j, NULL, g_ptr_array_index (f->suppression_files, i));
  json_close (j, ']');
  json_open (j, "findings", '[');
  for (guint i = 0; f != NULL && i < f->suppressed->len; i++)
    {
      json_open (j, NULL, '{');
      json_string (j, "suppressed_by", g_ptr_array_index (f->suppressed_by, i));
      write_finding_keyed (j, "finding", g_ptr_array_index (f->suppressed, i));
      json_close (j, '}');
    }
  json_close (j, ']');
  json_close (j, '}');

  json_open (j, "unused_suppressions", '[');
  for (guint i = 0; f != NULL && i < f->unused->len; i++)
    {
      const LingerUnusedSuppression *u = g_ptr_array_index (f->unused, i);

      json_open (j, NULL, '{');
      json_string (j, "file", u->file);
      json_uint (j, "line", u->line);
      json_string (j, "kind", u->kind);
      json_close (j, '}');
    }
  json_close (j, ']');

  if (f == NULL || f->baseline_path == NULL)
    {
      json_string (j, "baseline", NULL);
      return;
    }
  json_open (j, "baseline", '{');
  json_string (j, "file", f->baseline_path);
  json_uint (j, "findings", f->baseline_size);
  /* Findings of this report already in the baseline, left out. */
  json_uint (j, "known", f->known->len);
  json_close (j, '}');
}

/* Labelled snapshots: the tests in order and the findings each created;
 * "test": null collects those no test did. */
static void
write_by_test (Json                 *j,
               const LingerAnalysis *a)
{
  g_autoptr(GArray) rows = linger_attribution_by_test (a->trace, a->snapshot, a->findings);

  json_uint (j, "labelled_snapshots", linger_attribution_n_labelled (a->trace, a->snapshot));
  json_open (j, "findings_by_test", '[');
  for (guint i = 0; i < rows->len; i++)
    {
      const LingerTestFindings *r = &g_array_index (rows, LingerTestFindings, i);

      json_open (j, NULL, '{');
      json_string (j, "test", r->label);
      json_uint (j, "findings", r->findings);
      json_uint (j, "instances", r->instances);
      json_close (j, '}');
    }
  json_close (j, ']');
}

void
linger_report_json (const LingerAnalysis *a,
                    GString              *out)
{
  Json j = { .out = out, .sites = a->sites };

  j.labelled = a->snapshot != NULL && linger_attribution_n_labelled (a->trace, a->snapshot) > 0;
  json_open (&j, NULL, '{');
  json_string (&j, "linger_version", LINGER_VERSION);
  write_trace (&j, a);
  write_allocations (&j, a);
  json_open (&j, "findings", '[');
  for (guint i = 0; i < a->findings->len; i++)
    write_finding (&j, g_ptr_array_index (a->findings, i));
  json_close (&j, ']');
  if (j.labelled)
    write_by_test (&j, a);
  write_gc_unattributed (&j, a);
  write_filtered (&j, a->filtered);
  json_close (&j, '}');
  g_string_append_c (out, '\n');
}

/* --- linger report --diff ----------------------------------------------- */

static void
write_diff_side (Json                   *j,
                 const char             *key,
                 const LingerAnalysis   *a,
                 const LingerDiffTotals *totals)
{
  const LingerTrace *t = a->trace;
  const LingerSnapshot *s = a->snapshot;

  json_open (j, key, '{');
  json_string (j, "path", a->path);
  json_string (j, "program", t->program);
  json_uint (j, "pid", t->pid);
  json_string (j, "python", t->has_runtime ? t->python_version : NULL);
  json_bool (j, "complete", t->complete);
  if (!t->complete)
    json_string (j, "incomplete_reason", t->incomplete_reason);
  json_uint (j, "snapshots", t->snapshots->len);
  json_open (j, "snapshot", '{');
  json_uint (j, "id", s->id);
  json_string (j, "reason", linger_snapshot_reason_name (s->reason));
  json_uint (j, "time_ns", s->time_ns);
  json_bool (j, "closed", s->closed);
  json_bool (j, "partial", s->status != LINGER_SNAPSHOT_OK);
  json_uint (j, "objects", totals->objects);
  json_uint (j, "bytes", totals->bytes);
  json_uint (j, "live_objects", totals->live_objects);
  json_uint (j, "live_bytes", totals->live_bytes);
  json_uint (j, "garbage_objects", totals->garbage_objects);
  json_uint (j, "garbage_bytes", totals->garbage_bytes);
  json_uint (j, "findings", totals->findings);
  json_close (j, '}');
  json_close (j, '}');
}

void
linger_report_json_diff (const LingerDiff *d,
                         GString          *out)
{
  Json j = { .out = out, .sites = d->after->sites };
  const LingerDiffTotals *b = &d->before_totals;
  const LingerDiffTotals *a = &d->after_totals;

  json_open (&j, NULL, '{');
  json_string (&j, "linger_version", LINGER_VERSION);
  write_diff_side (&j, "before", d->before, b);
  write_diff_side (&j, "after", d->after, a);

  /* after minus before; negative when something shrank. */
  json_open (&j, "growth", '{');
  json_int (&j, "objects", (gint64) d->objects_after - (gint64) d->objects_before);
  json_int (&j, "bytes", (gint64) d->bytes_after - (gint64) d->bytes_before);
  json_int (&j, "live_objects", (gint64) a->live_objects - (gint64) b->live_objects);
  json_int (&j, "live_bytes", (gint64) a->live_bytes - (gint64) b->live_bytes);
  json_int (&j, "garbage_objects", (gint64) a->garbage_objects - (gint64) b->garbage_objects);
  json_int (&j, "garbage_bytes", (gint64) a->garbage_bytes - (gint64) b->garbage_bytes);
  json_int (&j, "elapsed_ns", (gint64) (d->after->snapshot->time_ns - d->before->snapshot->time_ns));
  json_close (&j, '}');

  json_bool (&j, "sites_recorded", d->sites_recorded);
  json_open (&j, "types", '[');
  for (guint i = 0; i < d->rows->len; i++)
    {
      const LingerDiffRow *row = &g_array_index (d->rows, LingerDiffRow, i);

      json_open (&j, NULL, '{');
      json_string (&j, "type", row->type);
      json_string (&j, "allocated_at", row->site);
      json_int (&j, "objects", linger_diff_row_objects (row));
      json_int (&j, "bytes", linger_diff_row_bytes (row));
      json_uint (&j, "objects_before", row->objects_before);
      json_uint (&j, "objects_after", row->objects_after);
      json_uint (&j, "bytes_before", row->bytes_before);
      json_uint (&j, "bytes_after", row->bytes_after);
      json_close (&j, '}');
    }
  json_close (&j, ']');
  json_uint (&j, "unchanged_types", d->n_unchanged_types);

  json_open (&j, "new_findings", '[');
  for (guint i = 0; i < d->new_findings->len; i++)
    write_finding (&j, g_ptr_array_index (d->new_findings, i));
  json_close (&j, ']');
  json_open (&j, "grown_findings", '[');
  for (guint i = 0; i < d->grown_findings->len; i++)
    {
      const LingerDiffGrown *g = &g_array_index (d->grown_findings, LingerDiffGrown, i);

      json_open (&j, NULL, '{');
      json_uint (&j, "count_before", g->count_before);
      json_uint (&j, "count_after", g->count_after);
      json_uint (&j, "retained_bytes_before", g->retained_bytes_before);
      json_uint (&j, "retained_bytes_after", g->retained_bytes_after);
      write_finding_keyed (&j, "finding", g->finding);
      json_close (&j, '}');
    }
  json_close (&j, ']');
  json_uint (&j, "gone_findings", d->n_gone_findings);
  json_close (&j, '}');
  g_string_append_c (out, '\n');
}
