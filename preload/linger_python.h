/* linger_python.h: finding CPython in the process and getting control.
 *
 * From the constructor, registers an audit hook (the one entry point that
 * works from before Py_Initialize on every version, static or shared).
 * When the interpreter starts running user code (cpython.run_*), arranges
 * the exit snapshot: threading._register_atexit on 3.9+, a wrapper around
 * threading._shutdown on 3.8, both of which run before weakref.finalize's
 * atexit handler empties its registry (cpython-internals.md section 9).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Constructor time.  Does nothing in a process without CPython. */
/* Returns true if the process is CPython (supported or not). */
bool linger_python_init (void);
/* A free-threaded build (3.13t), refused: only native tracking runs. */
bool linger_python_free_threaded (void);
/* Whether an interpreter (supported or not) was found. */
bool linger_python_found (void);
/* After a dlopen() of a libpython: finds an interpreter loaded late. */
void linger_python_dlopened (void *handle);

/* A snapshot now (reason ON_API), labelled if label is not NULL, for the
 * _linger module: the caller holds the GIL and runs no Python code until
 * it returns.  objects_only (labelled only): the objects, not the graph
 * (linger_snapshot_take).  Returns the snapshot id, 0 if none was taken
 * (the exit snapshot was, or the trace cannot be written). */
uint32_t linger_python_snapshot_now (const char *label, size_t label_len, bool objects_only);

/* After fork() in the child. */
void linger_python_fork_child (void);
