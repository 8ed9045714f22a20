/* linger_diff.h: what grew between two snapshots.
 *
 * `linger report --diff` compares a snapshot taken earlier ("before")
 * with one taken later ("after"): the first and the last snapshot of one
 * trace, the last snapshots of two traces, or two snapshots picked by id.
 * Addresses mean nothing across snapshots (an object freed and another
 * allocated at its address are different objects), so objects are
 * compared in aggregate, by type and (once traces record them) by
 * allocation site, and findings by what they are: kind, type and the
 * shape of their path.
 */
#pragma once

#include <glib.h>

#include "linger_analysis.h"

G_BEGIN_DECLS

typedef struct
{
  const char *type;            /* "module.QualName", owned by a trace */
  /* "app.py:12 in make" of the allocation site, NULL for objects
   * without one (traces without allocation tracking, objects created
   * before it started): rows are keyed by (type, site). */
  const char *site;
  guint64     objects_before;
  guint64     objects_after;
  guint64     bytes_before;
  guint64     bytes_after;
} LingerDiffRow;

static inline gint64
linger_diff_row_objects (const LingerDiffRow *row)
{
  return (gint64) row->objects_after - (gint64) row->objects_before;
}

static inline gint64
linger_diff_row_bytes (const LingerDiffRow *row)
{
  return (gint64) row->bytes_after - (gint64) row->bytes_before;
}

/* One snapshot in numbers (sizes are sys.getsizeof). */
typedef struct
{
  guint64 objects;
  guint64 bytes;
  guint64 live_objects;     /* reachable from a root */
  guint64 live_bytes;
  guint64 garbage_objects;  /* waiting for the cyclic GC */
  guint64 garbage_bytes;
  guint   findings;         /* entries of its report */
} LingerDiffTotals;

typedef struct
{
  LingerFinding *finding;          /* borrowed from after->findings */
  /* Over every finding with its key (a grouped report has one, --all
   * one per instance), before and after. */
  guint64        count_before;
  guint64        count_after;
  guint64        retained_bytes_before;
  guint64        retained_bytes_after;
} LingerDiffGrown;

typedef struct
{
  /* The two analyses; they borrow the traces below.  For a diff within
   * one trace, both borrow trace_before.  before->graph and
   * before->dominators are NULL: once counted, the earlier graph is freed
   * before the later one is built, so a diff needs little more memory
   * than a report.  Use before_totals. */
  LingerAnalysis *before;
  LingerAnalysis *after;
  LingerTrace    *trace_before;
  LingerTrace    *trace_after;   /* NULL when both snapshots are of trace_before */

  /* Every (type, site) whose count or bytes changed, most bytes grown
   * first, then most objects grown, then by type name. */
  GArray         *rows;          /* LingerDiffRow */
  guint           n_unchanged_types;
  gboolean        sites_recorded; /* FALSE: the traces have no allocation sites */

  LingerDiffTotals before_totals;
  LingerDiffTotals after_totals;
  /* The same totals as before_totals and after_totals. */
  guint64         objects_before;
  guint64         objects_after;
  guint64         bytes_before;
  guint64         bytes_after;

  /* Findings of `after` whose kind, type and path shape no finding of
   * `before` has; borrowed from after->findings, in its order. */
  GPtrArray      *new_findings;  /* LingerFinding */
  /* Findings of `before` that `after` no longer has. */
  guint           n_gone_findings;
  /* Findings of `after` whose kind, type and path shape `before` has
   * fewer instances of (a leak that goes on), in after's order. */
  GArray         *grown_findings; /* LingerDiffGrown */

  gboolean        owns_traces;   /* linger_diff_new_for_files() */
} LingerDiff;

/* Reads one or two traces (@paths, NULL-terminated) and compares two of
 * their snapshots.  @snapshot_ids is NULL (first and last of one trace,
 * last of each of two) or two snapshot ids: both of the one trace, or the
 * first of the first trace and the second of the second.  @options are the
 * findings' (`linger report --all`, `--live-cycles`...), NULL for the
 * defaults.
 * Returns: (transfer full): the diff, or NULL with @error set: a trace that
 * cannot be read, that has no snapshot (a program that is not Python, or
 * ended before one was taken), a single trace with only one snapshot, an
 * id that is not in the trace. */
LingerDiff *linger_diff_new_for_files (const char * const          *paths,
                                       const guint32               *snapshot_ids,
                                       const LingerFindingsOptions *options,
                                       GError                     **error);

/* Compares two snapshots of traces already read; the diff borrows
 * @trace_before and @trace_after (which may be the same trace). */
LingerDiff *linger_diff_new          (LingerTrace                 *trace_before,
                                      LingerSnapshot              *before,
                                      LingerTrace                 *trace_after,
                                      LingerSnapshot              *after,
                                      const LingerFindingsOptions *options);

void        linger_diff_free         (LingerDiff *diff);

/* The key findings are matched by: kind, type of the example and the shape
 * of the path (finding->shape, the one they were grouped by; without it
 * the path with its indices generalised: "tuple[0]" -> "tuple[*]"); for
 * a reference cycle, the types in the cycle instead.  The state is not
 * part of it: a cycle that became garbage is the same finding.
 * Returns: (transfer full) */
char       *linger_diff_finding_key  (const LingerFinding *finding);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerDiff, linger_diff_free)

G_END_DECLS
