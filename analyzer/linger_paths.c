/* linger_paths.c: shortest reference paths (breadth-first search). */
#include "linger_paths.h"

#include <string.h>

#define NO_EDGE G_MAXUINT32

struct _LingerPathSearch
{
  const LingerGraph *graph;
  guint32           *stamp;   /* == generation: seen in the current search */
  guint32           *via;     /* edge index that discovered a node */
  guint32           *queue;
  guint32            generation;
};

LingerPathSearch *
linger_path_search_new (const LingerGraph *graph)
{
  LingerPathSearch *search = g_new0 (LingerPathSearch, 1);
  gsize alloc = MAX (graph->n_nodes, 1);

  search->graph = graph;
  search->stamp = g_new0 (guint32, alloc);
  search->via = g_new (guint32, alloc);
  search->queue = g_new (guint32, alloc);
  return search;
}

void
linger_path_search_free (LingerPathSearch *search)
{
  if (search == NULL)
    return;
  g_free (search->stamp);
  g_free (search->via);
  g_free (search->queue);
  g_free (search);
}

static GArray *
build_path (const LingerPathSearch *search,
            guint32                 target)
{
  const LingerGraph *graph = search->graph;
  const LingerEdge *next = NULL;
  guint32 len = 0;
  guint32 v = target;
  GArray *path;

  for (guint32 w = target; ; w = graph->edges[search->via[w]].source)
    {
      len++;
      if (search->via[w] == NO_EDGE)
        break;
    }
  path = g_array_sized_new (FALSE, FALSE, sizeof (LingerPathStep), len);
  g_array_set_size (path, len);
  for (guint32 i = len; i > 0; i--)
    {
      LingerPathStep *step = &g_array_index (path, LingerPathStep, i - 1);

      step->node = v;
      step->edge = next;
      if (search->via[v] == NO_EDGE)
        break;
      next = &graph->edges[search->via[v]];
      v = next->source;
    }
  return path;
}

GArray *
linger_path_search_run (LingerPathSearch *search,
                        const guint32    *sources,
                        gsize             n_sources,
                        guint32           target,
                        LingerEdgeFilter  filter,
                        gpointer          user_data)
{
  const LingerGraph *graph = search->graph;
  guint32 n = graph->n_nodes;
  guint32 head = 0;
  guint32 tail = 0;
  guint32 gen;

  if (target >= n)
    return NULL;

  /* A new generation forgets the last search without touching it; on
   * wrap-around the stamps are cleared once. */
  if (++search->generation == 0)
    {
      memset (search->stamp, 0, (gsize) MAX (n, 1) * sizeof (guint32));
      search->generation = 1;
    }
  gen = search->generation;

  for (gsize i = 0; i < n_sources; i++)
    {
      guint32 s = sources[i];

      if (s >= n || search->stamp[s] == gen)
        continue;
      search->stamp[s] = gen;
      search->via[s] = NO_EDGE;
      search->queue[tail++] = s;
      if (s == target)
        return build_path (search, target);
    }

  while (head < tail)
    {
      guint32 v = search->queue[head++];

      for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (search->stamp[e->target] == gen)
            continue;
          if (filter != NULL && !filter (graph, e, user_data))
            continue;
          search->stamp[e->target] = gen;
          search->via[e->target] = i;
          search->queue[tail++] = e->target;
          if (e->target == target)
            return build_path (search, target);
        }
    }
  return NULL;
}

void
linger_path_search_reach (LingerPathSearch *search,
                          const guint32    *sources,
                          gsize             n_sources,
                          GHashTable       *targets,
                          LingerEdgeFilter  filter,
                          gpointer          user_data)
{
  const LingerGraph *graph = search->graph;
  guint32 n = graph->n_nodes;
  guint left = g_hash_table_size (targets);
  guint32 head = 0;
  guint32 tail = 0;
  guint32 gen;

  if (++search->generation == 0)
    {
      memset (search->stamp, 0, (gsize) MAX (n, 1) * sizeof (guint32));
      search->generation = 1;
    }
  gen = search->generation;

  for (gsize i = 0; i < n_sources; i++)
    {
      guint32 s = sources[i];

      if (s >= n || search->stamp[s] == gen)
        continue;
      search->stamp[s] = gen;
      search->via[s] = NO_EDGE;
      search->queue[tail++] = s;
      if (g_hash_table_contains (targets, GUINT_TO_POINTER (s + 1)) && --left == 0)
        return;
    }

  while (head < tail)
    {
      guint32 v = search->queue[head++];

      for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (search->stamp[e->target] == gen)
            continue;
          if (filter != NULL && !filter (graph, e, user_data))
            continue;
          search->stamp[e->target] = gen;
          search->via[e->target] = i;
          search->queue[tail++] = e->target;
          if (g_hash_table_contains (targets, GUINT_TO_POINTER (e->target + 1)) && --left == 0)
            return;
        }
    }
}

GArray *
linger_path_search_path_to (LingerPathSearch *search,
                            guint32           node)
{
  if (search->generation == 0 || node >= search->graph->n_nodes
      || search->stamp[node] != search->generation)
    return NULL;
  return build_path (search, node);
}

GArray *
linger_paths_shortest (const LingerGraph *graph,
                       const guint32     *sources,
                       gsize              n_sources,
                       guint32            target,
                       LingerEdgeFilter   filter,
                       gpointer           user_data)
{
  g_autoptr(LingerPathSearch) search = NULL;

  if (target >= graph->n_nodes)
    return NULL;
  search = linger_path_search_new (graph);
  return linger_path_search_run (search, sources, n_sources, target, filter, user_data);
}

GArray *
linger_paths_from_tree (const LingerGraph *graph,
                        const guint32     *tree,
                        guint32            target)
{
  const LingerEdge *next = NULL;
  guint32 len = 0;
  GArray *path;

  if (target >= graph->n_nodes || tree[target] == LINGER_TREE_UNREACHABLE)
    return NULL;
  for (guint32 v = target; tree[v] != LINGER_TREE_ROOT; v = graph->edges[tree[v]].source)
    len++;
  path = g_array_sized_new (FALSE, FALSE, sizeof (LingerPathStep), len + 1);
  g_array_set_size (path, len + 1);
  for (guint32 i = len + 1, v = target; i > 0; i--)
    {
      LingerPathStep *step = &g_array_index (path, LingerPathStep, i - 1);

      step->node = v;
      step->edge = next;
      if (tree[v] == LINGER_TREE_ROOT)
        break;
      next = &graph->edges[tree[v]];
      v = next->source;
    }
  return path;
}

GArray *
linger_paths_from_roots (const LingerGraph *graph,
                         guint32            target)
{
  return linger_paths_from_tree (graph, graph->tree, target);
}
