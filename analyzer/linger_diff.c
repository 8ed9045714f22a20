/* linger_diff.c: what grew between two snapshots. */
#include "linger_diff.h"

#include <stdlib.h>
#include <string.h>

#include "linger_error.h"

char *
linger_diff_finding_key (const LingerFinding *f)
{
  GString *key = g_string_new (f->kind);

  g_string_append_c (key, '\n');
  /* A reference cycle is known by the types in it, as when grouping. */
  if (f->cycle_types != NULL && strcmp (f->kind, LINGER_FINDING_REFERENCE_CYCLE) == 0)
    {
      for (guint i = 0; i < f->cycle_types->len; i++)
        g_string_append_printf (key, "%s%s", i > 0 ? "," : "", (const char *) g_ptr_array_index (f->cycle_types, i));
      return g_string_free (key, FALSE);
    }
  if (f->objects->len > 0)
    g_string_append (key, g_array_index (f->objects, LingerFindingObject, 0).type);
  g_string_append_c (key, '\n');
  /* The shape the findings were grouped by. */
  if (f->shape != NULL)
    {
      g_string_append (key, f->shape);
      return g_string_free (key, FALSE);
    }
  /* Else the path with its indices generalised: the same leak reached
   * through args[0] in one run may be args[1] in the next, and list
   * positions move as a list grows. */
  for (guint i = 0; i < f->path->len; i++)
    {
      const char *p = g_ptr_array_index (f->path, i);

      if (i > 0)
        g_string_append (key, " → ");
      while (*p != '\0')
        {
          const char *close;

          if (*p == '[' && g_ascii_isdigit (p[1]))
            {
              for (close = p + 1; g_ascii_isdigit (*close); close++)
                ;
              if (*close == ']')
                {
                  g_string_append (key, "[*]");
                  p = close + 1;
                  continue;
                }
            }
          g_string_append_c (key, *p++);
        }
    }
  return g_string_free (key, FALSE);
}

/* Rows are keyed by type and the "allocated at" line of the site (two
 * sites with different stacks but the same line are one row): the text
 * "type\nsite", which both snapshots' rows share. */
static LingerDiffRow *
row_for (GArray      *rows,
         GHashTable  *index,
         GString     *key,
         const char  *type,
         const char  *site)
{
  gpointer found;

  g_string_assign (key, type);
  if (site != NULL)
    {
      g_string_append_c (key, '\n');
      g_string_append (key, site);
    }
  if (g_hash_table_lookup_extended (index, key->str, NULL, &found))
    return &g_array_index (rows, LingerDiffRow, GPOINTER_TO_UINT (found));
  {
    LingerDiffRow row = { .type = type, .site = site };

    g_hash_table_insert (index, g_strdup (key->str), GUINT_TO_POINTER (rows->len));
    g_array_append_val (rows, row);
    return &g_array_index (rows, LingerDiffRow, rows->len - 1);
  }
}

static int
compare_rows (const void *a,
              const void *b)
{
  const LingerDiffRow *x = a;
  const LingerDiffRow *y = b;
  gint64 bx = linger_diff_row_bytes (x);
  gint64 by = linger_diff_row_bytes (y);
  gint64 ox = linger_diff_row_objects (x);
  gint64 oy = linger_diff_row_objects (y);
  int c;

  if (bx != by)
    return bx > by ? -1 : 1;
  if (ox != oy)
    return ox > oy ? -1 : 1;
  if ((c = strcmp (x->type, y->type)) != 0)
    return c;
  return g_strcmp0 (x->site, y->site);
}

static void
count_totals (LingerDiffTotals     *totals,
              const LingerAnalysis *a)
{
  const LingerDominators *dom = a->dominators;

  totals->objects = a->graph->n_nodes;
  totals->bytes = dom->live_bytes + dom->garbage_bytes;
  totals->live_objects = dom->live_objects;
  totals->live_bytes = dom->live_bytes;
  totals->garbage_objects = dom->garbage_objects;
  totals->garbage_bytes = dom->garbage_bytes;
  totals->findings = a->findings->len;
}

/* Adds the objects of @graph to the rows, as before or after; @sites
 * resolves their allocation sites.  Returns whether any object had one. */
static gboolean
count_types (GArray            *rows,
             GHashTable        *index,
             const LingerGraph *graph,
             LingerSites       *sites,
             gboolean           after)
{
  g_autoptr(GString) key = g_string_new (NULL);
  const GArray *object_sites = graph->snapshot->object_sites;
  gboolean any = FALSE;

  for (guint32 v = 0; v < graph->n_nodes; v++)
    {
      guint32 site_id = object_sites->len > 0
                        ? linger_object_sites_lookup (object_sites, graph->nodes[v].address) : 0;
      const char *site = site_id != 0 ? linger_sites_summary (sites, site_id) : NULL;
      LingerDiffRow *row = row_for (rows, index, key, linger_graph_type_name (graph, v), site);

      any |= site != NULL;

      if (after)
        {
          row->objects_after++;
          row->bytes_after += graph->nodes[v].size;
        }
      else
        {
          row->objects_before++;
          row->bytes_before += graph->nodes[v].size;
        }
    }
  return any;
}

