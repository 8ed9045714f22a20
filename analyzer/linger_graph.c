/* linger_graph.c: the object graph of one snapshot. */
#include "linger_graph.h"

#include <stdlib.h>
#include <string.h>

/* An address and where its entry is in the snapshot, for sorting. */
typedef struct
{
  guint64 address;
  guint32 index;
} Keyed;

/* Stable LSD radix sort by address, 16 bits at a time, skipping the
 * digits every address shares (the high bits of a heap mostly are): a
 * million objects sort in a few milliseconds, where qsort on 40-byte
 * entries took a tenth of the whole report. */
static void
sort_by_address (Keyed   *keys,
                 guint32  n)
{
  g_autofree Keyed *tmp = g_new (Keyed, MAX (n, 1));
  g_autofree guint32 *count = g_new (guint32, 65536 + 1);
  guint64 all_or = 0;
  guint64 all_and = G_MAXUINT64;
  Keyed *from = keys;
  Keyed *to = tmp;

  for (guint32 i = 0; i < n; i++)
    {
      all_or |= keys[i].address;
      all_and &= keys[i].address;
    }
  for (guint shift = 0; shift < 64; shift += 16)
    {
      Keyed *swap;

      if ((((all_or ^ all_and) >> shift) & 0xffff) == 0)
        continue;   /* the same digit everywhere: already in order */
      memset (count, 0, (65536 + 1) * sizeof (guint32));
      for (guint32 i = 0; i < n; i++)
        count[((from[i].address >> shift) & 0xffff) + 1]++;
      for (guint32 d = 0; d < 65536; d++)
        count[d + 1] += count[d];
      for (guint32 i = 0; i < n; i++)
        to[count[(from[i].address >> shift) & 0xffff]++] = from[i];
      swap = from;
      from = to;
      to = swap;
    }
  if (from != keys)
    memcpy (keys, from, (gsize) n * sizeof (Keyed));
}

/* Address -> node, by open addressing: building the edges looks up two
 * addresses per reference, millions of them, and a hash probe is one
 * cache miss where a binary search over the nodes is a dozen.  A slot
 * holds the address and its node side by side: one cache line. */
typedef struct
{
  guint64 address;      /* 0: empty slot (no object lives at 0) */
  guint32 node;
  guint32 padding;
} AddressSlot;

typedef struct
{
  AddressSlot *slots;
  guint64      mask;    /* slots - 1 */
  guint        shift;   /* 64 - log2 (slots): the hash's top bits pick the slot */
} AddressIndex;

static inline guint64
address_hash (guint64 address)
{
  /* Objects are 16-byte aligned: drop those bits, then mix. */
  return (address >> 4) * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
}

static void
address_index_init (AddressIndex      *index,
                    const LingerGraph *graph)
{
  guint64 n_slots = 16;
  guint bits = 4;

  /* At most half full: probes stay short. */
  while (n_slots < (guint64) graph->n_nodes * 2)
    {
      n_slots *= 2;
      bits++;
    }
  index->slots = g_new0 (AddressSlot, n_slots);
  index->mask = n_slots - 1;
  index->shift = 64 - bits;
  for (guint32 v = 0; v < graph->n_nodes; v++)
    {
      guint64 a = graph->nodes[v].address;
      guint64 slot;

      if (a == 0)
        continue;   /* looked up by binary search instead */
      for (slot = address_hash (a) >> index->shift; index->slots[slot].address != 0; slot = (slot + 1) & index->mask)
        ;
      index->slots[slot].address = a;
      index->slots[slot].node = v;
    }
}

static inline guint32
address_index_lookup (const AddressIndex *index,
                      const LingerGraph  *graph,
                      guint64             address)
{
  guint64 slot;

  if (address == 0)
    return linger_graph_lookup (graph, 0);
  for (slot = address_hash (address) >> index->shift; index->slots[slot].address != 0; slot = (slot + 1) & index->mask)
    if (index->slots[slot].address == address)
      return index->slots[slot].node;
  return LINGER_NODE_NONE;
}

