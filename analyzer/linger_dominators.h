/* linger_dominators.h: who keeps what alive: the dominator tree of a
 * snapshot and the retained size of every object.
 *
 * Object d dominates object v if every chain of owned references (STRONG
 * and CALLBACK, never WEAK) from the roots to v goes through d: if d were
 * freed, v would be freed with it.  The retained size of d is the sum of
 * the sizes of the objects it dominates, itself included: the memory that
 * fixing whatever keeps d alive gives back.
 *
 * The tree hangs from a virtual root whose children are the graph's roots
 * (ROOTS records, immortal objects, objects held from outside the
 * recorded graph).  Objects that no root reaches are cyclic garbage that
 * the collector has not freed yet; they would otherwise have no
 * dominator and no retained size.  The virtual root therefore also gets
 * one edge into each source component of the garbage (a strongly
 * connected component that no other garbage refers to): the member that
 * a depth-first search over the garbage, in address order, finishes last.
 * Every path into such a component enters through that member, so it
 * dominates its whole component and whatever hangs only from it: its
 * retained size is what the collector frees with that cycle.  Which
 * member is picked only matters for the per-object sizes inside a garbage
 * cycle, and the choice is deterministic.
 *
 * The tree is computed with Lengauer and Tarjan's algorithm (the simple
 * version, path compression without balancing: O(m log n)), iterative
 * throughout: heaps have millions of objects and reference chains as long
 * as a linked list.
 */
#pragma once

#include <glib.h>

#include "linger_findings.h"
#include "linger_graph.h"

G_BEGIN_DECLS

/* The virtual root, as an immediate dominator. */
#define LINGER_DOM_ROOT G_MAXUINT32

typedef struct
{
  guint32  n_nodes;
  /* Per node: its immediate dominator (a node index), or LINGER_DOM_ROOT
   * for the roots, the garbage entries and whatever several of them share. */
  guint32 *idom;
  /* Per node: bytes and objects of its dominator subtree, itself included. */
  guint64 *retained_bytes;
  guint32 *retained_objects;
  /* Per node: its position in a preorder of the dominator tree (1..n;
   * 0 is the virtual root).  d dominates v iff tree_pre[d] <= tree_pre[v]
   * < tree_pre[d] + retained_objects[d]. */
  guint32 *tree_pre;

  /* The garbage entries the virtual root points to, ascending. */
  GArray  *garbage_entries;   /* guint32 node indices */

  /* Reachable from a root over owned edges, or not: the header of the
   * report.  Sizes are the snapshot's (sys.getsizeof). */
  guint64  live_objects;
  guint64  live_bytes;
  guint64  garbage_objects;
  guint64  garbage_bytes;
} LingerDominators;

/* Computes the dominator tree of @graph's owned edges and every node's
 * retained size.  @graph must outlive the result only as long as the
 * caller uses node indices with it; nothing of it is kept.
 * Returns: (transfer full) */
LingerDominators *linger_dominators_compute (const LingerGraph *graph);
void              linger_dominators_free    (LingerDominators *dom);

/* TRUE if @d dominates @v (every node dominates itself). */
gboolean          linger_dominators_dominates (const LingerDominators *dom,
                                               guint32                 d,
                                               guint32                 v);

/* What a set of objects retains together: the union of their dominator
 * subtrees, each object counted once however many of @nodes dominate it.
 * Indices that are out of range (LINGER_NODE_NONE) are skipped.  This is
 * a lower bound of what freeing the whole set would free: an object held
 * by two members and nothing else is dominated by neither. */
void              linger_dominators_retained_set (const LingerDominators *dom,
                                                  const guint32          *nodes,
                                                  gsize                   n_nodes,
                                                  guint64                *ret_bytes,
                                                  guint64                *ret_objects);

/* Sets retained_bytes and retained_objects of every LingerFinding in
 * @findings: what its retained_from nodes retain together, or without
 * them, what its object kept alive (objects[0]) retains, or for a cycle
 * its listed members; then sorts @findings by severity and, within a
 * severity, by retained bytes, largest first.  Ties keep the order the
 * findings came in, which is deterministic. */
void              linger_dominators_measure_findings (const LingerDominators *dom,
                                                      const LingerGraph      *graph,
                                                      GPtrArray              *findings);

/* For grouping: makes @group's retained size (once measured) cover what
 * @instance retains too, by adding @instance's nodes to
 * group->retained_from.  Objects nested in several instances are still
 * counted once. */
void              linger_dominators_merge_finding    (LingerFinding          *group,
                                                      const LingerFinding    *instance);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerDominators, linger_dominators_free)

G_END_DECLS
