/* test_dominators.c: the dominator tree and retained sizes on textbook
 * graphs, on garbage cycles no root reaches, on random graphs checked
 * against the definition, and on a million-node chain that a recursive
 * walk would not survive. */
#include <string.h>

#include "linger_dominators.h"
#include "linger_graph.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_test_heap.h"
#include "linger_test_trace.h"

#define A(i) (0x100 * (guint64) (i))

/* Node i (1..n) at address A(i), of size 10 * i, not GC-tracked (so no
 * root is guessed from refcounts). */
static LingerSnapshot *
nodes (guint n)
{
  LingerSnapshot *s = linger_snapshot_new ();

  for (guint i = 1; i <= n; i++)
    {
      linger_object_entry e = { .address = A (i), .size = 10 * (guint64) i, .refcount = 1 };
      g_array_append_val (s->objects, e);
    }
  return s;
}

static void
ref (LingerSnapshot *s,
     guint           source,
     guint           target,
     guint16         ref_kind)
{
  linger_ref_entry e = { .source = A (source), .target = A (target),
                         .label_kind = LINGER_LABEL_NONE, .ref_kind = ref_kind };

  g_array_append_val (s->refs, e);
}

static void
strong (LingerSnapshot *s,
        guint           source,
        guint           target)
{
  ref (s, source, target, LINGER_REF_STRONG);
}

static void
root (LingerSnapshot *s,
      guint           i)
{
  linger_root_entry e = { .address = A (i), .kind = LINGER_ROOT_MODULE };

  g_array_append_val (s->roots, e);
}

static guint32
node (const LingerGraph *g,
      guint              i)
{
  guint32 v = linger_graph_lookup (g, A (i));

  g_assert_cmpuint (v, !=, LINGER_NODE_NONE);
  return v;
}

/* The immediate dominator of node i as a node number (1..n), 0 for the
 * virtual root. */
static guint
idom_of (const LingerGraph      *g,
         const LingerDominators *dom,
         guint                   i)
{
  guint32 d = dom->idom[node (g, i)];

  if (d == LINGER_DOM_ROOT)
    return 0;
  return (guint) (g->nodes[d].address / 0x100);
}

/* Checks idom of nodes 1..n against want[1..n] (want[0] unused). */
static void
assert_idoms (const LingerGraph      *g,
              const LingerDominators *dom,
              const guint            *want,
              guint                   n)
{
  for (guint i = 1; i <= n; i++)
    if (idom_of (g, dom, i) != want[i])
      g_error ("idom(%u) is %u, want %u", i, idom_of (g, dom, i), want[i]);
}

typedef struct
{
  LingerTrace      *trace;
  LingerSnapshot   *snapshot;
  LingerGraph      *graph;
  LingerDominators *dom;
} Fixture;

static void
fixture_compute (Fixture        *f,
                 LingerSnapshot *s)
{
  f->trace = test_trace_empty ();
  f->snapshot = s;
  f->graph = linger_graph_new (f->trace, s);
  f->dom = linger_dominators_compute (f->graph);
}

static void
fixture_clear (Fixture *f)
{
  linger_dominators_free (f->dom);
  linger_graph_free (f->graph);
  linger_snapshot_free (f->snapshot);
  linger_trace_free (f->trace);
}

/* R(1) -> A(2), B(3); A, B -> C(4); C -> D(5). */
static void
test_diamond (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (5);
  static const guint want[] = { 0, 0, 1, 1, 1, 4 };

  root (s, 1);
  strong (s, 1, 2);
  strong (s, 1, 3);
  strong (s, 2, 4);
  strong (s, 3, 4);
  strong (s, 4, 5);
  fixture_compute (&f, s);

  assert_idoms (f.graph, f.dom, want, 5);
  g_assert_cmpuint (f.dom->retained_bytes[node (f.graph, 1)], ==, 150);
  g_assert_cmpuint (f.dom->retained_objects[node (f.graph, 1)], ==, 5);
  /* A and B each retain only themselves: C is shared. */
  g_assert_cmpuint (f.dom->retained_bytes[node (f.graph, 2)], ==, 20);
  g_assert_cmpuint (f.dom->retained_bytes[node (f.graph, 3)], ==, 30);
  g_assert_cmpuint (f.dom->retained_bytes[node (f.graph, 4)], ==, 90);
  g_assert_cmpuint (f.dom->retained_objects[node (f.graph, 4)], ==, 2);
  g_assert_true (linger_dominators_dominates (f.dom, node (f.graph, 1), node (f.graph, 5)));
  g_assert_true (linger_dominators_dominates (f.dom, node (f.graph, 4), node (f.graph, 4)));
  g_assert_false (linger_dominators_dominates (f.dom, node (f.graph, 2), node (f.graph, 4)));
  g_assert_cmpuint (f.dom->live_objects, ==, 5);
  g_assert_cmpuint (f.dom->live_bytes, ==, 150);
  g_assert_cmpuint (f.dom->garbage_objects, ==, 0);
  g_assert_cmpuint (f.dom->garbage_entries->len, ==, 0);
  fixture_clear (&f);
}

