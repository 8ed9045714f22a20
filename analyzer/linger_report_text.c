/* linger_report_text.c: the report for people. */
#include "linger_report_text.h"

#include <string.h>

#include "linger_attribution.h"
#include "linger_describe.h"
#include "linger_policy.h"

typedef struct
{
  GString     *out;
  gboolean     color;
  LingerSites *sites;       /* NULL: no allocation sites shown */
  guint        max_frames;  /* of an allocation stack */
} Text;

#define BOLD    "\033[1m"
#define RED     "\033[1;31m"
#define YELLOW  "\033[1;33m"
#define DIM     "\033[2m"
#define RESET   "\033[0m"

static void
style (Text       *t,
       const char *code)
{
  if (t->color)
    g_string_append (t->out, code);
}

/* Text from the trace is the profiled program's: invalid UTF-8 is
 * replaced and control characters are not sent to the terminal. */
static void
append_safe (Text       *t,
             const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);

  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;
      g_string_append_c (t->out, (c < 0x20 || c == 0x7f) ? '?' : (char) c);
    }
}

static void
field (Text       *t,
       const char *name)
{
  g_string_append (t->out, "  ");
  style (t, BOLD);
  g_string_append_printf (t->out, "%-10s", name);
  style (t, RESET);
  g_string_append_c (t->out, ' ');
}

/* "512 bytes", "12.5 KiB", "2.0 MiB": exact below 10 KiB, one decimal
 * above, the same in every locale. */
static void
append_bytes (GString *out,
              guint64  bytes)
{
  static const char * const units[] = { "KiB", "MiB", "GiB", "TiB" };
  guint64 scaled = bytes;
  guint u = 0;

  if (bytes < 10 * 1024)
    {
      g_string_append_printf (out, "%" G_GUINT64_FORMAT " bytes", bytes);
      return;
    }
  /* Tenths of the largest unit that leaves at least 1. */
  while (u + 1 < G_N_ELEMENTS (units) && scaled >= 1024 * 1024)
    {
      scaled /= 1024;
      u++;
    }
  scaled = (scaled * 10 + 512) / 1024;
  g_string_append_printf (out, "%" G_GUINT64_FORMAT ".%u %s", scaled / 10, (guint) (scaled % 10), units[u]);
}

static void
write_allocations (Text                 *t,
                   const LingerAnalysis *a)
{
  const LingerAlloc *al = a->trace->alloc;
  const linger_rec_alloc_info *info = &al->info;
  const LingerAllocSummary *sum = &a->alloc_summary;
  g_autoptr(GPtrArray) blind = NULL;

  if (!al->has_info)
    return;
  field (t, "allocations:");
  if (info->flags & LINGER_ALLOC_PYTHON)
    g_string_append_printf (t->out, "python sites yes (depth %u)", info->python_depth);
  else
    g_string_append (t->out, "python sites no");
  if (info->flags & LINGER_ALLOC_NATIVE)
    {
      if (info->flags & LINGER_ALLOC_NATIVE_STACKS)
        g_string_append_printf (t->out, ", native yes (depth %u)", info->native_depth);
      else
        g_string_append (t->out, ", native yes (no stacks)");
    }
  else
    g_string_append (t->out, ", native no");
  g_string_append_printf (t->out, ", %" G_GUINT64_FORMAT " allocations tracked, peak %" G_GUINT64_FORMAT
                          " live blocks, tables ", info->python_allocs + info->native_allocs,
                          info->peak_live_blocks);
  append_bytes (t->out, info->table_bytes);
  g_string_append_c (t->out, '\n');

  if (info->flags & LINGER_ALLOC_NATIVE)
    {
      field (t, "leaks:");
      if (!sum->leaks_known)
        g_string_append (t->out, "unknown: the trace does not reach the end of the process, so which "
                                 "blocks are never freed cannot be known\n");
      else
        {
          g_string_append_printf (t->out, "not counted: %" G_GUINT64_FORMAT " blocks, ",
                                  sum->not_counted_blocks);
          append_bytes (t->out, sum->not_counted_bytes);
          g_string_append (t->out, " allocated during interpreter start-up/shutdown\n");
          /* Each with its own reason: the program can do nothing about
           * either. */
          if (sum->loader_blocks > 0)
            {
              field (t, "");
              g_string_append_printf (t->out, "not counted: %" G_GUINT64_FORMAT " blocks, ", sum->loader_blocks);
              append_bytes (t->out, sum->loader_bytes);
              g_string_append_printf (t->out, " loader bookkeeping for %u loaded libraries (link maps, "
                                      "TLS: freed only by dlclose)\n", sum->loader_libraries);
            }
          if (sum->libc_cache_blocks > 0)
            {
              field (t, "");
              g_string_append_printf (t->out, "not counted: %" G_GUINT64_FORMAT " blocks, ",
                                      sum->libc_cache_blocks);
              append_bytes (t->out, sum->libc_cache_bytes);
              g_string_append (t->out, " in libc's one-time caches (standard stream buffers, locale data)\n");
            }
        }
    }

  blind = linger_alloc_blind_spots (al);
  for (guint i = 0; i < blind->len; i++)
    {
      field (t, i == 0 ? "not seen:" : "");
      append_safe (t, g_ptr_array_index (blind, i));
      g_string_append_c (t->out, '\n');
    }
}

