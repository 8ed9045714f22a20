/* test_graph.c: graph construction, roots, SCC and shortest paths on
 * small synthetic graphs, and a 1M-node chain that a recursive walk would
 * not survive. */
#include <string.h>

#include "linger_graph.h"
#include "linger_paths.h"
#include "linger_scc.h"
#include "linger_test_trace.h"

static void
add_obj (LingerSnapshot *s,
         guint64         address,
         guint32         flags,
         gint64          refcount)
{
  linger_object_entry e = { .address = address, .size = 16, .refcount = refcount, .flags = flags };

  g_array_append_val (s->objects, e);
}

static void
add_ref (LingerSnapshot *s,
         guint64         source,
         guint64         target,
         guint16         ref_kind)
{
  linger_ref_entry e = { .source = source, .target = target, .label = (guint32) s->refs->len,
                         .label_kind = LINGER_LABEL_INDEX, .ref_kind = ref_kind };

  g_array_append_val (s->refs, e);
}

static void
add_root (LingerSnapshot *s,
          guint64         address)
{
  linger_root_entry e = { .address = address, .kind = LINGER_ROOT_MODULE };

  g_array_append_val (s->roots, e);
}

/* Nodes 1..n at addresses 0x100 * i, not tracked (no external roots). */
static LingerSnapshot *
nodes (guint n)
{
  LingerSnapshot *s = linger_snapshot_new ();

  for (guint i = 1; i <= n; i++)
    add_obj (s, 0x100 * (guint64) i, 0, 1);
  return s;
}

#define A(i) (0x100 * (guint64) (i))

static guint32
node (const LingerGraph *g,
      guint              i)
{
  guint32 v = linger_graph_lookup (g, A (i));

  g_assert_cmpuint (v, !=, LINGER_NODE_NONE);
  return v;
}

static void
test_build (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = linger_snapshot_new ();
  g_autoptr(LingerGraph) g = NULL;
  guint32 v;

  /* Out of order, one duplicate. */
  add_obj (s, A (3), 0, 1);
  add_obj (s, A (1), 0, 1);
  add_obj (s, A (2), 0, 1);
  add_obj (s, A (1), 0, 7);
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (1), A (3), LINGER_REF_WEAK);
  add_ref (s, A (3), A (2), LINGER_REF_STRONG);
  add_ref (s, A (1), 0xdead, LINGER_REF_STRONG);   /* target not recorded */
  add_ref (s, 0xbeef, A (1), LINGER_REF_STRONG);   /* source not recorded */

  g = linger_graph_new (trace, s);
  g_assert_cmpuint (g->n_nodes, ==, 3);
  g_assert_cmpuint (g->n_duplicate_objects, ==, 1);
  g_assert_cmpuint (g->n_dangling_edges, ==, 2);
  g_assert_cmpuint (g->n_edges, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmphex (g->nodes[i].address, ==, A (i + 1));
  g_assert_cmpuint (linger_graph_lookup (g, 0x150), ==, LINGER_NODE_NONE);
  g_assert_cmpuint (linger_graph_lookup (g, 0), ==, LINGER_NODE_NONE);
  g_assert_cmpuint (linger_graph_lookup (g, G_MAXUINT64), ==, LINGER_NODE_NONE);

  /* Out-edges of node 1 in file order. */
  v = node (g, 1);
  g_assert_cmpuint (g->out_start[v + 1] - g->out_start[v], ==, 2);
  g_assert_cmpuint (g->edges[g->out_start[v]].target, ==, node (g, 2));
  g_assert_cmpuint (g->edges[g->out_start[v]].ref_kind, ==, LINGER_REF_STRONG);
  g_assert_cmpuint (g->edges[g->out_start[v] + 1].target, ==, node (g, 3));
  g_assert_cmpuint (g->edges[g->out_start[v] + 1].ref_kind, ==, LINGER_REF_WEAK);

  /* In-edges of node 2, sorted by source. */
  v = node (g, 2);
  g_assert_cmpuint (g->in_start[v + 1] - g->in_start[v], ==, 2);
  g_assert_cmpuint (g->edges[g->in_edges[g->in_start[v]]].source, ==, node (g, 1));
  g_assert_cmpuint (g->edges[g->in_edges[g->in_start[v] + 1]].source, ==, node (g, 3));
}

