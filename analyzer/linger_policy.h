/* linger_policy.h: what a CI job decides on a report: which findings fail
 * the build (--fail-on), which are suppressed (linger_suppressions.h) or
 * already known (linger_baseline.h).  Independent of the report's format:
 * the findings are filtered before any report is written. */
#pragma once

#include <glib.h>

#include "linger_analysis.h"
#include "linger_baseline.h"
#include "linger_suppressions.h"

G_BEGIN_DECLS

/* Exit status of `linger report --fail-on` and `linger run --fail-on`
 * when a finding matches. */
#define LINGER_EXIT_FINDINGS 3

/* Whether @kind is a finding kind (LINGER_FINDING_*). */
gboolean linger_policy_is_kind      (const char *kind);
/* "finalizer-keepalive, bound-method-cycle, ..." and, with
 * @with_levels, ", error, warning, info, any".  Returns: (transfer full) */
char    *linger_policy_kinds_text   (gboolean with_levels);

typedef struct
{
  guint32  kinds;         /* bit i: the i-th kind of linger_policy_kinds_text() */
  gboolean any_severity;  /* min_severity is set */
  LingerSeverity min_severity;
} LingerFailOn;

/* Parses "KIND[,KIND...]": finding kinds, severities (error, warning,
 * info: that severity or above) or "any".
 * Returns: FALSE with @error set naming the bad word and the valid ones. */
gboolean linger_fail_on_parse       (const char    *text,
                                     LingerFailOn  *fail_on,
                                     GError       **error);
gboolean linger_fail_on_matches     (const LingerFailOn  *fail_on,
                                     const LingerFinding *finding);
/* The findings of @analysis (after linger_policy_filter()) that match. */
guint    linger_fail_on_count       (const LingerFailOn   *fail_on,
                                     const LingerAnalysis *analysis);

typedef struct
{
  char  *file;
  guint  line;
  char  *kind;
} LingerUnusedSuppression;

/* What linger_policy_filter() took out of a report's findings; reports
 * show it (analysis->filtered). */
struct _LingerFiltered
{
  GPtrArray *suppression_files;  /* char *, the files read */
  GPtrArray *suppressed;         /* LingerFinding, in report order */
  GPtrArray *suppressed_by;      /* char * "FILE:LINE" of the first entry matching each */
  GPtrArray *unused;             /* LingerUnusedSuppression, in file order */
  char      *baseline_path;      /* NULL without a baseline */
  guint      baseline_size;      /* findings in the baseline file */
  GPtrArray *known;              /* LingerFinding already in the baseline */
};

/* Takes out of @analysis's findings those @suppressions match, then
 * those @baseline knows (either may be NULL), and records what it did in
 * analysis->filtered. */
void     linger_policy_filter       (LingerAnalysis     *analysis,
                                     LingerSuppressions *suppressions,
                                     LingerBaseline     *baseline);
void     linger_filtered_free       (LingerFiltered *filtered);

/* "linger: warning: unused suppression FILE:LINE (KIND)" on stderr, one
 * line per unused entry. */
void     linger_policy_warn_unused  (const LingerFiltered *filtered);

/* One line per finding of @analysis matching @fail_on (all of them when
 * @fail_on is NULL), for `linger run --fail-on` on stderr:
 * "finalizer-keepalive (error): 1 × mod.Type (garbage), allocated at f.py:3 in g". */
void     linger_policy_summary      (const LingerAnalysis *analysis,
                                     const LingerFailOn   *fail_on,
                                     GString              *out);

G_END_DECLS