/* What suppressions and a baseline left out of the report. */
static void
write_filtered (Text                 *t,
                const LingerFiltered *f)
{
  if (f == NULL)
    return;
  if (f->suppression_files->len > 0)
    {
      field (t, "suppressed:");
      g_string_append_printf (t->out, "%u finding%s suppressed (", f->suppressed->len,
                              f->suppressed->len == 1 ? "" : "s");
      for (guint i = 0; i < f->suppression_files->len; i++)
        {
          if (i > 0)
            g_string_append (t->out, ", ");
          append_safe (t, g_ptr_array_index (f->suppression_files, i));
        }
      g_string_append (t->out, ")\n");
    }
  if (f->baseline_path != NULL)
    {
      field (t, "baseline:");
      g_string_append_printf (t->out, "%u finding%s already in the baseline ", f->known->len,
                              f->known->len == 1 ? "" : "s");
      append_safe (t, f->baseline_path);
      g_string_append_c (t->out, '\n');
    }
}

static void
write_header (Text                 *t,
              const LingerAnalysis *a)
{
  const LingerTrace *tr = a->trace;

  style (t, BOLD);
  g_string_append (t->out, "linger report: ");
  append_safe (t, *tr->program != '\0' ? tr->program : "unknown program");
  g_string_append_printf (t->out, " (pid %u)", tr->pid);
  style (t, RESET);
  g_string_append_c (t->out, '\n');

  if (a->path != NULL)
    {
      field (t, "trace:");
      append_safe (t, a->path);
      g_string_append_c (t->out, '\n');
    }

  field (t, "python:");
  if (tr->has_runtime)
    {
      append_safe (t, tr->python_version);
      if (tr->implementation != NULL)
        {
          g_string_append (t->out, " (");
          append_safe (t, tr->implementation);
          g_string_append_c (t->out, ')');
        }
    }
  else
    g_string_append (t->out, "no Python heap (not a CPython process)");
  g_string_append_c (t->out, '\n');

  field (t, "snapshot:");
  if (a->snapshot != NULL)
    {
      g_string_append_printf (t->out, "#%u of %u, taken %s, %u objects, %u references",
                              a->snapshot->id, tr->snapshots->len,
                              a->snapshot->reason == LINGER_SNAPSHOT_INTERVAL
                                ? "on the interval timer"
                                : linger_snapshot_reason_name (a->snapshot->reason),
                              a->graph->n_nodes, a->graph->n_edges);
      if (!a->snapshot->closed)
        g_string_append (t->out, " (partial: the snapshot was cut short)");
      else if (a->snapshot->status != LINGER_SNAPSHOT_OK)
        g_string_append (t->out, " (partial: the shim stopped the walk early)");
    }
  else if (tr->has_runtime)
    g_string_append (t->out, "none (the program ended before a snapshot was taken)");
  else
    g_string_append (t->out, "none");
  g_string_append_c (t->out, '\n');

  if (a->snapshot != NULL)
    {
      guint labelled = linger_attribution_n_labelled (tr, a->snapshot);

      if (labelled > 0)
        {
          field (t, "tests:");
          g_string_append_printf (t->out, "%u labelled snapshot%s (one after each test): findings are "
                                  "attributed to the test that created them\n",
                                  labelled, labelled == 1 ? "" : "s");
        }
    }

  if (a->dominators != NULL)
    {
      field (t, "live:");
      g_string_append_printf (t->out, "%" G_GUINT64_FORMAT " objects, ", a->dominators->live_objects);
      append_bytes (t->out, a->dominators->live_bytes);
      g_string_append (t->out, " reachable from a root\n");
      field (t, "garbage:");
      g_string_append_printf (t->out, "%" G_GUINT64_FORMAT " objects, ", a->dominators->garbage_objects);
      append_bytes (t->out, a->dominators->garbage_bytes);
      g_string_append (t->out, " that no root reaches (cycles the collector has not freed yet)\n");
    }

  write_allocations (t, a);

  field (t, "status:");
  if (tr->complete && tr->exit_path == LINGER_EXIT_UNDERSCORE)
    g_string_append (t->out, "complete (the program ended with _exit(): no exit snapshot)");
  else if (tr->complete)
    g_string_append (t->out, "complete");
  else
    {
      style (t, YELLOW);
      g_string_append (t->out, "incomplete");
      style (t, RESET);
      g_string_append (t->out, ": ");
      append_safe (t, tr->incomplete_reason);
    }
  g_string_append_c (t->out, '\n');

  write_filtered (t, a->filtered);

  for (guint i = 0; i < tr->messages->len; i++)
    {
      const LingerMessage *m = g_ptr_array_index (tr->messages, i);

      field (t, i == 0 ? "messages:" : "");
      if (m->level == LINGER_MSG_WARNING)
        {
          style (t, YELLOW);
          g_string_append (t->out, "warning: ");
          style (t, RESET);
        }
      append_safe (t, m->text);
      g_string_append_c (t->out, '\n');
    }
}

