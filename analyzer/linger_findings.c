/* linger_findings.c: what the analyzer reports about a snapshot: the
 * helpers the passes share, grouping and order. */
#include "linger_findings.h"

#include <string.h>

#include "linger_describe.h"
#include "linger_dominators.h"
#include "linger_findings_private.h"

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
  /* instances[0] is the entry itself; the others are owned. */
  if (f->instances != NULL)
    {
      for (guint i = 0; i < f->instances->len; i++)
        if (g_ptr_array_index (f->instances, i) != f)
          linger_finding_free (g_ptr_array_index (f->instances, i));
      g_ptr_array_unref (f->instances);
    }
  g_array_unref (f->objects);
  g_ptr_array_unref (f->path);
  g_clear_pointer (&f->held_by, g_ptr_array_unref);
  g_clear_pointer (&f->cycle_types, g_ptr_array_unref);
  g_clear_pointer (&f->retained_from, g_array_unref);
  g_free (f->hint);
  g_free (f->shape);
  g_free (f->atexit_callback);
  g_free (f->example);
  g_free (f);
}

LingerFinding *
linger_finding_new (const char     *kind,
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

void
linger_finding_add_object (LingerFinding     *f,
                           const LingerGraph *graph,
                           guint32            node)
{
  LingerFindingObject o = {
    .type = linger_graph_type_name (graph, node),
    .address = graph->nodes[node].address,
    .size = graph->nodes[node].size,
    .node = node,
    .site = linger_object_sites_lookup (graph->snapshot->object_sites, graph->nodes[node].address),
  };

  g_array_append_val (f->objects, o);
}

void
linger_finding_set_retention (LingerFinding         *f,
                              const LingerRetention *retention,
                              guint32                node)
{
  g_clear_pointer (&f->held_by, g_ptr_array_unref);
  f->held_by_root = NULL;
  f->held_by = linger_retention_describe (retention, node, &f->held_by_root);
  f->state = f->held_by != NULL ? "live" : "garbage";
}

LingerRetention *
linger_findings_retention (LingerFindingsContext *ctx)
{
  if (ctx->retention == NULL)
    ctx->retention = linger_retention_new (ctx->graph, NULL, NULL, NULL, 0);
  return ctx->retention;
}

char *
linger_describe_callable (const LingerGraph *graph,
                          guint32            node)
{
  /* A partial by what it calls: functools.partial(close, ...). */
  if (linger_graph_flags (graph, node) & LINGER_OBJ_PARTIAL)
    {
      guint32 func = linger_instance_attr (graph, node, "func");

      return g_strdup_printf ("functools.partial(%s, ...)",
                              func != LINGER_NODE_NONE ? linger_callable_name (graph, func) : "?");
    }
  return linger_describe_node (graph, node);
}

const char *
linger_last_component (const char *qualname)
{
  const char *dot;

  if (qualname == NULL)
    return "?";
  dot = strrchr (qualname, '.');
  return dot != NULL && dot[1] != '\0' ? dot + 1 : qualname;
}

const char *
linger_callable_name (const LingerGraph *graph,
                      guint32            node)
{
  const char *name = linger_graph_name (graph, node);

  if (name != NULL && *name != '\0')
    return name;
  return linger_describe_short_type (linger_graph_type_name (graph, node));
}

gboolean
linger_edge_is_attr_one_of (const LingerGraph  *graph,
                            const LingerEdge   *edge,
                            const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (linger_graph_edge_is_attr (graph, edge, names[i]))
      return TRUE;
  return FALSE;
}

guint32
linger_instance_attr (const LingerGraph *graph,
                      guint32            node,
                      const char        *name)
{
  g_autofree char *quoted = g_strdup_printf ("'%s'", name);

  for (guint32 i = graph->out_start[node]; i < graph->out_start[node + 1]; i++)
    {
      const LingerEdge *e = &graph->edges[i];

      if (!linger_edge_is_owned (e))
        continue;
      if (linger_graph_edge_is_attr (graph, e, name))
        return e->target;
      if (linger_graph_edge_is_attr (graph, e, "__dict__"))
        {
          guint32 d = e->target;

          for (guint32 k = graph->out_start[d]; k < graph->out_start[d + 1]; k++)
            {
              const LingerEdge *ke = &graph->edges[k];
              const char *text = linger_graph_edge_text (graph, ke);

              if (ke->label_kind == LINGER_LABEL_KEY && text != NULL && strcmp (text, quoted) == 0)
                return ke->target;
            }
        }
    }
  return LINGER_NODE_NONE;
}

static guint8 *
label_flags_new (const LingerTrace *trace)
{
  guint n = trace->strings->len;
  guint8 *flags = g_new0 (guint8, MAX (n, 1));

  for (guint id = 1; id < n; id++)
    {
      const char *text = g_ptr_array_index (trace->strings, id);

      if (text == NULL || text[0] != '_')
        continue;
      if (strcmp (text, "__globals__") == 0 || strcmp (text, "__builtins__") == 0)
        flags[id] = LINGER_LABEL_SKIP_KEEPALIVE | LINGER_LABEL_SKIP_CYCLE;
      else if (strcmp (text, "__module__") == 0)
        flags[id] = LINGER_LABEL_SKIP_CYCLE;
    }
  return flags;
}

gboolean
linger_edge_skipped (const LingerGraph *graph,
                     const LingerEdge  *edge,
                     const guint8      *label_flags,
                     guint8             flag)
{
  static const char * const keepalive[] = { "__globals__", "__builtins__", NULL };
  static const char * const cycle[] = { "__globals__", "__builtins__", "__module__", NULL };

  if (edge->label_kind != LINGER_LABEL_ATTR)
    return FALSE;
  if (label_flags != NULL)
    return edge->label < graph->trace->strings->len && (label_flags[edge->label] & flag) != 0;
  return linger_edge_is_attr_one_of (graph, edge, flag == LINGER_LABEL_SKIP_CYCLE ? cycle : keepalive);
}

gboolean
linger_keepalive_filter (const LingerGraph *graph,
                         const LingerEdge  *edge,
                         gpointer           user_data)
{
  if (!linger_edge_is_owned (edge))
    return FALSE;
  if (linger_graph_flags (graph, edge->source) & (LINGER_OBJ_MODULE | LINGER_OBJ_TYPE))
    return FALSE;
  return !linger_edge_skipped (graph, edge, user_data, LINGER_LABEL_SKIP_KEEPALIVE);
}

char *
linger_describe_callable_hold (const LingerGraph *graph,
                               const GArray      *path)
{
  const LingerPathStep *first;
  const LingerEdge *second;
  guint32 flags;

  if (path->len < 2)
    return NULL;
  first = &g_array_index (path, LingerPathStep, 0);
  second = path->len > 2 ? g_array_index (path, LingerPathStep, 1).edge : NULL;
  flags = linger_graph_flags (graph, first->node);

  if ((flags & (LINGER_OBJ_METHOD | LINGER_OBJ_BUILTIN_METHOD))
      && linger_graph_edge_is_attr (graph, first->edge, "__self__"))
    {
      if (path->len == 2)
        return g_strdup_printf ("is a bound method of the %s itself",
                                linger_describe_short_type (linger_graph_type_name (graph, first->edge->target)));
      return g_strdup_printf ("holds it through its __self__, a %s",
                              linger_describe_short_type (linger_graph_type_name (graph, first->edge->target)));
    }
  if ((flags & LINGER_OBJ_FUNCTION) && linger_graph_edge_is_attr (graph, first->edge, "__closure__")
      && second != NULL && second->label_kind == LINGER_LABEL_CLOSURE)
    return g_strdup_printf ("closes over '%s'", linger_graph_edge_text (graph, second));
  if ((flags & LINGER_OBJ_FUNCTION) && linger_graph_edge_is_attr (graph, first->edge, "__defaults__"))
    return g_strdup ("holds it in its default arguments");
  if ((flags & LINGER_OBJ_FUNCTION) && linger_graph_edge_is_attr (graph, first->edge, "__kwdefaults__"))
    return g_strdup ("holds it in its keyword-only defaults");
  if ((flags & LINGER_OBJ_PARTIAL) && linger_graph_edge_is_attr (graph, first->edge, "args")
      && second != NULL && second->label_kind == LINGER_LABEL_INDEX)
    return g_strdup_printf ("passes it in args[%u]", second->label);
  if ((flags & LINGER_OBJ_PARTIAL) && linger_graph_edge_is_attr (graph, first->edge, "keywords")
      && second != NULL && second->label_kind == LINGER_LABEL_KEY)
    return g_strdup_printf ("passes it as keyword %s",
                            linger_graph_edge_text (graph, second));
  return NULL;
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
  const LingerFindingObject *ox;
  const LingerFindingObject *oy;
  int c;

  if (x->severity != y->severity)
    return x->severity > y->severity ? -1 : 1;
  if ((c = strcmp (x->kind, y->kind)) != 0)
    return c;
  /* Allocation findings have no objects: most bytes first. */
  if (x->objects->len == 0 || y->objects->len == 0)
    {
      if (x->objects->len != y->objects->len)
        return x->objects->len == 0 ? 1 : -1;
      /* The program's own code before the standard library's. */
      if (x->in_library != y->in_library)
        return x->in_library ? 1 : -1;
      if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
      if (x->blocks != y->blocks)
        return x->blocks > y->blocks ? -1 : 1;
      if ((c = g_strcmp0 (x->alloc_type, y->alloc_type)) != 0)
        return c;
      return x->site < y->site ? -1 : x->site > y->site;
    }
  ox = &g_array_index (x->objects, LingerFindingObject, 0);
  oy = &g_array_index (y->objects, LingerFindingObject, 0);
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  if ((c = strcmp (ox->type, oy->type)) != 0)
    return c;
  if ((c = g_strcmp0 (x->state, y->state)) != 0)
    return c;
  return ox->address < oy->address ? -1 : ox->address > oy->address;
}

static gboolean
is_cycle_kind (const char *kind)
{
  return strcmp (kind, LINGER_FINDING_BOUND_METHOD_CYCLE) == 0
         || strcmp (kind, LINGER_FINDING_CLOSURE_CYCLE) == 0
         || strcmp (kind, LINGER_FINDING_REFERENCE_CYCLE) == 0;
}

/* The path with its subscripts generalised: "tuple[0]" -> "tuple[*]". */
static char *
path_shape (const GPtrArray *path)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < path->len; i++)
    {
      g_autofree char *step = linger_describe_step_shape (g_ptr_array_index (path, i));

      if (i > 0)
        g_string_append (s, " → ");
      g_string_append (s, step);
    }
  return g_string_free (s, FALSE);
}

