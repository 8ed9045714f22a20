/* linger_findings_keepalive.c: objects a callback mechanism keeps alive by
 * holding them itself: weakref.finalize, weak references with callbacks,
 * weak containers and atexit callbacks. */
#include <string.h>

#include "linger_describe.h"
#include "linger_findings_private.h"

#define KEY(node) GUINT_TO_POINTER ((guint) (node) + 1)

static const char *
short_type (const LingerGraph *graph,
            guint32            node)
{
  return linger_describe_short_type (linger_graph_type_name (graph, node));
}

/* ", and its __del__ will not run before exit either" for an object whose
 * class defines __del__: the keep-alive delays that too. */
static void
append_del_note (GString           *hint,
                 const LingerGraph *graph,
                 guint32            node)
{
  if (linger_graph_flags (graph, node) & LINGER_OBJ_HAS_DEL)
    g_string_append_printf (hint, "; %s defines __del__, which will not run before exit either",
                            short_type (graph, node));
}

/* --- finalizer-keepalive -------------------------------------------------- */

static char *
finalizer_hint (const LingerGraph            *graph,
                const linger_finalizer_entry *fe,
                const char                   *via,
                const GArray                 *path,
                guint32                       referent)
{
  const char *type = short_type (graph, referent);
  const LingerPathStep *first = &g_array_index (path, LingerPathStep, 0);
  const LingerEdge *edge = first->edge;
  gboolean direct = path->len == 2;
  guint32 func = linger_graph_lookup (graph, fe->func);
  const char *func_name = func != LINGER_NODE_NONE ? linger_callable_name (graph, func) : "fn";
  g_autoptr(GString) hint = g_string_new (NULL);

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

      g_string_printf (hint, "finalize(<%s>, %s, ...) %s the %s%s %s %s; pass only what the "
                       "cleanup needs (a file name, a handle), never the object",
                       type, func_name,
                       direct ? "receives" : "reaches",
                       type,
                       direct ? " itself" : "",
                       direct ? "in" : "through",
                       where);
    }
  else if (strcmp (via, "__self__") == 0)
    {
      const char *method = linger_last_component (linger_graph_name (graph, first->node));
      const char *cls = short_type (graph, edge->target);

      if (edge->target != referent)
        g_string_printf (hint, "the callback is a bound method of a %s (%s.%s), and the %s holds "
                         "the %s: finalize keeps both alive; use a plain function or "
                         "staticmethod and pass only what the cleanup needs (a key, a handle)",
                         cls, cls, method, cls, type);
      else
        g_string_printf (hint, "finalize(self, self.%s) keeps self alive through the bound method; "
                         "use a plain function or staticmethod and pass the resource: "
                         "weakref.finalize(self, %s._close, self._handle)",
                         method, cls);
    }
  else if (strcmp (via, "closure") == 0)
    {
      const char *var = "?";

      if (path->len > 1)
        {
          const LingerEdge *cell_edge = g_array_index (path, LingerPathStep, 1).edge;
          if (cell_edge != NULL && cell_edge->label_kind == LINGER_LABEL_CLOSURE)
            var = linger_graph_edge_text (graph, cell_edge);
        }
      g_string_printf (hint, "the callback %s closes over '%s'; define it outside the function "
                       "and pass only the resources it needs", func_name, var);
    }
  else
    {
      g_autofree char *callback = linger_describe_callable (graph, first->node);
      g_autofree char *hold = linger_describe_callable_hold (graph, path);

      if (hold != NULL)
        g_string_printf (hint, "the finalizer's callback %s %s, the %s it watches; give finalize a "
                         "callback that does not, and pass only the resources the cleanup needs",
                         callback, hold, type);
      else
        g_string_printf (hint, "the finalizer's callback %s refers to the %s it watches; give "
                         "finalize a callback that does not, and pass only the resources "
                         "the cleanup needs", callback, type);
    }
  append_del_note (hint, graph, referent);
  return g_string_free (g_steal_pointer (&hint), FALSE);
}