/* Keeps the rows that changed, sorted. */
static void
keep_changed_rows (LingerDiff   *d,
                   const GArray *all)
{
  for (guint i = 0; i < all->len; i++)
    {
      const LingerDiffRow *row = &g_array_index (all, LingerDiffRow, i);

      if (row->objects_before == row->objects_after && row->bytes_before == row->bytes_after)
        d->n_unchanged_types++;
      else
        g_array_append_val (d->rows, *row);
    }
  if (d->rows->len > 1)   /* no data to hand qsort when empty */
    qsort (d->rows->data, d->rows->len, sizeof (LingerDiffRow), compare_rows);
}

/* Count and retained bytes of every finding with one key. */
typedef struct
{
  guint64  count;
  guint64  retained_bytes;
  gboolean listed;   /* after: already listed as new or grown */
} Tally;

static GHashTable *
tally_findings (const GPtrArray *findings)
{
  GHashTable *tallies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (findings, i);
      char *key = linger_diff_finding_key (f);
      Tally *t = g_hash_table_lookup (tallies, key);

      if (t == NULL)
        {
          t = g_new0 (Tally, 1);
          g_hash_table_insert (tallies, key, t);
        }
      else
        g_free (key);
      t->count += f->count;
      t->retained_bytes += f->retained_bytes;
    }
  return tallies;
}

static void
match_findings (LingerDiff *d,
                GHashTable *before)
{
  g_autoptr(GHashTable) after = tally_findings (d->after->findings);
  GHashTableIter iter;
  gpointer key;

  /* In after's order, each key once: with --all, or a cycle both live
   * and garbage, several findings share a key. */
  for (guint i = 0; i < d->after->findings->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (d->after->findings, i);
      g_autofree char *k = linger_diff_finding_key (f);
      Tally *a = g_hash_table_lookup (after, k);
      const Tally *b = g_hash_table_lookup (before, k);

      if (a->listed)
        continue;
      a->listed = TRUE;
      if (b == NULL)
        g_ptr_array_add (d->new_findings, f);
      else if (a->count > b->count)
        {
          LingerDiffGrown grown = {
            .finding = f,
            .count_before = b->count,
            .count_after = a->count,
            .retained_bytes_before = b->retained_bytes,
            .retained_bytes_after = a->retained_bytes,
          };
          g_array_append_val (d->grown_findings, grown);
        }
    }

  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (after, key))
      d->n_gone_findings++;
}

LingerDiff *
linger_diff_new (LingerTrace                 *trace_before,
                 LingerSnapshot              *before,
                 LingerTrace                 *trace_after,
                 LingerSnapshot              *after,
                 const LingerFindingsOptions *options)
{
  LingerDiff *d = g_new0 (LingerDiff, 1);
  g_autoptr(GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (LingerDiffRow));
  g_autoptr(GHashTable) tallies = NULL;

  d->trace_before = trace_before;
  d->trace_after = trace_after != trace_before ? trace_after : NULL;
  d->rows = g_array_new (FALSE, FALSE, sizeof (LingerDiffRow));
  d->new_findings = g_ptr_array_new ();
  d->grown_findings = g_array_new (FALSE, FALSE, sizeof (LingerDiffGrown));
  /* Set below: whether either snapshot has allocation sites (format 1.2
   * with allocation tracking); without, every row has site NULL. */
  d->sites_recorded = FALSE;

  d->before = linger_analysis_new_for_snapshot (trace_before, before, options);
  count_totals (&d->before_totals, d->before);
  d->sites_recorded |= count_types (rows, index, d->before->graph, d->before->sites, FALSE);
  tallies = tally_findings (d->before->findings);
  /* Everything the diff needs of the earlier graph is counted: free it
   * before the later one is built.  Its findings stay (their types and
   * paths are strings of the trace). */
  g_clear_pointer (&d->before->dominators, linger_dominators_free);
  g_clear_pointer (&d->before->graph, linger_graph_free);

  d->after = linger_analysis_new_for_snapshot (trace_after, after, options);
  count_totals (&d->after_totals, d->after);
  d->sites_recorded |= count_types (rows, index, d->after->graph, d->after->sites, TRUE);

  d->objects_before = d->before_totals.objects;
  d->objects_after = d->after_totals.objects;
  d->bytes_before = d->before_totals.bytes;
  d->bytes_after = d->after_totals.bytes;
  keep_changed_rows (d, rows);
  match_findings (d, tallies);
  return d;
}

void
linger_diff_free (LingerDiff *d)
{
  if (d == NULL)
    return;
  /* The analyses borrow the traces: free them first. */
  linger_analysis_free (d->before);
  linger_analysis_free (d->after);
  if (d->owns_traces)
    {
      linger_trace_free (d->trace_before);
      linger_trace_free (d->trace_after);
    }
  g_array_unref (d->rows);
  g_ptr_array_unref (d->new_findings);
  g_array_unref (d->grown_findings);
  g_free (d);
}

