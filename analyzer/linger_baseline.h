/* linger_baseline.h: the findings of an earlier report, so that a report
 * shows only what is new (`linger report --baseline=OLD.json`).
 *
 * OLD.json is the output of `linger report --format=json`.  Findings are
 * matched by fingerprint (linger_identity.h): kind, type, path shape and
 * allocation site, never addresses or counts, which change from run to
 * run.  A report of an older linger without fingerprints still works:
 * they are computed from its fields. */
#pragma once

#include <glib.h>

#include "linger_findings.h"
#include "linger_sites.h"

G_BEGIN_DECLS

typedef struct _LingerBaseline LingerBaseline;

/* Returns: (transfer full): the baseline, or NULL with @error set (the
 * message names @path and the problem). */
LingerBaseline *linger_baseline_load     (const char *path,
                                          GError    **error);
void            linger_baseline_free     (LingerBaseline *baseline);

const char     *linger_baseline_path     (const LingerBaseline *baseline);
/* Findings in the baseline file. */
guint           linger_baseline_size     (const LingerBaseline *baseline);
gboolean        linger_baseline_contains (const LingerBaseline *baseline,
                                          const LingerFinding  *finding,
                                          LingerSites          *sites);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerBaseline, linger_baseline_free)

G_END_DECLS
