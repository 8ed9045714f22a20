/* linger_findings.h: what the analyzer reports about a snapshot.
 *
 * finalizer-keepalive (error): a weakref.finalize whose callback or
 *   arguments hold the very object it watches; the object can never die
 *   and the cleanup runs only at exit, if at all.  Also an object that
 *   only an atexit.register() callback holds ("via": "atexit").
 * weakref-callback-keepalive (warning): a live weakref.ref or proxy whose
 *   callback holds its own referent, which then lives as long as the
 *   weak reference.
 * weak-container-keepalive (warning): a WeakKeyDictionary value that
 *   holds its own key, or a WeakValueDictionary key that holds its own
 *   value: the entry never goes away.
 * bound-method-cycle (warning): an object that stores a bound method of
 *   itself (self.callback = self.on_data), a reference cycle only the
 *   cyclic GC can free, and never if the GC is disabled or a finalizer
 *   misbehaves.
 * closure-cycle (warning): the same through a closure cell
 *   (self.get = lambda: self.x).
 * reference-cycle (info): any other cycle only the cyclic GC can free,
 *   garbage at the snapshot (live ones on request).
 * uncollectable (error): objects in gc.garbage.
 * resurrected (warning): objects whose __del__ ran, alive again.
 *
 * From allocation tracking (format 1.2), not from a snapshot's graph
 * (linger_findings_alloc.c); their `objects` is empty:
 * leak (warning): native blocks still allocated when the process ended,
 *   by allocation site, start-up and shutdown allocations left out.
 * gc-collected (info): objects that only the cyclic GC freed, by
 *   allocation site and type: each was in a reference cycle.
 */
#pragma once

#include <glib.h>

#include "linger_graph.h"
#include "linger_sites.h"

G_BEGIN_DECLS

#define LINGER_FINDING_FINALIZER_KEEPALIVE "finalizer-keepalive"
#define LINGER_FINDING_BOUND_METHOD_CYCLE  "bound-method-cycle"
#define LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE "weakref-callback-keepalive"
#define LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE   "weak-container-keepalive"
#define LINGER_FINDING_CLOSURE_CYCLE       "closure-cycle"
#define LINGER_FINDING_REFERENCE_CYCLE     "reference-cycle"
#define LINGER_FINDING_UNCOLLECTABLE       "uncollectable"
#define LINGER_FINDING_RESURRECTED         "resurrected"
#define LINGER_FINDING_LEAK                "leak"
#define LINGER_FINDING_GC_COLLECTED        "gc-collected"

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
  guint32     node;        /* its node in the graph */
  guint32     site;        /* allocation site id from OBJECT_SITES, 0 if unknown */
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
  /* The nodes that size is measured from, when it is not the object kept
   * alive (objects[0]) or, for a cycle, its listed members: every member
   * of a cycle too large to list, and for a group those of each of its
   * instances (linger_dominators_merge_finding()).  Usually NULL. */
  GArray         *retained_from;   /* guint32 node indices */

  /* For a live finding: how the program reaches objects[0] (or the first
   * reachable member of a cycle) from a root, rendered like `path`, and
   * what kind of root that is ("module", "thread", "external", ...). */
  GPtrArray      *held_by;  /* NULL when garbage */
  const char     *held_by_root;

  /* finalizer-keepalive only. */
  gboolean        finalizer_atexit;
  const char     *finalizer_via;   /* "args", "kwargs", "func", "__self__", "closure", "atexit" */
  guint64         finalizer_address; /* for "atexit": the callback */
  char           *atexit_callback; /* for "atexit": "atexit callback #1: Session.close" */

  /* Cycles: the bytes of the members of every cycle in the group, and
   * the sorted type names of the example's members (reference-cycle). */
  guint64         cycle_bytes;
  GPtrArray      *cycle_types;     /* const char *, NULL for other kinds */

  /* What the group is keyed by besides kind and type: the path with its
   * subscripts generalised ("tuple[*]"). */
  char           *shape;
  /* With LingerFindingsOptions.instances: every instance of the group
   * (count of them), the example first, each a LingerFinding with count 1. */
  GPtrArray      *instances;

  /* leak and gc-collected: where the blocks or objects were allocated
   * (0 if unknown), how many and how large. */
  guint32         site;
  guint64         blocks;          /* leak: blocks; gc-collected: objects */
  guint64         bytes;
  /* gc-collected only. */
  const char     *alloc_type;      /* owned by the trace */
  const char     *cycle_kind;      /* "bound-method", "closure", "other" */
  guint64         allocs;          /* allocated at the site in all */
  guint64         site_frees;      /* freed, by any means */
  double          gc_share;        /* of the site's frees, those the GC did */
  char           *example;         /* a path of such a cycle, or NULL */
  gboolean        example_is_generic;
  /* Its site's Python frames are all the standard library's or installed
   * packages': it ranks after the program's own code. */
  gboolean        in_library;
  /* With labelled snapshots (the pytest plugin): the label of the
   * snapshot after which objects[0] first existed, i.e. the test that
   * created it (linger_attribution.h); NULL otherwise.  Owned by the
   * trace. */
  const char     *created_by;
} LingerFinding;

