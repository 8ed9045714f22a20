/* linger_findings_cycles.c: reference cycles, from one SCC pass:
 * bound-method-cycle, closure-cycle and reference-cycle.
 *
 * Every cyclic component is reported as at most one of them: through a
 * bound method whose __self__ is in the component, else through a closure
 * cell, else as a plain reference cycle (garbage ones only, unless live
 * cycles are asked for: live data structures with back pointers are
 * normal). */
#include <string.h>

#include "linger_describe.h"
#include "linger_findings_private.h"
#include "linger_scc.h"

/* The cycles we look for are among instances and their containers.
 * Instances visit their class and functions their module's globals, which
 * would put half the heap into one component: those edges are left out. */
static gboolean
cycle_filter (const LingerGraph *graph,
              const LingerEdge  *edge,
              gpointer           user_data)
{
  const guint32 no_walk = LINGER_OBJ_MODULE | LINGER_OBJ_FRAME;

  if (!linger_edge_is_owned (edge))
    return FALSE;
  if (linger_graph_flags (graph, edge->target) & (LINGER_OBJ_TYPE | no_walk))
    return FALSE;
  if (linger_graph_flags (graph, edge->source) & no_walk)
    return FALSE;
  /* user_data: the context's label flags. */
  return !linger_edge_skipped (graph, edge, user_data, LINGER_LABEL_SKIP_CYCLE);
}

typedef struct
{
  const LingerScc *scc;
  guint32          component;
  const guint8    *label_flags;
} InComponent;

static gboolean
in_component_filter (const LingerGraph *graph,
                     const LingerEdge  *edge,
                     gpointer           user_data)
{
  const InComponent *ic = user_data;

  return ic->scc->component[edge->target] == ic->component
         && cycle_filter (graph, edge, (gpointer) ic->label_flags);
}

/* A member's first edge within the component that matches @test. */
typedef gboolean (*EdgeTest) (const LingerGraph *graph,
                              guint32            source,
                              const LingerEdge  *edge);

static gboolean
is_self_edge (const LingerGraph *graph,
              guint32            source,
              const LingerEdge  *edge)
{
  return (linger_graph_flags (graph, source) & LINGER_OBJ_METHOD)
         && linger_graph_edge_is_attr (graph, edge, "__self__");
}

static gboolean
is_cell_edge (const LingerGraph *graph,
              guint32            source,
              const LingerEdge  *edge)
{
  return (linger_graph_flags (graph, source) & LINGER_OBJ_CELL) != 0;
}

/* Orders candidate edges so that the same structure picks the same one
 * whatever the addresses: instances of one cycle must get one path shape,
 * and so one group. */
typedef int (*EdgeCompare) (const LingerGraph *graph,
                            const LingerEdge  *a,
                            const LingerEdge  *b);

static int
compare_addresses (const LingerGraph *graph,
                   guint32            a,
                   guint32            b)
{
  guint64 x = graph->nodes[a].address;
  guint64 y = graph->nodes[b].address;

  return x < y ? -1 : x > y;
}

/* Bound methods by their name, then address. */
static int
compare_self_edges (const LingerGraph *graph,
                    const LingerEdge  *a,
                    const LingerEdge  *b)
{
  int c = g_strcmp0 (linger_graph_name (graph, a->source), linger_graph_name (graph, b->source));

  return c != 0 ? c : compare_addresses (graph, a->source, b->source);
}

/* The variable name of a closure cell. */
static const char *
cell_variable (const LingerGraph *graph,
               guint32            cell)
{
  for (guint32 i = graph->in_start[cell]; i < graph->in_start[cell + 1]; i++)
    {
      const LingerEdge *e = &graph->edges[graph->in_edges[i]];
      if (e->label_kind == LINGER_LABEL_CLOSURE)
        return linger_graph_edge_text (graph, e);
    }
  return NULL;
}

