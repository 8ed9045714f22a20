/* linger_dominators.c: the dominator tree of a snapshot (Lengauer-Tarjan)
 * and retained sizes.
 *
 * Everything between the depth-first search and the retained sizes works
 * on depth-first numbers, not node indices: the virtual root is number 0,
 * a node's dominators all have smaller numbers, and the arrays are walked
 * in order.
 */
#include "linger_dominators.h"

#include "linger_findings.h"
#include "linger_progress.h"

#include <stdlib.h>
#include <string.h>

#define NONE G_MAXUINT32

enum
{
  FROM_ROOT = 1u << 0,  /* the virtual root has an edge to this node */
  SEEN      = 1u << 1,  /* visited by the search over the garbage */
};

typedef struct
{
  guint32 node;
  guint32 next_edge;   /* next out-edge of node to look at */
} Frame;

typedef struct
{
  const LingerGraph *graph;
  guint32           *pre;      /* node -> depth-first number, NONE if unvisited */
  guint32           *vertex;   /* number -> node (the virtual root is node n) */
  guint32           *parent;   /* number -> number of its depth-first parent */
  guint8            *marks;    /* node -> FROM_ROOT | SEEN */
  Frame             *stack;    /* explicit call stack, at most n deep */
  guint32            next;     /* next number to hand out */
} Search;

/* Inlined here: the walks below look at every edge several times. */
static inline gboolean
is_owned (const LingerEdge *edge)
{
  return edge->ref_kind == LINGER_REF_STRONG || edge->ref_kind == LINGER_REF_CALLBACK;
}

static inline void
number (Search  *s,
        guint32  node,
        guint32  parent)
{
  s->pre[node] = s->next;
  s->vertex[s->next] = node;
  s->parent[s->next] = parent;
  s->next++;
}

/* Depth-first numbering of everything not yet numbered that @start
 * reaches; @start hangs from the virtual root. */
static void
number_from (Search  *s,
             guint32  start)
{
  const LingerGraph *g = s->graph;
  guint32 depth = 0;

  number (s, start, 0);
  s->stack[depth++] = (Frame) { start, g->out_start[start] };
  while (depth > 0)
    {
      Frame *f = &s->stack[depth - 1];
      guint32 end = g->out_start[f->node + 1];
      gboolean pushed = FALSE;

      while (f->next_edge < end)
        {
          const LingerEdge *e = &g->edges[f->next_edge++];

          if (!is_owned (e) || s->pre[e->target] != NONE)
            continue;
          number (s, e->target, s->pre[f->node]);
          s->stack[depth++] = (Frame) { e->target, g->out_start[e->target] };
          pushed = TRUE;
          break;
        }
      if (!pushed)
        depth--;
    }
}

/* The garbage: nodes no root reaches.  A depth-first search over them (in
 * node order) lists them by finishing time; the unnumbered node that
 * finishes last lies in a source component of what is left (Kosaraju's
 * argument: a component with an edge into another finishes after it), so
 * it becomes an entry, and numbering from it takes its whole component
 * and everything downstream.  Repeat until everything is numbered. */
static void
number_garbage (Search *s,
                GArray *entries)
{
  const LingerGraph *g = s->graph;
  guint32 n = g->n_nodes;
  guint32 n_garbage = n - (s->next - 1);
  g_autofree guint32 *order = g_new (guint32, MAX (n_garbage, 1));
  guint32 n_order = 0;

  for (guint32 root = 0; root < n; root++)
    {
      guint32 depth = 0;

      if (s->pre[root] != NONE || (s->marks[root] & SEEN))
        continue;
      s->marks[root] |= SEEN;
      s->stack[depth++] = (Frame) { root, g->out_start[root] };
      while (depth > 0)
        {
          Frame *f = &s->stack[depth - 1];
          guint32 end = g->out_start[f->node + 1];
          gboolean pushed = FALSE;

          while (f->next_edge < end)
            {
              const LingerEdge *e = &g->edges[f->next_edge++];
              guint32 w = e->target;

              /* Numbered nodes are live: an edge from the garbage to
               * them changes nothing of theirs. */
              if (!is_owned (e) || s->pre[w] != NONE || (s->marks[w] & SEEN))
                continue;
              s->marks[w] |= SEEN;
              s->stack[depth++] = (Frame) { w, g->out_start[w] };
              pushed = TRUE;
              break;
            }
          if (!pushed)
            order[n_order++] = s->stack[--depth].node;
        }
    }
  g_assert (n_order == n_garbage);

  for (guint32 i = n_order; i > 0; i--)
    {
      guint32 v = order[i - 1];

      if (s->pre[v] != NONE)
        continue;
      s->marks[v] |= FROM_ROOT;
      g_array_append_val (entries, v);
      number_from (s, v);
    }
}

