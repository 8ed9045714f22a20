/* linger_findings_alloc.c: findings of allocation tracking: native leaks
 * (blocks never freed) and objects only the cyclic GC freed.
 *
 * They come from the trace's allocation records, not from a snapshot's
 * graph: a leak is what is still allocated after the last snapshot, and
 * what the GC freed is gone from every snapshot.  Their `objects` is
 * empty; `site`, `blocks` and `bytes` say what and where.
 */
#include <string.h>

#include "linger_describe.h"
#include "linger_findings.h"
#include "linger_findings_private.h"

/* Without --all, the report shows the largest groups only. */
#define MAX_LEAK_GROUPS         20
#define MAX_GC_COLLECTED_GROUPS 10

typedef struct
{
  guint64 blocks;
  guint64 bytes;
} Totals;

typedef struct
{
  guint32 key;          /* native stack id, or site id | 1u << 31 without one */
  guint32 site;         /* the group's site with the most bytes: its example */
  guint64 site_bytes;
  Totals  totals;
} LeakGroup;

static const char *
site_function (LingerSites *sites,
               guint32      site_id,
               const char **where)
{
  const LingerSite *site = linger_sites_get (sites, site_id);
  const LingerFrame *f;

  *where = NULL;
  if (site == NULL || site->at < 0)
    return NULL;
  f = &g_array_index (site->frames, LingerFrame, site->at);
  *where = site->summary;
  return f->function;
}

static char *
leak_hint (LingerSites *sites,
           guint32      site_id)
{
  const char *where;
  const char *function = site_function (sites, site_id, &where);

  if (function == NULL && where == NULL)
    return g_strdup ("these blocks were still allocated when the process ended and no pointer was "
                     "freed: free them once their owner is done with them (run with a deeper "
                     "--native-depth, or build with debug information, to see where they come from)");
  if (function == NULL)
    return g_strdup_printf ("these blocks were still allocated when the process ended: free them once "
                            "their owner is done with them; they were allocated at %s", where);
  if (linger_sites_get (sites, site_id)->through != NULL)
    return g_strdup_printf ("these blocks were still allocated when the process ended: %s allocated them "
                            "through native code and never freed them; free each once its owner is done "
                            "with it (a matching free call on every path, error paths included); they were "
                            "allocated at %s", function, where);
  return g_strdup_printf ("these blocks were still allocated when the process ended: free what %s "
                          "allocates once its owner is done with it (a matching free or destroy call "
                          "on every path, error paths included); the innermost frame that is not an "
                          "allocator is %s, at %s", function, function, where);
}