static void
test_roots (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = linger_snapshot_new ();
  g_autoptr(LingerGraph) g = NULL;
  const guint32 T = LINGER_OBJ_GC_TRACKED;

  add_obj (s, A (1), 0, 1);                       /* recorded root */
  add_obj (s, A (2), T, 1);                       /* one ref, from 1: explained */
  add_obj (s, A (3), T, 2);                       /* one ref from 2, one from outside */
  add_obj (s, A (4), 0, 9);                       /* untracked: refcount not checked */
  add_obj (s, A (5), T | LINGER_OBJ_IMMORTAL, 0); /* immortal */
  add_obj (s, A (6), T, 1);                       /* only a weak ref in: held outside */
  add_obj (s, A (7), T, 1);                       /* held by a weakref's callback */
  add_obj (s, A (8), T, 0);                       /* refcount 0 (snapshot's own refs) */
  add_root (s, A (1));
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (3), LINGER_REF_STRONG);
  add_ref (s, A (1), A (6), LINGER_REF_WEAK);
  add_ref (s, A (6), A (7), LINGER_REF_CALLBACK);

  g = linger_graph_new (trace, s);
  g_assert_cmpuint (g->root_reasons[node (g, 1)], ==, LINGER_ROOT_REASON_RECORDED);
  g_assert_cmpuint (g->root_reasons[node (g, 2)], ==, 0);
  g_assert_cmpuint (g->root_reasons[node (g, 3)], ==, LINGER_ROOT_REASON_EXTERNAL);
  g_assert_cmpint (linger_graph_external_refs (g, node (g, 3)), ==, 1);
  g_assert_cmpuint (g->root_reasons[node (g, 4)], ==, 0);
  g_assert_cmpuint (g->root_reasons[node (g, 5)], ==, LINGER_ROOT_REASON_IMMORTAL);
  g_assert_cmpuint (g->root_reasons[node (g, 6)], ==, LINGER_ROOT_REASON_EXTERNAL);
  g_assert_cmpuint (g->root_reasons[node (g, 7)], ==, 0);
  g_assert_cmpuint (g->root_reasons[node (g, 8)], ==, 0);
  g_assert_cmpuint (g->roots->len, ==, 4);

  g_assert_true (linger_graph_is_reachable (g, node (g, 1)));
  g_assert_true (linger_graph_is_reachable (g, node (g, 2)));
  g_assert_true (linger_graph_is_reachable (g, node (g, 7)));   /* callback edges are owned */
  g_assert_false (linger_graph_is_reachable (g, node (g, 4)));
  g_assert_false (linger_graph_is_reachable (g, node (g, 8)));
}

static void
test_reachable_not_weak (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (3);
  g_autoptr(LingerGraph) g = NULL;

  add_root (s, A (1));
  add_ref (s, A (1), A (2), LINGER_REF_WEAK);
  add_ref (s, A (2), A (3), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);
  g_assert_true (linger_graph_is_reachable (g, node (g, 1)));
  g_assert_false (linger_graph_is_reachable (g, node (g, 2)));
  g_assert_false (linger_graph_is_reachable (g, node (g, 3)));
}

static void
test_empty (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = linger_snapshot_new ();
  g_autoptr(LingerGraph) g = linger_graph_new (trace, s);
  g_autoptr(LingerScc) scc = linger_scc_compute (g, NULL, NULL);

  g_assert_cmpuint (g->n_nodes, ==, 0);
  g_assert_cmpuint (scc->n_components, ==, 0);
  g_assert_null (linger_paths_shortest (g, NULL, 0, 0, NULL, NULL));
}

static void
test_scc_chain (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (5);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(LingerScc) scc = NULL;

  for (guint i = 1; i < 5; i++)
    add_ref (s, A (i), A (i + 1), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);
  scc = linger_scc_compute (g, NULL, NULL);
  g_assert_cmpuint (scc->n_components, ==, 5);
  for (guint c = 0; c < 5; c++)
    {
      g_assert_cmpuint (linger_scc_size (scc, c), ==, 1);
      g_assert_false (linger_scc_is_cycle (scc, c));
    }
  /* Reverse topological order: the end of the chain completes first. */
  g_assert_cmpuint (scc->component[node (g, 5)], ==, 0);
  g_assert_cmpuint (scc->component[node (g, 1)], ==, 4);
}

