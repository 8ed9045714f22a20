/* linger_findings.c: what the analyzer reports about a snapshot. */
#include "linger_findings.h"

#include <string.h>

#include "linger_describe.h"
#include "linger_paths.h"
#include "linger_scc.h"

/* A cycle of thousands of objects is reported with its size, and only the
 * first members are listed. */
#define MAX_LISTED_MEMBERS 32

const char *
linger_severity_name (LingerSeverity severity)
{
  switch (severity)
    {
    case LINGER_SEVERITY_ERROR: return "error";
    case LINGER_SEVERITY_WARNING: return "warning";
    case LINGER_SEVERITY_INFO:
    default: return "info";
    }
}

void
linger_finding_free (LingerFinding *f)
{
  if (f == NULL)
    return;
  g_array_unref (f->objects);
  g_ptr_array_unref (f->path);
  g_clear_pointer (&f->held_by, g_ptr_array_unref);
  g_free (f->hint);
  g_free (f);
}

static LingerFinding *
finding_new (const char     *kind,
             LingerSeverity  severity)
{
  LingerFinding *f = g_new0 (LingerFinding, 1);

  f->kind = kind;
  f->severity = severity;
  f->count = 1;
  f->objects = g_array_new (FALSE, FALSE, sizeof (LingerFindingObject));
  f->path = g_ptr_array_new_with_free_func (g_free);
  return f;
}

static void
finding_add_object (LingerFinding     *f,
                    const LingerGraph *graph,
                    guint32            node)
{
  LingerFindingObject o = {
    .type = linger_graph_type_name (graph, node),
    .address = graph->nodes[node].address,
    .size = graph->nodes[node].size,
  };

  g_array_append_val (f->objects, o);
}

static gboolean
edge_is_attr_one_of (const LingerGraph  *graph,
                     const LingerEdge   *edge,
                     const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (linger_graph_edge_is_attr (graph, edge, names[i]))
      return TRUE;
  return FALSE;
}

/* The part of a qualname after its last dot: "Connector.on_data" -> "on_data". */
static const char *
last_component (const char *qualname)
{
  const char *dot;

  if (qualname == NULL)
    return "?";
  dot = strrchr (qualname, '.');
  return dot != NULL && dot[1] != '\0' ? dot + 1 : qualname;
}

/* --- finalizer-keepalive -------------------------------------------------- */

/* Owned edges, but not through a function's globals, a module or a class:
 * a global name holding the object is the program's own doing, and the
 * finalizer's callback reaches every global through __globals__. */
static gboolean
keepalive_filter (const LingerGraph *graph,
                  const LingerEdge  *edge,
                  gpointer           user_data)
{
  static const char * const skipped[] = { "__globals__", "__builtins__", NULL };

  if (!linger_edge_is_owned (edge))
    return FALSE;
  if (linger_graph_flags (graph, edge->source) & (LINGER_OBJ_MODULE | LINGER_OBJ_TYPE))
    return FALSE;
  return !edge_is_attr_one_of (graph, edge, skipped);
}

static char *
keepalive_hint (const LingerGraph *graph,
                const char        *via,
                const GArray      *path,
                guint32            referent)
{
  const char *type = linger_describe_short_type (linger_graph_type_name (graph, referent));
  const LingerPathStep *first = &g_array_index (path, LingerPathStep, 0);
  const LingerEdge *edge = first->edge;
  gboolean direct = path->len == 2;

  if (strcmp (via, "args") == 0 || strcmp (via, "kwargs") == 0)
    {
      gboolean args = via[0] == 'a';
      g_autofree char *where = NULL;

      /* edge is NULL only if a damaged trace names the object itself as
       * args or kwargs. */
      if (args && edge != NULL && edge->label_kind == LINGER_LABEL_INDEX)
        where = g_strdup_printf ("args[%u]", edge->label);
      else if (!args && edge != NULL && edge->label_kind == LINGER_LABEL_KEY)
        where = g_strdup_printf ("kwargs[%s]", linger_graph_edge_text (graph, edge));
      else
        where = g_strdup (via);

      return g_strdup_printf ("finalize(obj, fn, %s) %s the %s%s %s %s; pass only what the cleanup "
                              "needs (a file name, a handle), never the object",
                              args ? "*args" : "**kwargs",
                              direct ? "receives" : "reaches",
                              type,
                              direct ? " itself" : "",
                              direct ? "in" : "through",
                              where);
    }

  if (strcmp (via, "__self__") == 0)
    {
      const char *method = last_component (linger_graph_name (graph, first->node));
      const char *cls = linger_describe_short_type (linger_graph_type_name (graph, edge->target));

      if (edge->target != referent)
        return g_strdup_printf ("the callback is a bound method of a %s (%s.%s), and the %s holds "
                                "the %s: finalize keeps both alive; use a plain function or "
                                "staticmethod and pass only what the cleanup needs (a key, a handle)",
                                cls, cls, method, cls, type);
      return g_strdup_printf ("finalize(self, self.%s) keeps self alive through the bound method; "
                              "use a plain function or staticmethod and pass the resource: "
                              "weakref.finalize(self, %s._close, self._handle)",
                              method, cls);
    }

  if (strcmp (via, "closure") == 0)
    {
      const char *var = "?";

      if (path->len > 1)
        {
          const LingerEdge *cell_edge = g_array_index (path, LingerPathStep, 1).edge;
          if (cell_edge != NULL && cell_edge->label_kind == LINGER_LABEL_CLOSURE)
            var = linger_graph_edge_text (graph, cell_edge);
        }
      return g_strdup_printf ("the callback closes over '%s'; define it outside the function "
                              "and pass only the resources it needs", var);
    }

  {
    g_autofree char *callback = linger_describe_node (graph, first->node);

    return g_strdup_printf ("the finalizer's callback %s refers to the %s it watches; give "
                            "finalize a callback that does not, and pass only the resources "
                            "the cleanup needs", callback, type);
  }
}

