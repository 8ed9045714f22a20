/* linger_findings.h: what the analyzer reports about a snapshot.
 *
 * finalizer-keepalive (error): a weakref.finalize whose callback or
 *   arguments hold the very object it watches; the object can never die
 *   and the cleanup runs only at exit, if at all.
 * bound-method-cycle (warning): an object that stores a bound method of
 *   itself (self.callback = self.on_data), a reference cycle only the
 *   cyclic GC can free, and never if the GC is disabled or a finalizer
 *   misbehaves.
 */
#pragma once

#include <glib.h>

#include "linger_graph.h"

G_BEGIN_DECLS

#define LINGER_FINDING_FINALIZER_KEEPALIVE "finalizer-keepalive"
#define LINGER_FINDING_BOUND_METHOD_CYCLE  "bound-method-cycle"

typedef enum
{
  LINGER_SEVERITY_INFO,
  LINGER_SEVERITY_WARNING,
  LINGER_SEVERITY_ERROR,
} LingerSeverity;

typedef struct
{
  const char *type;        /* "module.QualName", owned by the trace */
  guint64     address;
  guint64     size;
} LingerFindingObject;

typedef struct
{
  const char     *kind;     /* LINGER_FINDING_* */
  LingerSeverity  severity;
  guint           count;    /* instances grouped into this entry */
  /* "live": the program still reaches the object from its roots (for a
   * finalizer: without going through the finalizer); "garbage": only the
   * cycle holds it (it waits for the cyclic GC) or only its finalizer
   * does (it can never be freed). */
  const char     *state;
  GArray         *objects;  /* LingerFindingObject; [0] is the object kept alive */
  guint           n_members; /* cycle: objects in the cycle (objects may list fewer) */
  GPtrArray      *path;     /* char *, rendered steps */
  char           *hint;

  /* What fixing it would free: the bytes and objects that only the
   * finding's objects keep alive (their dominator subtrees, see
   * linger_dominators.h); for a group, over all its instances, each
   * object counted once.  Set by linger_dominators_measure_findings(). */
  guint64         retained_bytes;
  guint64         retained_objects;

  /* For a live finding: how the program reaches objects[0] (or the first
   * reachable member of a cycle) from a root, rendered like `path`, and
   * what kind of root that is ("module", "thread", "external", ...). */
  GPtrArray      *held_by;  /* NULL when garbage */
  const char     *held_by_root;

  /* finalizer-keepalive only. */
  gboolean        finalizer_atexit;
  const char     *finalizer_via;   /* "args", "kwargs", "func", "__self__", "closure" */
  guint64         finalizer_address;
} LingerFinding;

/* Computes every finding on @graph.  With @group, instances of the same
 * kind and type (and state, for cycles) become one entry with a count,
 * whose example is the instance with the lowest address; otherwise each instance is its
 * own entry.  Entries are sorted: errors first, then by kind, count
 * (descending) and type, so the output is deterministic.
 * Returns: (transfer full): a GPtrArray of LingerFinding */
GPtrArray  *linger_findings_compute       (const LingerGraph *graph,
                                           gboolean           group);

void        linger_finding_free           (LingerFinding *finding);
const char *linger_severity_name          (LingerSeverity severity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerFinding, linger_finding_free)

G_END_DECLS