static void
test_scc_self_loop (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (2);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(LingerScc) scc = NULL;

  add_ref (s, A (1), A (1), LINGER_REF_STRONG);
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (2), LINGER_REF_WEAK);
  g = linger_graph_new (trace, s);
  scc = linger_scc_compute (g, NULL, NULL);
  g_assert_cmpuint (scc->n_components, ==, 2);
  g_assert_true (linger_scc_is_cycle (scc, scc->component[node (g, 1)]));
  /* Unfiltered, the weak self loop counts... */
  g_assert_true (linger_scc_is_cycle (scc, scc->component[node (g, 2)]));
  g_clear_pointer (&scc, linger_scc_free);

  /* ...over owned edges only, it does not. */
  scc = linger_scc_compute (g, linger_graph_filter_owned, NULL);
  g_assert_cmpuint (scc->n_components, ==, 2);
  g_assert_true (linger_scc_is_cycle (scc, scc->component[node (g, 1)]));
  g_assert_false (linger_scc_is_cycle (scc, scc->component[node (g, 2)]));
}

static void
test_scc_filter (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (3);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(LingerScc) all = NULL;
  g_autoptr(LingerScc) owned = NULL;

  /* 1 -> 2 -> 3 -weak-> 1, and 2 has a weak self loop. */
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (3), LINGER_REF_CALLBACK);
  add_ref (s, A (3), A (1), LINGER_REF_WEAK);
  add_ref (s, A (2), A (2), LINGER_REF_WEAK);
  g = linger_graph_new (trace, s);

  all = linger_scc_compute (g, NULL, NULL);
  g_assert_cmpuint (all->n_components, ==, 1);
  g_assert_cmpuint (linger_scc_size (all, 0), ==, 3);

  owned = linger_scc_compute (g, linger_graph_filter_owned, NULL);
  g_assert_cmpuint (owned->n_components, ==, 3);
  for (guint c = 0; c < 3; c++)
    g_assert_false (linger_scc_is_cycle (owned, c));
}

static void
test_scc_nested (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (7);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(LingerScc) scc = NULL;
  guint32 c;

  /* 1 -> 2 -> 3 -> 1 and 3 -> 4 -> 3 share node 3: one component.
   * 5 -> 1 hangs off it; 6 <-> 7 is a second cycle reached from 4. */
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (3), LINGER_REF_STRONG);
  add_ref (s, A (3), A (1), LINGER_REF_STRONG);
  add_ref (s, A (3), A (4), LINGER_REF_STRONG);
  add_ref (s, A (4), A (3), LINGER_REF_STRONG);
  add_ref (s, A (5), A (1), LINGER_REF_STRONG);
  add_ref (s, A (4), A (6), LINGER_REF_STRONG);
  add_ref (s, A (6), A (7), LINGER_REF_STRONG);
  add_ref (s, A (7), A (6), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);
  scc = linger_scc_compute (g, NULL, NULL);

  g_assert_cmpuint (scc->n_components, ==, 3);
  c = scc->component[node (g, 1)];
  g_assert_cmpuint (linger_scc_size (scc, c), ==, 4);
  for (guint i = 1; i <= 4; i++)
    g_assert_cmpuint (scc->component[node (g, i)], ==, c);
  /* Members in ascending order. */
  for (guint k = 0; k < 4; k++)
    g_assert_cmpuint (scc->members[scc->start[c] + k], ==, node (g, k + 1));
  g_assert_cmpuint (linger_scc_size (scc, scc->component[node (g, 5)]), ==, 1);
  g_assert_false (linger_scc_is_cycle (scc, scc->component[node (g, 5)]));
  g_assert_cmpuint (scc->component[node (g, 6)], ==, scc->component[node (g, 7)]);
  g_assert_cmpuint (scc->component[node (g, 6)], !=, c);
  /* The 6-7 cycle is reached from the big one, so it completes first. */
  g_assert_cmpuint (scc->component[node (g, 6)], <, c);
}

