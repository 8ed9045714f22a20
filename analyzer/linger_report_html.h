/* linger_report_html.h: the report as one self-contained HTML page.
 *
 * The page (analyzer/html/: a template, its stylesheet and script, built
 * into the binary) holds the JSON report and the objects of each finding
 * (linger_finding_graph.h) in <script type="application/json"> blocks;
 * its script draws the findings table, the selected finding's retention
 * graph and the retained size by allocation site.  No network, no font
 * or library from elsewhere: it works from file://.
 */
#pragma once

#include <glib.h>

#include "linger_analysis.h"

G_BEGIN_DECLS

/* Appends the page to @out. */
void linger_report_html (const LingerAnalysis *analysis,
                         GString              *out);

/* Appends @json for a <script> block: every '<' as \u003c, so no
 * "</script>" or "<!--" in the program's strings can end the block. */
void linger_html_append_json (GString       *out,
                              const GString *json);

G_END_DECLS
