/* linger_identity.h: what makes a finding "the same finding" in another
 * run of the program, where every address and count differs.
 *
 * The identity is the kind, the type (for a reference cycle the sorted
 * types in it), the path shape the findings were grouped by (subscripts
 * generalised), and where the object was allocated, as "file:line" with
 * the file cut to its last two components (another checkout of the
 * project, another CI machine, gives the same identity).  The fingerprint
 * is a short hash of it: JSON reports carry it, and `--baseline` matches
 * findings by it.  A report of an older linger without fingerprints is
 * read by computing the identity from the finding's fields, which gives
 * the same text as computing it from the finding itself. */
#pragma once

#include <glib.h>

#include "linger_findings.h"
#include "linger_json_value.h"
#include "linger_sites.h"

G_BEGIN_DECLS

/* "dir/file.py:12"; without a file the function; else the module's base
 * name; "" when nothing is known.  Any argument may be NULL or 0. */
char *linger_identity_site_key   (const char *file,
                                  guint       line,
                                  const char *function,
                                  const char *module);

/* The "allocated at" frame of site @site_id, or NULL. */
const LingerFrame *linger_identity_site_frame (LingerSites *sites,
                                               guint32      site_id);

/* The type the identity names: objects[0]'s, the alloc type of a
 * gc-collected group, the joined cycle types of a reference cycle, ""
 * for a leak.  Returns: (transfer full) */
char *linger_finding_identity_type (const LingerFinding *finding);

/* The path shape ("weakref.finalize → _Info.args → tuple[*] → Obj"): ""
 * for kinds whose path depends on the example (cycles of any types, the
 * allocation findings).  Returns: (transfer full) */
char *linger_finding_identity_shape (const LingerFinding *finding);

/* Returns: (transfer full): the identity text, lines kind, type, shape,
 * site. */
char *linger_finding_identity    (const LingerFinding *finding,
                                  LingerSites         *sites);

/* Returns: (transfer full): 16 hex digits. */
char *linger_finding_fingerprint (const LingerFinding *finding,
                                  LingerSites         *sites);

/* The fingerprint of a finding of a JSON report: its "fingerprint"
 * member, else computed from its fields.
 * Returns: (transfer full): the fingerprint, or NULL when @finding is not
 * a finding (no "kind"). */
char *linger_json_finding_fingerprint (const LingerJsonValue *finding);

G_END_DECLS
