/* linger_attribution.h: which labelled snapshot (which test) created the
 * object of each finding.
 *
 * The pytest plugin (python/linger/pytest.py) asks the shim for a
 * snapshot labelled with the test's node id after every test.  An object
 * of the judged snapshot was created by the test after which it first
 * existed: the earliest labelled snapshot of the unbroken run of labelled
 * snapshots, counted back from the last one, that all hold an object at
 * its address with its type (and its allocation site, when both
 * snapshots know it).  Counting back, rather than taking the first
 * snapshot that has the address at all, keeps an address that an earlier
 * test's short-lived object used from taking the blame.
 *
 * An object absent from the last labelled snapshot came after it (the
 * end of the session) and is not attributed; so is one the cyclic GC does
 * not track when the labelled snapshots are objects-only (they list what
 * gc.get_objects() lists), which the objects of findings rarely are.
 */
#pragma once

#include <glib.h>

#include "linger_findings.h"
#include "linger_reader.h"

G_BEGIN_DECLS

typedef struct
{
  const char *label;       /* owned by the trace; NULL: not attributed */
  guint       findings;    /* finding entries whose object it created */
  guint       instances;   /* their counts added up */
} LingerTestFindings;

/* Number of labelled snapshots of @trace that precede @judged (or are
 * it). */
guint      linger_attribution_n_labelled (const LingerTrace    *trace,
                                          const LingerSnapshot *judged);

/* Sets created_by of every finding of @findings that has objects (and of
 * their instances) from the labelled snapshots of @trace up to @judged.
 * Returns the number of labelled snapshots used (0: nothing was done). */
guint      linger_attribution_apply      (const LingerTrace    *trace,
                                          const LingerSnapshot *judged,
                                          GPtrArray            *findings);

/* Findings per creating test, in the order of the tests' snapshots, the
 * findings not attributed last (only if there are any).
 * Returns: (transfer full): a GArray of LingerTestFindings */
GArray    *linger_attribution_by_test    (const LingerTrace    *trace,
                                          const LingerSnapshot *judged,
                                          const GPtrArray      *findings);

G_END_DECLS
