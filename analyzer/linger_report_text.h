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

/* Frames of an allocation stack the text report shows by default;
 * `linger report --stacks` shows them all. */
#define LINGER_REPORT_DEFAULT_FRAMES 5

/* As linger_report_text(), showing at most @max_frames frames of each
 * allocation stack (G_MAXUINT: all). */
void linger_report_text_full (const LingerAnalysis *analysis,
                              gboolean              color,
                              guint                 max_frames,
                              GString              *out);

/* Appends the report of `linger report --diff`: both snapshots, the
 * growth in total and by type, the findings new in the later one. */
void linger_report_text_diff (const LingerDiff *diff,
                              gboolean          color,
                              GString          *out);

G_END_DECLS
