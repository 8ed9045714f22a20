/* linger_preload.c: the LD_PRELOAD entry points, and nothing else.
 *
 * Everything here forwards to the modules behind it (linger_output for the
 * trace file, linger_python for CPython), so the interposed surface stays
 * small enough to read at a glance.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linger_alloc.h"
#include "linger_dlopen.h"
#include "linger_output.h"
#include "linger_pyalloc.h"
#include "linger_real.h"
#include "linger_python.h"
#include "linger_trigger.h"

static void
fork_prepare (void)
{
  linger_output_fork_prepare ();
  linger_alloc_fork_prepare ();
}

static void
fork_parent (void)
{
  linger_alloc_fork_parent ();
  linger_output_fork_parent ();
}

static void
fork_child (void)
{
  linger_alloc_fork_child ();
  linger_output_fork_child ();
  linger_python_fork_child ();
  linger_pyalloc_fork_child ();
}

typedef void (*exit_fn) (int) __attribute__ ((noreturn));
static exit_fn real__exit;
static exit_fn real__Exit;
static __sighandler_t (*real_signal) (int, __sighandler_t);

__attribute__ ((constructor)) static void
linger_preload_init (void)
{
  /* Resolved now: dlsym at exit time could allocate in a dying process. */
  linger_real_ready ();
  real__exit = (exit_fn) dlsym (RTLD_NEXT, "_exit");
  real__Exit = (exit_fn) dlsym (RTLD_NEXT, "_Exit");
  real_signal = (__sighandler_t (*) (int, __sighandler_t)) dlsym (RTLD_NEXT, "signal");
  linger_trigger_preinit ();
  /* A setuid/setgid program (or one that gained capabilities) is left
   * alone: no trace of a privileged process's heap lands in a file of the
   * user who started it.  ld.so already drops LD_PRELOAD for such programs
   * unless the library sits in a system directory with the setuid bit or
   * comes from /etc/ld.so.preload; then the interposed functions only
   * forward, with no tracking, no thread, no handler and no file. */
  if (getauxval (AT_SECURE) != 0)
    return;
  linger_dlopen_watch ();
  linger_output_init ();
  pthread_atfork (fork_prepare, fork_parent, fork_child);
  bool is_python = linger_python_init ();
  /* 3.13t is refused: tracked as a native program (its malloc). */
  if (is_python && linger_python_free_threaded ())
    linger_alloc_init (false, true);
  else
    linger_alloc_init (is_python, linger_output_is_root ());
  linger_output_open_early ();
}

/* Runs after Py_FinalizeEx, from exit(): the trace is closed with an END
 * record, which is how the analyzer knows the run was not cut short. */
__attribute__ ((destructor)) static void
linger_preload_fini (void)
{
  linger_output_finish (LINGER_EXIT_NORMAL);
}

/* _exit() skips destructors: dash's `exit`, os._exit(), forked workers.
 * The trace is closed first so it still ends with END. */
__attribute__ ((visibility ("default"), noreturn)) void
_exit (int status)
{
  linger_output_finish (LINGER_EXIT_UNDERSCORE);
  if (real__exit != NULL)
    real__exit (status);
  syscall (SYS_exit_group, status);
  __builtin_unreachable ();
}

__attribute__ ((visibility ("default"), noreturn)) void
_Exit (int status)
{
  linger_output_finish (LINGER_EXIT_UNDERSCORE);
  if (real__Exit != NULL)
    real__Exit (status);
  syscall (SYS_exit_group, status);
  __builtin_unreachable ();
}

/* The snapshot signal stays linger's while the program believes it set its
 * own handler (which linger calls); every other signal goes straight
 * through. */
__attribute__ ((visibility ("default"))) int
sigaction (int sig, const struct sigaction *act, struct sigaction *oldact)
{
  return linger_trigger_sigaction (sig, act, oldact);
}

__attribute__ ((visibility ("default"))) __sighandler_t
signal (int sig, __sighandler_t handler)
{
  if (!linger_trigger_owns (sig) && real_signal != NULL)
    return real_signal (sig, handler);
  return linger_trigger_signal (sig, handler);
}
