/* linger_suppressions.h: findings a project has decided to live with.
 *
 * A suppressions file is plain text.  Lines starting with '#' (after any
 * blanks) are comments; blank lines end a block.  An entry is either a
 * block
 *
 *   # the vendored cache keeps its entries on purpose
 *   suppress finalizer-keepalive
 *     type: mypkg.cache.*
 *     site: *vendor*
 *
 * or one line
 *
 *   finalizer-keepalive type=mypkg.cache.* site="*vendor*"
 *
 * KIND is a finding kind or '*'.  The keys, all optional, are fnmatch(3)
 * globs ('*' also matches '/'; '\' quotes the next character):
 *   type: the type of the object kept alive (any type in a cycle; the
 *         type of a gc-collected group);
 *   site: an allocation stack frame, as "file:line", "file" or the
 *         function name, any frame of the stack (of any listed object of
 *         a cycle; the group's site for leak and gc-collected);
 *   path: the finding's path, steps joined by " → ", either as shown
 *         or its shape (subscripts as "[*]");
 *   cycle: every type in a cycle, sorted and joined with ",".
 * An entry suppresses the findings matching its kind and every key it
 * gives.  In the one-line form a value with blanks is written in double
 * quotes (inside, \" is a quote, everything else is literal). */
#pragma once

#include <glib.h>

#include "linger_findings.h"
#include "linger_sites.h"

G_BEGIN_DECLS

typedef struct
{
  char  *file;     /* the file as named on the command line */
  guint  line;     /* where the entry starts */
  char  *kind;     /* a LINGER_FINDING_* or "*" */
  char  *type;     /* globs, NULL when not given */
  char  *site;
  char  *path;
  char  *cycle;
  guint  used;     /* findings it matched */
} LingerSuppression;

typedef struct
{
  GPtrArray *entries;   /* LingerSuppression, in file order */
  GPtrArray *files;     /* char *, the files read */
} LingerSuppressions;

LingerSuppressions *linger_suppressions_new       (void);
void                linger_suppressions_free      (LingerSuppressions *suppressions);

/* Reads the entries of @path.
 * Returns: FALSE with @error set ("FILE:LINE: what is wrong", or the
 * file cannot be read). */
gboolean            linger_suppressions_load_file (LingerSuppressions  *suppressions,
                                                   const char          *path,
                                                   GError             **error);

/* The same from @text, named @name in messages. */
gboolean            linger_suppressions_load_data (LingerSuppressions  *suppressions,
                                                   const char          *name,
                                                   const char          *text,
                                                   GError             **error);

/* Whether an entry matches @finding; each matching entry counts it in
 * its `used`.  Returns: (nullable): the first matching entry. */
const LingerSuppression *linger_suppressions_match (LingerSuppressions  *suppressions,
                                                    const LingerFinding *finding,
                                                    LingerSites         *sites);

/* Appends to @out one block per finding of @findings (each different
 * block once) with a comment naming the finding: read back, they
 * suppress these findings. */
void                linger_suppressions_generate  (const GPtrArray     *findings,
                                                   LingerSites         *sites,
                                                   GString             *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerSuppressions, linger_suppressions_free)

G_END_DECLS
