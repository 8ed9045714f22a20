/* linger_trigger.h: snapshots on demand (a signal) and over time (an
 * interval), taken by a helper thread.
 *
 * The signal handler only posts a semaphore: no Python code and
 * no lock runs in signal context (Py_AddPendingCall is not
 * async-signal-safe, cpython-internals.md section 9).  A helper pthread
 * that blocks every signal waits on it (and on the interval), takes
 * the GIL with PyGILState_Ensure and snapshots, so the snapshot comes
 * promptly even while the main thread sits in accept().
 *
 * Two things were tried and dropped, and why:
 *  - calling CPython's own async-signal-safe handler for a private signal
 *    whose Python handler snapshots: CPython then also writes that signal
 *    number to the program's set_wakeup_fd() pipe (test_signal saw it);
 *  - a helper thread alive across os.fork(): CPython 3.12+ counts the OS
 *    threads at fork and warns ("multi-threaded, use of fork() may lead
 *    to deadlocks").  So the thread is stopped before os.fork() and
 *    started again after it (os.register_at_fork).
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
 * LINGER_SNAPSHOT_INTERVAL (seconds) and arms them.  `snapshot` is called
 * with the GIL held. */
void linger_trigger_start (void (*snapshot) (unsigned reason));

/* Interpreter shutdown has begun: no more signal or interval snapshots. */
void linger_trigger_stop (void);

/* pthread_atfork child: the thread is gone and the semaphore is the parent's copy. */
void linger_trigger_fork_child (void);

/* True if sig is the snapshot signal linger has taken over. */
bool linger_trigger_owns (int sig);

/* The interposed entry points forward here. */
int linger_trigger_sigaction (int sig, const struct sigaction *act, struct sigaction *oldact);
__sighandler_t linger_trigger_signal (int sig, __sighandler_t handler);