static const char *
root_description (const char *root)
{
  if (strcmp (root, "module") == 0)
    return "a module in sys.modules";
  if (strcmp (root, "thread") == 0)
    return "a running thread's frame";
  if (strcmp (root, "external") == 0)
    return "held from outside the recorded graph: C code or the interpreter";
  if (strcmp (root, "atexit") == 0)
    return "an atexit callback";
  return root;
}

static void
write_path (Text            *t,
            const char      *label,
            const GPtrArray *path)
{
  g_string_append_printf (t->out, "    %-10s ", label);
  for (guint i = 0; i < path->len; i++)
    {
      if (i > 0)
        g_string_append (t->out, " → ");
      append_safe (t, g_ptr_array_index (path, i));
    }
  g_string_append_c (t->out, '\n');
}

static gboolean
same_steps (const GPtrArray *a,
            const GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (strcmp (g_ptr_array_index (a, i), g_ptr_array_index (b, i)) != 0)
      return FALSE;
  return TRUE;
}

/* "allocated: app.py:12 in make_conn", then the stack below it. */
static void
write_site (Text    *t,
            guint32  site_id)
{
  const LingerSite *site = t->sites != NULL && site_id != 0 ? linger_sites_get (t->sites, site_id) : NULL;
  guint shown;

  if (site == NULL || site->frames->len == 0)
    return;
  g_string_append_printf (t->out, "    %-10s ", "allocated:");
  append_safe (t, site->summary != NULL ? site->summary : "?");
  g_string_append_c (t->out, '\n');
  if (site->frames->len < 2)
    return;
  shown = MIN (site->frames->len, t->max_frames);
  for (guint i = 0; i < shown; i++)
    {
      const LingerFrame *f = &g_array_index (site->frames, LingerFrame, i);
      g_autoptr(GString) line = g_string_new (NULL);

      linger_frame_append (line, f);
      g_string_append_printf (t->out, "    %-10s %s", i == 0 ? "stack:" : "", (gint) i == site->at ? "→ " : "  ");
      append_safe (t, line->str);
      if (f->inlined)
        g_string_append (t->out, " (inlined)");
      g_string_append_c (t->out, '\n');
    }
  if (shown < site->frames->len)
    g_string_append_printf (t->out, "    %-10s   … %u more frames (--stacks shows them all)\n", "",
                            site->frames->len - shown);
}