/* What kind of root a path from linger_paths_from_tree() starts at. */
static const char *
root_kind (const LingerGraph *graph,
           guint32            node)
{
  guint8 reasons = graph->root_reasons[node];

  if (reasons & LINGER_ROOT_REASON_RECORDED)
    {
      const GArray *roots = graph->snapshot->roots;

      for (guint i = 0; i < roots->len; i++)
        {
          const linger_root_entry *r = &g_array_index (roots, linger_root_entry, i);
          if (r->address == graph->nodes[node].address)
            return linger_root_kind_name (r->kind);
        }
    }
  if (reasons & LINGER_ROOT_REASON_IMMORTAL)
    return "immortal";
  return "external";
}

/* Fills f->held_by with the path from a root to @node in @tree. */
static void
explain_live (LingerFinding     *f,
              const LingerGraph *graph,
              const guint32     *tree,
              guint32            node)
{
  g_autoptr(GArray) path = linger_paths_from_tree (graph, tree, node);

  if (path == NULL)
    return;
  f->held_by = g_ptr_array_new_with_free_func (g_free);
  f->held_by_root = root_kind (graph, g_array_index (path, LingerPathStep, 0).node);
  linger_describe_path (graph, path, f->held_by);
}

static void
find_finalizer_keepalive (const LingerGraph *graph,
                          LingerPathSearch  *search,
                          GPtrArray         *out)
{
  const GArray *finalizers = graph->snapshot->finalizers;
  g_autofree guint8 *is_info = NULL;
  g_autofree guint32 *tree = NULL;

  if (finalizers->len == 0)
    return;

  /* What the program itself still holds: reachable from the roots
   * without entering any finalizer's _Info.  An object kept alive only by
   * its finalizer is garbage that can never be freed. */
  is_info = g_new0 (guint8, MAX (graph->n_nodes, 1));
  for (guint i = 0; i < finalizers->len; i++)
    {
      guint32 info = linger_graph_lookup (graph, g_array_index (finalizers, linger_finalizer_entry, i).info);
      if (info != LINGER_NODE_NONE)
        is_info[info] = 1;
    }
  tree = linger_graph_root_tree (graph, is_info, linger_graph_filter_owned, NULL);

  for (guint i = 0; i < finalizers->len; i++)
    {
      const linger_finalizer_entry *fe = &g_array_index (finalizers, linger_finalizer_entry, i);
      const guint64 addresses[3] = { fe->func, fe->args, fe->kwargs };
      static const char * const fields[3] = { "func", "args", "kwargs" };
      guint32 sources[3];
      const char *source_field[3];
      gsize n_sources = 0;
      guint32 referent;
      g_autoptr(GArray) path = NULL;
      const char *field = "func";
      const char *via;
      LingerFinding *f;
      guint32 start;

      if (fe->referent == 0)
        continue;
      referent = linger_graph_lookup (graph, fe->referent);
      if (referent == LINGER_NODE_NONE)
        continue;

      for (guint k = 0; k < 3; k++)
        {
          guint32 v = addresses[k] != 0 ? linger_graph_lookup (graph, addresses[k]) : LINGER_NODE_NONE;
          if (v == LINGER_NODE_NONE)
            continue;
          sources[n_sources] = v;
          source_field[n_sources] = fields[k];
          n_sources++;
        }

      /* A one-step path is possible too: finalize(obj, obj) with a
       * callable object. */
      path = linger_path_search_run (search, sources, n_sources, referent, keepalive_filter, NULL);
      if (path == NULL)
        continue;

      start = g_array_index (path, LingerPathStep, 0).node;
      for (gsize k = 0; k < n_sources; k++)
        if (sources[k] == start)
          {
            field = source_field[k];
            break;
          }
      via = field;
      if (strcmp (field, "func") == 0 && path->len > 1)
        {
          const LingerEdge *e = g_array_index (path, LingerPathStep, 0).edge;
          guint32 flags = linger_graph_flags (graph, start);

          if ((flags & LINGER_OBJ_METHOD) && linger_graph_edge_is_attr (graph, e, "__self__"))
            via = "__self__";
          else if ((flags & LINGER_OBJ_FUNCTION) && linger_graph_edge_is_attr (graph, e, "__closure__"))
            via = "closure";
        }

      f = finding_new (LINGER_FINDING_FINALIZER_KEEPALIVE, LINGER_SEVERITY_ERROR);
      f->state = tree[referent] != LINGER_TREE_UNREACHABLE ? "live" : "garbage";
      explain_live (f, graph, tree, referent);
      finding_add_object (f, graph, referent);
      f->finalizer_atexit = (fe->flags & LINGER_FINALIZER_ATEXIT) != 0;
      f->finalizer_via = via;
      f->finalizer_address = fe->finalizer;
      g_ptr_array_add (f->path, g_strdup ("weakref.finalize"));
      g_ptr_array_add (f->path, g_strdup_printf ("_Info.%s", field));
      linger_describe_path (graph, path, f->path);
      f->hint = keepalive_hint (graph, via, path, referent);
      g_ptr_array_add (out, f);
    }
}

