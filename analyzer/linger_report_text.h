/* linger_report_text.h: the report for people. */
#pragma once

#include <glib.h>

#include "linger_analysis.h"
#include "linger_diff.h"

G_BEGIN_DECLS

/* Appends the report to @out; ANSI colours only with @color (the caller
 * decides: stdout is a terminal and NO_COLOR is unset). */
void linger_report_text (const LingerAnalysis *analysis,
                         gboolean              color,
                         GString              *out);

/* Appends the report of `linger report --diff`: both snapshots, the
 * growth in total and by type, the findings new in the later one. */
void linger_report_text_diff (const LingerDiff *diff,
                              gboolean          color,
                              GString          *out);

G_END_DECLS
