/* linger_findings_private.h: what the passes that compute findings share.
 *
 * Each pass (linger_findings_keepalive.c, linger_findings_cycles.c,
 * linger_findings_gc.c) adds one LingerFinding per instance to ctx->out;
 * linger_findings.c groups and sorts them.  Every pass is linear in the
 * size of the graph, or bounded by the part of it a finding's search
 * visits: the searches share one LingerPathSearch, the cycle findings one
 * SCC pass.
 */
#pragma once

#include <glib.h>

#include "linger_findings.h"
#include "linger_graph.h"
#include "linger_paths.h"
#include "linger_retention.h"

G_BEGIN_DECLS

/* A cycle of thousands of objects is reported with its size, and only the
 * first members are listed. */
#define LINGER_MAX_LISTED_MEMBERS 32

typedef struct
{
  LingerFinding *finding;
  guint32        node;      /* the object kept alive */
} LingerPendingState;

typedef struct
{
  const LingerGraph           *graph;
  const LingerFindingsOptions *options;
  LingerPathSearch            *search;
  /* The retention tree from every root over owned edges, for why a live
   * finding is live; made on first use (linger_findings_retention()).
   * Whether something is live at all is graph->tree's answer. */
  LingerRetention             *retention;
  GPtrArray                   *out;         /* LingerFinding, one per instance */

  /* Keep-alive findings are live only if the program reaches the object
   * without the mechanism that keeps it: per node, set for a finalizer's
   * _Info and the data dict of a weak container found holding its own
   * entries (callbacks of weak references are left out by the edge
   * filter).  Their state and held_by are set once all are known. */
  guint8                      *mechanism;
  GArray                      *pending;     /* LingerPendingState */

  /* LINGER_LABEL_SKIP_* per string id: the filters below test an edge's
   * name once per trace string, not once per edge. */
  guint8                      *label_flags;
} LingerFindingsContext;

enum
{
  LINGER_LABEL_SKIP_KEEPALIVE = 1u << 0, /* __globals__, __builtins__ */
  LINGER_LABEL_SKIP_CYCLE     = 1u << 1, /* the same and __module__ */
};

LingerRetention *linger_findings_retention (LingerFindingsContext *ctx);

LingerFinding *linger_finding_new          (const char        *kind,
                                            LingerSeverity     severity);
void           linger_finding_add_object   (LingerFinding     *finding,
                                            const LingerGraph *graph,
                                            guint32            node);
/* Sets state ("live" when @retention reaches @node, else "garbage") and,
 * when live, held_by and held_by_root. */
void           linger_finding_set_retention (LingerFinding         *finding,
                                             const LingerRetention *retention,
                                             guint32                node);

/* The part of a qualname after its last dot: "Connector.on_data" -> "on_data". */
const char    *linger_last_component       (const char *qualname);
/* The name a person calls a callable by: its qualname, else its short type. */
const char    *linger_callable_name        (const LingerGraph *graph,
                                            guint32            node);
/* A callable for hints: "<function f>", "<bound method C.m>",
 * "functools.partial(close, ...)".
 * Returns: (transfer full) */
char          *linger_describe_callable    (const LingerGraph *graph,
                                            guint32            node);
gboolean       linger_edge_is_attr_one_of  (const LingerGraph  *graph,
                                            const LingerEdge   *edge,
                                            const char * const *names);

/* The target of @node's attribute @name, as an instance records it: an
 * attribute edge (slots, 3.11+ inline values, a module's or class's own
 * members) or a key of its __dict__; LINGER_NODE_NONE if it has none. */
guint32        linger_instance_attr        (const LingerGraph *graph,
                                            guint32            node,
                                            const char        *name);

/* What holds an object for a callback (finalizer, weak reference, atexit):
 * owned edges, but not through a function's globals, a module or a class.
 * A global name holding the object is the program's own doing, and every
 * function reaches every global through __globals__. */
gboolean       linger_keepalive_filter     (const LingerGraph *graph,
                                            const LingerEdge  *edge,
                                            gpointer           user_data);
/* @user_data of linger_keepalive_filter(): ctx->label_flags. */
#define LINGER_KEEPALIVE_DATA(ctx) ((gpointer) (ctx)->label_flags)

/* Whether an ATTR edge's name has @flag (LINGER_LABEL_SKIP_*), from
 * @label_flags if not NULL. */
gboolean       linger_edge_skipped         (const LingerGraph *graph,
                                            const LingerEdge  *edge,
                                            const guint8      *label_flags,
                                            guint8             flag);

/* How the first steps of @path (from a callable to the object) hold it,
 * for hints, after the callable's name: "holds it through its __self__, a
 * Pool", "closes over 'x'", "passes it in args[1]" (a partial), or NULL.
 * Returns: (transfer full) (nullable) */
char          *linger_describe_callable_hold (const LingerGraph *graph,
                                              const GArray      *path);

/* The passes. */
void linger_find_finalizer_keepalive        (LingerFindingsContext *ctx);
void linger_find_weakref_callback_keepalive (LingerFindingsContext *ctx);
void linger_find_weak_container_keepalive   (LingerFindingsContext *ctx);
void linger_find_atexit_keepalive           (LingerFindingsContext *ctx);
void linger_find_cycles                     (LingerFindingsContext *ctx);
void linger_find_gc_findings                (LingerFindingsContext *ctx);

G_END_DECLS
