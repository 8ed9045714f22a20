/* linger_scc.h: strongly connected components (iterative Tarjan).
 *
 * Heaps have millions of objects and reference chains as long as a linked
 * list, so the walk keeps its own stack on the heap: no recursion.
 */
#pragma once

#include <glib.h>

#include "linger_graph.h"

G_BEGIN_DECLS

typedef struct
{
  guint32  n_components;
  guint32 *component;     /* per node: its component id */
  guint32 *start;         /* n_components + 1: members[start[c]..start[c+1]) */
  guint32 *members;       /* node indices, ascending within a component */
  guint8  *self_loop;     /* per component: a lone node with an edge to itself */
} LingerScc;

/* Components of the subgraph of edges accepted by @filter (all edges if
 * NULL).  Component ids are in the order Tarjan completes them, a reverse
 * topological order of the condensation.
 * Returns: (transfer full) */
LingerScc *linger_scc_compute   (const LingerGraph *graph,
                                 LingerEdgeFilter   filter,
                                 gpointer           user_data);
void       linger_scc_free      (LingerScc *scc);

static inline guint32
linger_scc_size (const LingerScc *scc,
                 guint32          component)
{
  return scc->start[component + 1] - scc->start[component];
}

/* TRUE for a component that is a cycle: two nodes or more, or a self loop. */
gboolean   linger_scc_is_cycle  (const LingerScc *scc,
                                 guint32          component);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerScc, linger_scc_free)

G_END_DECLS
