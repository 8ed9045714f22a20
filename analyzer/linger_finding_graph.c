/* linger_finding_graph.c: the objects and references of a finding, for
 * pictures. */
#include "linger_finding_graph.h"

#include <string.h>

#include "linger_describe.h"
#include "linger_paths.h"
#include "linger_retention.h"

struct _LingerFindingGraphs
{
  const LingerAnalysis *analysis;
  GHashTable           *descriptions;  /* node + 1 -> linger_describe_node() */
  /* The findings' two retention trees, made on first use: every owned
   * edge from every root, and what the program holds without the
   * keep-alive mechanisms (finalizers' _Info, weak containers' data). */
  LingerRetention      *retention;
  LingerRetention      *program;
  guint8               *mechanism;
};

/* One way back from a node to the start of the step before it: the
 * step's source object and the one to three edges that make the step
 * (three for a closure cell: __closure__, the cell, cell_contents). */
typedef struct
{
  guint32 source;
  guint32 edges[3];
  guint   n_edges;
} StepChoice;

typedef struct
{
  LingerFindingGraphs *graphs;
  const LingerGraph   *graph;
  const GPtrArray     *steps;
  /* (node, step) -> MatchResult: the lowest step index reachable from
   * there and the choice that reaches it. */
  GHashTable          *memo;
} Matcher;

typedef struct
{
  guint      best;   /* lowest step index matched */
  StepChoice choice; /* n_edges == 0: the match starts here */
} MatchResult;

LingerFindingGraphs *
linger_finding_graphs_new (const LingerAnalysis *analysis)
{
  LingerFindingGraphs *graphs = g_new0 (LingerFindingGraphs, 1);

  graphs->analysis = analysis;
  graphs->descriptions = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return graphs;
}

void
linger_finding_graphs_free (LingerFindingGraphs *graphs)
{
  if (graphs == NULL)
    return;
  g_hash_table_unref (graphs->descriptions);
  g_clear_pointer (&graphs->retention, linger_retention_free);
  g_clear_pointer (&graphs->program, linger_retention_free);
  g_free (graphs->mechanism);
  g_free (graphs);
}

static const char *
describe (LingerFindingGraphs *graphs,
          guint32              node)
{
  gpointer key = GUINT_TO_POINTER (node + 1);
  char *text = g_hash_table_lookup (graphs->descriptions, key);

  if (text == NULL)
    {
      text = linger_describe_node (graphs->analysis->graph, node);
      g_hash_table_insert (graphs->descriptions, key, text);
    }
  return text;
}

/* --- the path: matched backward against its rendered steps --------------- */

static gboolean
edge_is_attr (const LingerGraph *graph,
              guint32            edge,
              const char        *name)
{
  return linger_graph_edge_is_attr (graph, &graph->edges[edge], name);
}

/* TRUE if @source's description followed by @suffix is @step. */
static gboolean
renders_as (Matcher    *m,
            guint32     source,
            const char *suffix,
            const char *step)
{
  const char *desc = describe (m->graphs, source);
  gsize len = strlen (desc);

  return strncmp (step, desc, len) == 0 && strcmp (step + len, suffix) == 0;
}

static MatchResult match_back (Matcher *m, guint32 node, guint index);

/* Tries @choice as the step before (@node, @index): keeps it in @result
 * if it matches further back than what @result has. */
static gboolean
try_choice (Matcher          *m,
            const StepChoice *choice,
            guint             index,
            MatchResult      *result)
{
  MatchResult before = match_back (m, choice->source, index - 1);

  if (before.best < result->best)
    {
      result->best = before.best;
      result->choice = *choice;
    }
  return result->best == 0;
}

/* The ways (@node, @index) can be reached from the step before: a plain
 * edge (Source.label), `instance.__dict__['k']` read as Instance.k, or a
 * closure cell read as "<function f> closure 'x'". */