void
linger_find_finalizer_keepalive (LingerFindingsContext *ctx)
{
  const LingerGraph *graph = ctx->graph;
  const GArray *finalizers = graph->snapshot->finalizers;

  /* What the program itself still holds: reachable from the roots
   * without entering any finalizer's _Info.  An object kept alive only by
   * its finalizer is garbage that can never be freed. */
  for (guint i = 0; i < finalizers->len; i++)
    {
      guint32 info = linger_graph_lookup (graph, g_array_index (finalizers, linger_finalizer_entry, i).info);
      if (info != LINGER_NODE_NONE)
        ctx->mechanism[info] = 1;
    }

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
      LingerPendingState pending;
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
      path = linger_path_search_between (ctx->search, sources, n_sources, referent, linger_keepalive_filter,
                                         LINGER_KEEPALIVE_DATA (ctx));
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

      f = linger_finding_new (LINGER_FINDING_FINALIZER_KEEPALIVE, LINGER_SEVERITY_ERROR);
      linger_finding_add_object (f, graph, referent);
      f->finalizer_atexit = (fe->flags & LINGER_FINALIZER_ATEXIT) != 0;
      f->finalizer_via = via;
      f->finalizer_address = fe->finalizer;
      g_ptr_array_add (f->path, g_strdup ("weakref.finalize"));
      g_ptr_array_add (f->path, g_strdup_printf ("_Info.%s", field));
      linger_describe_path (graph, path, f->path);
      f->hint = finalizer_hint (graph, fe, via, path, referent);
      g_ptr_array_add (ctx->out, f);
      pending = (LingerPendingState) { f, referent };
      g_array_append_val (ctx->pending, pending);
    }
}

/* --- weakref-callback-keepalive ------------------------------------------- */

/* The edge from a weak reference to its callback. */
static const LingerEdge *
callback_edge (const LingerGraph *graph,
               guint32            weakref,
               guint32            callback)
{
  for (guint32 i = graph->out_start[weakref]; i < graph->out_start[weakref + 1]; i++)
    {
      const LingerEdge *e = &graph->edges[i];
      if (e->target == callback && e->ref_kind == LINGER_REF_CALLBACK)
        return e;
    }
  for (guint32 i = graph->out_start[weakref]; i < graph->out_start[weakref + 1]; i++)
    if (graph->edges[i].target == callback && linger_edge_is_owned (&graph->edges[i]))
      return &graph->edges[i];
  return NULL;
}

void
linger_find_weakref_callback_keepalive (LingerFindingsContext *ctx)
{
  const LingerGraph *graph = ctx->graph;
  const GArray *weakrefs = graph->snapshot->weakrefs;

  for (guint i = 0; i < weakrefs->len; i++)
    {
      const linger_weakref_entry *we = &g_array_index (weakrefs, linger_weakref_entry, i);
      guint32 weakref, referent, callback;
      const LingerEdge *edge;
      g_autoptr(GArray) path = NULL;
      g_autofree char *hold = NULL;
      g_autofree char *callback_desc = NULL;
      g_autofree char *weakref_desc = NULL;
      g_autoptr(GString) hint = NULL;
      const char *type;
      LingerFinding *f;
      LingerPendingState pending;

      if (we->referent == 0 || we->callback == 0)
        continue;
      weakref = linger_graph_lookup (graph, we->weakref);
      referent = linger_graph_lookup (graph, we->referent);
      callback = linger_graph_lookup (graph, we->callback);
      if (weakref == LINGER_NODE_NONE || referent == LINGER_NODE_NONE || callback == LINGER_NODE_NONE)
        continue;
      /* Classes and modules live as long as the program anyway, and a
       * weak reference nothing holds goes with its referent. */
      if (linger_graph_flags (graph, referent) & (LINGER_OBJ_TYPE | LINGER_OBJ_MODULE))
        continue;
      if (!linger_graph_is_reachable (graph, weakref))
        continue;

      /* From the callback only: a weakref subclass may hold other things
       * (KeyedRef.key), which are not the callback's doing. */
      path = linger_path_search_between (ctx->search, &callback, 1, referent, linger_keepalive_filter,
                                         LINGER_KEEPALIVE_DATA (ctx));
      if (path == NULL || path->len < 2)
        continue;

      type = short_type (graph, referent);
      f = linger_finding_new (LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE, LINGER_SEVERITY_WARNING);
      linger_finding_add_object (f, graph, referent);
      edge = callback_edge (graph, weakref, callback);
      weakref_desc = linger_describe_node (graph, weakref);
      if (edge != NULL)
        {
          g_autofree char *label = linger_describe_label (graph, edge);
          g_ptr_array_add (f->path, g_strconcat (weakref_desc, label, NULL));
        }
      else
        g_ptr_array_add (f->path, g_strconcat (weakref_desc, ".__callback__", NULL));
      linger_describe_path (graph, path, f->path);

      callback_desc = linger_describe_callable (graph, callback);
      hold = linger_describe_callable_hold (graph, path);
      hint = g_string_new (NULL);
      g_string_printf (hint, "the callback %s of this %s %s", callback_desc,
                       we->kind == LINGER_WEAKREF_PROXY || we->kind == LINGER_WEAKREF_CALLABLE_PROXY
                       ? "weakref.proxy" : "weak reference",
                       hold != NULL ? hold : "refers to its referent");
      g_string_append_printf (hint, ", so the %s lives as long as the weak reference does; the callback "
                              "receives the dead weakref as its argument: make it not reference the %s "
                              "(give it a key or the resource it needs, e.g. a staticmethod taking the "
                              "resource)", type, type);
      append_del_note (hint, graph, referent);
      f->hint = g_string_free (g_steal_pointer (&hint), FALSE);
      g_ptr_array_add (ctx->out, f);
      pending = (LingerPendingState) { f, referent };
      g_array_append_val (ctx->pending, pending);
    }
}

