/* linger_preload.c: the LD_PRELOAD entry points, and nothing else.
 *
 * Everything here forwards to the modules behind it (linger_output for the
 * trace file, linger_python for CPython), so the interposed surface stays
 * small enough to read at a glance.
 */
#include <pthread.h>

#include "linger_output.h"
#include "linger_python.h"

static void
fork_prepare (void)
{
  linger_output_fork_prepare ();
}

static void
fork_parent (void)
{
  linger_output_fork_parent ();
}

static void
fork_child (void)
{
  linger_output_fork_child ();
  linger_python_fork_child ();
}

__attribute__ ((constructor)) static void
linger_preload_init (void)
{
  linger_output_init ();
  pthread_atfork (fork_prepare, fork_parent, fork_child);
  linger_python_init ();
}

/* Runs after Py_FinalizeEx, from exit(): the trace is closed with an END
 * record, which is how the analyzer knows the run was not cut short. */
__attribute__ ((destructor)) static void
linger_preload_fini (void)
{
  linger_output_finish ();
}
