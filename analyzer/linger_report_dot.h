/* linger_report_dot.h: the findings as a Graphviz graph.
 *
 * One cluster per finding, titled with its kind and severity, holding the
 * objects of its path and held_by (linger_finding_graph.h): nodes show
 * type, size and allocation site; edges their label; weak references are
 * dashed, finalizers and bound methods drawn in shapes and colours of
 * their own.  Everything taken from the traced program (type names, keys)
 * is escaped, so the output is always valid dot.
 */
#pragma once

#include <glib.h>

#include "linger_analysis.h"

G_BEGIN_DECLS

/* Graphviz takes seconds to lay out a couple of hundred clusters and
 * minutes for a thousand (`--all` on a large program): beyond this many
 * findings, only the first are drawn and the graph's title says so. */
#define LINGER_DOT_MAX_FINDINGS 200

/* Appends the dot text of @analysis' findings to @out. */
void linger_report_dot              (const LingerAnalysis *analysis,
                                     GString              *out);

/* Appends the SVG that Graphviz's `dot -Tsvg` draws of the dot text to
 * @out.  Returns FALSE with @error set when `dot` is not on PATH (its
 * message says so and how to get it) or fails. */
gboolean linger_report_svg          (const LingerAnalysis  *analysis,
                                     GString               *out,
                                     GError               **error);

/* Appends @text as a dot double-quoted string: quotes and backslashes
 * escaped, a newline as dot's line break, other control characters and
 * invalid UTF-8 as U+FFFD, cut to @max_chars characters with an ellipsis
 * (0: no limit). */
void linger_dot_append_string       (GString    *out,
                                     const char *text,
                                     guint       max_chars);

G_END_DECLS