/* --- weak-container-keepalive --------------------------------------------- */

typedef enum
{
  CONTAINER_NONE,
  CONTAINER_WEAK_KEYS,    /* weakref.WeakKeyDictionary */
  CONTAINER_WEAK_VALUES,  /* weakref.WeakValueDictionary */
} ContainerKind;

/* The class weakref.@name, found as the weakref module's global. */
static guint32
weakref_class (const LingerGraph *graph,
               const char        *name)
{
  const GArray *roots = graph->snapshot->roots;

  for (guint i = 0; i < roots->len; i++)
    {
      const linger_root_entry *r = &g_array_index (roots, linger_root_entry, i);
      const char *label = linger_trace_string (graph->trace, r->label);
      guint32 module;
      guint32 cls;

      if (r->kind != LINGER_ROOT_MODULE || label == NULL || strcmp (label, "weakref") != 0)
        continue;
      module = linger_graph_lookup (graph, r->address);
      if (module == LINGER_NODE_NONE)
        continue;
      cls = linger_instance_attr (graph, module, name);
      if (cls != LINGER_NODE_NONE && (linger_graph_flags (graph, cls) & LINGER_OBJ_TYPE))
        return cls;
    }
  return LINGER_NODE_NONE;
}

/* The __mro__ tuple of class @type: its __mro__ attribute, or (where the
 * shim could not name the slot) a tuple it holds whose first item is the
 * class itself. */
static guint32
mro_of (const LingerGraph *graph,
        guint32            type)
{
  guint32 mro = linger_instance_attr (graph, type, "__mro__");

  if (mro != LINGER_NODE_NONE)
    return mro;
  for (guint32 i = graph->out_start[type]; i < graph->out_start[type + 1]; i++)
    {
      guint32 t = graph->edges[i].target;

      if (graph->edges[i].label_kind != LINGER_LABEL_NONE
          || strcmp (linger_graph_type_name (graph, t), "builtins.tuple") != 0)
        continue;
      for (guint32 k = graph->out_start[t]; k < graph->out_start[t + 1]; k++)
        if (graph->edges[k].label_kind == LINGER_LABEL_INDEX && graph->edges[k].label == 0
            && graph->edges[k].target == type)
          return t;
    }
  return LINGER_NODE_NONE;
}

/* TRUE if class @type has @base in its __mro__ (or, without one, among
 * its __base__ chain). */
static gboolean
mro_has (const LingerGraph *graph,
         guint32            type,
         guint32            base)
{
  guint32 mro;

  if (base == LINGER_NODE_NONE)
    return FALSE;
  if (type == base)
    return TRUE;
  mro = mro_of (graph, type);
  if (mro != LINGER_NODE_NONE)
    {
      for (guint32 i = graph->out_start[mro]; i < graph->out_start[mro + 1]; i++)
        if (graph->edges[i].target == base)
          return TRUE;
      return FALSE;
    }
  for (guint depth = 0; depth < 64 && type != LINGER_NODE_NONE; depth++)
    {
      type = linger_instance_attr (graph, type, "__base__");
      if (type == base)
        return TRUE;
    }
  return FALSE;
}