typedef struct
{
  gboolean ungrouped;    /* no groups: every instance an entry of its own */
  gboolean instances;    /* each group lists every instance in instances */
  gboolean live_cycles;  /* reference-cycle: report cycles still reachable too */
} LingerFindingsOptions;

/* Computes every finding on @graph.  Instances of the same kind, type and
 * path shape (and state, for cycles; for reference-cycle the set of types
 * instead of the type) become one entry with a count, whose example is the
 * instance with the lowest address.  Entries are sorted: errors first, then
 * by kind, count (descending) and type, so the output is deterministic.
 * Returns: (transfer full): a GPtrArray of LingerFinding */
GPtrArray  *linger_findings_compute_with_options (const LingerGraph           *graph,
                                                  const LingerFindingsOptions *options);

/* As linger_findings_compute_with_options(); without @group each
 * instance is an entry of its own (count 1). */
GPtrArray  *linger_findings_compute       (const LingerGraph *graph,
                                           gboolean           group);

void        linger_finding_free           (LingerFinding *finding);

/* What the report says about allocation tracking besides its findings. */
typedef struct
{
  gboolean present;           /* the trace has allocation records */
  gboolean native;            /* native (malloc) tracking was on */
  /* Whether leaks can be known: the trace is complete and has the final
   * flush's live blocks.  Without, no leak finding is made. */
  gboolean leaks_known;
  guint64  not_counted_blocks; /* native blocks left at exit by start-up or shutdown */
  guint64  not_counted_bytes;
  /* Native blocks left at exit that are the dynamic loader's bookkeeping
   * (link maps, TLS; freed only by dlclose), and the libraries loaded at
   * the end, whose they are. */
  guint64  loader_blocks;
  guint64  loader_bytes;
  guint    loader_libraries;
  /* Native blocks left at exit in libc's one-time caches (the standard
   * streams' buffers, locale data). */
  guint64  libc_cache_blocks;
  guint64  libc_cache_bytes;
  /* Objects the cyclic GC freed whose site has no stack (allocated during
   * interpreter start-up): one line, not a finding each. */
  guint64  gc_unattributed_objects;
  guint64  gc_unattributed_bytes;
  guint    gc_unattributed_types;
  guint    hidden_leaks;       /* leak groups beyond the shown ones (without --all) */
  guint    hidden_gc_collected;
} LingerAllocSummary;

/* Appends the findings of allocation tracking (leak, gc-collected) of
 * @trace to @findings and sorts them all again.  The gc-collected ones
 * reuse the path of a cycle finding already in @findings whose objects
 * were allocated at the same site. */
void        linger_findings_add_alloc     (GPtrArray                   *findings,
                                           const LingerTrace           *trace,
                                           LingerSites                 *sites,
                                           const LingerFindingsOptions *options,
                                           LingerAllocSummary          *summary);

/* Sorts findings: errors first, then by kind, count, type... (the order
 * linger_findings_compute_with_options() gives). */
void        linger_findings_sort          (GPtrArray *findings);
const char *linger_severity_name          (LingerSeverity severity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerFinding, linger_finding_free)

G_END_DECLS