/* Cells holding one of the program's objects before cells holding a
 * function, then by the type and name of what they hold, their variable,
 * and addresses. */
static int
compare_cell_edges (const LingerGraph *graph,
                    const LingerEdge  *a,
                    const LingerEdge  *b)
{
  gboolean fa = (linger_graph_flags (graph, a->target) & LINGER_OBJ_FUNCTION) != 0;
  gboolean fb = (linger_graph_flags (graph, b->target) & LINGER_OBJ_FUNCTION) != 0;
  int c;

  if (fa != fb)
    return fa ? 1 : -1;
  if ((c = strcmp (linger_graph_type_name (graph, a->target), linger_graph_type_name (graph, b->target))) != 0)
    return c;
  if ((c = g_strcmp0 (linger_graph_name (graph, a->target), linger_graph_name (graph, b->target))) != 0)
    return c;
  if ((c = g_strcmp0 (cell_variable (graph, a->source), cell_variable (graph, b->source))) != 0)
    return c;
  if ((c = compare_addresses (graph, a->target, b->target)) != 0)
    return c;
  return compare_addresses (graph, a->source, b->source);
}

/* The best (by @compare) edge passing @test from a member with @flag to
 * a member of the same component; its source, the edge in *ret_edge. */
static guint32
find_member_edge (const LingerGraph  *graph,
                  const guint8       *label_flags,
                  const LingerScc    *scc,
                  guint32             c,
                  guint32             flag,
                  EdgeTest            test,
                  EdgeCompare         compare,
                  const LingerEdge  **ret_edge)
{
  const LingerEdge *best = NULL;

  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    {
      guint32 m = scc->members[k];

      if (!(linger_graph_flags (graph, m) & flag))
        continue;
      for (guint32 i = graph->out_start[m]; i < graph->out_start[m + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (scc->component[e->target] == c && test (graph, m, e)
              && cycle_filter (graph, e, (gpointer) label_flags)
              && (best == NULL || compare (graph, e, best) < 0))
            best = e;
        }
    }
  if (best == NULL)
    return LINGER_NODE_NONE;
  *ret_edge = best;
  return best->source;
}

/* The path around the component from @from back to itself through
 * @closing, the edge that reaches @from last. */
static GArray *
path_around (LingerFindingsContext *ctx,
             const LingerScc       *scc,
             guint32                c,
             guint32                from,
             const LingerEdge      *closing)
{
  InComponent ic = { scc, c, ctx->label_flags };
  GArray *path = linger_path_search_run (ctx->search, &from, 1, closing->source, in_component_filter, &ic);
  LingerPathStep last = { from, NULL };

  if (path == NULL)
    return NULL;   /* cannot happen within a component */
  g_array_index (path, LingerPathStep, path->len - 1).edge = closing;
  g_array_append_val (path, last);
  return path;
}

/* A cycle through @rep, found from @rep's own edges into the component. */
static GArray *
path_through (LingerFindingsContext *ctx,
              const LingerScc       *scc,
              guint32                c,
              guint32                rep)
{
  const LingerGraph *graph = ctx->graph;
  InComponent ic = { scc, c, ctx->label_flags };
  g_autoptr(GArray) sources = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GArray) back = NULL;
  LingerPathStep first = { rep, NULL };

  for (guint32 i = graph->out_start[rep]; i < graph->out_start[rep + 1]; i++)
    if (in_component_filter (graph, &graph->edges[i], &ic))
      g_array_append_val (sources, graph->edges[i].target);
  back = linger_path_search_run (ctx->search, (const guint32 *) (gpointer) sources->data, sources->len,
                                 rep, in_component_filter, &ic);
  if (back == NULL)
    return NULL;
  for (guint32 i = graph->out_start[rep]; i < graph->out_start[rep + 1] && first.edge == NULL; i++)
    if (graph->edges[i].target == g_array_index (back, LingerPathStep, 0).node
        && in_component_filter (graph, &graph->edges[i], &ic))
      first.edge = &graph->edges[i];
  g_array_prepend_val (back, first);
  return g_steal_pointer (&back);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Members listed (@first, then the others, up to the limit), size, bytes,
 * type names, and whether the program still reaches the cycle. */
static LingerFinding *
cycle_finding (LingerFindingsContext *ctx,
               const char            *kind,
               LingerSeverity         severity,
               const LingerScc       *scc,
               guint32                c,
               guint32                first,
               GArray                *path)
{
  const LingerGraph *graph = ctx->graph;
  LingerFinding *f = linger_finding_new (kind, severity);
  g_autoptr(GHashTable) types = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) instance_dicts = g_hash_table_new (NULL, NULL);
  guint32 live = LINGER_NODE_NONE;
  GHashTableIter iter;
  gpointer type;

  /* An instance's __dict__ (a separate object before 3.11) belongs to its
   * instance: not a type of the cycle, so a cycle has the same types on
   * every version. */
  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    {
      guint32 m = scc->members[k];

      for (guint32 i = graph->out_start[m]; i < graph->out_start[m + 1]; i++)
        if (scc->component[graph->edges[i].target] == c
            && linger_graph_edge_is_attr (graph, &graph->edges[i], "__dict__"))
          g_hash_table_add (instance_dicts, GUINT_TO_POINTER (graph->edges[i].target + 1));
    }

  if (linger_graph_is_reachable (graph, first))
    live = first;
  linger_finding_add_object (f, graph, first);
  f->n_members = linger_scc_size (scc, c);
  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    {
      guint32 m = scc->members[k];

      if (m != first && f->objects->len < LINGER_MAX_LISTED_MEMBERS)
        linger_finding_add_object (f, graph, m);
      if (live == LINGER_NODE_NONE && linger_graph_is_reachable (graph, m))
        live = m;
      f->cycle_bytes += graph->nodes[m].size;
      if (!g_hash_table_contains (instance_dicts, GUINT_TO_POINTER (m + 1)))
        g_hash_table_add (types, (gpointer) linger_graph_type_name (graph, m));
    }
  /* Its retained size is measured from every member, listed or not. */
  if (f->n_members > f->objects->len)
    {
      f->retained_from = g_array_sized_new (FALSE, FALSE, sizeof (guint32), f->n_members);
      g_array_append_vals (f->retained_from, scc->members + scc->start[c], f->n_members);
    }
  f->cycle_types = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, types);
  while (g_hash_table_iter_next (&iter, &type, NULL))
    g_ptr_array_add (f->cycle_types, type);
  g_ptr_array_sort (f->cycle_types, compare_strings);

  if (live != LINGER_NODE_NONE)
    linger_finding_set_retention (f, linger_findings_retention (ctx), live);
  else
    f->state = "garbage";
  linger_describe_path (graph, path, f->path);
  return f;
}