/* A loop with an exit: R(1) -> 2 -> 3 -> 4 -> 2, 4 -> 5, 3 -> 6. */
static void
test_loop (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (6);
  static const guint want[] = { 0, 0, 1, 2, 3, 4, 3 };

  root (s, 1);
  strong (s, 1, 2);
  strong (s, 2, 3);
  strong (s, 3, 4);
  strong (s, 4, 2);
  strong (s, 4, 5);
  strong (s, 3, 6);
  fixture_compute (&f, s);
  assert_idoms (f.graph, f.dom, want, 6);
  g_assert_cmpuint (f.dom->retained_objects[node (f.graph, 2)], ==, 5);
  g_assert_cmpuint (f.dom->retained_objects[node (f.graph, 3)], ==, 4);
  fixture_clear (&f);
}

/* Irreducible flow, from Cooper, Harvey and Kennedy's figure 4: entry 6;
 * 6 -> 5, 4; 5 -> 1; 4 -> 2, 3; 1 -> 2; 2 -> 1, 3; 3 -> 2.  Both loops
 * have two entries, so 6 dominates everything directly. */
static void
test_irreducible (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (6);
  static const guint want[] = { 0, 6, 6, 6, 6, 6, 0 };

  root (s, 6);
  strong (s, 6, 5);
  strong (s, 6, 4);
  strong (s, 5, 1);
  strong (s, 4, 2);
  strong (s, 4, 3);
  strong (s, 1, 2);
  strong (s, 2, 1);
  strong (s, 2, 3);
  strong (s, 3, 2);
  fixture_compute (&f, s);
  assert_idoms (f.graph, f.dom, want, 6);
  fixture_clear (&f);
}

/* The flow graph of Lengauer and Tarjan's paper (figure 1), with R=1,
 * A=2, B=3, C=4, D=5, E=6, F=7, G=8, H=9, I=10, J=11, K=12, L=13. */
static void
test_lengauer_tarjan (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (13);
  enum { R = 1, A_, B, C, D, E, F, G, H, I, J, K, L };
  static const guint edges[][2] = {
    { R, A_ }, { R, B }, { R, C }, { A_, D }, { B, A_ }, { B, D }, { B, E },
    { C, F }, { C, G }, { D, L }, { E, H }, { F, I }, { G, I }, { G, J },
    { H, E }, { H, K }, { I, K }, { J, I }, { K, I }, { K, R }, { L, H },
  };
  guint want[14] = { 0 };

  root (s, R);
  for (guint i = 0; i < G_N_ELEMENTS (edges); i++)
    strong (s, edges[i][0], edges[i][1]);
  fixture_compute (&f, s);

  want[R] = 0;
  want[A_] = want[B] = want[C] = want[D] = want[E] = want[H] = want[I] = want[K] = R;
  want[F] = want[G] = C;
  want[J] = G;
  want[L] = D;
  assert_idoms (f.graph, f.dom, want, 13);
  fixture_clear (&f);
}