static void
find_leaks (GPtrArray                   *findings,
            const LingerTrace           *trace,
            LingerSites                 *sites,
            const LingerFindingsOptions *options,
            LingerAllocSummary          *summary)
{
  const LingerAlloc *a = trace->alloc;
  g_autofree Totals *per_site = NULL;
  g_autoptr(GHashTable) index = NULL;
  g_autoptr(GArray) groups = NULL;
  Totals unknown = { 0 };
  guint n_sites = MAX (a->sites->len, 1);

  /* Per site first, in an array indexed by site id: the blocks may be
   * millions, the sites are far fewer. */
  per_site = g_new0 (Totals, n_sites);
  for (guint i = 0; i < a->live_blocks->len; i++)
    {
      const linger_block_entry *b = &g_array_index (a->live_blocks, linger_block_entry, i);
      const linger_site_entry *s = linger_alloc_site (a, b->site);

      if (s == NULL)
        {
          /* Without a site the domain is unknown: not called a leak. */
          unknown.blocks++;
          unknown.bytes += b->size;
          continue;
        }
      if (s->domain != LINGER_DOMAIN_NATIVE)
        continue;   /* the interpreter frees what it frees */
      if (s->flags & (LINGER_SITE_STARTUP | LINGER_SITE_SHUTDOWN))
        {
          summary->not_counted_blocks++;
          summary->not_counted_bytes += b->size;
          continue;
        }
      per_site[b->site].blocks++;
      per_site[b->site].bytes += b->size;
    }

  /* Then by native stack: the same C code reached from different Python
   * callers is one leak. */
  index = g_hash_table_new (NULL, NULL);
  groups = g_array_new (FALSE, TRUE, sizeof (LeakGroup));
  for (guint32 id = 1; id < n_sites; id++)
    {
      const linger_site_entry *s;
      LeakGroup *g;
      guint32 key;
      gpointer found;

      if (per_site[id].blocks == 0)
        continue;
      s = linger_alloc_site (a, id);
      key = s->native_stack != 0 ? s->native_stack : (id | 1u << 31);
      if (g_hash_table_lookup_extended (index, GUINT_TO_POINTER (key), NULL, &found))
        g = &g_array_index (groups, LeakGroup, GPOINTER_TO_UINT (found));
      else
        {
          g_hash_table_insert (index, GUINT_TO_POINTER (key), GUINT_TO_POINTER (groups->len));
          g_array_set_size (groups, groups->len + 1);
          g = &g_array_index (groups, LeakGroup, groups->len - 1);
          g->key = key;
        }
      g->totals.blocks += per_site[id].blocks;
      g->totals.bytes += per_site[id].bytes;
      if (g->site == 0 || per_site[id].bytes > g->site_bytes)
        {
          g->site = id;
          g->site_bytes = per_site[id].bytes;
        }
    }

  {
    g_autoptr(GPtrArray) made = g_ptr_array_new ();

    for (guint i = 0; i < groups->len; i++)
      {
        const LeakGroup *g = &g_array_index (groups, LeakGroup, i);
        const LingerSite *site = linger_sites_get (sites, g->site);
        LingerFinding *f;

        /* The C runtime's own blocks: the program could not free them. */
        if (site != NULL && site->origin == LINGER_ORIGIN_LOADER)
          {
            summary->loader_blocks += g->totals.blocks;
            summary->loader_bytes += g->totals.bytes;
            continue;
          }
        if (site != NULL && site->origin == LINGER_ORIGIN_LIBC_CACHE)
          {
            summary->libc_cache_blocks += g->totals.blocks;
            summary->libc_cache_bytes += g->totals.bytes;
            continue;
          }
        f = linger_finding_new (LINGER_FINDING_LEAK, LINGER_SEVERITY_WARNING);

        f->site = g->site;
        f->blocks = g->totals.blocks;
        f->bytes = g->totals.bytes;
        f->count = (guint) MIN (g->totals.blocks, G_MAXUINT);
        f->hint = leak_hint (sites, g->site);
        g_ptr_array_add (made, f);
      }
    linger_findings_sort (made);
    for (guint i = 0; i < made->len; i++)
      {
        LingerFinding *f = g_ptr_array_index (made, i);

        if (!options->ungrouped && i >= MAX_LEAK_GROUPS)
          {
            summary->hidden_leaks++;
            linger_finding_free (f);
          }
        else
          g_ptr_array_add (findings, f);
      }
  }
}

/* The shared objects loaded when the process ended (not the executable,
 * nor the vDSO, which has no file): whose link maps the loader keeps. */
static guint
count_loaded_libraries (const LingerTrace *trace)
{
  const LingerAlloc *a = trace->alloc;
  g_autoptr(GHashTable) paths = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < a->modules->len; i++)
    {
      const linger_module_entry *m = &g_array_index (a->modules, linger_module_entry, i);
      const char *path = linger_trace_string (trace, m->path);

      if (m->gen_unloaded != 0 || path == NULL || path[0] != '/')
        continue;
      g_hash_table_add (paths, (gpointer) path);
    }
  return g_hash_table_size (paths);
}

/* ---- gc-collected -------------------------------------------------------- */

static const char *
cycle_kind_name (guint32 kind)
{
  switch (kind)
    {
    case LINGER_CYCLE_BOUND_METHOD: return "bound-method";
    case LINGER_CYCLE_CLOSURE: return "closure";
    default: return "other";
    }
}

static gboolean
is_cycle_finding (const LingerFinding *f)
{
  return strcmp (f->kind, LINGER_FINDING_BOUND_METHOD_CYCLE) == 0
         || strcmp (f->kind, LINGER_FINDING_CLOSURE_CYCLE) == 0
         || strcmp (f->kind, LINGER_FINDING_REFERENCE_CYCLE) == 0;
}

static const char *
finding_kind_for_cycle (const char *cycle_kind)
{
  if (strcmp (cycle_kind, "bound-method") == 0)
    return LINGER_FINDING_BOUND_METHOD_CYCLE;
  if (strcmp (cycle_kind, "closure") == 0)
    return LINGER_FINDING_CLOSURE_CYCLE;
  return LINGER_FINDING_REFERENCE_CYCLE;
}

static char *
join_path (const GPtrArray *path)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < path->len; i++)
    {
      if (i > 0)
        g_string_append (s, " → ");
      g_string_append (s, g_ptr_array_index (path, i));
    }
  return g_string_free (s, FALSE);
}

/* The path of a cycle the snapshot still has, among objects allocated at
 * @site: the same code left this cycle behind, and the GC freed its
 * siblings.  A finding of the matching kind is preferred. */
