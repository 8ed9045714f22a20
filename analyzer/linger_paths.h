/* linger_paths.h: shortest reference paths (breadth-first search). */
#pragma once

#include <glib.h>

#include "linger_graph.h"

G_BEGIN_DECLS

/* One object on a path and the edge that leads from it to the next step;
 * the last step has no edge. */
typedef struct
{
  guint32           node;
  const LingerEdge *edge;   /* NULL on the last step */
} LingerPathStep;

/* Shortest path from any of @sources to @target over the edges accepted
 * by @filter (all edges if NULL).  Among paths of the same length the one
 * from the earliest source, then through the earliest edges, wins, so the
 * result is deterministic.  A source equal to @target gives a one-step path.
 * Returns: (transfer full) (nullable): a GArray of LingerPathStep, or NULL
 * if @target cannot be reached. */
GArray *linger_paths_shortest   (const LingerGraph *graph,
                                 const guint32     *sources,
                                 gsize              n_sources,
                                 guint32            target,
                                 LingerEdgeFilter   filter,
                                 gpointer           user_data);

/* A reusable search: its buffers are allocated once per graph and the
 * previous search is forgotten in constant time (a generation stamp), so
 * thousands of searches on a heap of millions of objects stay cheap. */
typedef struct _LingerPathSearch LingerPathSearch;

LingerPathSearch *linger_path_search_new  (const LingerGraph *graph);
void              linger_path_search_free (LingerPathSearch *search);

/* As linger_paths_shortest(), on @search's graph. */
GArray           *linger_path_search_run  (LingerPathSearch  *search,
                                           const guint32     *sources,
                                           gsize              n_sources,
                                           guint32            target,
                                           LingerEdgeFilter   filter,
                                           gpointer           user_data);

/* As linger_path_search_run(), from both ends at once (forward from
 * @sources, backward from @target over the edges into it), a level at a
 * time of the half with the smaller frontier.  A search that fails costs
 * about what the smaller half reaches, which makes many searches from
 * callables that share a large object (bound methods of one manager)
 * cheap.  The path is a shortest one; among those, which one may differ
 * from linger_path_search_run()'s. */
GArray           *linger_path_search_between (LingerPathSearch  *search,
                                              const guint32     *sources,
                                              gsize              n_sources,
                                              guint32            target,
                                              LingerEdgeFilter   filter,
                                              gpointer           user_data);

/* Breadth-first search on @search's graph from @sources over the edges
 * accepted by @filter, with no single target: it stops once it has reached
 * every node of @targets (a set of GUINT_TO_POINTER (node + 1)), or when
 * nothing is left.  linger_path_search_path_to() then gives the path to
 * any node it reached. */
void              linger_path_search_reach   (LingerPathSearch  *search,
                                              const guint32     *sources,
                                              gsize              n_sources,
                                              GHashTable        *targets,
                                              LingerEdgeFilter   filter,
                                              gpointer           user_data);

/* The path from a source to @node found by the last search, or NULL if it
 * did not reach @node.
 * Returns: (transfer full) (nullable): a GArray of LingerPathStep */
GArray           *linger_path_search_path_to (LingerPathSearch  *search,
                                              guint32            node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerPathSearch, linger_path_search_free)

/* The path from a root to @target in @tree (see linger_graph_root_tree()).
 * Returns: (transfer full) (nullable): NULL if @target is unreachable. */
GArray  *linger_paths_from_tree  (const LingerGraph *graph,
                                  const guint32     *tree,
                                  guint32            target);

/* Shortest path from the graph's roots to @target over owned edges.
 * Returns: (transfer full) (nullable) */
GArray  *linger_paths_from_roots (const LingerGraph *graph,
                                  guint32            target);

G_END_DECLS
