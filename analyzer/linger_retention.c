/* linger_retention.c: why an object is still alive, said the way a person
 * would say it. */
#include "linger_retention.h"

#include <stdlib.h>
#include <string.h>

#include "linger_describe.h"
#include "linger_paths.h"

struct _LingerRetention
{
  const LingerGraph *graph;
  guint32           *tree;
  /* node + 1 -> index + 1 of the ROOTS entry that made it a root (the
   * first in search order), for the first step of a path. */
  GHashTable        *root_entry;
  /* node + 1 -> index + 1 of the FINALIZERS entry whose _Info it is. */
  GHashTable        *finalizer_info;
  /* node + 1 -> (index of the ATEXIT entry) * 4 + part + 1, part 0 func,
   * 1 args, 2 kwargs. */
  GHashTable        *atexit_part;
};

#define KEY(node) GUINT_TO_POINTER ((guint) (node) + 1)

gboolean
linger_retention_is_internal_module (const char *name)
{
  static const char * const internal[] = {
    "sys", "builtins", "_frozen_importlib", "_frozen_importlib_external", "_imp",
    "importlib", "zipimport", "_bootstrap", "_bootstrap_external", NULL,
  };

  if (name == NULL)
    return FALSE;
  for (guint i = 0; internal[i] != NULL; i++)
    if (strcmp (name, internal[i]) == 0)
      return TRUE;
  return g_str_has_prefix (name, "importlib.");
}

/* Search order of a recorded root: __main__, the program's other modules,
 * threads, then everything else (the interpreter's own modules,
 * sys.modules itself, builtins, gc.garbage, atexit callbacks). */
static guint
root_rank (const LingerGraph       *graph,
           const linger_root_entry *r)
{
  const char *label = linger_trace_string (graph->trace, r->label);

  switch (r->kind)
    {
    case LINGER_ROOT_MODULE:
      if (linger_retention_is_internal_module (label))
        return 3;
      return label != NULL && strcmp (label, "__main__") == 0 ? 0 : 1;
    case LINGER_ROOT_THREAD:
      return 2;
    default:
      return 3;
    }
}

typedef struct
{
  guint   rank;
  guint32 index;   /* in snapshot->roots: ties keep the trace's order */
} RankedRoot;

static int
compare_ranked (const void *a,
                const void *b)
{
  const RankedRoot *x = a;
  const RankedRoot *y = b;

  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void
bfs (const LingerGraph *graph,
     guint32           *tree,
     guint32           *queue,
     guint32           *head,
     guint32           *tail,
     const guint8      *blocked,
     LingerEdgeFilter   filter,
     gpointer           user_data)
{
  while (*head < *tail)
    {
      guint32 v = queue[(*head)++];

      for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (tree[e->target] != LINGER_TREE_UNREACHABLE
              || (blocked != NULL && blocked[e->target]))
            continue;
          /* No call per edge for the common filter. */
          if (filter == NULL ? !linger_edge_is_owned (e) : !filter (graph, e, user_data))
            continue;
          tree[e->target] = i;
          queue[(*tail)++] = e->target;
        }
    }
}