/* --- choosing the snapshots ----------------------------------------------- */

static gboolean
require_snapshots (const char        *path,
                   const LingerTrace *trace,
                   GError           **error)
{
  if (trace->snapshots->len > 0)
    return TRUE;
  if (!trace->has_runtime)
    g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                 "%s: no Python heap to compare (the program is not a CPython process)", path);
  else
    g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                 "%s: no snapshot to compare (the program ended before one was taken)", path);
  return FALSE;
}

static LingerSnapshot *
snapshot_by_id (const char        *path,
                const LingerTrace *trace,
                guint32            id,
                GError           **error)
{
  const LingerSnapshot *first;
  const LingerSnapshot *last;

  for (guint i = 0; i < trace->snapshots->len; i++)
    {
      LingerSnapshot *s = g_ptr_array_index (trace->snapshots, i);
      if (s->id == id && s->objects_only)
        {
          g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                       "%s: snapshot #%u lists objects only (a per-test snapshot of the pytest "
                       "plugin): --diff compares whole snapshots", path, id);
          return NULL;
        }
      if (s->id == id)
        return s;
    }
  first = g_ptr_array_index (trace->snapshots, 0);
  last = g_ptr_array_index (trace->snapshots, trace->snapshots->len - 1);
  if (first == last)
    g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                 "%s has no snapshot #%u (its only snapshot is #%u)", path, id, first->id);
  else
    g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                 "%s has no snapshot #%u (its snapshots are #%u to #%u)", path, id, first->id, last->id);
  return NULL;
}

LingerDiff *
linger_diff_new_for_files (const char * const          *paths,
                           const guint32               *snapshot_ids,
                           const LingerFindingsOptions *options,
                           GError                     **error)
{
  g_autoptr(LingerTrace) trace_before = NULL;
  g_autoptr(LingerTrace) trace_after = NULL;
  LingerTrace *after_trace;
  LingerSnapshot *before;
  LingerSnapshot *after;
  const char *path_after;
  LingerDiff *d;

  g_return_val_if_fail (paths != NULL && paths[0] != NULL, NULL);

  trace_before = linger_trace_new_from_file (paths[0], error);
  if (trace_before == NULL || !require_snapshots (paths[0], trace_before, error))
    return NULL;

  if (paths[1] == NULL)
    {
      GPtrArray *snapshots = trace_before->snapshots;

      path_after = paths[0];
      after_trace = trace_before;
      if (snapshot_ids != NULL)
        {
          if (snapshot_ids[0] == snapshot_ids[1])
            {
              g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                           "--snapshots names snapshot #%u twice: --diff compares two snapshots",
                           snapshot_ids[0]);
              return NULL;
            }
          if ((before = snapshot_by_id (paths[0], trace_before, snapshot_ids[0], error)) == NULL
              || (after = snapshot_by_id (paths[0], trace_before, snapshot_ids[1], error)) == NULL)
            return NULL;
        }
      else
        {
          /* Objects-only snapshots (per-test labels) have no graph to compare. */
          g_autoptr(GPtrArray) whole = g_ptr_array_new ();

          for (guint i = 0; i < snapshots->len; i++)
            if (!((LingerSnapshot *) g_ptr_array_index (snapshots, i))->objects_only)
              g_ptr_array_add (whole, g_ptr_array_index (snapshots, i));
          snapshots = whole;
          if (snapshots->len < 2)
            {
              g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                           "%s has only one snapshot, and --diff compares two: take more with "
                           "linger run --snapshot-interval SECONDS (or the snapshot signal), "
                           "or give two traces", paths[0]);
              return NULL;
            }
          before = g_ptr_array_index (snapshots, 0);
          after = g_ptr_array_index (snapshots, snapshots->len - 1);
        }
    }
  else
    {
      path_after = paths[1];
      trace_after = linger_trace_new_from_file (paths[1], error);
      if (trace_after == NULL || !require_snapshots (paths[1], trace_after, error))
        return NULL;
      after_trace = trace_after;
      if (snapshot_ids != NULL)
        {
          if ((before = snapshot_by_id (paths[0], trace_before, snapshot_ids[0], error)) == NULL
              || (after = snapshot_by_id (paths[1], trace_after, snapshot_ids[1], error)) == NULL)
            return NULL;
        }
      else
        {
          before = linger_trace_pick_snapshot (trace_before);
          after = linger_trace_pick_snapshot (trace_after);
          if (before == NULL || after == NULL)
            {
              g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                           "%s has only objects-only snapshots: --diff compares whole snapshots",
                           before == NULL ? paths[0] : paths[1]);
              return NULL;
            }
        }
    }

  d = linger_diff_new (trace_before, before, after_trace, after, options);
  d->owns_traces = TRUE;
  g_steal_pointer (&trace_before);
  g_steal_pointer (&trace_after);
  d->before->path = g_strdup (paths[0]);
  d->after->path = g_strdup (path_after);
  return d;
}
