/* linger_run.h: `linger run`, a program under the shim. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The shim to preload: $LINGER_PRELOAD, else liblinger.so beside the
 * linger executable (build tree), else the install layout relative to the
 * executable, else the configured install path.
 * Returns: (transfer full): an absolute path, or NULL with @error set. */
char *linger_run_find_shim (GError **error);

/* Runs @argv (NULL-terminated, argv[0] looked up in PATH) with the shim
 * preloaded and tells on stderr which traces were written.  @output, if
 * not NULL, is the trace file of the process itself.
 * Returns: the status linger exits with: the program's exit status,
 * 128 + signal if it was killed, 127/126 if it could not be executed; or
 * -1 with @error set if nothing was started. */
int   linger_run           (const char  *output,
                            char       **argv,
                            GError     **error);

/* As linger_run(); also sets @root_trace (when not NULL) to the trace of
 * the process linger started (the command itself, also after it exec()s
 * another program, not its children), or NULL when that process wrote
 * none (a program that is not dynamically linked, or LD_PRELOAD was
 * dropped). */
int   linger_run_with_trace (const char  *output,
                             char       **argv,
                             char       **root_trace,
                             GError     **error);

G_END_DECLS