static void
test_scc_disconnected (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (6);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(LingerScc) scc = NULL;
  guint n_cycles = 0;

  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (1), LINGER_REF_STRONG);
  add_ref (s, A (4), A (5), LINGER_REF_STRONG);
  add_ref (s, A (5), A (6), LINGER_REF_STRONG);
  add_ref (s, A (6), A (4), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);
  scc = linger_scc_compute (g, NULL, NULL);

  g_assert_cmpuint (scc->n_components, ==, 3);
  for (guint c = 0; c < scc->n_components; c++)
    if (linger_scc_is_cycle (scc, c))
      n_cycles++;
  g_assert_cmpuint (n_cycles, ==, 2);
  g_assert_cmpuint (linger_scc_size (scc, scc->component[node (g, 4)]), ==, 3);
  g_assert_cmpuint (linger_scc_size (scc, scc->component[node (g, 3)]), ==, 1);
}

/* A million nodes in one chain: a recursive DFS would need a million
 * stack frames.  With a back edge the chain is one component. */
static void
test_scc_long_chain (void)
{
  const guint n = 1000000;
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (n);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(LingerScc) scc = NULL;
  g_autoptr(GArray) path = NULL;
  guint32 first;

  for (guint i = 1; i < n; i++)
    add_ref (s, A (i), A (i + 1), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);
  scc = linger_scc_compute (g, NULL, NULL);
  g_assert_cmpuint (scc->n_components, ==, n);
  g_clear_pointer (&scc, linger_scc_free);
  g_clear_pointer (&g, linger_graph_free);

  add_ref (s, A (n), A (1), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);
  scc = linger_scc_compute (g, NULL, NULL);
  g_assert_cmpuint (scc->n_components, ==, 1);
  g_assert_cmpuint (linger_scc_size (scc, 0), ==, n);
  g_assert_true (linger_scc_is_cycle (scc, 0));

  first = node (g, 1);
  path = linger_paths_shortest (g, &first, 1, node (g, n), NULL, NULL);
  g_assert_nonnull (path);
  g_assert_cmpuint (path->len, ==, n);
}

static void
test_paths_shortest (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (6);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(GArray) p = NULL;
  guint32 src;
  const LingerPathStep *step;

  /* 1 -> 2 -> 3 -> 4, and a weak shortcut 1 -> 4; 5 -> 4; 6 isolated. */
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (3), LINGER_REF_STRONG);
  add_ref (s, A (3), A (4), LINGER_REF_STRONG);
  add_ref (s, A (1), A (4), LINGER_REF_WEAK);
  add_ref (s, A (5), A (4), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);

  src = node (g, 1);
  p = linger_paths_shortest (g, &src, 1, node (g, 4), NULL, NULL);
  g_assert_cmpuint (p->len, ==, 2);
  step = &g_array_index (p, LingerPathStep, 0);
  g_assert_cmpuint (step->node, ==, node (g, 1));
  g_assert_cmpuint (step->edge->ref_kind, ==, LINGER_REF_WEAK);
  g_assert_cmpuint (step->edge->target, ==, node (g, 4));
  g_assert_null (g_array_index (p, LingerPathStep, 1).edge);
  g_clear_pointer (&p, g_array_unref);

  /* Without weak edges it goes the long way, each step's edge leading to
   * the next step. */
  p = linger_paths_shortest (g, &src, 1, node (g, 4), linger_graph_filter_owned, NULL);
  g_assert_cmpuint (p->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      step = &g_array_index (p, LingerPathStep, i);
      g_assert_cmpuint (step->node, ==, node (g, i + 1));
      if (i < 3)
        g_assert_cmpuint (step->edge->target, ==, node (g, i + 2));
    }
  g_clear_pointer (&p, g_array_unref);

  /* Unreachable. */
  p = linger_paths_shortest (g, &src, 1, node (g, 6), NULL, NULL);
  g_assert_null (p);
  p = linger_paths_shortest (g, &src, 1, node (g, 5), NULL, NULL);
  g_assert_null (p);

  /* The source itself. */
  p = linger_paths_shortest (g, &src, 1, src, NULL, NULL);
  g_assert_cmpuint (p->len, ==, 1);
  g_assert_null (g_array_index (p, LingerPathStep, 0).edge);
  g_clear_pointer (&p, g_array_unref);

  /* Several sources: the nearest wins; on a tie, the first given. */
  {
    guint32 sources[2] = { node (g, 1), node (g, 5) };
    guint32 tie[2] = { node (g, 3), node (g, 5) };

    p = linger_paths_shortest (g, sources, 2, node (g, 4), linger_graph_filter_owned, NULL);
    g_assert_cmpuint (p->len, ==, 2);
    g_assert_cmpuint (g_array_index (p, LingerPathStep, 0).node, ==, node (g, 5));
    g_clear_pointer (&p, g_array_unref);

    p = linger_paths_shortest (g, tie, 2, node (g, 4), linger_graph_filter_owned, NULL);
    g_assert_cmpuint (g_array_index (p, LingerPathStep, 0).node, ==, node (g, 3));
    g_clear_pointer (&p, g_array_unref);
  }
}