static char *
reuse_example (const GPtrArray *findings,
               guint32          site,
               const char      *cycle_kind)
{
  const char *want = finding_kind_for_cycle (cycle_kind);
  const LingerFinding *any = NULL;

  if (site == 0)
    return NULL;
  for (guint i = 0; i < findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (findings, i);

      if (!is_cycle_finding (f) || f->path->len == 0)
        continue;
      for (guint k = 0; k < f->objects->len; k++)
        if (g_array_index (f->objects, LingerFindingObject, k).site == site)
          {
            if (strcmp (f->kind, want) == 0)
              return join_path (f->path);
            if (any == NULL)
              any = f;
            break;
          }
    }
  return any != NULL ? join_path (any->path) : NULL;
}

static char *
generic_example (const char *type,
                 const char *cycle_kind)
{
  if (strcmp (cycle_kind, "bound-method") == 0)
    return g_strdup_printf ("%s → .<attr> → bound method → __self__ → %s", type, type);
  if (strcmp (cycle_kind, "closure") == 0)
    return g_strdup_printf ("%s → .<attr> → function → __closure__ → cell → %s", type, type);
  return g_strdup_printf ("%s → .<attr> → … → %s", type, type);
}

static char *
gc_hint (const char *type,
         const char *cycle_kind)
{
  if (strcmp (cycle_kind, "bound-method") == 0)
    return g_strdup_printf ("each %s was the __self__ of a bound method it held (self.cb = self.method): "
                            "store weakref.WeakMethod(self.method) instead, or drop the reference in "
                            "close(), so reference counting frees it without waiting for the cyclic GC",
                            type);
  if (strcmp (cycle_kind, "closure") == 0)
    return g_strdup_printf ("each %s was held by a closure it held (self.f = lambda: self.x, or a "
                            "nested function that refers to itself): avoid capturing the object (or "
                            "the function itself) in the closure, pass what it needs as an argument, "
                            "or capture a weakref.ref", type);
  return g_strdup_printf ("each %s was in a reference cycle (a back-pointer, a parent and its "
                          "children): make one direction a weakref.ref, or break the cycle in close(), "
                          "so reference counting frees it without waiting for the cyclic GC", type);
}

/* Whether the Python stack @id has frames and all of them are the
 * standard library's or installed packages' (as LingerSite's in_library,
 * without symbolizing the site's native stack). */