/* leak and gc-collected. */
static void
write_alloc_finding (Text                *t,
                     const LingerFinding *f)
{
  if (strcmp (f->kind, LINGER_FINDING_LEAK) == 0)
    {
      g_string_append_printf (t->out, "  %" G_GUINT64_FORMAT " block%s, ", f->blocks, f->blocks == 1 ? "" : "s");
      append_bytes (t->out, f->bytes);
      g_string_append (t->out, " never freed\n");
      write_site (t, f->site);
    }
  else
    {
      const char *type = linger_describe_short_type (f->alloc_type);
      const LingerSite *site = t->sites != NULL && f->site != 0 ? linger_sites_get (t->sites, f->site) : NULL;

      g_string_append_printf (t->out, "  %" G_GUINT64_FORMAT " × ", f->blocks);
      append_safe (t, f->alloc_type);
      g_string_append (t->out, ", ");
      append_bytes (t->out, f->bytes);
      g_string_append_printf (t->out, " freed by the cyclic GC (%s cycle%s)\n", f->cycle_kind,
                              f->blocks == 1 ? "" : "s");
      write_site (t, f->site);
      g_string_append_printf (t->out, "    %-10s ", "share:");
      if (site != NULL && site->summary != NULL && f->site_frees > 0)
        {
          g_string_append_printf (t->out, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " ", f->blocks,
                                  MAX (f->site_frees, f->blocks));
          append_safe (t, type);
          g_string_append (t->out, " objects allocated at ");
          append_safe (t, site->summary);
          g_string_append (t->out, " were freed only by the cyclic GC\n");
        }
      else
        {
          g_string_append_printf (t->out, "%" G_GUINT64_FORMAT " ", f->blocks);
          append_safe (t, type);
          g_string_append (t->out, site != NULL ? " objects were freed only by the cyclic GC\n"
                                                : " objects of unknown site (allocated before tracking "
                                                  "started) were freed only by the cyclic GC\n");
        }
      if (f->example != NULL)
        {
          g_string_append_printf (t->out, "    %-10s ", "example:");
          append_safe (t, f->example);
          g_string_append (t->out, f->example_is_generic ? " (the usual shape, not seen in the snapshot)\n"
                                                         : " (a cycle of the snapshot from the same site)\n");
        }
    }
  g_string_append_printf (t->out, "    %-10s ", "hint:");
  append_safe (t, f->hint);
  g_string_append_c (t->out, '\n');
}

static void
write_finding (Text                *t,
               const LingerFinding *f)
{
  const LingerFindingObject *o;

  if (f->objects->len == 0)
    {
      write_alloc_finding (t, f);
      return;
    }
  o = &g_array_index (f->objects, LingerFindingObject, 0);

  g_string_append (t->out, "  ");
  g_string_append_printf (t->out, "%u × ", f->count);
  append_safe (t, o->type);
  if (f->state != NULL)
    g_string_append_printf (t->out, " (%s)", f->state);
  g_string_append_c (t->out, '\n');

  g_string_append_printf (t->out, "    %-10s 0x%" G_GINT64_MODIFIER "x, %" G_GUINT64_FORMAT " bytes",
                          f->count > 1 ? "example:" : "object:", o->address, o->size);
  if (f->n_members == 1)
    g_string_append (t->out, ", refers to itself");
  else if (f->n_members > 0)
    g_string_append_printf (t->out, ", in a cycle of %u objects", f->n_members);
  g_string_append_c (t->out, '\n');
  if (f->created_by != NULL)
    {
      g_string_append (t->out, "    created by ");
      append_safe (t, f->created_by);
      g_string_append_c (t->out, '\n');
    }
  write_site (t, o->site);

  /* What fixing it gives back: the objects only this finding keeps. */
  g_string_append_printf (t->out, "    %-10s ", "retains:");
  append_bytes (t->out, f->retained_bytes);
  g_string_append_printf (t->out, " in %" G_GUINT64_FORMAT " object%s%s\n", f->retained_objects,
                          f->retained_objects == 1 ? "" : "s",
                          f->count > 1 ? ", all instances together" : "");

  if (f->atexit_callback != NULL)
    {
      g_string_append_printf (t->out, "    %-10s ", "atexit:");
      append_safe (t, f->atexit_callback);
      g_string_append (t->out, ", holds it until exit\n");
    }
  else if (f->finalizer_via != NULL)
    g_string_append_printf (t->out, "    %-10s 0x%" G_GINT64_MODIFIER "x, holds it through %s%s\n",
                            "finalizer:", f->finalizer_address, f->finalizer_via,
                            f->finalizer_atexit ? ", runs only at exit" : ", atexit=False: never runs");
  if (f->cycle_types != NULL && strcmp (f->kind, LINGER_FINDING_REFERENCE_CYCLE) == 0)
    {
      g_string_append_printf (t->out, "    %-10s ", "types:");
      for (guint i = 0; i < f->cycle_types->len; i++)
        {
          if (i > 0)
            g_string_append (t->out, ", ");
          append_safe (t, g_ptr_array_index (f->cycle_types, i));
        }
      g_string_append_printf (t->out, "; %" G_GUINT64_FORMAT " bytes in %s\n", f->cycle_bytes,
                              f->count > 1 ? "these cycles" : "the cycle");
    }

  write_path (t, "path:", f->path);
  if (f->held_by != NULL && !same_steps (f->held_by, f->path))
    {
      write_path (t, "held by:", f->held_by);
      g_string_truncate (t->out, t->out->len - 1);   /* the root goes on the same line */
      g_string_append_printf (t->out, " (%s)\n", root_description (f->held_by_root));
    }

  g_string_append_printf (t->out, "    %-10s ", "hint:");
  append_safe (t, f->hint);
  g_string_append_c (t->out, '\n');

  /* --instances: one line per instance, its path or why it is live. */
  for (guint i = 0; f->instances != NULL && i < f->instances->len; i++)
    {
      const LingerFinding *inst = g_ptr_array_index (f->instances, i);
      const LingerFindingObject *io = &g_array_index (inst->objects, LingerFindingObject, 0);
      const GPtrArray *steps = inst->held_by != NULL ? inst->held_by : inst->path;

      g_string_append_printf (t->out, "    %-10s 0x%" G_GINT64_MODIFIER "x (%s): ",
                              i == 0 ? "instances:" : "", io->address, inst->state != NULL ? inst->state : "?");
      for (guint k = 0; k < steps->len; k++)
        {
          if (k > 0)
            g_string_append (t->out, " → ");
          append_safe (t, g_ptr_array_index (steps, k));
        }
      if (inst->created_by != NULL)
        {
          g_string_append (t->out, " [created by ");
          append_safe (t, inst->created_by);
          g_string_append_c (t->out, ']');
        }
      g_string_append_c (t->out, '\n');
    }
}

