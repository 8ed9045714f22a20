/* linger_graph.h: the object graph of one snapshot.
 *
 * Nodes are the snapshot's objects sorted by address (so every walk in
 * node order is deterministic), edges are its REFS in compressed sparse
 * row form, both outgoing and incoming.  Edges whose source or target is
 * not an object of the snapshot are dropped and counted.
 *
 * Roots are the ROOTS records plus every object the recorded graph does not
 * explain: a GC-tracked object whose refcount is larger than its incoming
 * owned edges is held by something outside the graph (C code, the
 * interpreter, a frame on the C stack).  That is the reasoning of CPython's
 * cyclic GC (subtract_refs), applied to the snapshot.  Immortal objects are
 * roots too.
 */
#pragma once

#include <glib.h>

#include "linger_reader.h"

G_BEGIN_DECLS

#define LINGER_NODE_NONE G_MAXUINT32

typedef struct _LingerGraph LingerGraph;

#define LINGER_TREE_ROOT        (G_MAXUINT32 - 1)
#define LINGER_TREE_UNREACHABLE G_MAXUINT32

typedef struct
{
  guint32 source;      /* node index */
  guint32 target;      /* node index */
  guint32 label;       /* string id, or the index for LINGER_LABEL_INDEX */
  guint16 label_kind;  /* linger_label_kind */
  guint16 ref_kind;    /* linger_ref_kind */
} LingerEdge;

/* Decides whether an edge is part of the graph a walk sees (SCC, paths). */
typedef gboolean (*LingerEdgeFilter) (const LingerGraph *graph,
                                      const LingerEdge  *edge,
                                      gpointer           user_data);

enum
{
  LINGER_ROOT_REASON_RECORDED = 1u << 0, /* a ROOTS entry */
  LINGER_ROOT_REASON_EXTERNAL = 1u << 1, /* refcount > incoming owned edges */
  LINGER_ROOT_REASON_IMMORTAL = 1u << 2,
};

struct _LingerGraph
{
  const LingerTrace    *trace;     /* borrowed: resolves string ids */
  const LingerSnapshot *snapshot;  /* borrowed */

  guint32              n_nodes;
  linger_object_entry *nodes;      /* sorted by address, unique */

  guint32              n_edges;
  LingerEdge          *edges;      /* sorted by source; out_start indexes it */
  guint32             *out_start;  /* n_nodes + 1 */
  guint32             *in_edges;   /* edge indices sorted by target */
  guint32             *in_start;   /* n_nodes + 1 */

  guint8              *root_reasons; /* LINGER_ROOT_REASON_*, per node */
  GArray              *roots;        /* guint32 node indices, ascending */
  /* Breadth-first tree from the roots over owned edges: per node the
   * edge index that first reached it, LINGER_TREE_ROOT for a root,
   * LINGER_TREE_UNREACHABLE.  Answers both "is it alive?" and "why?". */
  guint32             *tree;

  /* What was dropped while building, for the report's honesty. */
  guint32              n_duplicate_objects;
  guint32              n_dangling_edges;
};

/* Builds the graph of @snapshot.  @trace and @snapshot must outlive it.
 * Returns: (transfer full) */
LingerGraph *linger_graph_new          (const LingerTrace    *trace,
                                        const LingerSnapshot *snapshot);
/* As linger_graph_new(), for a caller that owns @snapshot and needs its
 * objects no more: they are freed (snapshot->objects left empty) once the
 * graph has its own sorted copy, which lowers the peak memory of a huge
 * snapshot by 40 bytes an object. */
LingerGraph *linger_graph_new_releasing_objects (const LingerTrace *trace,
                                                 LingerSnapshot    *snapshot);
void         linger_graph_free         (LingerGraph *graph);

/* Node index of an address, or LINGER_NODE_NONE (binary search). */
guint32      linger_graph_lookup       (const LingerGraph *graph,
                                        guint64            address);

/* TRUE for the edges that keep their target alive: STRONG and CALLBACK.
 * WEAK edges and kinds from a newer format are not followed.  Inline:
 * walks over millions of edges ask it for each. */
static inline gboolean
linger_edge_is_owned (const LingerEdge *edge)
{
  return edge->ref_kind == LINGER_REF_STRONG || edge->ref_kind == LINGER_REF_CALLBACK;
}

/* linger_edge_is_owned() as a LingerEdgeFilter. */
gboolean     linger_graph_filter_owned (const LingerGraph *graph,
                                        const LingerEdge  *edge,
                                        gpointer           user_data);

/* The label text of an edge (string id resolved), NULL if it has none. */
const char  *linger_graph_edge_text    (const LingerGraph *graph,
                                        const LingerEdge  *edge);
/* TRUE if the edge is an ATTR edge named @name. */
gboolean     linger_graph_edge_is_attr (const LingerGraph *graph,
                                        const LingerEdge  *edge,
                                        const char        *name);

const char  *linger_graph_type_name    (const LingerGraph *graph,
                                        guint32            node);
const char  *linger_graph_name         (const LingerGraph *graph,
                                        guint32            node);

static inline guint32
linger_graph_flags (const LingerGraph *graph,
                    guint32            node)
{
  return graph->nodes[node].flags;
}

/* The breadth-first tree from the graph's roots over the edges accepted by
 * @filter (all if NULL), never entering a node whose @blocked byte is set
 * (@blocked may be NULL); laid out as graph->tree.
 * Returns: (transfer full) */
guint32     *linger_graph_root_tree    (const LingerGraph *graph,
                                        const guint8      *blocked,
                                        LingerEdgeFilter   filter,
                                        gpointer           user_data);

static inline gboolean
linger_graph_is_reachable (const LingerGraph *graph,
                           guint32            node)
{
  return graph->tree[node] != LINGER_TREE_UNREACHABLE;
}

/* Refcount minus incoming owned edges: the references the recorded graph
 * does not explain.  0 for objects the GC does not track, whose referrers
 * the shim cannot all see. */
gint64       linger_graph_external_refs (const LingerGraph *graph,
                                         guint32            node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerGraph, linger_graph_free)

G_END_DECLS