/* The instances of the weak dictionaries and of their subclasses: by
 * type name, and through the classes whose __mro__ holds one of them. */
static void
collect_containers (const LingerGraph *graph,
                    GArray            *nodes,
                    GArray            *kinds)
{
  guint32 classes[2] = {
    weakref_class (graph, "WeakKeyDictionary"),
    weakref_class (graph, "WeakValueDictionary"),
  };
  g_autoptr(GHashTable) type_kind = g_hash_table_new (NULL, NULL);

  for (guint32 v = 0; v < graph->n_nodes; v++)
    {
      const char *type = linger_graph_type_name (graph, v);
      ContainerKind kind = CONTAINER_NONE;

      if (linger_graph_flags (graph, v) & (LINGER_OBJ_TYPE | LINGER_OBJ_MODULE))
        continue;
      if (strcmp (type, "weakref.WeakKeyDictionary") == 0)
        kind = CONTAINER_WEAK_KEYS;
      else if (strcmp (type, "weakref.WeakValueDictionary") == 0)
        kind = CONTAINER_WEAK_VALUES;
      else if (classes[0] != LINGER_NODE_NONE || classes[1] != LINGER_NODE_NONE)
        {
          /* Instances of heap types visit their class: the edge to a
           * class with no label. */
          for (guint32 i = graph->out_start[v]; i < graph->out_start[v + 1]; i++)
            {
              const LingerEdge *e = &graph->edges[i];
              gpointer known;

              if (e->label_kind != LINGER_LABEL_NONE || !(linger_graph_flags (graph, e->target) & LINGER_OBJ_TYPE))
                continue;
              known = g_hash_table_lookup (type_kind, KEY (e->target));
              if (known == NULL)
                {
                  ContainerKind k = mro_has (graph, e->target, classes[0]) ? CONTAINER_WEAK_KEYS
                                    : mro_has (graph, e->target, classes[1]) ? CONTAINER_WEAK_VALUES
                                    : CONTAINER_NONE;
                  known = GUINT_TO_POINTER (k + 1);
                  g_hash_table_insert (type_kind, KEY (e->target), known);
                }
              kind = GPOINTER_TO_UINT (known) - 1;
              break;
            }
        }
      if (kind != CONTAINER_NONE)
        {
          g_array_append_val (nodes, v);
          g_array_append_val (kinds, kind);
        }
    }
}

/* The referent of a weak reference node, or LINGER_NODE_NONE. */
static guint32
referent_of (const LingerGraph *graph,
             guint32            weakref)
{
  if (!(linger_graph_flags (graph, weakref) & LINGER_OBJ_WEAKREF))
    return LINGER_NODE_NONE;
  for (guint32 i = graph->out_start[weakref]; i < graph->out_start[weakref + 1]; i++)
    if (graph->edges[i].ref_kind == LINGER_REF_WEAK)
      return graph->edges[i].target;
  return LINGER_NODE_NONE;
}

/* The edge of @data (of label kind @label_kind) to @node. */
static const LingerEdge *
entry_edge (const LingerGraph *graph,
            guint32            data,
            guint32            node,
            guint16            label_kind)
{
  for (guint32 i = graph->out_start[data]; i < graph->out_start[data + 1]; i++)
    if (graph->edges[i].target == node && graph->edges[i].label_kind == label_kind)
      return &graph->edges[i];
  return NULL;
}