/* With labelled snapshots: how many findings each test created. */
static void
write_by_test (Text                 *t,
               const LingerAnalysis *a)
{
  g_autoptr(GArray) rows = NULL;

  if (a->snapshot == NULL || linger_attribution_n_labelled (a->trace, a->snapshot) == 0)
    return;
  rows = linger_attribution_by_test (a->trace, a->snapshot, a->findings);
  if (rows->len == 0)
    return;
  g_string_append (t->out, "\nFindings by test (each finding goes to the test after which its object first existed):\n");
  for (guint i = 0; i < rows->len; i++)
    {
      const LingerTestFindings *r = &g_array_index (rows, LingerTestFindings, i);

      g_string_append (t->out, "  ");
      if (r->label != NULL)
        append_safe (t, r->label);
      else
        g_string_append (t->out, "(no test: created after the last one, or not listed by the GC)");
      g_string_append_printf (t->out, ": %u finding%s", r->findings, r->findings == 1 ? "" : "s");
      if (r->instances != r->findings)
        g_string_append_printf (t->out, " (%u instances)", r->instances);
      g_string_append_c (t->out, '\n');
    }
}

static const char *
kind_summary (const char *kind)
{
  if (strcmp (kind, LINGER_FINDING_FINALIZER_KEEPALIVE) == 0)
    return "objects kept alive by their own weakref.finalize or atexit callback";
  if (strcmp (kind, LINGER_FINDING_BOUND_METHOD_CYCLE) == 0)
    return "objects holding a bound method of themselves (a reference cycle)";
  if (strcmp (kind, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE) == 0)
    return "objects kept alive by the callback of their own weak reference";
  if (strcmp (kind, LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE) == 0)
    return "weak dictionary entries that hold their own weak key or value";
  if (strcmp (kind, LINGER_FINDING_CLOSURE_CYCLE) == 0)
    return "objects holding a function that closes over them (a reference cycle)";
  if (strcmp (kind, LINGER_FINDING_REFERENCE_CYCLE) == 0)
    return "reference cycles only the cyclic garbage collector can free";
  if (strcmp (kind, LINGER_FINDING_UNCOLLECTABLE) == 0)
    return "objects the garbage collector gave up on (gc.garbage)";
  if (strcmp (kind, LINGER_FINDING_RESURRECTED) == 0)
    return "objects alive again after their __del__ ran";
  if (strcmp (kind, LINGER_FINDING_LEAK) == 0)
    return "native memory never freed";
  if (strcmp (kind, LINGER_FINDING_GC_COLLECTED) == 0)
    return "objects only the cyclic garbage collector freed (each was in a reference cycle)";
  return "";
}

