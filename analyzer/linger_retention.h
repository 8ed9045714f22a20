/* linger_retention.h: why an object is still alive, said the way a person
 * would say it.
 *
 * A retention tree is a breadth-first tree from the snapshot's roots.
 * Roots are not all equal: among paths of the same length, one through a
 * program's module globals explains more than one through sys.modules or
 * the import machinery, and a path from any recorded root explains more
 * than "C code holds it".  So the search starts from the recorded roots in
 * this order: modules other than the interpreter's and importlib's own,
 * then threads' frames, then every other recorded root; objects still
 * unreached then get their path from the roots the graph inferred
 * (references it cannot explain, immortal objects).
 *
 * A path is rendered as steps joined by " → " in the text report:
 *
 *   app.cache['k'] → Session.handlers[0] → <bound method Session.on_x>.__self__ → Session
 *
 * module roots as the module's name with its globals collapsed, class
 * attributes as Class.attr, subscripts folded into the step that reached
 * the container, a thread's frame by its root label followed by
 * "local 'name'", the weakref.finalize registry as "weakref.finalize
 * registry", atexit callbacks by their label, and objects that only
 * unexplained references hold as "held by C code or the interpreter (N
 * references not seen)".
 */
#pragma once

#include <glib.h>

#include "linger_graph.h"

G_BEGIN_DECLS

typedef struct _LingerRetention LingerRetention;

/* Builds the retention tree of @graph over the edges accepted by @filter
 * (owned edges if NULL), never entering a node whose @blocked byte is set
 * (@blocked may be NULL) and not starting from roots of the kinds in
 * @skipped_root_kinds (a mask of 1u << LINGER_ROOT_*): such a node is
 * then not a root at all, even if the graph also inferred it as one.
 * @graph and @blocked must outlive the tree.
 * Returns: (transfer full) */
LingerRetention *linger_retention_new        (const LingerGraph *graph,
                                              const guint8      *blocked,
                                              LingerEdgeFilter   filter,
                                              gpointer           user_data,
                                              guint32            skipped_root_kinds);
void             linger_retention_free       (LingerRetention *retention);

/* Laid out as linger_graph_root_tree()'s result. */
const guint32   *linger_retention_tree       (const LingerRetention *retention);

gboolean         linger_retention_reaches    (const LingerRetention *retention,
                                              guint32                node);

/* The rendered path from a root to @node, or NULL if no root reaches it.
 * *ret_root_kind (optional) is what kind of root it starts at: a
 * linger_root_kind_name(), "external" or "immortal".
 * Returns: (transfer full) (nullable): a GPtrArray of char* */
GPtrArray       *linger_retention_describe   (const LingerRetention *retention,
                                              guint32                node,
                                              const char           **ret_root_kind);

/* TRUE for a module of the interpreter or the import system (sys,
 * builtins, importlib and its frozen parts), whose paths explain little. */
gboolean         linger_retention_is_internal_module (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerRetention, linger_retention_free)

G_END_DECLS
