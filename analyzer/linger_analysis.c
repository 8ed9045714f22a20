/* linger_analysis.c: a trace, its snapshot, graph and findings. */
#include "linger_analysis.h"

LingerAnalysis *
linger_analysis_new_for_trace (LingerTrace *trace,
                               gboolean     all)
{
  LingerAnalysis *a = g_new0 (LingerAnalysis, 1);

  a->trace = trace;
  a->snapshot = linger_trace_pick_snapshot (trace);
  if (a->snapshot != NULL)
    {
      a->graph = linger_graph_new (trace, a->snapshot);
      a->findings = linger_findings_compute (a->graph, !all);
    }
  else
    {
      a->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);
    }
  return a;
}

LingerAnalysis *
linger_analysis_new_for_file (const char  *path,
                              gboolean     all,
                              GError     **error)
{
  LingerTrace *trace = linger_trace_new_from_file (path, error);
  LingerAnalysis *a;

  if (trace == NULL)
    return NULL;
  a = linger_analysis_new_for_trace (trace, all);
  a->path = g_strdup (path);
  return a;
}

void
linger_analysis_free (LingerAnalysis *a)
{
  if (a == NULL)
    return;
  g_ptr_array_unref (a->findings);
  linger_graph_free (a->graph);
  linger_trace_free (a->trace);
  g_free (a->path);
  g_free (a);
}