/* One search object reused: each run sees only its own marks. */
static void
test_paths_reused (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (5);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(LingerPathSearch) search = NULL;

  /* 1 -> 2 -> 3, 4 -> 3, 3 -> 5 */
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (3), LINGER_REF_STRONG);
  add_ref (s, A (4), A (3), LINGER_REF_STRONG);
  add_ref (s, A (3), A (5), LINGER_REF_STRONG);
  g = linger_graph_new (trace, s);
  search = linger_path_search_new (g);

  for (guint round = 0; round < 3; round++)
    {
      guint32 one = node (g, 1);
      guint32 four = node (g, 4);
      guint32 five = node (g, 5);
      g_autoptr(GArray) p1 = linger_path_search_run (search, &one, 1, node (g, 5), NULL, NULL);
      g_autoptr(GArray) p2 = linger_path_search_run (search, &four, 1, node (g, 5), NULL, NULL);
      g_autoptr(GArray) p3 = linger_path_search_run (search, &four, 1, node (g, 1), NULL, NULL);
      g_autoptr(GArray) p4 = linger_path_search_run (search, &five, 1, node (g, 5), NULL, NULL);

      g_assert_cmpuint (p1->len, ==, 4);
      g_assert_cmpuint (p2->len, ==, 3);
      g_assert_cmpuint (g_array_index (p2, LingerPathStep, 0).node, ==, four);
      g_assert_null (p3);
      g_assert_cmpuint (p4->len, ==, 1);
    }
}

static void
test_paths_from_roots (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();
  g_autoptr(LingerSnapshot) s = nodes (4);
  g_autoptr(LingerGraph) g = NULL;
  g_autoptr(GArray) p = NULL;

  add_root (s, A (1));
  add_ref (s, A (1), A (2), LINGER_REF_STRONG);
  add_ref (s, A (2), A (3), LINGER_REF_STRONG);
  add_ref (s, A (1), A (4), LINGER_REF_WEAK);
  g = linger_graph_new (trace, s);

  p = linger_paths_from_roots (g, node (g, 3));
  g_assert_cmpuint (p->len, ==, 3);
  g_assert_cmpuint (g_array_index (p, LingerPathStep, 0).node, ==, node (g, 1));
  g_clear_pointer (&p, g_array_unref);
  /* Only a weak reference: not reachable. */
  g_assert_null (linger_paths_from_roots (g, node (g, 4)));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linger/graph/build", test_build);
  g_test_add_func ("/linger/graph/roots", test_roots);
  g_test_add_func ("/linger/graph/reachable-not-weak", test_reachable_not_weak);
  g_test_add_func ("/linger/graph/empty", test_empty);
  g_test_add_func ("/linger/scc/chain", test_scc_chain);
  g_test_add_func ("/linger/scc/self-loop", test_scc_self_loop);
  g_test_add_func ("/linger/scc/filter", test_scc_filter);
  g_test_add_func ("/linger/scc/nested", test_scc_nested);
  g_test_add_func ("/linger/scc/disconnected", test_scc_disconnected);
  g_test_add_func ("/linger/scc/long-chain", test_scc_long_chain);
  g_test_add_func ("/linger/paths/shortest", test_paths_shortest);
  g_test_add_func ("/linger/paths/reused", test_paths_reused);
  g_test_add_func ("/linger/paths/from-roots", test_paths_from_roots);

  return g_test_run ();
}