static void
check_container (LingerFindingsContext *ctx,
                 guint32                container,
                 ContainerKind          kind)
{
  const LingerGraph *graph = ctx->graph;
  guint32 data = linger_instance_attr (graph, container, "data");
  gboolean weak_keys = kind == CONTAINER_WEAK_KEYS;
  /* Weak keys: the values must not reach the keys' referents; weak
   * values: the keys must not reach the values' referents. */
  guint16 strong_kind = weak_keys ? LINGER_LABEL_KEY : LINGER_LABEL_DICT_KEY;
  guint16 weak_kind = weak_keys ? LINGER_LABEL_DICT_KEY : LINGER_LABEL_KEY;
  g_autoptr(GArray) sources = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GHashTable) targets = g_hash_table_new (NULL, NULL);
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autofree char *container_desc = NULL;
  gboolean found = FALSE;

  if (data == LINGER_NODE_NONE || !(linger_graph_flags (graph, data) & LINGER_OBJ_DICT))
    return;
  for (guint32 i = graph->out_start[data]; i < graph->out_start[data + 1]; i++)
    {
      const LingerEdge *e = &graph->edges[i];

      if (!linger_edge_is_owned (e))
        continue;
      if (e->label_kind == strong_kind)
        g_array_append_val (sources, e->target);
      else if (e->label_kind == weak_kind)
        {
          guint32 r = referent_of (graph, e->target);

          if (r != LINGER_NODE_NONE && !(linger_graph_flags (graph, r) & (LINGER_OBJ_TYPE | LINGER_OBJ_MODULE))
              && !g_hash_table_contains (targets, KEY (r)))
            {
              g_hash_table_add (targets, KEY (r));
              g_array_append_val (order, r);
            }
        }
    }
  /* str keys hold nothing and are no edges: a WeakValueDictionary keyed
   * by names costs nothing here. */
  if (sources->len == 0 || order->len == 0)
    return;

  linger_path_search_reach (ctx->search, (const guint32 *) (gpointer) sources->data, sources->len,
                            targets, linger_keepalive_filter, LINGER_KEEPALIVE_DATA (ctx));

  container_desc = linger_describe_node (graph, container);
  for (guint k = 0; k < order->len; k++)
    {
      guint32 kept = g_array_index (order, guint32, k);
      g_autoptr(GArray) path = linger_path_search_path_to (ctx->search, kept);
      const LingerEdge *first;
      g_autofree char *data_desc = NULL;
      g_autofree char *label = NULL;
      const char *type;
      LingerFinding *f;
      LingerPendingState pending;

      if (path == NULL)
        continue;
      first = entry_edge (graph, data, g_array_index (path, LingerPathStep, 0).node, strong_kind);
      type = short_type (graph, kept);

      f = linger_finding_new (LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE, LINGER_SEVERITY_WARNING);
      linger_finding_add_object (f, graph, kept);
      linger_finding_add_object (f, graph, container);
      g_ptr_array_add (f->path, g_strdup_printf ("%s.data", container_desc));
      data_desc = linger_describe_node (graph, data);
      label = first != NULL ? linger_describe_label (graph, first) : g_strdup ("[?]");
      g_ptr_array_add (f->path, g_strconcat (data_desc, label, NULL));
      if (path->len > 1)
        linger_describe_path (graph, path, f->path);
      else
        g_ptr_array_add (f->path, linger_describe_node (graph, kept));

      if (weak_keys)
        f->hint = g_strdup_printf ("the value stored for a %s key in this %s refers to that key itself, "
                                   "so the key never dies and its entry never goes while the dictionary "
                                   "lives; have the value hold weakref.ref(key) or weakref.proxy(key), "
                                   "or only the data it needs", type, container_desc);
      else
        f->hint = g_strdup_printf ("a key of this %s refers to its own value, a %s, so the value never "
                                   "dies and its entry never goes while the dictionary lives; key it by "
                                   "something that does not hold the value (a name, an id)",
                                   container_desc, type);
      g_ptr_array_add (ctx->out, f);
      pending = (LingerPendingState) { f, kept };
      g_array_append_val (ctx->pending, pending);
      found = TRUE;
    }
  if (found)
    ctx->mechanism[data] = 1;
}

void
linger_find_weak_container_keepalive (LingerFindingsContext *ctx)
{
  g_autoptr(GArray) nodes = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GArray) kinds = g_array_new (FALSE, FALSE, sizeof (ContainerKind));

  collect_containers (ctx->graph, nodes, kinds);
  for (guint i = 0; i < nodes->len; i++)
    check_container (ctx, g_array_index (nodes, guint32, i), g_array_index (kinds, ContainerKind, i));
}

/* --- atexit: finalizer-keepalive "via": "atexit" --------------------------- */

/* Objects that only carry a callback's arguments to it: followed, never
 * reported. */
static gboolean
is_plumbing (const LingerGraph *graph,
             guint32            node)
{
  const guint32 callable = LINGER_OBJ_METHOD | LINGER_OBJ_FUNCTION | LINGER_OBJ_CELL
                           | LINGER_OBJ_PARTIAL | LINGER_OBJ_BUILTIN_METHOD;
  const char *type = linger_graph_type_name (graph, node);

  if (linger_graph_flags (graph, node) & callable)
    return TRUE;
  /* Argument tuples and dicts: the callback's args, a partial's, a
   * function's defaults, closure or attributes. */
  return strcmp (type, "builtins.tuple") == 0 || strcmp (type, "builtins.dict") == 0;
}