/* The gc-collected objects without a site, one line after the others. */
static void
write_gc_unattributed (Text                     *t,
                       const LingerAllocSummary *sum)
{
  if (sum->gc_unattributed_objects == 0)
    return;
  g_string_append_printf (t->out, "  … and %" G_GUINT64_FORMAT " objects (", sum->gc_unattributed_objects);
  append_bytes (t->out, sum->gc_unattributed_bytes);
  g_string_append_printf (t->out, ") of %u types allocated during interpreter start-up were also freed by "
                          "the cyclic GC\n", sum->gc_unattributed_types);
}

void
linger_report_text (const LingerAnalysis *a,
                    gboolean              color,
                    GString              *out)
{
  linger_report_text_full (a, color, LINGER_REPORT_DEFAULT_FRAMES, out);
}

void
linger_report_text_full (const LingerAnalysis *a,
                         gboolean              color,
                         guint                 max_frames,
                         GString              *out)
{
  Text t = { .out = out, .color = color, .sites = a->sites, .max_frames = max_frames };
  const char *kind = NULL;

  write_header (&t, a);
  g_string_append_c (out, '\n');

  if (a->snapshot == NULL && a->findings->len > 0)
    g_string_append (out, a->trace->has_runtime
                     ? "No snapshot of the Python heap: only what allocation tracking saw.\n\n"
                     : "No Python heap: only what allocation tracking saw.\n\n");
  else if (a->snapshot == NULL)
    {
      g_string_append (out, a->trace->has_runtime
                       ? "No findings: there is no snapshot of the Python heap to analyse.\n"
                       : "No findings: there is no Python heap to analyse.\n");
      return;
    }
  if (a->findings->len == 0)
    {
      g_string_append (out, "No findings.\n");
      write_gc_unattributed (&t, &a->alloc_summary);
      return;
    }

  /* A heading per kind, kinds in the order they first come (findings
   * are sorted by severity first), each kind's findings in their order. */
  {
    g_autoptr(GPtrArray) kinds = g_ptr_array_new ();

    for (guint i = 0; i < a->findings->len; i++)
      {
        const LingerFinding *f = g_ptr_array_index (a->findings, i);
        gboolean seen = FALSE;

        for (guint k = 0; k < kinds->len && !seen; k++)
          seen = strcmp (g_ptr_array_index (kinds, k), f->kind) == 0;
        if (!seen)
          g_ptr_array_add (kinds, (gpointer) f->kind);
      }
    gboolean gc_written = FALSE;

    for (guint k = 0; k < kinds->len; k++)
    {
      for (guint i = 0; i < a->findings->len; i++)
        {
          const LingerFinding *f = g_ptr_array_index (a->findings, i);

          if (strcmp (f->kind, g_ptr_array_index (kinds, k)) != 0)
            continue;
          if (kind == NULL || strcmp (kind, f->kind) != 0)
            {
              if (kind != NULL)
                g_string_append_c (out, '\n');
              kind = f->kind;
              style (&t, f->severity == LINGER_SEVERITY_ERROR ? RED : YELLOW);
              g_string_append_printf (out, "%s %s", linger_severity_name (f->severity), f->kind);
              style (&t, RESET);
              g_string_append_printf (out, ": %s\n", kind_summary (f->kind));
            }
          write_finding (&t, f);
        }
      if (strcmp (g_ptr_array_index (kinds, k), LINGER_FINDING_GC_COLLECTED) == 0)
        {
          write_gc_unattributed (&t, &a->alloc_summary);
          gc_written = TRUE;
        }
    }
    if (!gc_written)
      write_gc_unattributed (&t, &a->alloc_summary);
  }
  if (a->alloc_summary.hidden_leaks > 0 || a->alloc_summary.hidden_gc_collected > 0)
    g_string_append_printf (out, "\n(%u more leak sites and %u more gc-collected groups, smaller: "
                            "--all lists them)\n", a->alloc_summary.hidden_leaks,
                            a->alloc_summary.hidden_gc_collected);
  write_by_test (&t, a);
}

/* --- linger report --diff ----------------------------------------------- */

/* Rows of the growth table the text shows; JSON lists them all. */
#define DIFF_MAX_ROWS 20

static void
append_signed (GString *out,
               gint64   value)
{
  g_string_append_printf (out, "%s%" G_GINT64_FORMAT, value > 0 ? "+" : "", value);
}

static void
append_signed_bytes (GString *out,
                     gint64   bytes)
{
  g_string_append (out, bytes > 0 ? "+" : bytes < 0 ? "-" : "");
  append_bytes (out, bytes < 0 ? (guint64) -bytes : (guint64) bytes);
}