/* Asks for the slot of @address ahead of its lookup: the lookups are
 * independent cache misses, and a few in flight at once overlap. */
static inline void
address_index_prefetch (const AddressIndex *index,
                        guint64             address)
{
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch (&index->slots[address_hash (address) >> index->shift]);
#endif
}

/* How many references ahead to prefetch. */
#define PREFETCH_DISTANCE 16

static void
address_index_clear (AddressIndex *index)
{
  g_clear_pointer (&index->slots, g_free);
}

guint32
linger_graph_lookup (const LingerGraph *graph,
                     guint64            address)
{
  guint32 lo = 0;
  guint32 hi = graph->n_nodes;

  while (lo < hi)
    {
      guint32 mid = lo + (hi - lo) / 2;
      guint64 a = graph->nodes[mid].address;

      if (a == address)
        return mid;
      if (a < address)
        lo = mid + 1;
      else
        hi = mid;
    }
  return LINGER_NODE_NONE;
}

gboolean
linger_graph_filter_owned (const LingerGraph *graph,
                           const LingerEdge  *edge,
                           gpointer           user_data)
{
  return linger_edge_is_owned (edge);
}

const char *
linger_graph_edge_text (const LingerGraph *graph,
                        const LingerEdge  *edge)
{
  switch (edge->label_kind)
    {
    case LINGER_LABEL_ATTR:
    case LINGER_LABEL_KEY:
    case LINGER_LABEL_DICT_KEY:
    case LINGER_LABEL_CLOSURE:
    case LINGER_LABEL_LOCAL:
      return linger_trace_string (graph->trace, edge->label);
    default:
      return NULL;
    }
}

gboolean
linger_graph_edge_is_attr (const LingerGraph *graph,
                           const LingerEdge  *edge,
                           const char        *name)
{
  const char *text;

  if (edge->label_kind != LINGER_LABEL_ATTR)
    return FALSE;
  text = linger_graph_edge_text (graph, edge);
  return text != NULL && strcmp (text, name) == 0;
}

const char *
linger_graph_type_name (const LingerGraph *graph,
                        guint32            node)
{
  const char *s = linger_trace_string (graph->trace, graph->nodes[node].type_name);

  return s != NULL ? s : "?";
}

const char *
linger_graph_name (const LingerGraph *graph,
                   guint32            node)
{
  return linger_trace_string (graph->trace, graph->nodes[node].name);
}

gint64
linger_graph_external_refs (const LingerGraph *graph,
                            guint32            node)
{
  const linger_object_entry *o = &graph->nodes[node];
  gint64 owned_in = 0;

  /* Tracked objects, as the cyclic GC reasons; and static types, which
   * are never tracked yet are held by the interpreter (without this they
   * would count as garbage). */
  if (!(o->flags & (LINGER_OBJ_GC_TRACKED | LINGER_OBJ_TYPE)))
    return 0;
  for (guint32 i = graph->in_start[node]; i < graph->in_start[node + 1]; i++)
    if (linger_edge_is_owned (&graph->edges[graph->in_edges[i]]))
      owned_in++;
  return o->refcount - owned_in;
}

static void
build_nodes (LingerGraph          *graph,
             const LingerSnapshot *snapshot)
{
  guint32 n = snapshot->objects->len;
  const linger_object_entry *objects = (const linger_object_entry *) (gconstpointer) snapshot->objects->data;
  g_autofree Keyed *keys = g_new (Keyed, MAX (n, 1));
  guint32 kept = 0;

  for (guint32 i = 0; i < n; i++)
    keys[i] = (Keyed) { objects[i].address, i };
  sort_by_address (keys, n);

  /* An address listed twice is one object; the sort is stable, so the
   * one kept is the first in the file. */
  graph->nodes = g_new (linger_object_entry, MAX (n, 1));
  for (guint32 i = 0; i < n; i++)
    {
      if (kept > 0 && graph->nodes[kept - 1].address == keys[i].address)
        {
          graph->n_duplicate_objects++;
          continue;
        }
      graph->nodes[kept++] = objects[keys[i].index];
    }
  graph->n_nodes = kept;
}