/* An object a person would call "kept alive": one of the program's own,
 * not the interpreter's furniture. */
static gboolean
is_reportable (const LingerGraph *graph,
               guint32            node)
{
  const guint32 never = LINGER_OBJ_TYPE | LINGER_OBJ_MODULE | LINGER_OBJ_FRAME | LINGER_OBJ_WEAKREF
                        | LINGER_OBJ_PROXY | LINGER_OBJ_FINALIZE | LINGER_OBJ_IMMORTAL;
  guint32 flags = linger_graph_flags (graph, node);

  if (!(flags & (LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED)) || (flags & never))
    return FALSE;
  return strcmp (linger_graph_type_name (graph, node), "builtins.code") != 0;
}

/* The label of the first ATEXIT root entry at @node. */
static const char *
atexit_label (const LingerGraph *graph,
              guint64            address)
{
  const GArray *roots = graph->snapshot->roots;

  for (guint i = 0; i < roots->len; i++)
    {
      const linger_root_entry *r = &g_array_index (roots, linger_root_entry, i);
      if (r->kind == LINGER_ROOT_ATEXIT && r->address == address)
        return linger_trace_string (graph->trace, r->label);
    }
  return NULL;
}

static void
report_atexit (LingerFindingsContext     *ctx,
               const linger_atexit_entry *e,
               const char                *label,
               GArray                    *path,
               guint32                    args,
               guint32                    kwargs)
{
  const LingerGraph *graph = ctx->graph;
  const LingerPathStep *first = &g_array_index (path, LingerPathStep, 0);
  guint32 kept = g_array_index (path, LingerPathStep, path->len - 1).node;
  guint32 func = linger_graph_lookup (graph, e->func);
  const char *type = short_type (graph, kept);
  const char *name = func != LINGER_NODE_NONE ? linger_callable_name (graph, func) : "?";
  g_autofree char *callable = func != LINGER_NODE_NONE ? linger_describe_callable (graph, func) : g_strdup ("?");
  g_autoptr(GString) hint = g_string_new (NULL);
  LingerFinding *f;

  f = linger_finding_new (LINGER_FINDING_FINALIZER_KEEPALIVE, LINGER_SEVERITY_ERROR);
  linger_finding_add_object (f, graph, kept);
  f->state = "garbage";        /* no other root reaches it, by construction */
  f->finalizer_via = "atexit";
  f->finalizer_atexit = TRUE;
  f->finalizer_address = e->func;
  f->atexit_callback = g_strdup (label);
  g_ptr_array_add (f->path, g_strdup (label));

  if ((first->node == args || first->node == kwargs) && first->edge != NULL
      && (first->edge->label_kind == LINGER_LABEL_INDEX || first->edge->label_kind == LINGER_LABEL_KEY))
    {
      g_autofree char *sub = linger_describe_label (graph, first->edge);
      g_autofree char *where = g_strdup_printf ("%s%s", first->node == args ? "args" : "kwargs", sub);

      g_ptr_array_add (f->path, g_strdup (where));
      g_array_remove_index (path, 0);
      g_string_printf (hint, "atexit.register(%s, ...) passes the %s %s %s", name, type,
                       path->len == 1 ? "itself in" : "through", where);
    }
  else
    {
      g_autofree char *hold = first->node == func ? linger_describe_callable_hold (graph, path) : NULL;

      if (hold != NULL && path->len == 2 && (linger_graph_flags (graph, func) & LINGER_OBJ_METHOD))
        g_string_printf (hint, "atexit.register(obj.%s) registers a bound method of the %s itself",
                         linger_last_component (name), type);
      else if (hold != NULL)
        g_string_printf (hint, "the atexit callback %s %s (the %s)", callable, hold, type);
      else
        g_string_printf (hint, "the atexit callback %s refers to the %s", callable, type);
    }
  linger_describe_path (graph, path, f->path);
  g_string_append_printf (hint, ": the interpreter keeps it, and so the %s, until exit although nothing "
                          "else refers to it; register a function that takes only what it needs (a "
                          "handle, a path), or call atexit.unregister() in close()", type);
  append_del_note (hint, graph, kept);
  f->hint = g_string_free (g_steal_pointer (&hint), FALSE);
  g_ptr_array_add (ctx->out, f);
}

