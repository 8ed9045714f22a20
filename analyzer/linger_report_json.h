/* linger_report_json.h: the machine-readable report.
 *
 * The JSON layout is a contract with scripts and CI jobs: fields may be
 * added, never removed or renamed.  Keys are written in a fixed order and
 * findings are sorted, so two runs on one trace give identical bytes.
 */
#pragma once

#include <glib.h>

#include "linger_analysis.h"
#include "linger_diff.h"

G_BEGIN_DECLS

/* Appends the report (UTF-8, ending with a newline) to @out. */
void linger_report_json        (const LingerAnalysis *analysis,
                                GString              *out);

/* Appends the report of `linger report --diff` to @out: both snapshots,
 * the growth in total, per type (and allocation site) and the findings
 * new in the later snapshot. */
void linger_report_json_diff   (const LingerDiff     *diff,
                                GString              *out);

/* Appends @text as a JSON string literal: quotes, backslashes and control
 * characters escaped, invalid UTF-8 replaced by U+FFFD.  NULL gives null. */
void linger_json_append_string (GString    *out,
                                const char *text);

G_END_DECLS