static void
write_diff_side (Text                   *t,
                 const char             *label,
                 const LingerAnalysis   *a,
                 const LingerDiffTotals *totals,
                 gboolean                name_program)
{
  const LingerSnapshot *s = a->snapshot;

  field (t, label);
  append_safe (t, a->path);
  if (name_program)
    {
      g_string_append (t->out, ", ");
      append_safe (t, *a->trace->program != '\0' ? a->trace->program : "unknown program");
      g_string_append_printf (t->out, " (pid %u)", a->trace->pid);
    }
  g_string_append_printf (t->out, ", snapshot #%u of %u (%s), %" G_GUINT64_FORMAT " objects, ",
                          s->id, a->trace->snapshots->len, linger_snapshot_reason_name (s->reason),
                          totals->objects);
  append_bytes (t->out, totals->bytes);
  if (!s->closed)
    g_string_append (t->out, " (partial: the snapshot was cut short, its counts are too low)");
  else if (s->status != LINGER_SNAPSHOT_OK)
    g_string_append (t->out, " (partial: the shim stopped the walk early, its counts are too low)");
  g_string_append_c (t->out, '\n');
}

static void
write_diff_status (Text              *t,
                   const LingerTrace *tr,
                   const char        *path,
                   gboolean           name_path)
{
  field (t, "status:");
  if (name_path)
    {
      append_safe (t, path);
      g_string_append (t->out, ": ");
    }
  if (tr->complete)
    g_string_append (t->out, "complete");
  else
    {
      style (t, YELLOW);
      g_string_append (t->out, "incomplete");
      style (t, RESET);
      g_string_append (t->out, ": ");
      append_safe (t, tr->incomplete_reason);
    }
  g_string_append_c (t->out, '\n');
}

