/* linger_analysis.h: a trace, the snapshot it is judged on, its graph and
 * findings: everything a report prints. */
#pragma once

#include <glib.h>

#include "linger_dominators.h"
#include "linger_findings.h"
#include "linger_graph.h"
#include "linger_reader.h"

G_BEGIN_DECLS

/* What suppressions and a baseline took out of the findings
 * (linger_policy.h). */
typedef struct _LingerFiltered LingerFiltered;

typedef struct
{
  char           *path;       /* the trace file */
  LingerTrace    *trace;
  LingerSnapshot *snapshot;   /* borrowed from trace; NULL if it has none */
  LingerGraph    *graph;      /* NULL without a snapshot */
  GPtrArray      *findings;   /* LingerFinding; empty without a snapshot */
  /* Who keeps what alive, and the live and garbage totals
   * (linger_dominators.h); NULL without a snapshot. */
  LingerDominators *dominators;
  gboolean        trace_borrowed; /* linger_analysis_new_for_snapshot() */
  /* Allocation sites of the trace, resolved on demand (never NULL), and
   * what allocation tracking saw (a report's header; the leak and
   * gc-collected findings are only in a report's analysis, not in those
   * of linger_analysis_new_for_snapshot()). */
  LingerSites    *sites;
  LingerAllocSummary alloc_summary;
  /* Set by linger_policy_filter(); NULL when nothing was filtered. */
  LingerFiltered *filtered;
} LingerAnalysis;

/* Reads @path and computes its findings (grouped unless @all).
 * Returns: (transfer full): the analysis, or NULL with @error set. */
LingerAnalysis *linger_analysis_new_for_file  (const char  *path,
                                               gboolean     all,
                                               GError     **error);

/* Takes ownership of @trace. */
LingerAnalysis *linger_analysis_new_for_trace (LingerTrace *trace,
                                               gboolean     all);

/* As the two above, with every option of the findings (an @all above is
 * options->ungrouped). */
LingerAnalysis *linger_analysis_new_for_file_with_options  (const char                  *path,
                                                            const LingerFindingsOptions *options,
                                                            GError                     **error);
LingerAnalysis *linger_analysis_new_for_trace_with_options (LingerTrace                 *trace,
                                                            const LingerFindingsOptions *options);

/* Analyses @snapshot of @trace, which the analysis borrows: both must
 * outlive it (a diff judges two snapshots of one trace).  @options may be
 * NULL for the defaults. */
LingerAnalysis *linger_analysis_new_for_snapshot (LingerTrace                 *trace,
                                                  LingerSnapshot              *snapshot,
                                                  const LingerFindingsOptions *options);

void            linger_analysis_free          (LingerAnalysis *analysis);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerAnalysis, linger_analysis_free)

G_END_DECLS