static MatchResult
match_back_uncached (Matcher *m,
                     guint32  node,
                     guint    index)
{
  const LingerGraph *graph = m->graph;
  MatchResult result = { .best = index };
  const char *step;

  if (index == 0)
    return result;
  step = g_ptr_array_index (m->steps, index - 1);

  for (guint32 k = graph->in_start[node]; k < graph->in_start[node + 1]; k++)
    {
      guint32 ei = graph->in_edges[k];
      const LingerEdge *e = &graph->edges[ei];
      g_autofree char *label = linger_describe_label (graph, e);
      StepChoice choice = { .source = e->source, .edges = { ei }, .n_edges = 1 };

      if (renders_as (m, e->source, label, step) && try_choice (m, &choice, index, &result))
        return result;

      if (e->label_kind == LINGER_LABEL_KEY)
        {
          g_autofree char *key = linger_describe_attribute_key (linger_graph_edge_text (graph, e));
          g_autofree char *suffix = key != NULL ? g_strdup_printf (".%s", key) : NULL;
          guint32 dict = e->source;

          for (guint32 j = graph->in_start[dict]; suffix != NULL && j < graph->in_start[dict + 1]; j++)
            {
              guint32 e0 = graph->in_edges[j];
              StepChoice c2 = { .source = graph->edges[e0].source, .edges = { e0, ei }, .n_edges = 2 };

              if (edge_is_attr (graph, e0, "__dict__") && renders_as (m, c2.source, suffix, step)
                  && try_choice (m, &c2, index, &result))
                return result;
            }
        }

      /* The cell itself (a path that ends at it), or its contents. */
      if (e->label_kind == LINGER_LABEL_CLOSURE
          || (linger_graph_edge_is_attr (graph, e, "cell_contents")))
        {
          gboolean contents = e->label_kind != LINGER_LABEL_CLOSURE;
          guint32 cell = contents ? e->source : node;

          for (guint32 j = graph->in_start[cell]; j < graph->in_start[cell + 1]; j++)
            {
              guint32 e1 = contents ? graph->in_edges[j] : ei;
              const LingerEdge *cell_edge = &graph->edges[e1];
              g_autofree char *cell_label = NULL;
              guint32 tuple;

              if (cell_edge->label_kind != LINGER_LABEL_CLOSURE)
                continue;
              cell_label = linger_describe_label (graph, cell_edge);
              tuple = cell_edge->source;
              for (guint32 t = graph->in_start[tuple]; t < graph->in_start[tuple + 1]; t++)
                {
                  guint32 e0 = graph->in_edges[t];
                  StepChoice c3 = { .source = graph->edges[e0].source, .edges = { e0, e1, ei },
                                    .n_edges = contents ? 3 : 2 };

                  if (edge_is_attr (graph, e0, "__closure__") && renders_as (m, c3.source, cell_label, step)
                      && try_choice (m, &c3, index, &result))
                    return result;
                }
              if (!contents)
                break;
            }
        }
    }
  return result;
}

static MatchResult
match_back (Matcher *m,
            guint32  node,
            guint    index)
{
  /* Steps are few (fewer than 0xffff): the key packs the node and the
   * step index. */
  gint64 packed = (gint64) ((guint64) node << 16 | index);
  MatchResult *known = g_hash_table_lookup (m->memo, &packed);
  MatchResult result;

  if (known != NULL)
    return *known;
  /* Until it is known, as if it matched nothing before (a cycle in the
   * search then stops). */
  known = g_new0 (MatchResult, 1);
  known->best = index;
  {
    gint64 *stored = g_new (gint64, 1);

    *stored = packed;
    g_hash_table_insert (m->memo, stored, known);
  }
  result = match_back_uncached (m, node, index);
  *known = result;
  return result;
}

