/* linger_trigger.h: snapshots on demand (a signal) and over time (an
 * interval).
 *
 * No Python code and no lock runs in signal context (Py_AddPendingCall is
 * not async-signal-safe, cpython-internals.md section 9), and no thread is
 * started (CPython 3.12+ warns on os.fork() in a process with several OS
 * threads, which would change the program's output).  Instead the shim
 * claims one unused real-time signal, the "private" signal, with a
 * Python-level handler that is a C function taking the snapshot.  CPython
 * runs it in the main thread at the next safe point, as it runs any
 * signal handler.  linger's handler for the snapshot signal (SIGUSR2 by
 * default) calls CPython's own async-signal-safe C handler for the private
 * signal; the interval timer delivers the private signal directly.
 *
 * The program keeps its own handler for the snapshot signal: sigaction()
 * and signal() are interposed for that one signal, so the program sees and
 * sets its own disposition while linger's stays installed and calls it.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>

/* Constructor time: resolves the real sigaction. */
void linger_trigger_preinit (void);

/* In the main thread, with the GIL, once the interpreter runs user code:
 * reads LINGER_SNAPSHOT_SIGNAL (default SIGUSR2; "off" disables) and
 * LINGER_SNAPSHOT_INTERVAL (seconds) and arms them. */
void linger_trigger_start (void (*snapshot) (unsigned reason));

/* Interpreter shutdown has begun: no more signal or interval snapshots. */
void linger_trigger_stop (void);

/* After fork() in the child: timers are not inherited, re-arm. */
void linger_trigger_fork_child (void);

/* True if sig is the snapshot signal linger has taken over. */
bool linger_trigger_owns (int sig);

/* The interposed entry points forward here. */
int linger_trigger_sigaction (int sig, const struct sigaction *act, struct sigaction *oldact);
__sighandler_t linger_trigger_signal (int sig, __sighandler_t handler);
