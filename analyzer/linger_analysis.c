/* linger_analysis.c: a trace, its snapshot, graph and findings. */
#include "linger_analysis.h"

#include "linger_progress.h"
#include "linger_policy.h"
#include "linger_attribution.h"

/* @release_objects: the analysis owns a trace read for it alone, so the
 * reader's copy of the snapshot's objects can go once the graph has its
 * own sorted one (40 bytes an object at the peak of the analysis). */
static LingerAnalysis *
analyse (LingerTrace                 *trace,
         LingerSnapshot              *snapshot,
         const LingerFindingsOptions *options,
         gboolean                     release_objects)
{
  LingerAnalysis *a = g_new0 (LingerAnalysis, 1);

  a->trace = trace;
  a->snapshot = snapshot;
  a->sites = linger_sites_new (trace);
  if (a->snapshot != NULL)
    {
      linger_progress_begin ("graph", 0);
      /* Per-test attribution looks up the finding's objects in the
       * labelled snapshots, the analysed one included: keep them. */
      if (release_objects && linger_attribution_n_labelled (trace, a->snapshot) > 0)
        release_objects = FALSE;
      a->graph = release_objects ? linger_graph_new_releasing_objects (trace, a->snapshot)
                                 : linger_graph_new (trace, a->snapshot);
      linger_progress_begin ("dominators", a->graph->n_nodes);
      a->dominators = linger_dominators_compute (a->graph);
      /* Finding a finding includes the search for its reference path. */
      linger_progress_begin ("findings and paths", 0);
      a->findings = linger_findings_compute_with_options (a->graph, options);
      linger_progress_begin ("retained sizes", 0);
      linger_dominators_measure_findings (a->dominators, a->graph, a->findings);
    }
  else
    {
      a->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);
    }
  return a;
}

static LingerAnalysis *
analyse_trace (LingerTrace                 *trace,
               const LingerFindingsOptions *options,
               gboolean                     release_objects)
{
  LingerAnalysis *a = analyse (trace, linger_trace_pick_snapshot (trace), options, release_objects);

  /* Which test created what, when the pytest plugin labelled snapshots. */
  if (a->snapshot != NULL)
    linger_attribution_apply (trace, a->snapshot, a->findings);

  linger_progress_begin ("allocation sites", 0);
  /* Leaks and what the GC freed concern the whole run: the report of a
   * trace has them, a diff of two snapshots does not. */
  linger_findings_add_alloc (a->findings, trace, a->sites, options, &a->alloc_summary);
  return a;
}

LingerAnalysis *
linger_analysis_new_for_trace_with_options (LingerTrace                 *trace,
                                            const LingerFindingsOptions *options)
{
  return analyse_trace (trace, options, FALSE);
}

LingerAnalysis *
linger_analysis_new_for_trace (LingerTrace *trace,
                               gboolean     all)
{
  LingerFindingsOptions options = { .ungrouped = all };

  return linger_analysis_new_for_trace_with_options (trace, &options);
}

LingerAnalysis *
linger_analysis_new_for_snapshot (LingerTrace                 *trace,
                                  LingerSnapshot              *snapshot,
                                  const LingerFindingsOptions *options)
{
  const LingerFindingsOptions defaults = { 0 };
  LingerAnalysis *a = analyse (trace, snapshot, options != NULL ? options : &defaults, FALSE);

  a->trace_borrowed = TRUE;
  return a;
}

LingerAnalysis *
linger_analysis_new_for_file_with_options (const char                  *path,
                                           const LingerFindingsOptions *options,
                                           GError                     **error)
{
  /* Bounded memory: the estimate against linger_memlimit_get() comes
   * first, and only the snapshot analysed is kept. */
  const LingerReadOptions read_options = { .only_analysed_snapshot = TRUE };
  LingerTrace *trace = linger_trace_new_from_file_with_options (path, &read_options, error);
  LingerAnalysis *a;

  if (trace == NULL)
    return NULL;
  a = analyse_trace (trace, options, TRUE);
  a->path = g_strdup (path);
  return a;
}

LingerAnalysis *
linger_analysis_new_for_file (const char  *path,
                              gboolean     all,
                              GError     **error)
{
  LingerFindingsOptions options = { .ungrouped = all };

  return linger_analysis_new_for_file_with_options (path, &options, error);
}

void
linger_analysis_free (LingerAnalysis *a)
{
  if (a == NULL)
    return;
  g_ptr_array_unref (a->findings);
  linger_filtered_free (a->filtered);
  linger_sites_free (a->sites);
  linger_dominators_free (a->dominators);
  linger_graph_free (a->graph);
  if (!a->trace_borrowed)
    linger_trace_free (a->trace);
  g_free (a->path);
  g_free (a);
}