/* Lengauer-Tarjan's EVAL with path compression, iteratively: the
 * recursive COMPRESS would go as deep as the longest chain. */
static inline guint32
eval (guint32       v,
      guint32      *ancestor,
      guint32      *label,
      const guint32 *semi,
      guint32      *chain)
{
  guint32 top = 0;
  guint32 x = v;

  if (ancestor[v] == NONE)
    return v;
  while (ancestor[ancestor[x]] != NONE)
    {
      chain[top++] = x;
      x = ancestor[x];
    }
  /* Deepest first, as the recursion would unwind. */
  while (top > 0)
    {
      guint32 a;

      x = chain[--top];
      a = ancestor[x];
      if (semi[label[a]] < semi[label[x]])
        label[x] = label[a];
      ancestor[x] = ancestor[a];
    }
  return label[v];
}

static int
compare_nodes (const void *a,
               const void *b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

LingerDominators *
linger_dominators_compute (const LingerGraph *graph)
{
  guint32 n = graph->n_nodes;
  guint32 N = n + 1;   /* with the virtual root */
  g_autoptr(LingerDominators) dom = g_new0 (LingerDominators, 1);
  g_autofree guint32 *pre = g_new (guint32, N);
  g_autofree guint32 *vertex = g_new (guint32, N);
  g_autofree guint32 *parent = g_new (guint32, N);
  g_autofree guint8 *marks = g_new0 (guint8, N);
  g_autofree guint32 *semi = NULL;
  g_autofree guint32 *label = NULL;
  g_autofree guint32 *ancestor = NULL;
  g_autofree guint32 *idom = NULL;
  g_autofree guint32 *bucket = NULL;       /* number -> first of its bucket */
  g_autofree guint32 *bucket_next = NULL;
  g_autofree guint32 *chain = NULL;
  g_autofree guint32 *pred_start = NULL;   /* number -> its first predecessor */
  g_autofree guint32 *preds = NULL;        /* numbers of the predecessors */
  g_autofree guint64 *bytes = NULL;
  g_autofree guint32 *objects = NULL;
  guint32 n_live;
  Search s = { graph, pre, vertex, parent, marks, NULL, 0 };

  dom->n_nodes = n;
  dom->garbage_entries = g_array_new (FALSE, FALSE, sizeof (guint32));

  /* 1. Depth-first numbers, from the virtual root (number 0): first the
   * roots in node order, then the garbage. */
  for (guint32 v = 0; v < N; v++)
    pre[v] = NONE;
  s.stack = g_new (Frame, MAX (n, 1));
  pre[n] = 0;
  vertex[0] = n;
  parent[0] = 0;
  s.next = 1;
  for (guint i = 0; i < graph->roots->len; i++)
    {
      guint32 r = g_array_index (graph->roots, guint32, i);

      marks[r] |= FROM_ROOT;
      if (pre[r] == NONE)
        number_from (&s, r);
    }
  n_live = s.next - 1;
  if (s.next < N)
    number_garbage (&s, dom->garbage_entries);
  g_clear_pointer (&s.stack, g_free);
  g_assert (s.next == N);
  /* qsort (NULL, 0, ...) is undefined: an empty GArray has no data. */
  if (dom->garbage_entries->len > 1)
    qsort (dom->garbage_entries->data, dom->garbage_entries->len, sizeof (guint32), compare_nodes);

  /* Predecessors by depth-first number in one array, built by two
   * sequential passes over the edges: the main loop below then reads them
   * in order, where chasing in_edges -> edges -> pre[] for every node was
   * three dependent cache misses per edge. */
  pred_start = g_new0 (guint32, (gsize) N + 1);
  for (guint32 i = 0; i < graph->n_edges; i++)
    if (is_owned (&graph->edges[i]))
      pred_start[pre[graph->edges[i].target] + 1]++;
  for (guint32 w = 0; w < N; w++)
    pred_start[w + 1] += pred_start[w];
  preds = g_new (guint32, MAX (pred_start[N], 1));
  {
    g_autofree guint32 *fill = g_new (guint32, N);

    memcpy (fill, pred_start, (gsize) N * sizeof (guint32));

    for (guint32 i = 0; i < graph->n_edges; i++)
      {
        const LingerEdge *e = &graph->edges[i];

        if (is_owned (e))
          preds[fill[pre[e->target]]++] = pre[e->source];
      }
  }

  /* 2. Semidominators, then immediate dominators (Lengauer-Tarjan). */
  semi = g_new (guint32, N);
  label = g_new (guint32, N);
  ancestor = g_new (guint32, N);
  idom = g_new (guint32, N);
  bucket = g_new (guint32, N);
  bucket_next = g_new (guint32, N);
  chain = g_new (guint32, N);
  for (guint32 w = 0; w < N; w++)
    {
      semi[w] = label[w] = w;
      ancestor[w] = NONE;
      bucket[w] = NONE;
    }
  idom[0] = 0;

  for (guint32 w = N - 1; w >= 1; w--)
    {
      guint32 node = vertex[w];
      guint32 p = parent[w];

      linger_progress_update (N - w);

      /* The virtual root (number 0, never linked) is the smallest
       * semidominator there is. */
      if (marks[node] & FROM_ROOT)
        semi[w] = 0;
      for (guint32 k = pred_start[w]; k < pred_start[w + 1] && semi[w] > 0; k++)
        {
          guint32 u = eval (preds[k], ancestor, label, semi, chain);

          if (semi[u] < semi[w])
            semi[w] = semi[u];
        }
      bucket_next[w] = bucket[semi[w]];
      bucket[semi[w]] = w;
      ancestor[w] = p;

      for (guint32 v = bucket[p]; v != NONE; v = bucket_next[v])
        {
          guint32 u = eval (v, ancestor, label, semi, chain);

          idom[v] = semi[u] < semi[v] ? u : p;
        }
      bucket[p] = NONE;
    }
  for (guint32 w = 1; w < N; w++)
    if (idom[w] != semi[w])
      idom[w] = idom[idom[w]];

  g_clear_pointer (&pred_start, g_free);
  g_clear_pointer (&preds, g_free);
  g_clear_pointer (&label, g_free);
  g_clear_pointer (&ancestor, g_free);
  g_clear_pointer (&bucket, g_free);
  g_clear_pointer (&bucket_next, g_free);
  g_clear_pointer (&chain, g_free);

  /* 3. Retained sizes: a node's dominator has a smaller number, so
   * children are summed into their parent before it is summed further. */
  bytes = g_new (guint64, N);
  objects = g_new (guint32, N);
  bytes[0] = 0;
  objects[0] = 0;
  for (guint32 w = 1; w < N; w++)
    {
      bytes[w] = graph->nodes[vertex[w]].size;
      objects[w] = 1;
    }
  for (guint32 w = N - 1; w >= 1; w--)
    {
      bytes[idom[w]] += bytes[w];
      objects[idom[w]] += objects[w];
    }

  /* 4. A preorder of the dominator tree, without building it: each node
   * takes the next free slot of its parent's range, and the ranges are
   * as long as the subtrees.  semi[] is reused as "next free slot". */
  dom->idom = g_new (guint32, MAX (n, 1));
  dom->retained_bytes = g_new (guint64, MAX (n, 1));
  dom->retained_objects = g_new (guint32, MAX (n, 1));
  dom->tree_pre = g_new (guint32, MAX (n, 1));
  semi[0] = 1;
  for (guint32 w = 1; w < N; w++)
    {
      guint32 v = vertex[w];
      guint32 d = idom[w];
      guint32 pos = semi[d];

      semi[d] += objects[w];
      semi[w] = pos + 1;
      dom->tree_pre[v] = pos;
      dom->idom[v] = d == 0 ? LINGER_DOM_ROOT : vertex[d];
      dom->retained_bytes[v] = bytes[w];
      dom->retained_objects[v] = objects[w];
    }

  /* Live is what the roots reach: the numbers handed out before the
   * garbage. */
  for (guint32 w = 1; w < N; w++)
    {
      guint64 size = graph->nodes[vertex[w]].size;

      if (w <= n_live)
        {
          dom->live_objects++;
          dom->live_bytes += size;
        }
      else
        {
          dom->garbage_objects++;
          dom->garbage_bytes += size;
        }
    }

  return g_steal_pointer (&dom);
}

void
linger_dominators_free (LingerDominators *dom)
{
  if (dom == NULL)
    return;
  g_free (dom->idom);
  g_free (dom->retained_bytes);
  g_free (dom->retained_objects);
  g_free (dom->tree_pre);
  if (dom->garbage_entries != NULL)
    g_array_unref (dom->garbage_entries);
  g_free (dom);
}

gboolean
linger_dominators_dominates (const LingerDominators *dom,
                             guint32                 d,
                             guint32                 v)
{
  if (d >= dom->n_nodes || v >= dom->n_nodes)
    return FALSE;
  return dom->tree_pre[d] <= dom->tree_pre[v]
         && dom->tree_pre[v] - dom->tree_pre[d] < dom->retained_objects[d];
}

static int
compare_by_pre (const void *a,
                const void *b,
                void       *user_data)
{
  const LingerDominators *dom = user_data;
  guint32 x = dom->tree_pre[*(const guint32 *) a];
  guint32 y = dom->tree_pre[*(const guint32 *) b];

  return x < y ? -1 : x > y;
}

void
linger_dominators_retained_set (const LingerDominators *dom,
                                const guint32          *nodes,
                                gsize                   n_nodes,
                                guint64                *ret_bytes,
                                guint64                *ret_objects)
{
  g_autofree guint32 *sorted = g_new (guint32, MAX (n_nodes, 1));
  gsize n = 0;
  guint64 bytes = 0;
  guint64 objects = 0;
  guint64 end = 0;   /* end of the last counted subtree, in preorder */

  for (gsize i = 0; i < n_nodes; i++)
    if (nodes[i] < dom->n_nodes)
      sorted[n++] = nodes[i];
  g_qsort_with_data (sorted, (gint) n, sizeof (guint32), compare_by_pre, (gpointer) dom);

  /* In preorder, a subtree is one range: a node inside the range of the
   * last one counted is already counted (this also drops duplicates). */
  for (gsize i = 0; i < n; i++)
    {
      guint32 v = sorted[i];

      if (dom->tree_pre[v] < end)
        continue;
      bytes += dom->retained_bytes[v];
      objects += dom->retained_objects[v];
      end = (guint64) dom->tree_pre[v] + dom->retained_objects[v];
    }
  if (ret_bytes != NULL)
    *ret_bytes = bytes;
  if (ret_objects != NULL)
    *ret_objects = objects;
}

/* The nodes a finding's retained size is measured from: retained_from
 * if the finding has it; else the object kept alive (objects[0]: the
 * other objects of a keep-alive are the mechanism, a container say, which
 * fixing the leak does not free); for a cycle every member it lists. */
static void
finding_nodes (const LingerFinding *f,
               GArray              *out)
{
  if (f->retained_from != NULL)
    {
      g_array_append_vals (out, f->retained_from->data, f->retained_from->len);
      return;
    }
  for (guint i = 0; i < f->objects->len && (i == 0 || f->n_members > 0); i++)
    g_array_append_val (out, g_array_index (f->objects, LingerFindingObject, i).node);
}

void
linger_dominators_merge_finding (LingerFinding       *group,
                                 const LingerFinding *instance)
{
  if (group->retained_from == NULL)
    {
      /* Not straight into group->retained_from: finding_nodes() would
       * take the new, empty array for the group's own nodes. */
      GArray *nodes = g_array_new (FALSE, FALSE, sizeof (guint32));

      finding_nodes (group, nodes);
      group->retained_from = nodes;
    }
  finding_nodes (instance, group->retained_from);
}

typedef struct
{
  LingerFinding *finding;
  guint          position;   /* in the order the findings came in */
} Ranked;

static int
compare_ranked (const void *a,
                const void *b)
{
  const Ranked *x = a;
  const Ranked *y = b;

  if (x->finding->severity != y->finding->severity)
    return x->finding->severity > y->finding->severity ? -1 : 1;
  if (x->finding->retained_bytes != y->finding->retained_bytes)
    return x->finding->retained_bytes > y->finding->retained_bytes ? -1 : 1;
  return x->position < y->position ? -1 : x->position > y->position;
}

void
linger_dominators_measure_findings (const LingerDominators *dom,
                                    const LingerGraph      *graph,
                                    GPtrArray              *findings)
{
  g_autoptr(GArray) nodes = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autofree Ranked *ranked = g_new (Ranked, MAX (findings->len, 1));

  for (guint i = 0; i < findings->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (findings, i);

      g_array_set_size (nodes, 0);
      finding_nodes (f, nodes);
      linger_dominators_retained_set (dom, (const guint32 *) (gpointer) nodes->data, nodes->len,
                                      &f->retained_bytes, &f->retained_objects);
      ranked[i] = (Ranked) { f, i };
    }

  /* qsort is not stable: the position breaks ties. */
  qsort (ranked, findings->len, sizeof (Ranked), compare_ranked);
  for (guint i = 0; i < findings->len; i++)
    findings->pdata[i] = ranked[i].finding;
}