static gboolean
python_stack_in_library (const LingerTrace *trace,
                         guint32            id)
{
  guint32 depth;
  const guint32 *ids = linger_alloc_py_stack (trace->alloc, id, &depth);

  if (ids == NULL || depth == 0)
    return FALSE;
  for (guint32 i = 0; i < depth; i++)
    {
      const linger_py_frame_entry *e = linger_alloc_py_frame (trace->alloc, ids[i]);

      if (e != NULL && !linger_python_file_is_library (linger_trace_string (trace, e->filename)))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  guint32 site;
  guint32 type_name;
  guint64 count;
  guint64 bytes;
  guint64 by_kind[3];
} GcGroup;

static void
find_gc_collected (GPtrArray                   *findings,
                   const LingerTrace           *trace,
                   LingerSites                 *sites,
                   const LingerFindingsOptions *options,
                   LingerAllocSummary          *summary)
{
  const LingerAlloc *a = trace->alloc;
  g_autoptr(GArray) groups = g_array_new (FALSE, TRUE, sizeof (GcGroup));
  g_autoptr(GPtrArray) made = g_ptr_array_new ();
  g_autoptr(GHashTable) unattributed_types = NULL;

  /* gc_frees is sorted by (site, type, kind): one group per (site, type),
   * its kind the one most of its objects were freed in. */
  for (guint i = 0; i < a->gc_frees->len; i++)
    {
      const linger_gc_free_entry *e = &g_array_index (a->gc_frees, linger_gc_free_entry, i);
      GcGroup *g = groups->len > 0 ? &g_array_index (groups, GcGroup, groups->len - 1) : NULL;

      if (e->count == 0)
        continue;
      if (g == NULL || g->site != e->site || g->type_name != e->type_name)
        {
          g_array_set_size (groups, groups->len + 1);
          g = &g_array_index (groups, GcGroup, groups->len - 1);
          g->site = e->site;
          g->type_name = e->type_name;
        }
      g->count += e->count;
      g->bytes += e->bytes;
      g->by_kind[MIN (e->kind, 2u)] += e->count;
    }

  unattributed_types = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < groups->len; i++)
    {
      const GcGroup *g = &g_array_index (groups, GcGroup, i);
      const linger_site_stats_entry *stats = linger_alloc_site_stats (a, g->site);
      const linger_site_entry *site = linger_alloc_site (a, g->site);
      LingerFinding *f;
      const char *type = linger_trace_string (trace, g->type_name);
      const char *short_type;
      guint32 kind = LINGER_CYCLE_OTHER;

      /* Objects of the interpreter's start-up, before it had frames: no
       * stack says whose they are, and a finding each would bury the
       * program's own under them. */
      /* Tuples too: a full collection empties the tuple freelist into
       * the allocator inside the collection, and a recycled tuple still
       * carries the site of its first allocation, so "freed by the GC at
       * this site" cannot be told from freelist clearing for them. */
      if (site == NULL
          || (site->py_stack == 0 && (site->native_stack == 0 || (site->flags & LINGER_SITE_STARTUP)))
          || g_strcmp0 (type, "tuple") == 0)
        {
          summary->gc_unattributed_objects += g->count;
          summary->gc_unattributed_bytes += g->bytes;
          g_hash_table_add (unattributed_types, GUINT_TO_POINTER (g->type_name));
          continue;
        }
      f = linger_finding_new (LINGER_FINDING_GC_COLLECTED, LINGER_SEVERITY_INFO);

      if (g->by_kind[LINGER_CYCLE_BOUND_METHOD] > g->by_kind[kind])
        kind = LINGER_CYCLE_BOUND_METHOD;
      if (g->by_kind[LINGER_CYCLE_CLOSURE] > g->by_kind[kind])
        kind = LINGER_CYCLE_CLOSURE;
      f->alloc_type = type != NULL ? type : "unknown";
      short_type = linger_describe_short_type (f->alloc_type);
      f->cycle_kind = cycle_kind_name (kind);
      f->site = linger_alloc_site (a, g->site) != NULL ? g->site : 0;
      f->blocks = g->count;
      f->bytes = g->bytes;
      f->count = (guint) MIN (g->count, G_MAXUINT);
      f->allocs = stats != NULL ? stats->allocs : 0;
      f->site_frees = stats != NULL ? stats->frees : 0;
      /* The share of the site's frees that waited for the GC: 1.0 means
       * reference counting never freed one of them. */
      f->gc_share = f->site_frees > 0 ? MIN (1.0, (double) g->count / (double) f->site_frees) : 1.0;
      f->example = reuse_example (findings, f->site, f->cycle_kind);
      if (f->example == NULL)
        {
          f->example = generic_example (short_type, f->cycle_kind);
          f->example_is_generic = TRUE;
        }
      f->hint = gc_hint (short_type, f->cycle_kind);
      /* The Python frames are read from the trace, not symbolized: cheap
       * for every group. */
      f->in_library = python_stack_in_library (trace, site->py_stack);
      g_ptr_array_add (made, f);
    }
  summary->gc_unattributed_types = g_hash_table_size (unattributed_types);

  linger_findings_sort (made);
  for (guint i = 0; i < made->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (made, i);

      /* A single object freed by the collector at one site is not a
       * lifetime pattern (and the interpreter's own bookkeeping around a
       * collection can leave one): shown with --all only. */
      if (!options->ungrouped && (i >= MAX_GC_COLLECTED_GROUPS || f->count < 2))
        {
          summary->hidden_gc_collected++;
          linger_finding_free (f);
        }
      else
        g_ptr_array_add (findings, f);
    }
}

void
linger_findings_add_alloc (GPtrArray                   *findings,
                           const LingerTrace           *trace,
                           LingerSites                 *sites,
                           const LingerFindingsOptions *options,
                           LingerAllocSummary          *summary)
{
  const LingerAlloc *a = trace->alloc;
  LingerFindingsOptions defaults = { 0 };

  memset (summary, 0, sizeof *summary);
  if (options == NULL)
    options = &defaults;
  summary->present = a->present;
  if (!a->present)
    return;
  summary->native = a->has_info && (a->info.flags & LINGER_ALLOC_NATIVE) != 0;
  /* Blocks live at the end are leaks only if the end was seen: a trace
   * cut short lists nothing, or what was live at an earlier flush. */
  summary->leaks_known = summary->native && trace->complete
                         && (a->saw_live_blocks || (a->info.flags & LINGER_ALLOC_FINAL) != 0);
  if (summary->leaks_known)
    find_leaks (findings, trace, sites, options, summary);
  if (summary->loader_blocks > 0)
    summary->loader_libraries = count_loaded_libraries (trace);
  find_gc_collected (findings, trace, sites, options, summary);
  linger_findings_sort (findings);
}
