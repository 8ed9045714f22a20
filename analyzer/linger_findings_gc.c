/* linger_findings_gc.c: what the cyclic garbage collector itself says
 * about objects: uncollectable (in gc.garbage) and resurrected (their
 * __del__ ran, yet they are alive). */
#include "linger_describe.h"
#include "linger_findings_private.h"

/* The list gc.garbage, as the gc module's global. */
static guint32
gc_garbage_list (const LingerGraph *graph)
{
  const GArray *roots = graph->snapshot->roots;

  for (guint i = 0; i < roots->len; i++)
    {
      const linger_root_entry *r = &g_array_index (roots, linger_root_entry, i);
      const char *label = linger_trace_string (graph->trace, r->label);
      guint32 module;

      if (r->kind != LINGER_ROOT_MODULE || g_strcmp0 (label, "gc") != 0)
        continue;
      module = linger_graph_lookup (graph, r->address);
      if (module != LINGER_NODE_NONE)
        return linger_instance_attr (graph, module, "garbage");
    }
  return LINGER_NODE_NONE;
}

/* @garbage: the gc.garbage list or LINGER_NODE_NONE; @others: what the
 * program reaches without it. */
static void
report_uncollectable (LingerFindingsContext *ctx,
                      guint32                node,
                      guint32                garbage,
                      const LingerRetention *others)
{
  const LingerGraph *graph = ctx->graph;
  const char *type = linger_describe_short_type (linger_graph_type_name (graph, node));
  LingerFinding *f = linger_finding_new (LINGER_FINDING_UNCOLLECTABLE, LINGER_SEVERITY_ERROR);
  const LingerEdge *slot = NULL;

  linger_finding_add_object (f, graph, node);
  /* Live if the program holds it besides gc.garbage. */
  linger_finding_set_retention (f, others, node);
  for (guint32 i = garbage != LINGER_NODE_NONE ? graph->out_start[garbage] : 0;
       garbage != LINGER_NODE_NONE && i < graph->out_start[garbage + 1] && slot == NULL; i++)
    if (graph->edges[i].target == node && graph->edges[i].label_kind == LINGER_LABEL_INDEX)
      slot = &graph->edges[i];
  if (slot != NULL)
    g_ptr_array_add (f->path, g_strdup_printf ("gc.garbage[%u]", slot->label));
  else
    g_ptr_array_add (f->path, g_strdup ("gc.garbage"));
  g_ptr_array_add (f->path, linger_describe_node (graph, node));
  f->hint = g_strdup_printf ("the cyclic garbage collector found this %s unreachable but could not free "
                             "it (gc.DEBUG_SAVEALL is set, or a C type without tp_finalize support is "
                             "in its cycle) and put it in gc.garbage, which keeps it until exit; break "
                             "the cycle it is in (close(), a weakref) and empty gc.garbage", type);
  g_ptr_array_add (ctx->out, f);
}

static void
report_resurrected (LingerFindingsContext *ctx,
                    guint32                node)
{
  const LingerGraph *graph = ctx->graph;
  const char *type = linger_describe_short_type (linger_graph_type_name (graph, node));
  LingerFinding *f = linger_finding_new (LINGER_FINDING_RESURRECTED, LINGER_SEVERITY_WARNING);
  g_autofree char *where = NULL;

  linger_finding_add_object (f, graph, node);
  if (linger_graph_is_reachable (graph, node))
    linger_finding_set_retention (f, linger_findings_retention (ctx), node);
  else
    f->state = "garbage";
  /* What holds it now is where its __del__ put it. */
  if (f->held_by != NULL)
    {
      for (guint i = 0; i < f->held_by->len; i++)
        g_ptr_array_add (f->path, g_strdup (g_ptr_array_index (f->held_by, i)));
      where = f->held_by->len > 1
              ? g_strdup_printf (" (now %s)", (const char *) g_ptr_array_index (f->held_by, f->held_by->len - 2))
              : g_strdup ("");
    }
  else
    {
      g_ptr_array_add (f->path, linger_describe_node (graph, node));
      where = g_strdup ("");
    }
  f->hint = g_strdup_printf ("this %s's __del__ already ran, yet the object is alive again: its __del__ "
                             "(or code it called) stored a reference to it%s, and __del__ will not run "
                             "again for it; let __del__ release resources without storing self, or use "
                             "weakref.finalize for the cleanup", type, where);
  g_ptr_array_add (ctx->out, f);
}

void
linger_find_gc_findings (LingerFindingsContext *ctx)
{
  const LingerGraph *graph = ctx->graph;
  g_autoptr(LingerRetention) others = NULL;
  g_autofree guint8 *blocked = NULL;
  guint32 garbage = LINGER_NODE_NONE;

  for (guint32 v = 0; v < graph->n_nodes; v++)
    {
      guint32 flags = linger_graph_flags (graph, v);

      if (flags & LINGER_OBJ_IN_GARBAGE)
        {
          /* Once: what the program reaches without gc.garbage. */
          if (others == NULL)
            {
              blocked = g_new0 (guint8, MAX (graph->n_nodes, 1));
              garbage = gc_garbage_list (graph);
              if (garbage != LINGER_NODE_NONE)
                blocked[garbage] = 1;
              others = linger_retention_new (graph, blocked, NULL, NULL, 0);
            }
          report_uncollectable (ctx, v, garbage, others);
        }
      else if (flags & LINGER_OBJ_FINALIZED)
        report_resurrected (ctx, v);
    }
}