static void
build_edges (LingerGraph          *graph,
             const LingerSnapshot *snapshot)
{
  guint32 n_refs = snapshot->refs->len;
  guint32 n = graph->n_nodes;
  g_autofree guint32 *source_of = g_new (guint32, MAX (n_refs, 1));
  g_autofree guint32 *target_of = g_new (guint32, MAX (n_refs, 1));
  g_autofree guint32 *fill = g_new0 (guint32, (gsize) n + 1);
  guint32 n_edges = 0;
  AddressIndex index;
  guint64 last_source = 0;
  guint32 last_source_node = LINGER_NODE_NONE;

  graph->out_start = g_new0 (guint32, (gsize) n + 1);
  graph->in_start = g_new0 (guint32, (gsize) n + 1);
  address_index_init (&index, graph);

  /* Counting sort by source keeps the file order of a node's edges, which
   * is the order the shim visited them (tp_traverse order). */
  for (guint32 i = 0; i < n_refs; i++)
    {
      const linger_ref_entry *r = &g_array_index (snapshot->refs, linger_ref_entry, i);

      if (i + PREFETCH_DISTANCE < n_refs)
        address_index_prefetch (&index, g_array_index (snapshot->refs, linger_ref_entry,
                                                       i + PREFETCH_DISTANCE).target);
      /* The shim writes an object's references together. */
      if (i == 0 || r->source != last_source)
        {
          last_source = r->source;
          last_source_node = address_index_lookup (&index, graph, r->source);
        }
      source_of[i] = last_source_node;
      target_of[i] = address_index_lookup (&index, graph, r->target);
      if (source_of[i] == LINGER_NODE_NONE || target_of[i] == LINGER_NODE_NONE)
        {
          graph->n_dangling_edges++;
          continue;
        }
      graph->out_start[source_of[i] + 1]++;
      graph->in_start[target_of[i] + 1]++;
      n_edges++;
    }
  address_index_clear (&index);
  for (guint32 v = 0; v < n; v++)
    {
      graph->out_start[v + 1] += graph->out_start[v];
      graph->in_start[v + 1] += graph->in_start[v];
    }

  graph->n_edges = n_edges;
  graph->edges = g_new (LingerEdge, MAX (n_edges, 1));
  graph->in_edges = g_new (guint32, MAX (n_edges, 1));

  memcpy (fill, graph->out_start, ((gsize) n + 1) * sizeof (guint32));
  for (guint32 i = 0; i < n_refs; i++)
    {
      const linger_ref_entry *r = &g_array_index (snapshot->refs, linger_ref_entry, i);
      LingerEdge *e;

      if (source_of[i] == LINGER_NODE_NONE || target_of[i] == LINGER_NODE_NONE)
        continue;
      e = &graph->edges[fill[source_of[i]]++];
      e->source = source_of[i];
      e->target = target_of[i];
      e->label = r->label;
      e->label_kind = r->label_kind;
      e->ref_kind = r->ref_kind;
    }

  /* Edge indices sorted by source are visited in order, so each target's
   * in-edges come out sorted by source too. */
  memcpy (fill, graph->in_start, ((gsize) n + 1) * sizeof (guint32));
  for (guint32 i = 0; i < n_edges; i++)
    graph->in_edges[fill[graph->edges[i].target]++] = i;
}