/* Kind, type and path shape; cycles also by state (garbage cycles and
 * live ones call for different fixes), reference cycles by the set of
 * their types instead of one type and a path.  A finalizer's object is
 * leaked either way: its group shows the state of its example. */
static char *
group_key (const LingerFinding *f)
{
  GString *key = g_string_new (f->kind);

  g_string_append_c (key, '|');
  if (f->cycle_types != NULL && strcmp (f->kind, LINGER_FINDING_REFERENCE_CYCLE) == 0)
    {
      for (guint i = 0; i < f->cycle_types->len; i++)
        g_string_append_printf (key, "%s,", (const char *) g_ptr_array_index (f->cycle_types, i));
    }
  else
    g_string_append_printf (key, "%s|%s", g_array_index (f->objects, LingerFindingObject, 0).type, f->shape);
  if (is_cycle_kind (f->kind))
    g_string_append_printf (key, "|%s", f->state);
  return g_string_free (key, FALSE);
}

static gboolean
filter_owned_not_callback (const LingerGraph *graph,
                           const LingerEdge  *edge,
                           gpointer           user_data)
{
  return edge->ref_kind == LINGER_REF_STRONG;
}

/* What the program holds without the keep-alive mechanisms: state and
 * held_by of the keep-alive findings. */
static void
resolve_pending (LingerFindingsContext *ctx)
{
  g_autoptr(LingerRetention) program = NULL;

  if (ctx->pending->len == 0)
    return;
  program = linger_retention_new (ctx->graph, ctx->mechanism, filter_owned_not_callback, NULL, 0);
  for (guint i = 0; i < ctx->pending->len; i++)
    {
      const LingerPendingState *p = &g_array_index (ctx->pending, LingerPendingState, i);
      linger_finding_set_retention (p->finding, program, p->node);
    }
  g_array_set_size (ctx->pending, 0);
}