/* --- bound-method-cycle --------------------------------------------------- */

static void
report_bound_method (LingerFindingsContext *ctx,
                     const LingerScc       *scc,
                     guint32                c,
                     guint32                method,
                     const LingerEdge      *self_edge)
{
  const LingerGraph *graph = ctx->graph;
  guint32 self = self_edge->target;
  g_autoptr(GArray) path = path_around (ctx, scc, c, self, self_edge);
  g_autoptr(GString) via = g_string_new (NULL);
  LingerFinding *f;

  if (path == NULL)
    return;
  f = cycle_finding (ctx, LINGER_FINDING_BOUND_METHOD_CYCLE, LINGER_SEVERITY_WARNING, scc, c, self, path);

  /* "Connector.callback holds a bound method...", naming the steps
   * between when the method is not held directly. */
  for (guint k = 1; k + 2 < f->path->len; k++)
    g_string_append_printf (via, "%s%s", k > 1 ? " → " : " (through ",
                            (const char *) g_ptr_array_index (f->path, k));
  if (via->len > 0)
    g_string_append_c (via, ')');
  f->hint = g_strdup_printf ("%s holds a bound method of the same object%s: store "
                             "weakref.WeakMethod(self.%s) or break the cycle in close()",
                             (const char *) g_ptr_array_index (f->path, 0), via->str,
                             linger_last_component (linger_graph_name (graph, method)));
  g_ptr_array_add (ctx->out, f);
}