/* Self loops change nothing; weak edges do not own, callback edges do. */
static void
test_self_loop_and_weak (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (6);
  static const guint want[] = { 0, 0, 1, 2, 1, 2, 5 };

  root (s, 1);
  strong (s, 1, 2);
  strong (s, 2, 2);
  strong (s, 2, 3);
  strong (s, 1, 4);
  ref (s, 4, 3, LINGER_REF_WEAK);       /* does not share 3 */
  ref (s, 2, 5, LINGER_REF_CALLBACK);   /* owns 5 */
  strong (s, 5, 6);
  ref (s, 4, 6, LINGER_REF_WEAK);
  fixture_compute (&f, s);
  assert_idoms (f.graph, f.dom, want, 6);
  g_assert_cmpuint (f.dom->retained_bytes[node (f.graph, 2)], ==, 20 + 30 + 50 + 60);
  fixture_clear (&f);
}

/* Garbage: 1 is the root and holds 2.  3 <-> 4 is a cycle nobody
 * reaches, holding 5 (garbage too) and 2 (live).  6 <-> 7 is another,
 * and 3 and 6 both hold 8.  9 holds itself. */
static void
test_garbage (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (9);
  guint32 set[2];
  guint64 bytes;
  guint64 objects;

  root (s, 1);
  strong (s, 1, 2);
  strong (s, 3, 4);
  strong (s, 4, 3);
  strong (s, 4, 5);
  strong (s, 3, 2);
  strong (s, 6, 7);
  strong (s, 7, 6);
  strong (s, 3, 8);
  strong (s, 6, 8);
  strong (s, 9, 9);
  fixture_compute (&f, s);

  g_assert_cmpuint (f.dom->live_objects, ==, 2);
  g_assert_cmpuint (f.dom->live_bytes, ==, 30);
  g_assert_cmpuint (f.dom->garbage_objects, ==, 7);
  g_assert_cmpuint (f.dom->garbage_bytes, ==, 30 + 40 + 50 + 60 + 70 + 80 + 90);
  for (guint32 v = 0; v < f.graph->n_nodes; v++)
    g_assert_cmpint (linger_graph_is_reachable (f.graph, v), ==, v < 2);

  /* One entry per garbage cycle, none for what they hold. */
  g_assert_cmpuint (f.dom->garbage_entries->len, ==, 3);
  /* The cycle 3 <-> 4 retains itself and 5, not the live 2 nor the
   * shared 8, whichever member is its entry. */
  set[0] = node (f.graph, 3);
  set[1] = node (f.graph, 4);
  linger_dominators_retained_set (f.dom, set, 2, &bytes, &objects);
  g_assert_cmpuint (bytes, ==, 30 + 40 + 50);
  g_assert_cmpuint (objects, ==, 3);
  g_assert_cmpuint (idom_of (f.graph, f.dom, 2), ==, 0);
  g_assert_cmpuint (idom_of (f.graph, f.dom, 5), ==, 4);
  g_assert_cmpuint (idom_of (f.graph, f.dom, 8), ==, 0);
  g_assert_cmpuint (idom_of (f.graph, f.dom, 9), ==, 0);
  g_assert_cmpuint (f.dom->retained_bytes[node (f.graph, 9)], ==, 90);
  fixture_clear (&f);
}

static void
test_retained_set (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (5);
  guint64 bytes;
  guint64 objects;

  /* 1 -> 2 -> 3, 1 -> 4 -> 5 */
  root (s, 1);
  strong (s, 1, 2);
  strong (s, 2, 3);
  strong (s, 1, 4);
  strong (s, 4, 5);
  fixture_compute (&f, s);
  {
    /* Nested (3 under 2), duplicated and out-of-range entries count once
     * or not at all. */
    const guint32 set[] = { node (f.graph, 3), node (f.graph, 2), LINGER_NODE_NONE,
                            node (f.graph, 5), node (f.graph, 2) };

    linger_dominators_retained_set (f.dom, set, G_N_ELEMENTS (set), &bytes, &objects);
    g_assert_cmpuint (bytes, ==, 20 + 30 + 50);
    g_assert_cmpuint (objects, ==, 3);
    linger_dominators_retained_set (f.dom, set, 0, &bytes, &objects);
    g_assert_cmpuint (bytes, ==, 0);
    g_assert_cmpuint (objects, ==, 0);
  }
  fixture_clear (&f);
}

/* Roots the graph guesses: a GC-tracked object with more references than
 * the graph explains, and an immortal one. */