LingerRetention *
linger_retention_new (const LingerGraph *graph,
                      const guint8      *blocked,
                      LingerEdgeFilter   filter,
                      gpointer           user_data,
                      guint32            skipped_root_kinds)
{
  const LingerSnapshot *s = graph->snapshot;
  LingerRetention *r = g_new0 (LingerRetention, 1);
  gsize alloc = MAX (graph->n_nodes, 1);
  g_autofree guint32 *queue = g_new (guint32, alloc);
  g_autofree RankedRoot *ranked = g_new (RankedRoot, MAX (s->roots->len, 1));
  g_autoptr(GHashTable) skipped = g_hash_table_new (NULL, NULL);
  guint32 head = 0;
  guint32 tail = 0;

  if (filter == linger_graph_filter_owned)
    filter = NULL;
  r->graph = graph;
  r->tree = g_new (guint32, alloc);
  r->root_entry = g_hash_table_new (NULL, NULL);
  r->finalizer_info = g_hash_table_new (NULL, NULL);
  r->atexit_part = g_hash_table_new (NULL, NULL);
  for (guint32 v = 0; v < graph->n_nodes; v++)
    r->tree[v] = LINGER_TREE_UNREACHABLE;

  for (guint i = 0; i < s->finalizers->len; i++)
    {
      guint32 info = linger_graph_lookup (graph, g_array_index (s->finalizers, linger_finalizer_entry, i).info);
      if (info != LINGER_NODE_NONE && !g_hash_table_contains (r->finalizer_info, KEY (info)))
        g_hash_table_insert (r->finalizer_info, KEY (info), GUINT_TO_POINTER (i + 1));
    }
  for (guint i = 0; i < s->atexits->len; i++)
    {
      const linger_atexit_entry *e = &g_array_index (s->atexits, linger_atexit_entry, i);
      const guint64 parts[3] = { e->func, e->args, e->kwargs };

      for (guint p = 0; p < 3; p++)
        {
          guint32 v = parts[p] != 0 ? linger_graph_lookup (graph, parts[p]) : LINGER_NODE_NONE;
          if (v != LINGER_NODE_NONE && !g_hash_table_contains (r->atexit_part, KEY (v)))
            g_hash_table_insert (r->atexit_part, KEY (v), GUINT_TO_POINTER (i * 4 + p + 1));
        }
    }

  /* A node with a root entry of a skipped kind is no root at all: the
   * unexplained references the graph sees on it are that root's. */
  for (guint i = 0; i < s->roots->len; i++)
    {
      const linger_root_entry *e = &g_array_index (s->roots, linger_root_entry, i);
      guint32 v;

      ranked[i] = (RankedRoot) { root_rank (graph, e), i };
      if (e->kind < 32 && (skipped_root_kinds & (1u << e->kind)))
        {
          v = linger_graph_lookup (graph, e->address);
          if (v != LINGER_NODE_NONE)
            g_hash_table_add (skipped, KEY (v));
        }
    }
  qsort (ranked, s->roots->len, sizeof (RankedRoot), compare_ranked);

  /* The recorded roots, in search order. */
  for (guint i = 0; i < s->roots->len; i++)
    {
      const linger_root_entry *e = &g_array_index (s->roots, linger_root_entry, ranked[i].index);
      guint32 v = linger_graph_lookup (graph, e->address);

      if (v == LINGER_NODE_NONE || g_hash_table_contains (skipped, KEY (v)))
        continue;
      if (!g_hash_table_contains (r->root_entry, KEY (v)))
        g_hash_table_insert (r->root_entry, KEY (v), GUINT_TO_POINTER (ranked[i].index + 1));
      if (r->tree[v] != LINGER_TREE_UNREACHABLE || (blocked != NULL && blocked[v]))
        continue;
      r->tree[v] = LINGER_TREE_ROOT;
      queue[tail++] = v;
    }
  bfs (graph, r->tree, queue, &head, &tail, blocked, filter, user_data);

  /* Then what only the roots the graph inferred explain. */
  for (guint i = 0; i < graph->roots->len; i++)
    {
      guint32 v = g_array_index (graph->roots, guint32, i);

      if (r->tree[v] != LINGER_TREE_UNREACHABLE
          || (blocked != NULL && blocked[v])
          || !(graph->root_reasons[v] & (LINGER_ROOT_REASON_EXTERNAL | LINGER_ROOT_REASON_IMMORTAL))
          || g_hash_table_contains (skipped, KEY (v)))
        continue;
      r->tree[v] = LINGER_TREE_ROOT;
      queue[tail++] = v;
    }
  bfs (graph, r->tree, queue, &head, &tail, blocked, filter, user_data);
  return r;
}

void
linger_retention_free (LingerRetention *r)
{
  if (r == NULL)
    return;
  g_free (r->tree);
  g_hash_table_unref (r->root_entry);
  g_hash_table_unref (r->finalizer_info);
  g_hash_table_unref (r->atexit_part);
  g_free (r);
}