/* --- closure-cycle -------------------------------------------------------- */

static void
report_closure (LingerFindingsContext *ctx,
                const LingerScc       *scc,
                guint32                c,
                const LingerEdge      *contents)
{
  const LingerGraph *graph = ctx->graph;
  guint32 held = contents->target;
  g_autoptr(GArray) path = path_around (ctx, scc, c, held, contents);
  const char *var = "?";
  const char *function = NULL;
  LingerFinding *f;

  if (path == NULL)
    return;
  /* The variable is the label of the edge into the cell; the function
   * the source of the __closure__ edge before it. */
  for (guint k = 0; k + 1 < path->len; k++)
    {
      const LingerEdge *e = g_array_index (path, LingerPathStep, k).edge;

      if (e->label_kind == LINGER_LABEL_CLOSURE && e->target == contents->source)
        var = linger_graph_edge_text (graph, e);
      if (linger_graph_edge_is_attr (graph, e, "__closure__"))
        function = linger_callable_name (graph, e->source);
    }

  f = cycle_finding (ctx, LINGER_FINDING_CLOSURE_CYCLE, LINGER_SEVERITY_WARNING, scc, c, held, path);
  if (linger_graph_flags (graph, held) & LINGER_OBJ_FUNCTION)
    f->hint = g_strdup_printf ("the nested function %s refers to itself through its closure (variable "
                               "'%s'), a cycle only the cyclic garbage collector can free; define it "
                               "at module level, or pass it what it needs as arguments",
                               linger_callable_name (graph, held), var ? var : "?");
  else
    {
      const char *type = linger_describe_short_type (linger_graph_type_name (graph, held));

      f->hint = g_strdup_printf ("%s holds a function (%s) that closes over the %s itself (variable "
                                 "'%s'), a cycle only the cyclic garbage collector can free; capture "
                                 "only what the function needs (x = self.x; lambda: x), close over "
                                 "weakref.ref(self) instead, or use weakref.WeakMethod on a method",
                                 f->path->len > 2 ? (const char *) g_ptr_array_index (f->path, 0) : type,
                                 function != NULL ? function : "?", type, var ? var : "?");
    }
  g_ptr_array_add (ctx->out, f);
}

/* --- reference-cycle ------------------------------------------------------ */

/* Names of references that point back up a structure: Child.parent,
 * Node._owner, Item.prev. */
static gboolean
is_back_name (const char *name)
{
  static const char * const names[] = {
    "parent", "owner", "prev", "previous", "back", "container", "master", "manager",
    "outer", "root", "up", "holder", "origin", NULL,
  };

  gsize len;

  if (name == NULL)
    return FALSE;
  while (*name == '_')
    name++;
  len = strlen (name);
  /* parent, parent_ref, tree_parent; not "backup" or "update". */
  for (guint k = 0; names[k] != NULL; k++)
    {
      gsize n = strlen (names[k]);

      if (len < n)
        continue;
      if (g_ascii_strncasecmp (name, names[k], n) == 0 && (name[n] == '\0' || name[n] == '_'))
        return TRUE;
      if (len > n && name[len - n - 1] == '_' && g_ascii_strcasecmp (name + len - n, names[k]) == 0)
        return TRUE;
    }
  return FALSE;
}

/* An attribute edge (or an instance __dict__'s key) named like a back
 * reference. */