static gboolean
same_strings (const GPtrArray *a,
              const GPtrArray *b,
              guint            b_offset)
{
  if (a->len + b_offset != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (strcmp (g_ptr_array_index (a, i), g_ptr_array_index (b, i + b_offset)) != 0)
      return FALSE;
  return TRUE;
}

/* Matches finding->path from its last step back, from each of the
 * finding's objects that renders as that step: the match that explains
 * the most steps wins.  Returns the node-level path (NULL if no object
 * matches) and in *ret_first the index of its first step in the text. */
static GArray *
match_path (LingerFindingGraphs *graphs,
            const LingerFinding *f,
            guint               *ret_first,
            gboolean            *ret_exact)
{
  const LingerGraph *graph = graphs->analysis->graph;
  g_autoptr(GHashTable) memo = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  Matcher m = { graphs, graph, f->path, memo };
  guint last;
  guint best = G_MAXUINT;
  guint32 best_end = LINGER_NODE_NONE;
  GArray *path;
  guint index;
  guint32 node;

  *ret_first = f->path->len;
  *ret_exact = FALSE;
  if (f->path->len == 0 || f->path->len >= 0xffff)
    return NULL;
  last = f->path->len - 1;
  for (guint i = 0; i < f->objects->len; i++)
    {
      guint32 end = g_array_index (f->objects, LingerFindingObject, i).node;
      MatchResult r;

      if (end >= graph->n_nodes || strcmp (describe (graphs, end), g_ptr_array_index (f->path, last)) != 0)
        continue;
      r = match_back (&m, end, last);
      if (r.best < best)
        {
          best = r.best;
          best_end = end;
        }
      if (best == 0)
        break;
    }
  if (best_end == LINGER_NODE_NONE)
    return NULL;

  /* Walk the choices from the start of the match to its end. */
  path = g_array_new (FALSE, FALSE, sizeof (LingerPathStep));
  {
    g_autoptr(GArray) reversed = g_array_new (FALSE, FALSE, sizeof (LingerPathStep));
    LingerPathStep end_step = { best_end, NULL };

    g_array_append_val (reversed, end_step);
    node = best_end;
    index = last;
    while (index > best)
      {
        MatchResult r = match_back (&m, node, index);

        if (r.choice.n_edges == 0)
          break;
        for (guint k = r.choice.n_edges; k > 0; k--)
          {
            const LingerEdge *e = &graph->edges[r.choice.edges[k - 1]];
            LingerPathStep step = { e->source, e };

            g_array_append_val (reversed, step);
          }
        node = r.choice.source;
        index--;
      }
    for (guint i = reversed->len; i > 0; i--)
      g_array_append_val (path, g_array_index (reversed, LingerPathStep, i - 1));
    *ret_first = index;
  }

  {
    g_autoptr(GPtrArray) rendered = g_ptr_array_new_with_free_func (g_free);

    linger_describe_path (graph, path, rendered);
    *ret_exact = same_strings (rendered, f->path, *ret_first);
  }
  return path;
}

/* --- held_by: a branch of a retention tree -------------------------------- */

static gboolean
filter_owned_not_callback (const LingerGraph *graph,
                           const LingerEdge  *edge,
                           gpointer           user_data)
{
  return edge->ref_kind == LINGER_REF_STRONG;
}

static gboolean
is_keepalive_kind (const char *kind)
{
  return strcmp (kind, LINGER_FINDING_FINALIZER_KEEPALIVE) == 0
         || strcmp (kind, LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE) == 0
         || strcmp (kind, LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE) == 0;
}

/* The data dict of a weak container: its `data` attribute. */
static guint32
container_data (const LingerGraph *graph,
                guint32            container)
{
  for (guint32 i = graph->out_start[container]; i < graph->out_start[container + 1]; i++)
    {
      const LingerEdge *e = &graph->edges[i];
      const char *text = linger_graph_edge_text (graph, e);

      if (text == NULL)
        continue;
      if ((e->label_kind == LINGER_LABEL_ATTR && strcmp (text, "data") == 0)
          || (e->label_kind == LINGER_LABEL_KEY && strcmp (text, "'data'") == 0))
        return e->target;
      if (linger_graph_edge_is_attr (graph, e, "__dict__"))
        {
          guint32 d = e->target;

          for (guint32 j = graph->out_start[d]; j < graph->out_start[d + 1]; j++)
            {
              const char *key = linger_graph_edge_text (graph, &graph->edges[j]);

              if (graph->edges[j].label_kind == LINGER_LABEL_KEY && key != NULL && strcmp (key, "'data'") == 0)
                return graph->edges[j].target;
            }
        }
    }
  return LINGER_NODE_NONE;
}

static LingerRetention *
program_retention (LingerFindingGraphs *graphs)
{
  const LingerAnalysis *a = graphs->analysis;
  const LingerGraph *graph = a->graph;
  const GArray *finalizers = graph->snapshot->finalizers;

  if (graphs->program != NULL)
    return graphs->program;
  /* As linger_findings.c: finalizers' _Info and the data of the weak
   * containers found holding their own entries are not the program's. */
  graphs->mechanism = g_new0 (guint8, MAX (graph->n_nodes, 1));
  for (guint i = 0; i < finalizers->len; i++)
    {
      guint32 info = linger_graph_lookup (graph, g_array_index (finalizers, linger_finalizer_entry, i).info);

      if (info != LINGER_NODE_NONE)
        graphs->mechanism[info] = 1;
    }
  for (guint i = 0; i < a->findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (a->findings, i);

      if (strcmp (f->kind, LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE) != 0)
        continue;
      for (guint k = 0; k < (f->instances != NULL ? f->instances->len : 1); k++)
        {
          const LingerFinding *inst = f->instances != NULL ? g_ptr_array_index (f->instances, k) : f;
          guint32 data;

          if (inst->objects->len < 2)
            continue;
          data = container_data (graph, g_array_index (inst->objects, LingerFindingObject, 1).node);
          if (data != LINGER_NODE_NONE)
            graphs->mechanism[data] = 1;
        }
    }
  graphs->program = linger_retention_new (graph, graphs->mechanism, filter_owned_not_callback, NULL, 0);
  return graphs->program;
}

static LingerRetention *
full_retention (LingerFindingGraphs *graphs)
{
  if (graphs->retention == NULL)
    graphs->retention = linger_retention_new (graphs->analysis->graph, NULL, NULL, NULL, 0);
  return graphs->retention;
}

/* The tree's branch from a root to @node, if it renders as held_by. */
static GArray *
tree_branch (const LingerGraph     *graph,
             const LingerRetention *retention,
             const LingerFinding   *f,
             guint32                node)
{
  const guint32 *tree = linger_retention_tree (retention);
  g_autoptr(GPtrArray) rendered = NULL;
  g_autoptr(GArray) reversed = NULL;
  GArray *path;
  const char *root_kind = NULL;
  const LingerEdge *next = NULL;
  guint32 v = node;

  if (!linger_retention_reaches (retention, node))
    return NULL;
  rendered = linger_retention_describe (retention, node, &root_kind);
  if (rendered == NULL || !same_strings (rendered, f->held_by, 0))
    return NULL;

  reversed = g_array_new (FALSE, FALSE, sizeof (LingerPathStep));
  for (guint guard = 0; guard <= graph->n_nodes; guard++)
    {
      LingerPathStep step = { v, next };

      g_array_append_val (reversed, step);
      if (tree[v] == LINGER_TREE_ROOT || tree[v] == LINGER_TREE_UNREACHABLE)
        break;
      next = &graph->edges[tree[v]];
      v = next->source;
    }
  path = g_array_sized_new (FALSE, FALSE, sizeof (LingerPathStep), reversed->len);
  for (guint i = reversed->len; i > 0; i--)
    g_array_append_val (path, g_array_index (reversed, LingerPathStep, i - 1));
  return path;
}

static GArray *
match_held_by (LingerFindingGraphs *graphs,
               const LingerFinding *f)
{
  const LingerGraph *graph = graphs->analysis->graph;
  LingerRetention *tries[2];
  guint n_tries = 0;

  if (f->held_by == NULL || f->held_by->len == 0)
    return NULL;
  if (is_keepalive_kind (f->kind))
    tries[n_tries++] = program_retention (graphs);
  tries[n_tries++] = full_retention (graphs);
  for (guint t = 0; t < n_tries; t++)
    for (guint i = 0; i < f->objects->len; i++)
      {
        guint32 node = g_array_index (f->objects, LingerFindingObject, i).node;
        GArray *path = node < graph->n_nodes ? tree_branch (graph, tries[t], f, node) : NULL;

        if (path != NULL)
          return path;
      }
  return NULL;
}

/* --- the picture ---------------------------------------------------------- */

typedef struct
{
  LingerFindingGraphs *graphs;
  const LingerFinding *finding;
  LingerFindingGraph  *out;
  GHashTable          *index;   /* node + 1 -> index in out->nodes + 1 */
} Builder;

static gboolean is_keepalive_kind (const char *kind);

/* The object the finding is about: for a keep-alive, the one kept
 * (objects[1] is its container or finalizer); for a cycle, every member. */
static gboolean
is_kept (const LingerFinding *f,
         guint32              node)
{
  guint n = is_keepalive_kind (f->kind) ? MIN (f->objects->len, 1) : f->objects->len;

  for (guint i = 0; i < n; i++)
    if (g_array_index (f->objects, LingerFindingObject, i).node == node)
      return TRUE;
  return FALSE;
}

static guint
add_object (Builder *b,
            guint32  node)
{
  const LingerAnalysis *a = b->graphs->analysis;
  const LingerGraph *graph = a->graph;
  gpointer known = g_hash_table_lookup (b->index, GUINT_TO_POINTER (node + 1));
  LingerPictureNode n = { 0 };

  if (known != NULL)
    return GPOINTER_TO_UINT (known) - 1;
  n.node = node;
  n.text = g_strdup (describe (b->graphs, node));
  n.type = linger_graph_type_name (graph, node);
  n.address = graph->nodes[node].address;
  n.size = graph->nodes[node].size;
  n.retained = a->dominators != NULL && node < a->dominators->n_nodes ? a->dominators->retained_bytes[node] : 0;
  n.site = linger_object_sites_lookup (graph->snapshot->object_sites, n.address);
  n.flags = linger_graph_flags (graph, node);
  n.kept = is_kept (b->finding, node);
  g_array_append_val (b->out->nodes, n);
  g_hash_table_insert (b->index, GUINT_TO_POINTER (node + 1), GUINT_TO_POINTER (b->out->nodes->len));
  return b->out->nodes->len - 1;
}

static guint
add_text (Builder    *b,
          const char *text)
{
  LingerPictureNode n = { .node = LINGER_NODE_NONE, .text = g_strdup (text) };

  g_array_append_val (b->out->nodes, n);
  return b->out->nodes->len - 1;
}

static void
add_edge (Builder           *b,
          guint              from,
          guint              to,
          const LingerEdge  *edge,
          LingerPicturePart  part)
{
  LingerPictureEdge e = { .from = from, .to = to, .part = part, .ref_kind = LINGER_REF_STRONG };

  if (edge != NULL)
    {
      /* "()" reads well after a weakref's name in a path, not alone. */
      e.label = edge->label_kind == LINGER_LABEL_REFERENT ? g_strdup ("referent")
                : linger_describe_label (b->graphs->analysis->graph, edge);
      g_strstrip (e.label);   /* " closure 'x'" */
      e.ref_kind = edge->ref_kind;
    }
  else
    {
      e.label = g_strdup ("");
      e.text = TRUE;
    }
  g_array_append_val (b->out->edges, e);
}

/* Text steps @first..@last (exclusive) as a chain; returns the index of
 * the last one, or G_MAXUINT if none. */
static guint
add_text_chain (Builder           *b,
                const GPtrArray   *steps,
                guint              first,
                guint              last,
                LingerPicturePart  part)
{
  guint prev = G_MAXUINT;

  for (guint i = first; i < last; i++)
    {
      guint n = add_text (b, g_ptr_array_index (steps, i));

      if (prev != G_MAXUINT)
        add_edge (b, prev, n, NULL, part);
      prev = n;
    }
  return prev;
}

/* The objects of @path and its edges; a text step before it (@prev) leads
 * to its first object. */
static guint
add_steps (Builder           *b,
           const GArray      *path,
           guint              prev,
           LingerPicturePart  part)
{
  const LingerPathStep *before = NULL;

  for (guint i = 0; i < path->len; i++)
    {
      const LingerPathStep *step = &g_array_index (path, LingerPathStep, i);
      guint n = add_object (b, step->node);

      if (before != NULL)
        add_edge (b, prev, n, before->edge, part);
      else if (prev != G_MAXUINT)
        add_edge (b, prev, n, NULL, part);
      prev = n;
      before = step;
    }
  return prev;
}

static gboolean
has_edge (const Builder *b,
          guint          from,
          guint          to)
{
  for (guint i = 0; i < b->out->edges->len; i++)
    {
      const LingerPictureEdge *e = &g_array_index (b->out->edges, LingerPictureEdge, i);

      if (e->from == from && e->to == to)
        return TRUE;
    }
  return FALSE;
}

static guint
picture_index (const Builder *b,
               guint32        node)
{
  gpointer known = g_hash_table_lookup (b->index, GUINT_TO_POINTER (node + 1));

  return known != NULL ? GPOINTER_TO_UINT (known) - 1 : G_MAXUINT;
}

/* The weak references that make the finding what it is, though no path
 * follows them: a weak reference of the picture to one of its objects (a
 * weakref whose callback keeps its referent), and one an object of the
 * picture holds to an object the finding is about (a finalizer's
 * _Info.weakref, a weak dictionary's key). */
static void
add_weak_references (Builder *b)
{
  const LingerGraph *graph = b->graphs->analysis->graph;
  guint n = b->out->nodes->len;

  for (guint i = 0; i < n; i++)
    {
      guint32 v = g_array_index (b->out->nodes, LingerPictureNode, i).node;

      if (v == LINGER_NODE_NONE)
        continue;
      for (guint32 k = graph->out_start[v]; k < graph->out_start[v + 1]; k++)
        {
          const LingerEdge *e = &graph->edges[k];
          guint to = picture_index (b, e->target);

          if (e->ref_kind == LINGER_REF_WEAK)
            {
              if (to != G_MAXUINT && !has_edge (b, i, to))
                add_edge (b, i, to, e, LINGER_PICTURE_PATH);
              continue;
            }
          if (to != G_MAXUINT || !(linger_graph_flags (graph, e->target) & (LINGER_OBJ_WEAKREF | LINGER_OBJ_PROXY)))
            continue;
          for (guint32 j = graph->out_start[e->target]; j < graph->out_start[e->target + 1]; j++)
            {
              const LingerEdge *weak = &graph->edges[j];
              guint referent = picture_index (b, weak->target);

              if (weak->ref_kind == LINGER_REF_WEAK && referent != G_MAXUINT
                  && g_array_index (b->out->nodes, LingerPictureNode, referent).kept)
                {
                  guint w = add_object (b, e->target);

                  add_edge (b, i, w, e, LINGER_PICTURE_PATH);
                  add_edge (b, w, referent, weak, LINGER_PICTURE_PATH);
                  break;
                }
            }
        }
    }
}

LingerFindingGraph *
linger_finding_graphs_get (LingerFindingGraphs *graphs,
                           const LingerFinding *f)
{
  g_autoptr(GHashTable) index = g_hash_table_new (NULL, NULL);
  LingerFindingGraph *out = g_new0 (LingerFindingGraph, 1);
  Builder b = { graphs, f, out, index };
  g_autoptr(GArray) path = NULL;
  g_autoptr(GArray) held_by = NULL;
  guint first = 0;
  guint prev;

  out->nodes = g_array_new (FALSE, FALSE, sizeof (LingerPictureNode));
  out->edges = g_array_new (FALSE, FALSE, sizeof (LingerPictureEdge));
  if (graphs->analysis->graph == NULL || f->objects->len == 0)
    return out;

  path = match_path (graphs, f, &first, &out->path_matched);
  prev = add_text_chain (&b, f->path, 0, first, LINGER_PICTURE_PATH);
  if (path != NULL)
    add_steps (&b, path, prev, LINGER_PICTURE_PATH);
  else
    /* Nothing matched: the objects at least, after the text. */
    add_object (&b, g_array_index (f->objects, LingerFindingObject, 0).node);

  if (f->held_by != NULL)
    {
      held_by = match_held_by (graphs, f);
      out->held_by_matched = held_by != NULL;
      if (held_by != NULL)
        {
          guint root = add_object (&b, g_array_index (held_by, LingerPathStep, 0).node);

          g_array_index (out->nodes, LingerPictureNode, root).root_kind = f->held_by_root;
          add_steps (&b, held_by, G_MAXUINT, LINGER_PICTURE_HELD_BY);
        }
      else if (f->held_by->len > 0)
        {
          /* The text, then its last step is the finding's object. */
          guint before = out->nodes->len;
          guint last = add_text_chain (&b, f->held_by, 0, f->held_by->len - 1, LINGER_PICTURE_HELD_BY);
          guint object = add_object (&b, g_array_index (f->objects, LingerFindingObject, 0).node);

          if (last != G_MAXUINT)
            {
              g_array_index (out->nodes, LingerPictureNode, before).root_kind = f->held_by_root;
              add_edge (&b, last, object, NULL, LINGER_PICTURE_HELD_BY);
            }
          else
            g_array_index (out->nodes, LingerPictureNode, object).root_kind = f->held_by_root;
        }
    }
  add_weak_references (&b);
  return out;
}

void
linger_finding_graph_free (LingerFindingGraph *graph)
{
  if (graph == NULL)
    return;
  for (guint i = 0; i < graph->nodes->len; i++)
    g_free (g_array_index (graph->nodes, LingerPictureNode, i).text);
  for (guint i = 0; i < graph->edges->len; i++)
    g_free (g_array_index (graph->edges, LingerPictureEdge, i).label);
  g_array_unref (graph->nodes);
  g_array_unref (graph->edges);
  g_free (graph);
}

char *
linger_picture_site_text (LingerSites *sites,
                          guint32      site_id)
{
  const LingerSite *site = sites != NULL && site_id != 0 ? linger_sites_get (sites, site_id) : NULL;
  const LingerFrame *at;
  g_autofree char *base = NULL;

  if (site == NULL || site->at < 0)
    return NULL;
  at = &g_array_index (site->frames, LingerFrame, site->at);
  if (at->file == NULL)
    return at->function != NULL ? g_strdup (at->function) : NULL;
  base = g_path_get_basename (at->file);
  if (at->line == 0)
    return g_steal_pointer (&base);
  return g_strdup_printf ("%s:%u", base, at->line);
}

gboolean
linger_picture_node_is_finalizer (const LingerPictureNode *n)
{
  if (n->node == LINGER_NODE_NONE)
    return n->text != NULL && (strcmp (n->text, "weakref.finalize") == 0 || g_str_has_prefix (n->text, "_Info."));
  if (n->flags & (LINGER_OBJ_FINALIZE | LINGER_OBJ_HAS_DEL))
    return TRUE;
  return n->type != NULL && g_str_has_prefix (n->type, "weakref.") && g_str_has_suffix (n->type, "_Info");
}

char *
linger_picture_bytes (guint64 bytes)
{
  static const char * const units[] = { "KiB", "MiB", "GiB", "TiB" };
  guint64 scaled = bytes;
  guint u = 0;

  if (bytes < 10 * 1024)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
  while (u + 1 < G_N_ELEMENTS (units) && scaled >= 1024 * 1024)
    {
      scaled /= 1024;
      u++;
    }
  scaled = (scaled * 10 + 512) / 1024;
  return g_strdup_printf ("%" G_GUINT64_FORMAT ".%u %s", scaled / 10, (guint) (scaled % 10), units[u]);
}
