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

  /* linger_path_search_between() only, allocated on first use: the
   * backward half (via_back: the edge from a node toward the target),
   * and both halves' depths. */
  guint32           *stamp_back;
  guint32           *via_back;
  guint32           *queue_back;
  guint32           *depth;
  guint32           *depth_back;
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
  g_free (search->stamp_back);
  g_free (search->via_back);
  g_free (search->queue_back);
  g_free (search->depth);
  g_free (search->depth_back);
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

/* One BFS level of the forward half: the nodes queue[*head..end). */
static void
expand_forward (LingerPathSearch *search,
                guint32          *head,
                guint32           end,
                guint32          *tail,
                LingerEdgeFilter  filter,
                gpointer          user_data,
                guint32          *best_len,
                guint32          *best_edge)
{
  const LingerGraph *graph = search->graph;
  guint32 gen = search->generation;

  for (; *head < end; (*head)++)
    {
      guint32 v = search->queue[*head];

      for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];
          guint32 t = e->target;

          if (search->stamp[t] == gen && search->stamp_back[t] != gen)
            continue;
          if (filter != NULL && !filter (graph, e, user_data))
            continue;
          if (search->stamp_back[t] == gen)
            {
              guint32 len = search->depth[v] + 1 + search->depth_back[t];
              if (len < *best_len || (len == *best_len && i < *best_edge))
                {
                  *best_len = len;
                  *best_edge = i;
                }
            }
          if (search->stamp[t] != gen)
            {
              search->stamp[t] = gen;
              search->via[t] = i;
              search->depth[t] = search->depth[v] + 1;
              search->queue[(*tail)++] = t;
            }
        }
    }
}

/* One BFS level of the backward half, over the edges into its nodes. */
static void
expand_backward (LingerPathSearch *search,
                 guint32          *head,
                 guint32           end,
                 guint32          *tail,
                 LingerEdgeFilter  filter,
                 gpointer          user_data,
                 guint32          *best_len,
                 guint32          *best_edge)
{
  const LingerGraph *graph = search->graph;
  guint32 gen = search->generation;

  for (; *head < end; (*head)++)
    {
      guint32 v = search->queue_back[*head];

      for (guint32 k = graph->in_start[v]; k < graph->in_start[v + 1]; k++)
        {
          guint32 i = graph->in_edges[k];
          const LingerEdge *e = &graph->edges[i];
          guint32 s = e->source;

          if (search->stamp_back[s] == gen && search->stamp[s] != gen)
            continue;
          if (filter != NULL && !filter (graph, e, user_data))
            continue;
          if (search->stamp[s] == gen)
            {
              guint32 len = search->depth[s] + 1 + search->depth_back[v];
              if (len < *best_len || (len == *best_len && i < *best_edge))
                {
                  *best_len = len;
                  *best_edge = i;
                }
            }
          if (search->stamp_back[s] != gen)
            {
              search->stamp_back[s] = gen;
              search->via_back[s] = i;
              search->depth_back[s] = search->depth_back[v] + 1;
              search->queue_back[(*tail)++] = s;
            }
        }
    }
}

GArray *
linger_path_search_between (LingerPathSearch *search,
                            const guint32    *sources,
                            gsize             n_sources,
                            guint32           target,
                            LingerEdgeFilter  filter,
                            gpointer          user_data)
{
  const LingerGraph *graph = search->graph;
  guint32 n = graph->n_nodes;
  gsize alloc = MAX (n, 1);
  guint32 head = 0, tail = 0, head_back = 0, tail_back = 0;
  guint32 best_len = G_MAXUINT32;
  guint32 best_edge = NO_EDGE;
  guint32 gen;
  GArray *path;
  guint32 len;

  if (target >= n)
    return NULL;
  if (search->stamp_back == NULL)
    {
      search->stamp_back = g_new0 (guint32, alloc);
      search->via_back = g_new (guint32, alloc);
      search->queue_back = g_new (guint32, alloc);
      search->depth = g_new (guint32, alloc);
      search->depth_back = g_new (guint32, alloc);
    }
  /* Both halves share the generation; on wrap-around both are cleared. */
  if (++search->generation == 0)
    {
      memset (search->stamp, 0, alloc * sizeof (guint32));
      memset (search->stamp_back, 0, alloc * sizeof (guint32));
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
      search->depth[s] = 0;
      search->queue[tail++] = s;
      if (s == target)
        return build_path (search, target);
    }
  search->stamp_back[target] = gen;
  search->via_back[target] = NO_EDGE;
  search->depth_back[target] = 0;
  search->queue_back[tail_back++] = target;

  /* A whole level at a time, of the half with the smaller frontier: a
   * search that cannot succeed ends as soon as either half runs out, so
   * its cost is that of the smaller half, not of everything the sources
   * reach (many weak references whose callbacks are bound methods of one
   * large object would otherwise walk that object once each). */
  while (best_edge == NO_EDGE && head < tail && head_back < tail_back)
    {
      if (tail - head <= tail_back - head_back)
        expand_forward (search, &head, tail, &tail, filter, user_data, &best_len, &best_edge);
      else
        expand_backward (search, &head_back, tail_back, &tail_back, filter, user_data, &best_len, &best_edge);
    }
  if (best_edge == NO_EDGE)
    return NULL;

  /* Sources .. the meeting edge's source, then its target .. target. */
  path = build_path (search, graph->edges[best_edge].source);
  g_array_index (path, LingerPathStep, path->len - 1).edge = &graph->edges[best_edge];
  len = path->len;
  for (guint32 v = graph->edges[best_edge].target; ; )
    {
      LingerPathStep step = { v, NULL };

      if (search->via_back[v] != NO_EDGE)
        step.edge = &graph->edges[search->via_back[v]];
      g_array_append_val (path, step);
      if (step.edge == NULL)
        break;
      v = step.edge->target;
      if (path->len > len + n)   /* cannot happen: via_back chains end at target */
        break;
    }
  return path;
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