void
linger_report_text_diff (const LingerDiff *d,
                         gboolean          color,
                         GString          *out)
{
  Text t = { .out = out, .color = color, .sites = d->after->sites,
             .max_frames = LINGER_REPORT_DEFAULT_FRAMES };
  const LingerAnalysis *before = d->before;
  const LingerAnalysis *after = d->after;
  gboolean one_trace = d->trace_after == NULL;
  const LingerTrace *tr = before->trace;
  const char *kind = NULL;
  guint n_grown = 0;
  guint n_shrunk = 0;
  gint64 shrunk_bytes = 0;
  gint64 elapsed;

  style (&t, BOLD);
  g_string_append (out, "linger diff: ");
  append_safe (&t, *tr->program != '\0' ? tr->program : "unknown program");
  g_string_append_printf (out, " (pid %u)", tr->pid);
  if (!one_trace)
    {
      g_string_append (out, " and ");
      append_safe (&t, *after->trace->program != '\0' ? after->trace->program : "unknown program");
      g_string_append_printf (out, " (pid %u)", after->trace->pid);
    }
  style (&t, RESET);
  g_string_append_c (out, '\n');

  write_diff_side (&t, "before:", before, &d->before_totals, !one_trace);
  write_diff_side (&t, "after:", after, &d->after_totals, !one_trace);
  field (&t, "python:");
  append_safe (&t, tr->has_runtime ? tr->python_version : "not a CPython process");
  if (!one_trace && after->trace->has_runtime
      && g_strcmp0 (tr->python_version, after->trace->python_version) != 0)
    {
      g_string_append (out, " before, ");
      append_safe (&t, after->trace->python_version);
      g_string_append (out, " after");
    }
  g_string_append_c (out, '\n');
  write_diff_status (&t, tr, before->path, !one_trace);
  if (!one_trace)
    write_diff_status (&t, after->trace, after->path, TRUE);

  field (&t, "growth:");
  append_signed (out, (gint64) d->objects_after - (gint64) d->objects_before);
  g_string_append (out, " objects, ");
  append_signed_bytes (out, (gint64) d->bytes_after - (gint64) d->bytes_before);
  elapsed = (gint64) (after->snapshot->time_ns - before->snapshot->time_ns);
  if (one_trace && elapsed >= 100000000)
    g_string_append_printf (out, " in %" G_GINT64_FORMAT ".%01" G_GINT64_FORMAT " s",
                            elapsed / 1000000000, elapsed / 100000000 % 10);
  g_string_append (out, " (live ");
  append_signed_bytes (out, (gint64) d->after_totals.live_bytes - (gint64) d->before_totals.live_bytes);
  g_string_append (out, ", garbage ");
  append_signed_bytes (out, (gint64) d->after_totals.garbage_bytes - (gint64) d->before_totals.garbage_bytes);
  g_string_append (out, ")\n\n");

  /* Rows come most bytes grown first: the grown ones, then the shrunk. */
  for (guint i = 0; i < d->rows->len; i++)
    {
      const LingerDiffRow *row = &g_array_index (d->rows, LingerDiffRow, i);
      gint64 bytes = linger_diff_row_bytes (row);

      if (bytes > 0 || (bytes == 0 && linger_diff_row_objects (row) > 0))
        n_grown++;
      else
        {
          n_shrunk++;
          shrunk_bytes += bytes;
        }
    }
  if (n_grown == 0)
    g_string_append (out, "No type grew.\n");
  else
    {
      style (&t, BOLD);
      g_string_append_printf (out, "growth by type, most bytes first (%u type%s grew):\n",
                              n_grown, n_grown == 1 ? "" : "s");
      g_string_append_printf (out, "  %10s %12s  %-40s %s\n", "objects", "bytes", "type", "allocated at");
      style (&t, RESET);
      for (guint i = 0; i < MIN (n_grown, DIFF_MAX_ROWS); i++)
        {
          const LingerDiffRow *row = &g_array_index (d->rows, LingerDiffRow, i);
          g_autoptr(GString) cell = g_string_new (NULL);

          append_signed (cell, linger_diff_row_objects (row));
          g_string_append_printf (out, "  %10s ", cell->str);
          g_string_truncate (cell, 0);
          append_signed_bytes (cell, linger_diff_row_bytes (row));
          g_string_append_printf (out, "%12s  ", cell->str);
          append_safe (&t, row->type);
          for (glong w = g_utf8_strlen (row->type, -1); w < 40; w++)
            g_string_append_c (out, ' ');
          g_string_append_c (out, ' ');
          /* "-": the traces record no site for these objects. */
          append_safe (&t, row->site != NULL ? row->site : "-");
          g_string_append_c (out, '\n');
        }
      if (n_grown > DIFF_MAX_ROWS)
        g_string_append_printf (out, "  … and %u more (--format=json lists every type)\n",
                                n_grown - DIFF_MAX_ROWS);
    }
  if (n_shrunk > 0)
    {
      g_string_append_printf (out, "%u type%s shrank, by ", n_shrunk, n_shrunk == 1 ? "" : "s");
      append_bytes (out, (guint64) -shrunk_bytes);
      g_string_append (out, " in all.\n");
    }
  g_string_append_c (out, '\n');

  if (d->grown_findings->len > 0)
    {
      style (&t, BOLD);
      g_string_append_printf (out, "grown findings: %u that snapshot #%u has more of\n",
                              d->grown_findings->len, after->snapshot->id);
      style (&t, RESET);
      for (guint i = 0; i < d->grown_findings->len; i++)
        {
          const LingerDiffGrown *g = &g_array_index (d->grown_findings, LingerDiffGrown, i);
          const LingerFinding *f = g->finding;

          g_string_append_printf (out, "  %s %s: %" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT " × ",
                                  linger_severity_name (f->severity), f->kind, g->count_before, g->count_after);
          append_safe (&t, g_array_index (f->objects, LingerFindingObject, 0).type);
          g_string_append (out, ", retaining ");
          append_bytes (out, g->retained_bytes_before);
          g_string_append (out, " → ");
          append_bytes (out, g->retained_bytes_after);
          g_string_append_c (out, '\n');
          write_path (&t, "path:", f->path);
        }
      g_string_append_c (out, '\n');
    }

  if (d->new_findings->len == 0)
    {
      g_string_append_printf (out, "No new findings in snapshot #%u", after->snapshot->id);
      g_string_append_printf (out, " (%u in both, %u gone).\n",
                              after->findings->len, d->n_gone_findings);
      return;
    }
  style (&t, BOLD);
  g_string_append_printf (out, "new findings: %u in snapshot #%u that snapshot #%u does not have",
                          d->new_findings->len, after->snapshot->id, before->snapshot->id);
  style (&t, RESET);
  g_string_append_printf (out, " (%u gone)\n", d->n_gone_findings);
  for (guint i = 0; i < d->new_findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (d->new_findings, i);

      if (kind == NULL || strcmp (kind, f->kind) != 0)
        {
          kind = f->kind;
          style (&t, f->severity == LINGER_SEVERITY_ERROR ? RED : YELLOW);
          g_string_append_printf (out, "%s %s", linger_severity_name (f->severity), f->kind);
          style (&t, RESET);
          g_string_append_printf (out, ": %s\n", kind_summary (f->kind));
        }
      write_finding (&t, f);
    }
}