const guint32 *
linger_retention_tree (const LingerRetention *r)
{
  return r->tree;
}

gboolean
linger_retention_reaches (const LingerRetention *r,
                          guint32                node)
{
  return node < r->graph->n_nodes && r->tree[node] != LINGER_TREE_UNREACHABLE;
}

/* --- rendering ------------------------------------------------------------ */

static gboolean
is_subscript (const LingerEdge *edge)
{
  switch (edge->label_kind)
    {
    case LINGER_LABEL_INDEX:
    case LINGER_LABEL_KEY:
    case LINGER_LABEL_DICT_KEY:
    case LINGER_LABEL_ITEM:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Appends the subscripts that follow step @i to @s: `Session.handlers`
 * then `list[0]` read as `Session.handlers[0]`.  Returns the next step. */
static guint
fold_subscripts (const LingerGraph *graph,
                 const GArray      *path,
                 guint              i,
                 GString           *s)
{
  while (i < path->len)
    {
      const LingerPathStep *step = &g_array_index (path, LingerPathStep, i);
      g_autofree char *label = NULL;

      if (step->edge == NULL || !is_subscript (step->edge))
        break;
      label = linger_describe_label (graph, step->edge);
      g_string_append (s, label);
      i++;
    }
  return i;
}

/* The name a person calls a callable by: its qualname, else its type. */
static const char *
callable_name (const LingerGraph *graph,
               guint32            node)
{
  const char *name = linger_graph_name (graph, node);

  if (name != NULL && *name != '\0')
    return name;
  return linger_describe_short_type (linger_graph_type_name (graph, node));
}

/* "finalize(<Session>, close_session)" for the _Info of a finalizer. */
static char *
describe_finalizer (const LingerGraph *graph,
                    guint              index)
{
  const linger_finalizer_entry *fe = &g_array_index (graph->snapshot->finalizers, linger_finalizer_entry, index);
  guint32 referent = fe->referent != 0 ? linger_graph_lookup (graph, fe->referent) : LINGER_NODE_NONE;
  guint32 func = linger_graph_lookup (graph, fe->func);

  return g_strdup_printf ("finalize(<%s>, %s)",
                          referent != LINGER_NODE_NONE
                          ? linger_describe_short_type (linger_graph_type_name (graph, referent))
                          : "dead object",
                          func != LINGER_NODE_NONE ? callable_name (graph, func) : "?");
}

/* Renders the step at @i (and the steps it collapses) into @s; returns
 * the next step.  @after_label: the previous output step named this
 * node already (a thread's frame, an atexit callback). */
static guint
render_step (const LingerRetention *r,
             const GArray          *path,
             guint                  i,
             gboolean               after_label,
             GString               *s)
{
  const LingerGraph *graph = r->graph;
  const LingerPathStep *step = &g_array_index (path, LingerPathStep, i);
  const LingerPathStep *next = i + 1 < path->len ? &g_array_index (path, LingerPathStep, i + 1) : NULL;
  guint32 flags = linger_graph_flags (graph, step->node);
  gpointer info;
  g_autofree char *node = NULL;
  g_autofree char *label = NULL;

  /* instance.__dict__['x'] reads Instance.x, a class's Class.x, a
   * module's app.x. */
  if (next != NULL && next->edge != NULL
      && linger_graph_edge_is_attr (graph, step->edge, "__dict__")
      && next->edge->label_kind == LINGER_LABEL_KEY)
    {
      g_autofree char *key = linger_describe_attribute_key (linger_graph_edge_text (graph, next->edge));

      if (key != NULL)
        {
          if (flags & (LINGER_OBJ_TYPE | LINGER_OBJ_MODULE))
            g_string_append (s, callable_name (graph, step->node));
          else
            {
              g_autofree char *desc = linger_describe_node (graph, step->node);
              g_string_append (s, desc);
            }
          g_string_append_printf (s, ".%s", key);
          return i + 2;
        }
    }

  /* function.__closure__ -> tuple -> cell -> contents reads
   * "<function f> closure 'x'". */
  if (next != NULL && next->edge != NULL
      && linger_graph_edge_is_attr (graph, step->edge, "__closure__")
      && next->edge->label_kind == LINGER_LABEL_CLOSURE)
    {
      const LingerPathStep *third = i + 2 < path->len ? &g_array_index (path, LingerPathStep, i + 2) : NULL;

      node = linger_describe_node (graph, step->node);
      label = linger_describe_label (graph, next->edge);
      g_string_append (s, node);
      g_string_append (s, label);
      if (third != NULL && third->edge != NULL && linger_graph_edge_is_attr (graph, third->edge, "cell_contents"))
        return i + 3;
      return i + 2;
    }

  if (step->edge->label_kind == LINGER_LABEL_LOCAL)
    {
      const char *text = linger_graph_edge_text (graph, step->edge);

      if (!after_label)
        {
          node = linger_describe_node (graph, step->node);
          g_string_append_printf (s, "%s ", node);
        }
      g_string_append_printf (s, "local '%s'", text != NULL ? text : "?");
      return i + 1;
    }

  info = g_hash_table_lookup (r->finalizer_info, KEY (step->node));
  if (info != NULL)
    node = describe_finalizer (graph, GPOINTER_TO_UINT (info) - 1);
  else if (flags & LINGER_OBJ_MODULE)
    node = g_strdup (callable_name (graph, step->node));
  else
    node = linger_describe_node (graph, step->node);
  label = linger_describe_label (graph, step->edge);
  g_string_append (s, node);
  g_string_append (s, label);
  return i + 1;
}

/* Renders the first step of @path, at its root, into @out; returns the
 * next step and whether the root's label named the root node. */
static guint
render_root (const LingerRetention *r,
             const GArray          *path,
             GPtrArray             *out,
             gboolean              *ret_named,
             const char           **ret_kind)
{
  const LingerGraph *graph = r->graph;
  const LingerPathStep *first = &g_array_index (path, LingerPathStep, 0);
  gpointer found = g_hash_table_lookup (r->root_entry, KEY (first->node));
  const linger_root_entry *entry;
  const char *label;
  g_autoptr(GString) s = g_string_new (NULL);
  guint i = 0;

  *ret_named = FALSE;
  if (found == NULL)
    {
      if (graph->root_reasons[first->node] & LINGER_ROOT_REASON_EXTERNAL)
        {
          gint64 n = linger_graph_external_refs (graph, first->node);

          *ret_kind = "external";
          g_ptr_array_add (out, g_strdup_printf ("held by C code or the interpreter (%" G_GINT64_FORMAT
                                                 " reference%s not seen)", n, n == 1 ? "" : "s"));
        }
      else
        {
          *ret_kind = "immortal";
          g_ptr_array_add (out, g_strdup ("an immortal object of the interpreter"));
        }
      return 0;
    }

  entry = &g_array_index (graph->snapshot->roots, linger_root_entry, GPOINTER_TO_UINT (found) - 1);
  label = linger_trace_string (graph->trace, entry->label);
  *ret_kind = linger_root_kind_name (entry->kind);

  switch (entry->kind)
    {
    case LINGER_ROOT_MODULE:
      /* The module by its name in sys.modules, its globals collapsed:
       * app.cache rather than <module app>.__dict__['cache']. */
      if (first->edge == NULL)
        {
          g_ptr_array_add (out, linger_describe_node (graph, first->node));
          return 1;
        }
      if (path->len > 2 && linger_graph_edge_is_attr (graph, first->edge, "__dict__")
          && g_array_index (path, LingerPathStep, 1).edge->label_kind == LINGER_LABEL_KEY)
        {
          const LingerEdge *key_edge = g_array_index (path, LingerPathStep, 1).edge;
          g_autofree char *key = linger_describe_attribute_key (linger_graph_edge_text (graph, key_edge));
          g_autofree char *text = linger_describe_label (graph, key_edge);

          if (key != NULL)
            g_string_append_printf (s, "%s.%s", label != NULL ? label : callable_name (graph, first->node), key);
          else
            g_string_append_printf (s, "%s.__dict__%s", label != NULL ? label : callable_name (graph, first->node), text);
          i = 2;
        }
      else
        i = render_step (r, path, 0, FALSE, s);
      break;

    case LINGER_ROOT_ATEXIT:
      {
        gpointer part = g_hash_table_lookup (r->atexit_part, KEY (first->node));
        guint p = part != NULL ? (GPOINTER_TO_UINT (part) - 1) % 4 : 0;

        g_ptr_array_add (out, g_strdup (label != NULL ? label : "atexit callback"));
        if (first->edge != NULL && p > 0 && is_subscript (first->edge))
          {
            g_autofree char *sub = linger_describe_label (graph, first->edge);
            g_string_append_printf (s, "%s%s", p == 1 ? "args" : "kwargs", sub);
            i = 1;
          }
        else
          *ret_named = TRUE;
        break;
      }

    case LINGER_ROOT_THREAD:
      /* "thread MainThread, main() at app.py:12", then "local 'x'". */
      g_ptr_array_add (out, g_strdup (label != NULL ? label : "a thread's frame"));
      *ret_named = TRUE;
      return 0;

    default:
      /* sys.modules['app'], gc.garbage[3], builtins['x']: the label
       * names the container. */
      g_string_append (s, label != NULL ? label : *ret_kind);
      if (first->edge != NULL && is_subscript (first->edge))
        i = 0;
      else
        {
          g_ptr_array_add (out, g_string_free (g_steal_pointer (&s), FALSE));
          *ret_named = TRUE;
          return 0;
        }
      break;
    }

  if (s->len > 0)
    {
      i = fold_subscripts (graph, path, i, s);
      g_ptr_array_add (out, g_string_free (g_steal_pointer (&s), FALSE));
    }
  return i;
}

GPtrArray *
linger_retention_describe (const LingerRetention *r,
                           guint32                node,
                           const char           **ret_root_kind)
{
  const LingerGraph *graph = r->graph;
  g_autoptr(GArray) path = linger_paths_from_tree (graph, r->tree, node);
  g_autoptr(GPtrArray) out = NULL;
  const char *kind = NULL;
  gboolean named = FALSE;
  guint start = 0;
  guint i;

  if (path == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func (g_free);

  /* Whatever leads to a finalizer's _Info is the finalize registry: say
   * so, from the last _Info on the path. */
  for (guint k = path->len; k > 0; k--)
    if (g_hash_table_contains (r->finalizer_info, KEY (g_array_index (path, LingerPathStep, k - 1).node))
        && g_array_index (path, LingerPathStep, k - 1).edge != NULL)
      {
        start = k - 1;
        break;
      }

  if (start > 0)
    {
      /* The kind of the root the registry hangs from. */
      GPtrArray *unused = g_ptr_array_new_with_free_func (g_free);
      render_root (r, path, unused, &named, &kind);
      g_ptr_array_unref (unused);
      g_ptr_array_add (out, g_strdup ("weakref.finalize registry"));
      named = FALSE;
      i = start;
    }
  else
    i = render_root (r, path, out, &named, &kind);

  while (i < path->len)
    {
      const LingerPathStep *step = &g_array_index (path, LingerPathStep, i);
      g_autoptr(GString) s = g_string_new (NULL);

      if (step->edge == NULL)
        {
          g_ptr_array_add (out, linger_describe_node (graph, step->node));
          break;
        }
      i = render_step (r, path, i, named, s);
      i = fold_subscripts (graph, path, i, s);
      named = FALSE;
      g_ptr_array_add (out, g_string_free (g_steal_pointer (&s), FALSE));
    }

  if (ret_root_kind != NULL)
    *ret_root_kind = kind;
  return g_steal_pointer (&out);
}