/* --- bound-method-cycle --------------------------------------------------- */

/* The cycles we look for are among instances and their containers.
 * Instances visit their class and functions their module's globals, which
 * would put half the heap into one component: those edges are left out. */
static gboolean
cycle_filter (const LingerGraph *graph,
              const LingerEdge  *edge,
              gpointer           user_data)
{
  static const char * const skipped[] = { "__globals__", "__builtins__", "__module__", NULL };
  const guint32 no_walk = LINGER_OBJ_MODULE | LINGER_OBJ_FRAME;

  if (!linger_edge_is_owned (edge))
    return FALSE;
  if (linger_graph_flags (graph, edge->target) & (LINGER_OBJ_TYPE | no_walk))
    return FALSE;
  if (linger_graph_flags (graph, edge->source) & no_walk)
    return FALSE;
  return !edge_is_attr_one_of (graph, edge, skipped);
}

typedef struct
{
  const LingerScc *scc;
  guint32          component;
} InComponent;

static gboolean
in_component_filter (const LingerGraph *graph,
                     const LingerEdge  *edge,
                     gpointer           user_data)
{
  const InComponent *ic = user_data;

  return ic->scc->component[edge->target] == ic->component
         && cycle_filter (graph, edge, NULL);
}

/* The bound method of the component whose __self__ is in the component,
 * lowest address first; its __self__ edge in *ret_edge. */
