/* linger_describe.h: how objects, edges and paths are shown to people.
 *
 * A path is a list of steps, each "source description + edge label"
 * ("_Info.args", "tuple[0]", "Connector.callback"), ending with the
 * target's description.  The text report joins them with " → "; the JSON
 * report keeps them as an array.
 */
#pragma once

#include <glib.h>

#include "linger_graph.h"
#include "linger_paths.h"

G_BEGIN_DECLS

/* "__main__.Connector" -> "Connector", "builtins.dict" -> "dict".  The type
 * name is "module.QualName" and both parts may contain dots; the last
 * component is what a reader recognises.  Returns a pointer into @type_name. */
const char *linger_describe_short_type (const char *type_name);

/* "Connector", "<function on_finalize>", "<bound method Connector.on_data>",
 * "<class Foo>", "<module app>".
 * Returns: (transfer full) */
char       *linger_describe_node       (const LingerGraph *graph,
                                        guint32            node);

/* The label of an edge as it follows its source: ".name", "[0]", "['k']",
 * "(key 'k')", " closure 'x'", ".x", "{item}", "()".
 * Returns: (transfer full) */
char       *linger_describe_label      (const LingerGraph *graph,
                                        const LingerEdge  *edge);

/* The attribute name in the text of a dict key that reads as one:
 * "'name'" -> "name"; NULL for any other key ("42", "'a b'", "<Key>").
 * Returns: (transfer full) (nullable) */
char       *linger_describe_attribute_key (const char *text);

/* A rendered step with its subscript generalised, for grouping paths of
 * the same shape: "tuple[0]" -> "tuple[*]", "dict['k']" -> "dict[*]",
 * "dict(key <Key>)" -> "dict(key *)", "atexit callback #2: f" ->
 * "atexit callback #*: f"; other steps are kept.
 * Returns: (transfer full) */
char       *linger_describe_step_shape    (const char *step);

/* Appends the rendered steps of @path to @out (a GPtrArray of char*,
 * owning).  Collapses `instance.__dict__['k']` into `Instance.k` and a
 * closure's function -> __closure__ tuple -> cell -> cell_contents into
 * `<function f> closure 'x'`. */
void        linger_describe_path       (const LingerGraph *graph,
                                        const GArray      *path,
                                        GPtrArray         *out);

G_END_DECLS