GPtrArray *
linger_findings_compute_with_options (const LingerGraph           *graph,
                                      const LingerFindingsOptions *options)
{
  g_autoptr(GPtrArray) instances = g_ptr_array_new ();
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(LingerPathSearch) search = linger_path_search_new (graph);
  g_autofree guint8 *mechanism = g_new0 (guint8, MAX (graph->n_nodes, 1));
  g_autoptr(GArray) pending = g_array_new (FALSE, FALSE, sizeof (LingerPendingState));
  g_autofree guint8 *label_flags = label_flags_new (graph->trace);
  LingerFindingsContext ctx = {
    .graph = graph,
    .options = options,
    .search = search,
    .out = instances,
    .mechanism = mechanism,
    .pending = pending,
    .label_flags = label_flags,
  };

  linger_find_finalizer_keepalive (&ctx);
  linger_find_weakref_callback_keepalive (&ctx);
  linger_find_weak_container_keepalive (&ctx);
  resolve_pending (&ctx);
  linger_find_atexit_keepalive (&ctx);
  linger_find_cycles (&ctx);
  linger_find_gc_findings (&ctx);

  /* Address order first, so the first instance of a group is its example. */
  g_ptr_array_sort (instances, compare_instances);

  for (guint i = 0; i < instances->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (instances, i);
      LingerFinding *into;
      char *key;

      f->shape = path_shape (f->path);
      if (options->ungrouped)
        {
          g_ptr_array_add (entries, f);
          continue;
        }
      key = group_key (f);
      into = g_hash_table_lookup (groups, key);
      if (into != NULL)
        {
          into->count++;
          into->cycle_bytes += f->cycle_bytes;
          /* The group retains what every instance retains. */
          linger_dominators_merge_finding (into, f);
          if (options->instances)
            g_ptr_array_add (into->instances, f);
          else
            linger_finding_free (f);
          g_free (key);
          continue;
        }
      if (options->instances)
        {
          f->instances = g_ptr_array_new ();
          g_ptr_array_add (f->instances, f);
        }
      g_hash_table_insert (groups, key, f);
      g_ptr_array_add (entries, f);
    }

  g_clear_pointer (&ctx.retention, linger_retention_free);
  g_ptr_array_sort (entries, compare_entries);
  return g_steal_pointer (&entries);
}

void
linger_findings_sort (GPtrArray *findings)
{
  g_ptr_array_sort (findings, compare_entries);
}

GPtrArray *
linger_findings_compute (const LingerGraph *graph,
                         gboolean           group)
{
  LingerFindingsOptions options = { .ungrouped = !group };

  return linger_findings_compute_with_options (graph, &options);
}
