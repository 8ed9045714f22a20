/* linger_scc.c: strongly connected components (iterative Tarjan). */
#include "linger_scc.h"

#include <stdlib.h>

#define UNVISITED G_MAXUINT32

static int
compare_nodes (const void *a,
               const void *b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

typedef struct
{
  guint32 node;
  guint32 next_edge;   /* next out-edge of node to look at */
} Frame;

static inline gboolean
accept (const LingerGraph *graph,
        const LingerEdge  *edge,
        LingerEdgeFilter   filter,
        gpointer           user_data)
{
  return filter == NULL || filter (graph, edge, user_data);
}

LingerScc *
linger_scc_compute (const LingerGraph *graph,
                    LingerEdgeFilter   filter,
                    gpointer           user_data)
{
  guint32 n = graph->n_nodes;
  gsize alloc = MAX (n, 1);
  g_autofree guint32 *index = g_new (guint32, alloc);
  g_autofree guint32 *lowlink = g_new (guint32, alloc);
  g_autofree guint8 *on_stack = g_new0 (guint8, alloc);
  g_autofree guint32 *stack = g_new (guint32, alloc);   /* Tarjan's node stack */
  g_autofree Frame *frames = g_new (Frame, alloc);     /* the explicit call stack */
  LingerScc *scc = g_new0 (LingerScc, 1);
  guint32 n_stack = 0;
  guint32 next_index = 0;
  guint32 n_members = 0;

  scc->component = g_new (guint32, alloc);
  scc->members = g_new (guint32, alloc);
  scc->start = g_new (guint32, alloc + 1);
  scc->start[0] = 0;

  for (guint32 i = 0; i < n; i++)
    index[i] = UNVISITED;

  for (guint32 root = 0; root < n; root++)
    {
      guint32 depth = 0;

      if (index[root] != UNVISITED)
        continue;

      index[root] = lowlink[root] = next_index++;
      stack[n_stack++] = root;
      on_stack[root] = 1;
      frames[depth++] = (Frame) { root, graph->out_start[root] };

      while (depth > 0)
        {
          Frame *f = &frames[depth - 1];
          guint32 v = f->node;

          if (f->next_edge < graph->out_start[v + 1])
            {
              const LingerEdge *e = &graph->edges[f->next_edge++];
              guint32 w = e->target;

              if (!accept (graph, e, filter, user_data))
                continue;
              if (index[w] == UNVISITED)
                {
                  /* "Recurse": each node is pushed once, so depth <= n. */
                  index[w] = lowlink[w] = next_index++;
                  stack[n_stack++] = w;
                  on_stack[w] = 1;
                  frames[depth++] = (Frame) { w, graph->out_start[w] };
                }
              else if (on_stack[w])
                {
                  lowlink[v] = MIN (lowlink[v], index[w]);
                }
              continue;
            }

          /* All edges of v done: "return". */
          if (lowlink[v] == index[v])
            {
              guint32 c = scc->n_components++;
              guint32 first = n_members;
              guint32 w;

              do
                {
                  w = stack[--n_stack];
                  on_stack[w] = 0;
                  scc->component[w] = c;
                  scc->members[n_members++] = w;
                }
              while (w != v);
              /* Members in ascending node order: deterministic output. */
              qsort (scc->members + first, n_members - first, sizeof (guint32), compare_nodes);
              scc->start[c + 1] = n_members;
            }
          depth--;
          if (depth > 0)
            {
              guint32 parent = frames[depth - 1].node;
              lowlink[parent] = MIN (lowlink[parent], lowlink[v]);
            }
        }
    }

  scc->self_loop = g_new0 (guint8, MAX (scc->n_components, 1));
  for (guint32 c = 0; c < scc->n_components; c++)
    {
      guint32 v;

      if (linger_scc_size (scc, c) != 1)
        continue;
      v = scc->members[scc->start[c]];
      for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];
          if (e->target == v && accept (graph, e, filter, user_data))
            {
              scc->self_loop[c] = 1;
              break;
            }
        }
    }

  return scc;
}

gboolean
linger_scc_is_cycle (const LingerScc *scc,
                     guint32          component)
{
  return linger_scc_size (scc, component) > 1 || scc->self_loop[component];
}

void
linger_scc_free (LingerScc *scc)
{
  if (scc == NULL)
    return;
  g_free (scc->component);
  g_free (scc->start);
  g_free (scc->members);
  g_free (scc->self_loop);
  g_free (scc);
}