static gboolean
is_back_edge (const LingerGraph *graph,
              const LingerEdge  *edge)
{
  if (edge->label_kind == LINGER_LABEL_ATTR)
    return is_back_name (linger_graph_edge_text (graph, edge));
  if (edge->label_kind == LINGER_LABEL_KEY)
    {
      g_autofree char *key = linger_describe_attribute_key (linger_graph_edge_text (graph, edge));
      return is_back_name (key);
    }
  return FALSE;
}

static gboolean
is_own (const LingerGraph *graph,
        guint32            node)
{
  return !g_str_has_prefix (linger_graph_type_name (graph, node), "builtins.");
}

/* The member a person recognises: one of the program's own objects that
 * the cycle hangs from (no reference in the cycle points to it but back
 * references: a tree's root, not its leaf), the lowest address first;
 * else the lowest address of the program's own objects; else the lowest
 * address. */
static guint32
representative (const LingerGraph *graph,
                const guint8      *label_flags,
                const LingerScc   *scc,
                guint32            c)
{
  InComponent ic = { scc, c, label_flags };
  g_autoptr(GHashTable) pointed = g_hash_table_new (NULL, NULL);
  guint32 best = LINGER_NODE_NONE;

  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    {
      guint32 m = scc->members[k];

      for (guint32 i = graph->out_start[m]; i < graph->out_start[m + 1]; i++)
        {
          const LingerEdge *e = &graph->edges[i];

          if (e->target != m && in_component_filter (graph, e, &ic) && !is_back_edge (graph, e))
            g_hash_table_add (pointed, GUINT_TO_POINTER (e->target + 1));
        }
    }
  /* Ranked by: the program's own type, not pointed to, type name,
   * address; so that two instances of one structure, whatever the order
   * they were made in, are named after the same type. */
  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    {
      guint32 m = scc->members[k];
      int cmp;

      if (best == LINGER_NODE_NONE)
        {
          best = m;
          continue;
        }
      if (is_own (graph, m) != is_own (graph, best))
        cmp = is_own (graph, m) ? -1 : 1;
      else if (g_hash_table_contains (pointed, GUINT_TO_POINTER (m + 1))
               != g_hash_table_contains (pointed, GUINT_TO_POINTER (best + 1)))
        cmp = g_hash_table_contains (pointed, GUINT_TO_POINTER (m + 1)) ? 1 : -1;
      else if ((cmp = strcmp (linger_graph_type_name (graph, m), linger_graph_type_name (graph, best))) == 0)
        cmp = compare_addresses (graph, m, best);
      if (cmp < 0)
        best = m;
    }
  return best;
}

/* The reference around the cycle that points back, by its name, or NULL
 * if none says so. */
static const char *
back_reference (const GPtrArray *path)
{
  for (guint i = 0; i + 1 < path->len; i++)
    {
      const char *step = g_ptr_array_index (path, i);
      const char *dot = strrchr (step, '.');

      if (step[0] == '<' || dot == NULL || strpbrk (dot, "[(") != NULL)
        continue;
      if (is_back_name (dot + 1))
        return step;
    }
  return NULL;
}