static void
test_guessed_roots (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (4);

  /* 1: refcount 1, no edge in: held from outside.  3: immortal. */
  g_array_index (s->objects, linger_object_entry, 0).flags = LINGER_OBJ_GC_TRACKED;
  g_array_index (s->objects, linger_object_entry, 2).flags = LINGER_OBJ_IMMORTAL;
  strong (s, 1, 2);
  strong (s, 3, 2);
  strong (s, 3, 4);
  fixture_compute (&f, s);
  g_assert_cmpuint (idom_of (f.graph, f.dom, 1), ==, 0);
  g_assert_cmpuint (idom_of (f.graph, f.dom, 2), ==, 0);
  g_assert_cmpuint (idom_of (f.graph, f.dom, 4), ==, 3);
  g_assert_cmpuint (f.dom->garbage_objects, ==, 0);
  fixture_clear (&f);
}

static void
test_empty (void)
{
  Fixture f;

  fixture_compute (&f, linger_snapshot_new ());
  g_assert_cmpuint (f.dom->n_nodes, ==, 0);
  g_assert_cmpuint (f.dom->live_objects + f.dom->garbage_objects, ==, 0);
  fixture_clear (&f);
}

/* --- random graphs against the definition ------------------------------- */

/* d dominates v iff v cannot be reached from the virtual root without
 * going through d.  The virtual root's edges are the roots and the
 * garbage entries the computation chose; the entries are checked on their
 * own below. */
static gboolean
reaches_avoiding (const LingerGraph      *g,
                  const LingerDominators *dom,
                  guint32                 avoid,
                  guint32                 target,
                  guint8                 *seen,
                  guint32                *queue)
{
  guint32 head = 0;
  guint32 tail = 0;

  memset (seen, 0, g->n_nodes);
  for (guint i = 0; i < g->roots->len + dom->garbage_entries->len; i++)
    {
      guint32 r = i < g->roots->len ? g_array_index (g->roots, guint32, i)
                                    : g_array_index (dom->garbage_entries, guint32, i - g->roots->len);
      if (r == avoid || seen[r])
        continue;
      seen[r] = 1;
      queue[tail++] = r;
    }
  while (head < tail)
    {
      guint32 v = queue[head++];

      if (v == target)
        return TRUE;
      for (guint32 i = g->out_start[v]; i < g->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &g->edges[i];

          if (!linger_edge_is_owned (e) || e->target == avoid || seen[e->target])
            continue;
          seen[e->target] = 1;
          queue[tail++] = e->target;
        }
    }
  return FALSE;
}

/* Owned reachability from @from, into @seen. */
static void
reach (const LingerGraph *g,
       guint32            from,
       guint8            *seen,
       guint32           *queue)
{
  guint32 head = 0;
  guint32 tail = 0;

  memset (seen, 0, g->n_nodes);
  seen[from] = 1;
  queue[tail++] = from;
  while (head < tail)
    {
      guint32 v = queue[head++];

      for (guint32 i = g->out_start[v]; i < g->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &g->edges[i];

          if (!linger_edge_is_owned (e) || seen[e->target])
            continue;
          seen[e->target] = 1;
          queue[tail++] = e->target;
        }
    }
}

