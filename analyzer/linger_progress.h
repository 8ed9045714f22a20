/* linger_progress.h: a progress line on standard error while a large
 * trace is read and analysed.
 *
 * One global reporter, off until linger_progress_enable(): the reader and
 * the analysis stages call it unconditionally (one line each), and it
 * costs a branch when off, so unit tests and fuzzers print nothing.  The
 * line is redrawn with '\r' at most ten times a second and erased when
 * the work ends, so what the report prints afterwards starts on a clean
 * line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether to draw at all (the `linger` command decides: a terminal, or
 * --progress). */
void     linger_progress_enable  (gboolean     enabled);
gboolean linger_progress_enabled (void);

/* A new stage ("reading", "graph", ...): ends the one before.  @total is
 * what linger_progress_update() counts up to (bytes for "reading"), 0 if
 * unknown.  @name must be a string literal (it is kept, not copied). */
void     linger_progress_begin   (const char *name,
                                  guint64     total);

/* @done of the stage's total: redraws if the last draw is 100 ms old. */
void     linger_progress_update  (guint64     done);

/* One more item of stage @name (begun if it is not the current one): for
 * work done bit by bit, such as native addresses symbolized on demand. */
void     linger_progress_step    (const char *name);

/* Erases the line; the next linger_progress_begin() draws again. */
void     linger_progress_end     (void);

G_END_DECLS