static void
report_reference (LingerFindingsContext *ctx,
                  const LingerScc       *scc,
                  guint32                c)
{
  const LingerGraph *graph = ctx->graph;
  guint32 rep = representative (graph, ctx->label_flags, scc, c);
  g_autoptr(GArray) path = path_through (ctx, scc, c, rep);
  g_autoptr(GString) types = g_string_new (NULL);
  g_autofree char *fix = NULL;
  const char *back;
  LingerFinding *f;

  if (path == NULL)
    return;
  f = cycle_finding (ctx, LINGER_FINDING_REFERENCE_CYCLE, LINGER_SEVERITY_INFO, scc, c, rep, path);
  for (guint i = 0; i < f->cycle_types->len && i < 4; i++)
    g_string_append_printf (types, "%s%s", i > 0 ? ", " : "",
                            linger_describe_short_type (g_ptr_array_index (f->cycle_types, i)));
  if (f->cycle_types->len > 4)
    g_string_append (types, ", ...");
  back = back_reference (f->path);
  fix = back != NULL
        ? g_strdup_printf ("make the back reference (%s) a weakref.ref or weakref.proxy", back)
        : g_strdup ("make the reference that points back a weakref.ref or weakref.proxy");
  if (f->n_members == 1)
    f->hint = g_strdup_printf ("this %s refers to itself (%s)%s: only the cyclic garbage collector can "
                               "free it, when it next runs (never, with gc disabled); drop the reference "
                               "to itself when done, or make it a weakref.ref",
                               linger_describe_short_type (linger_graph_type_name (graph, rep)),
                               (const char *) g_ptr_array_index (f->path, 0),
                               strcmp (f->state, "garbage") == 0 ? " and nothing else refers to it" : "");
  else if (strcmp (f->state, "garbage") == 0)
    f->hint = g_strdup_printf ("nothing refers to these %u objects (%s) any more, but they refer to each "
                               "other: only the cyclic garbage collector frees them, when it next runs "
                               "(never, with gc disabled); %s, or clear it when done, and reference "
                               "counting frees them at once", f->n_members, types->str, fix);
  else
    f->hint = g_strdup_printf ("these %u objects (%s) refer to each other: once the program drops them, "
                               "only the cyclic garbage collector can free them; if that matters, %s",
                               f->n_members, types->str, fix);
  g_ptr_array_add (ctx->out, f);
}

static gboolean
is_live (LingerFindingsContext *ctx,
         const LingerScc       *scc,
         guint32                c)
{
  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    if (linger_graph_is_reachable (ctx->graph, scc->members[k]))
      return TRUE;
  return FALSE;
}

/* TRUE for a cycle of functions, their closure tuples and cells (and
 * their attribute dicts) only. */
static gboolean
functions_only (const LingerGraph *graph,
                const LingerScc   *scc,
                guint32            c)
{
  for (guint32 k = scc->start[c]; k < scc->start[c + 1]; k++)
    {
      guint32 m = scc->members[k];
      const char *type = linger_graph_type_name (graph, m);

      if (!(linger_graph_flags (graph, m) & (LINGER_OBJ_FUNCTION | LINGER_OBJ_CELL))
          && strcmp (type, "builtins.tuple") != 0 && strcmp (type, "builtins.dict") != 0)
        return FALSE;
    }
  return TRUE;
}

void
linger_find_cycles (LingerFindingsContext *ctx)
{
  const LingerGraph *graph = ctx->graph;
  g_autoptr(LingerScc) scc = linger_scc_compute (graph, cycle_filter, ctx->label_flags);

  for (guint32 c = 0; c < scc->n_components; c++)
    {
      const LingerEdge *edge = NULL;
      guint32 method;

      if (!linger_scc_is_cycle (scc, c))
        continue;

      method = find_member_edge (graph, ctx->label_flags, scc, c, LINGER_OBJ_METHOD, is_self_edge,
                                 compare_self_edges, &edge);
      if (method != LINGER_NODE_NONE)
        {
          report_bound_method (ctx, scc, c, method, edge);
          continue;
        }
      if (find_member_edge (graph, ctx->label_flags, scc, c, LINGER_OBJ_CELL, is_cell_edge,
                            compare_cell_edges, &edge) != LINGER_NODE_NONE)
        {
          /* A nested function that calls itself is a cycle of functions
           * and cells alone: a leak when garbage (made anew on each call
           * of its outer function), but a live one is just a function
           * the program keeps, as functools.singledispatch does: shown
           * only when the user asks for every live cycle. */
          if (!functions_only (graph, scc, c) || !is_live (ctx, scc, c) || ctx->options->live_cycles)
            report_closure (ctx, scc, c, edge);
          continue;
        }
      if (!ctx->options->live_cycles && is_live (ctx, scc, c))
        continue;
      report_reference (ctx, scc, c);
    }
}