static void
build_roots (LingerGraph          *graph,
             const LingerSnapshot *snapshot)
{
  guint32 n = graph->n_nodes;

  graph->root_reasons = g_new0 (guint8, MAX (n, 1));
  graph->roots = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint32 i = 0; i < snapshot->roots->len; i++)
    {
      const linger_root_entry *r = &g_array_index (snapshot->roots, linger_root_entry, i);
      guint32 v = linger_graph_lookup (graph, r->address);

      if (v != LINGER_NODE_NONE)
        graph->root_reasons[v] |= LINGER_ROOT_REASON_RECORDED;
    }

  for (guint32 v = 0; v < n; v++)
    {
      if (graph->nodes[v].flags & LINGER_OBJ_IMMORTAL)
        graph->root_reasons[v] |= LINGER_ROOT_REASON_IMMORTAL;
      if (linger_graph_external_refs (graph, v) > 0)
        graph->root_reasons[v] |= LINGER_ROOT_REASON_EXTERNAL;
      if (graph->root_reasons[v] != 0)
        g_array_append_val (graph->roots, v);
    }
}

guint32 *
linger_graph_root_tree (const LingerGraph *graph,
                        const guint8      *blocked,
                        LingerEdgeFilter   filter,
                        gpointer           user_data)
{
  gsize alloc = MAX (graph->n_nodes, 1);
  guint32 *tree = g_new (guint32, alloc);
  g_autofree guint32 *queue = g_new (guint32, alloc);
  guint32 head = 0;
  guint32 tail = 0;
  /* The common filter is checked inline, not called for every edge. */
  gboolean owned_only = filter == linger_graph_filter_owned;

  for (guint32 v = 0; v < graph->n_nodes; v++)
    tree[v] = LINGER_TREE_UNREACHABLE;
  for (guint i = 0; i < graph->roots->len; i++)
    {
      guint32 v = g_array_index (graph->roots, guint32, i);

      if (blocked != NULL && blocked[v])
        continue;
      tree[v] = LINGER_TREE_ROOT;
      queue[tail++] = v;
    }
  while (head < tail)
    {
      guint32 v = queue[head++];

      for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (tree[e->target] != LINGER_TREE_UNREACHABLE
              || (blocked != NULL && blocked[e->target]))
            continue;
          if (owned_only ? !linger_edge_is_owned (e) : filter != NULL && !filter (graph, e, user_data))
            continue;
          tree[e->target] = i;
          queue[tail++] = e->target;
        }
    }
  return tree;
}

static LingerGraph *
graph_new (const LingerTrace *trace,
           LingerSnapshot    *snapshot,
           gboolean           release_objects)
{
  g_autoptr(LingerGraph) graph = g_new0 (LingerGraph, 1);

  graph->trace = trace;
  graph->snapshot = snapshot;
  build_nodes (graph, snapshot);
  /* The nodes are a sorted copy: the reader's can go before the edges,
   * the address index and their temporaries, the peak of the build. */
  if (release_objects)
    {
      g_array_unref (snapshot->objects);
      snapshot->objects = g_array_new (FALSE, FALSE, sizeof (linger_object_entry));
    }
  build_edges (graph, snapshot);
  build_roots (graph, snapshot);
  graph->tree = linger_graph_root_tree (graph, NULL, linger_graph_filter_owned, NULL);
  return g_steal_pointer (&graph);
}

LingerGraph *
linger_graph_new (const LingerTrace    *trace,
                  const LingerSnapshot *snapshot)
{
  /* Not released, so not written to. */
  return graph_new (trace, (LingerSnapshot *) snapshot, FALSE);
}

LingerGraph *
linger_graph_new_releasing_objects (const LingerTrace *trace,
                                    LingerSnapshot    *snapshot)
{
  return graph_new (trace, snapshot, TRUE);
}

void
linger_graph_free (LingerGraph *graph)
{
  if (graph == NULL)
    return;
  g_free (graph->nodes);
  g_free (graph->edges);
  g_free (graph->out_start);
  g_free (graph->in_edges);
  g_free (graph->in_start);
  g_free (graph->root_reasons);
  if (graph->roots != NULL)
    g_array_unref (graph->roots);
  g_free (graph->tree);
  g_free (graph);
}