static void
check_random (guint32 seed,
              guint   n,
              guint   n_edges,
              guint   n_roots)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  Fixture f;
  LingerSnapshot *s = nodes (n);
  g_autofree guint8 *seen = NULL;
  g_autofree guint8 *seen2 = NULL;
  g_autofree guint32 *queue = NULL;
  guint32 nn;

  for (guint i = 0; i < n_roots; i++)
    root (s, (guint) g_rand_int_range (rand, 1, (gint32) n + 1));
  for (guint i = 0; i < n_edges; i++)
    {
      guint a = (guint) g_rand_int_range (rand, 1, (gint32) n + 1);
      guint b = (guint) g_rand_int_range (rand, 1, (gint32) n + 1);
      guint k = (guint) g_rand_int_range (rand, 0, 10);

      ref (s, a, b, k == 0 ? LINGER_REF_WEAK : k == 1 ? LINGER_REF_CALLBACK : LINGER_REF_STRONG);
    }
  fixture_compute (&f, s);
  nn = f.graph->n_nodes;
  seen = g_new (guint8, nn);
  seen2 = g_new (guint8, nn);
  queue = g_new (guint32, nn);

  /* Every garbage entry lies in a source component of the garbage:
   * whatever garbage reaches it, it reaches back. */
  for (guint i = 0; i < f.dom->garbage_entries->len; i++)
    {
      guint32 e = g_array_index (f.dom->garbage_entries, guint32, i);

      g_assert_false (linger_graph_is_reachable (f.graph, e));
      reach (f.graph, e, seen2, queue);
      for (guint32 u = 0; u < nn; u++)
        {
          if (linger_graph_is_reachable (f.graph, u) || seen2[u])
            continue;
          reach (f.graph, u, seen, queue);
          if (seen[e])
            g_error ("seed %u: garbage %u reaches entry %u, which does not reach back", seed, u, e);
        }
    }

  for (guint32 d = 0; d < nn; d++)
    {
      guint64 bytes = 0;
      guint32 objects = 0;

      for (guint32 v = 0; v < nn; v++)
        {
          gboolean want = d == v || !reaches_avoiding (f.graph, f.dom, d, v, seen, queue);

          if (linger_dominators_dominates (f.dom, d, v) != want)
            g_error ("seed %u: dominates(%u, %u) should be %d", seed, d, v, want);
          if (want)
            {
              bytes += f.graph->nodes[v].size;
              objects++;
            }
        }
      g_assert_cmpuint (f.dom->retained_bytes[d], ==, bytes);
      g_assert_cmpuint (f.dom->retained_objects[d], ==, objects);
      /* The immediate dominator dominates, and nothing strictly between. */
      if (f.dom->idom[d] != LINGER_DOM_ROOT)
        {
          guint32 p = f.dom->idom[d];

          g_assert_true (linger_dominators_dominates (f.dom, p, d) && p != d);
          for (guint32 x = 0; x < nn; x++)
            if (x != p && x != d && linger_dominators_dominates (f.dom, x, d))
              g_assert_true (linger_dominators_dominates (f.dom, x, p));
        }
    }
  fixture_clear (&f);
}

static void
test_random (void)
{
  for (guint32 seed = 1; seed <= 60; seed++)
    {
      guint n = 5 + seed % 40;

      /* Sparse graphs have garbage and many entries, dense ones long
       * shared paths; some have no root at all. */
      check_random (seed, n, n * (1 + seed % 4), seed % 5);
    }
}

/* --- a million nodes ------------------------------------------------------ */

#define CHAIN 1000000u

/* 1 -> 2 -> ... -> CHAIN from a root: every node dominates the rest. */
static void
test_long_chain (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (CHAIN);
  guint32 first;
  guint32 last;

  root (s, 1);
  for (guint i = 1; i < CHAIN; i++)
    strong (s, i, i + 1);
  fixture_compute (&f, s);
  first = node (f.graph, 1);
  last = node (f.graph, CHAIN);
  g_assert_cmpuint (f.dom->idom[first], ==, LINGER_DOM_ROOT);
  g_assert_cmpuint (f.dom->idom[last], ==, node (f.graph, CHAIN - 1));
  g_assert_cmpuint (f.dom->retained_objects[first], ==, CHAIN);
  g_assert_cmpuint (f.dom->retained_bytes[first], ==, 10 * (guint64) CHAIN * (CHAIN + 1) / 2);
  g_assert_cmpuint (f.dom->retained_objects[last], ==, 1);
  g_assert_true (linger_dominators_dominates (f.dom, first, last));
  fixture_clear (&f);
}

/* The same chain closed into a cycle that no root reaches, with a back
 * edge at every node so that path compression has work to do: one garbage
 * entry that retains everything. */
static void
test_long_garbage_cycle (void)
{
  Fixture f;
  LingerSnapshot *s = nodes (CHAIN);
  guint32 entry;

  for (guint i = 1; i < CHAIN; i++)
    {
      strong (s, i, i + 1);
      strong (s, i + 1, i);
    }
  strong (s, CHAIN, 1);
  fixture_compute (&f, s);
  g_assert_cmpuint (f.dom->garbage_entries->len, ==, 1);
  entry = g_array_index (f.dom->garbage_entries, guint32, 0);
  g_assert_cmpuint (f.dom->retained_objects[entry], ==, CHAIN);
  g_assert_cmpuint (f.dom->garbage_objects, ==, CHAIN);
  g_assert_cmpuint (f.dom->live_objects, ==, 0);
  fixture_clear (&f);
}