static guint32
find_self_method (const LingerGraph  *graph,
                  const LingerScc    *scc,
                  guint32             c,
                  const LingerEdge  **ret_edge)
{
  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    {
      guint32 m = scc->members[k];

      if (!(linger_graph_flags (graph, m) & LINGER_OBJ_METHOD))
        continue;
      for (guint32 i = graph->out_start[m]; i < graph->out_start[m + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (scc->component[e->target] == c
              && linger_graph_edge_is_attr (graph, e, "__self__")
              && cycle_filter (graph, e, NULL))
            {
              *ret_edge = e;
              return m;
            }
        }
    }
  return LINGER_NODE_NONE;
}

static void
find_bound_method_cycles (const LingerGraph *graph,
                          LingerPathSearch  *search,
                          GPtrArray         *out)
{
  g_autoptr(LingerScc) scc = linger_scc_compute (graph, cycle_filter, NULL);

  for (guint32 c = 0; c < scc->n_components; c++)
    {
      const LingerEdge *self_edge = NULL;
      guint32 method;
      guint32 self;
      guint32 live = LINGER_NODE_NONE;   /* first member reachable from a root */
      InComponent ic = { scc, c };
      g_autoptr(GArray) path = NULL;
      LingerPathStep last;
      LingerFinding *f;

      if (!linger_scc_is_cycle (scc, c))
        continue;
      method = find_self_method (graph, scc, c, &self_edge);
      if (method == LINGER_NODE_NONE)
        continue;
      self = self_edge->target;

      /* Around the cycle: from __self__ to the method, then back. */
      path = linger_path_search_run (search, &self, 1, method, in_component_filter, &ic);
      if (path == NULL)
        continue;   /* cannot happen within a component */
      g_array_index (path, LingerPathStep, path->len - 1).edge = self_edge;
      last = (LingerPathStep) { self, NULL };
      g_array_append_val (path, last);

      if (linger_graph_is_reachable (graph, self))
        live = self;
      for (guint32 k = scc->start[c]; k < scc->start[c + 1] && live == LINGER_NODE_NONE; k++)
        if (linger_graph_is_reachable (graph, scc->members[k]))
          live = scc->members[k];

      f = finding_new (LINGER_FINDING_BOUND_METHOD_CYCLE, LINGER_SEVERITY_WARNING);
      f->state = live != LINGER_NODE_NONE ? "live" : "garbage";
      if (live != LINGER_NODE_NONE)
        explain_live (f, graph, graph->tree, live);
      f->n_members = linger_scc_size (scc, c);
      finding_add_object (f, graph, self);
      for (guint32 k = scc->start[c]; k < scc->start[c + 1] && f->objects->len < MAX_LISTED_MEMBERS; k++)
        if (scc->members[k] != self)
          finding_add_object (f, graph, scc->members[k]);
      linger_describe_path (graph, path, f->path);

      /* "Connector.callback holds a bound method...", naming the steps
       * between when the method is not held directly. */
      {
        g_autoptr(GString) via = g_string_new (NULL);

        for (guint k = 1; k + 2 < f->path->len; k++)
          g_string_append_printf (via, "%s%s", k > 1 ? " → " : " (through ",
                                  (const char *) g_ptr_array_index (f->path, k));
        if (via->len > 0)
          g_string_append_c (via, ')');
        f->hint = g_strdup_printf ("%s holds a bound method of the same object%s: store "
                                   "weakref.WeakMethod(self.%s) or break the cycle in close()",
                                   (const char *) g_ptr_array_index (f->path, 0), via->str,
                                   last_component (linger_graph_name (graph, method)));
      }
      g_ptr_array_add (out, f);
    }
}

/* --- grouping and order --------------------------------------------------- */

static int
compare_instances (gconstpointer a,
                   gconstpointer b)
{
  const LingerFinding *x = *(const LingerFinding * const *) a;
  const LingerFinding *y = *(const LingerFinding * const *) b;
  guint64 ax = g_array_index (x->objects, LingerFindingObject, 0).address;
  guint64 ay = g_array_index (y->objects, LingerFindingObject, 0).address;
  int c = strcmp (x->kind, y->kind);

  if (c != 0)
    return c;
  return ax < ay ? -1 : ax > ay;
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const LingerFinding *x = *(const LingerFinding * const *) a;
  const LingerFinding *y = *(const LingerFinding * const *) b;
  const LingerFindingObject *ox = &g_array_index (x->objects, LingerFindingObject, 0);
  const LingerFindingObject *oy = &g_array_index (y->objects, LingerFindingObject, 0);
  int c;

  if (x->severity != y->severity)
    return x->severity > y->severity ? -1 : 1;
  if ((c = strcmp (x->kind, y->kind)) != 0)
    return c;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  if ((c = strcmp (ox->type, oy->type)) != 0)
    return c;
  if ((c = g_strcmp0 (x->state, y->state)) != 0)
    return c;
  return ox->address < oy->address ? -1 : ox->address > oy->address;
}

GPtrArray *
linger_findings_compute (const LingerGraph *graph,
                         gboolean           group)
{
  g_autoptr(GPtrArray) instances = g_ptr_array_new ();
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(LingerPathSearch) search = linger_path_search_new (graph);

  find_finalizer_keepalive (graph, search, instances);
  find_bound_method_cycles (graph, search, instances);

  /* Address order first, so the first instance of a group is its example. */
  g_ptr_array_sort (instances, compare_instances);

  for (guint i = 0; i < instances->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (instances, i);
      LingerFinding *into;
      char *key;

      if (!group)
        {
          g_ptr_array_add (entries, f);
          continue;
        }
      /* Cycles are grouped by state too: garbage cycles and live ones
       * call for different fixes.  A finalizer's object is leaked either
       * way; its group shows the state of its example. */
      key = g_strdup_printf ("%s|%s|%s", f->kind,
                             g_array_index (f->objects, LingerFindingObject, 0).type,
                             strcmp (f->kind, LINGER_FINDING_BOUND_METHOD_CYCLE) == 0 ? f->state : "");
      into = g_hash_table_lookup (groups, key);
      if (into != NULL)
        {
          into->count++;
          linger_finding_free (f);
          g_free (key);
          continue;
        }
      g_hash_table_insert (groups, key, f);
      g_ptr_array_add (entries, f);
    }

  g_ptr_array_sort (entries, compare_entries);
  return g_steal_pointer (&entries);
}