/* Owned edges, but not a module's own edges to an atexit callback's
 * parts: before 3.10 the atexit module's state holds the callbacks, and
 * the module traverses them. */
static gboolean
filter_not_atexit_state (const LingerGraph *graph,
                         const LingerEdge  *edge,
                         gpointer           user_data)
{
  GHashTable *parts = user_data;

  if (!linger_edge_is_owned (edge))
    return FALSE;
  return !((linger_graph_flags (graph, edge->source) & LINGER_OBJ_MODULE)
           && g_hash_table_contains (parts, KEY (edge->target)));
}

void
linger_find_atexit_keepalive (LingerFindingsContext *ctx)
{
  const LingerGraph *graph = ctx->graph;
  const GArray *atexits = graph->snapshot->atexits;
  g_autoptr(LingerRetention) others = NULL;
  g_autoptr(GHashTable) part_nodes = g_hash_table_new (NULL, NULL);
  g_autofree guint8 *seen = NULL;
  g_autofree guint32 *via = NULL;
  g_autofree guint32 *queue = NULL;
  gsize alloc = MAX (graph->n_nodes, 1);

  if (atexits->len == 0)
    return;

  /* What the program holds without its atexit callbacks. */
  for (guint i = 0; i < atexits->len; i++)
    {
      const linger_atexit_entry *e = &g_array_index (atexits, linger_atexit_entry, i);
      const guint64 parts[3] = { e->func, e->args, e->kwargs };

      for (guint p = 0; p < 3; p++)
        {
          guint32 v = parts[p] != 0 ? linger_graph_lookup (graph, parts[p]) : LINGER_NODE_NONE;
          if (v != LINGER_NODE_NONE)
            g_hash_table_add (part_nodes, KEY (v));
        }
    }
  others = linger_retention_new (graph, NULL, filter_not_atexit_state, part_nodes, 1u << LINGER_ROOT_ATEXIT);
  seen = g_new0 (guint8, alloc);
  via = g_new (guint32, alloc);
  queue = g_new (guint32, alloc);

  /* One walk per callback over what no other root reaches, through the
   * callables and argument containers, stopping at the first object of
   * the program's own on each branch.  An object is claimed by the
   * first callback that reaches it, so the walks are linear together. */
  for (guint i = 0; i < atexits->len; i++)
    {
      const linger_atexit_entry *e = &g_array_index (atexits, linger_atexit_entry, i);
      const guint64 parts[3] = { e->func, e->args, e->kwargs };
      guint32 nodes[3];
      const char *label = atexit_label (graph, e->func);
      g_autofree char *fallback = NULL;
      guint32 head = 0;
      guint32 tail = 0;

      if (label == NULL)
        label = fallback = g_strdup_printf ("atexit callback #%u", e->index + 1);
      for (guint p = 0; p < 3; p++)
        {
          guint32 v = parts[p] != 0 ? linger_graph_lookup (graph, parts[p]) : LINGER_NODE_NONE;

          nodes[p] = v;
          if (v == LINGER_NODE_NONE || seen[v] || linger_retention_reaches (others, v))
            continue;
          seen[v] = 1;
          via[v] = G_MAXUINT32;
          if (is_plumbing (graph, v))
            queue[tail++] = v;
        }

      while (head < tail)
        {
          guint32 v = queue[head++];

          for (guint32 k = graph->out_start[v]; k < graph->out_start[v + 1]; k++)
            {
              const LingerEdge *edge = &graph->edges[k];
              guint32 t = edge->target;

              if (seen[t] || !linger_keepalive_filter (graph, edge, LINGER_KEEPALIVE_DATA (ctx)) || linger_retention_reaches (others, t))
                continue;
              seen[t] = 1;
              via[t] = k;
              if (is_plumbing (graph, t))
                queue[tail++] = t;
              else if (is_reportable (graph, t))
                {
                  g_autoptr(GArray) path = g_array_new (FALSE, FALSE, sizeof (LingerPathStep));
                  LingerPathStep step = { t, NULL };

                  for (;;)
                    {
                      g_array_prepend_val (path, step);
                      if (via[step.node] == G_MAXUINT32)
                        break;
                      step.edge = &graph->edges[via[step.node]];
                      step.node = step.edge->source;
                    }
                  report_atexit (ctx, e, label, path, nodes[1], nodes[2]);
                }
            }
        }
    }
}
