/* linger_paths.c: shortest reference paths (breadth-first search). */
#include "linger_paths.h"

#define NO_EDGE G_MAXUINT32

GArray *
linger_paths_shortest (const LingerGraph *graph,
                       const guint32     *sources,
                       gsize              n_sources,
                       guint32            target,
                       LingerEdgeFilter   filter,
                       gpointer           user_data)
{
  guint32 n = graph->n_nodes;
  gsize alloc = MAX (n, 1);
  g_autofree guint8 *seen = NULL;
  g_autofree guint32 *via = NULL;     /* edge index that discovered a node */
  g_autofree guint32 *queue = NULL;
  guint32 head = 0;
  guint32 tail = 0;
  gboolean found = FALSE;
  GArray *path;
  guint32 len = 0;

  if (target >= n)
    return NULL;

  seen = g_new0 (guint8, alloc);
  via = g_new (guint32, alloc);
  queue = g_new (guint32, alloc);

  for (gsize i = 0; i < n_sources; i++)
    {
      guint32 s = sources[i];
      if (s >= n || seen[s])
        continue;
      seen[s] = 1;
      via[s] = NO_EDGE;
      queue[tail++] = s;
      if (s == target)
        found = TRUE;
    }

  while (!found && head < tail)
    {
      guint32 v = queue[head++];

      for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (seen[e->target])
            continue;
          if (filter != NULL && !filter (graph, e, user_data))
            continue;
          seen[e->target] = 1;
          via[e->target] = i;
          queue[tail++] = e->target;
          if (e->target == target)
            {
              found = TRUE;
              break;
            }
        }
    }

  if (!found)
    return NULL;

  for (guint32 v = target; ; v = graph->edges[via[v]].source)
    {
      len++;
      if (via[v] == NO_EDGE)
        break;
    }
  path = g_array_sized_new (FALSE, FALSE, sizeof (LingerPathStep), len);
  g_array_set_size (path, len);
  {
    guint32 v = target;
    const LingerEdge *next = NULL;

    for (guint32 i = len; i > 0; i--)
      {
        LingerPathStep *step = &g_array_index (path, LingerPathStep, i - 1);

        step->node = v;
        step->edge = next;
        if (via[v] == NO_EDGE)
          break;
        next = &graph->edges[via[v]];
        v = next->source;
      }
  }
  return path;
}

static gboolean
owned_filter (const LingerGraph *graph,
              const LingerEdge  *edge,
              gpointer           user_data)
{
  return linger_edge_is_owned (edge);
}

GArray *
linger_paths_from_roots (const LingerGraph *graph,
                         guint32            target)
{
  return linger_paths_shortest (graph,
                                (const guint32 *) (gconstpointer) graph->roots->data,
                                graph->roots->len,
                                target, owned_filter, NULL);
}