/* --- findings and reports ------------------------------------------------ */

/* Two finalizer keep-alives: a Small object alone, a Zeppelin owning a
 * payload of 3 objects (a global shares one of them), and a garbage
 * bound-method cycle.  The Zeppelin retains most and comes first, though
 * its type sorts after Small. */
static void
test_findings_retained (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  guint64 small = heap_obj (h, "__main__.Small", NULL, 0);
  guint64 big_dict;
  guint64 big = heap_instance (h, "__main__.Zeppelin", &big_dict);
  guint64 payload = heap_obj (h, "builtins.list", NULL, 0);
  guint64 item = heap_obj (h, "builtins.bytes", NULL, 0);
  guint64 shared = heap_obj (h, "builtins.bytes", NULL, 0);
  guint64 args_small = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 args_big = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 conn_dict;
  guint64 conn = heap_instance (h, "__main__.Conn", &conn_dict);
  const LingerFinding *f;

  heap_key (h, big_dict, payload, "'payload'");
  heap_item (h, payload, item, 0);
  heap_item (h, payload, shared, 1);
  heap_key (h, h->main_dict, shared, "'SHARED'");
  heap_item (h, args_small, small, 0);
  heap_item (h, args_big, big, 0);
  heap_finalize (h, small, heap_function (h, "cleanup"), args_small, 0, TRUE);
  heap_finalize (h, big, heap_function (h, "cleanup"), args_big, 0, TRUE);
  heap_key (h, conn_dict, heap_bound_method (h, "Conn.on_data", conn), "'callback'");

  a = heap_analyse (h, FALSE);
  g_assert_nonnull (a->dominators);
  g_assert_cmpuint (a->findings->len, ==, 3);

  /* The Zeppelin, its __dict__, the list, one bytes (the other is
   * shared with a global): 4 objects of 48 bytes. */
  f = g_ptr_array_index (a->findings, 0);
  g_assert_cmpstr (f->kind, ==, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.Zeppelin");
  g_assert_cmpuint (f->retained_objects, ==, 4);
  g_assert_cmpuint (f->retained_bytes, ==, 4 * 48);
  f = g_ptr_array_index (a->findings, 1);
  g_assert_cmpstr (g_array_index (f->objects, LingerFindingObject, 0).type, ==, "__main__.Small");
  g_assert_cmpuint (f->retained_objects, ==, 1);
  /* The cycle: Conn, its __dict__, the bound method, and the method's
   * function, which nothing else holds here. */
  f = g_ptr_array_index (a->findings, 2);
  g_assert_cmpstr (f->kind, ==, LINGER_FINDING_BOUND_METHOD_CYCLE);
  g_assert_cmpstr (f->state, ==, "garbage");
  g_assert_cmpuint (f->retained_objects, ==, 4);

  /* Garbage: the cycle and the function only it holds. */
  g_assert_cmpuint (a->dominators->garbage_objects, ==, 4);
  g_assert_cmpuint (a->dominators->garbage_bytes, ==, 4 * 48);
  g_assert_cmpuint (a->dominators->live_objects + a->dominators->garbage_objects, ==, a->graph->n_nodes);

  linger_report_json (a, json);
  test_assert_contains (json->str, "\"garbage_objects\": 4,\n    \"garbage_bytes\": 192,\n");
  test_assert_contains (json->str, "\"live_objects\": ");
  test_assert_contains (json->str, "\"retained_bytes\": 192,\n      \"retained_objects\": 4,\n");
  linger_report_text (a, FALSE, text);
  test_assert_contains (text->str, "\n  garbage:   4 objects, 192 bytes that no root reaches");
  test_assert_contains (text->str, "\n    retains:   192 bytes in 4 objects\n");
  test_assert_contains (text->str, "\n    retains:   48 bytes in 1 object\n");
}

static const LingerFinding *
finding_of (const LingerAnalysis *a,
            const char           *kind)
{
  for (guint i = 0; i < a->findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (a->findings, i);
      if (strcmp (f->kind, kind) == 0)
        return f;
    }
  g_error ("no %s finding", kind);
  return NULL;
}

/* A group retains what all its instances retain, nested ones once: three
 * finalizer keep-alives of one type, each owning a payload; two garbage
 * bound-method cycles of one type, the second held only by the first. */
static void
test_group_retained (void)
{
  g_autoptr(Heap) h = heap_new ();
  g_autoptr(LingerAnalysis) grouped = NULL;
  g_autoptr(LingerAnalysis) all = NULL;
  const LingerFinding *f;
  guint64 a_dict;
  guint64 b_dict;
  guint64 a;
  guint64 b;

  for (guint i = 0; i < 3; i++)
    {
      guint64 holder = heap_obj (h, "__main__.Holder", NULL, 0);
      guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);

      heap_attr (h, holder, heap_obj (h, "builtins.bytes", NULL, 0), "payload");
      heap_item (h, args, holder, 0);
      heap_finalize (h, holder, heap_function (h, "cleanup"), args, 0, TRUE);
    }
  a = heap_instance (h, "__main__.Conn", &a_dict);
  b = heap_instance (h, "__main__.Conn", &b_dict);
  heap_key (h, a_dict, heap_bound_method (h, "Conn.on_data", a), "'callback'");
  heap_key (h, b_dict, heap_bound_method (h, "Conn.on_data", b), "'callback'");
  heap_key (h, a_dict, b, "'child'");

  grouped = heap_analyse (h, FALSE);
  f = finding_of (grouped, LINGER_FINDING_FINALIZER_KEEPALIVE);
  g_assert_cmpuint (f->count, ==, 3);
  g_assert_cmpuint (f->retained_objects, ==, 3 * 2);
  g_assert_cmpuint (f->retained_bytes, ==, 3 * 2 * 48);
  /* Each cycle: the instance, its __dict__, the bound method and its
   * function.  The first retains the second: 8 objects, not 8 + 4. */
  f = finding_of (grouped, LINGER_FINDING_BOUND_METHOD_CYCLE);
  g_assert_cmpuint (f->count, ==, 2);
  g_assert_cmpuint (f->retained_objects, ==, 8);

  all = heap_analyse (h, TRUE);
  for (guint i = 0; i < all->findings->len; i++)
    {
      f = g_ptr_array_index (all->findings, i);
      g_assert_cmpuint (f->count, ==, 1);
      if (strcmp (f->kind, LINGER_FINDING_FINALIZER_KEEPALIVE) == 0)
        g_assert_cmpuint (f->retained_objects, ==, 2);
      else if (g_array_index (f->objects, LingerFindingObject, 0).address == a)
        g_assert_cmpuint (f->retained_objects, ==, 8);
      else
        {
          g_assert_cmphex (g_array_index (f->objects, LingerFindingObject, 0).address, ==, b);
          g_assert_cmpuint (f->retained_objects, ==, 4);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/linger/dominators/diamond", test_diamond);
  g_test_add_func ("/linger/dominators/loop", test_loop);
  g_test_add_func ("/linger/dominators/irreducible", test_irreducible);
  g_test_add_func ("/linger/dominators/lengauer-tarjan", test_lengauer_tarjan);
  g_test_add_func ("/linger/dominators/self-loop-and-weak", test_self_loop_and_weak);
  g_test_add_func ("/linger/dominators/garbage", test_garbage);
  g_test_add_func ("/linger/dominators/retained-set", test_retained_set);
  g_test_add_func ("/linger/dominators/guessed-roots", test_guessed_roots);
  g_test_add_func ("/linger/dominators/empty", test_empty);
  g_test_add_func ("/linger/dominators/random", test_random);
  g_test_add_func ("/linger/dominators/long-chain", test_long_chain);
  g_test_add_func ("/linger/dominators/long-garbage-cycle", test_long_garbage_cycle);
  g_test_add_func ("/linger/dominators/findings-retained", test_findings_retained);
  g_test_add_func ("/linger/dominators/group-retained", test_group_retained);
  return g_test_run ();
}
