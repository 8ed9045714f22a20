/* linger_pyalloc.h: CPython's allocator domains, Python allocation sites
 * and object lifetimes.
 *
 * The three PyMem domains are wrapped at the first audit event (after
 * CPython set up its allocators, so PYTHONMALLOC and -X dev are wrapped
 * rather than lost, cpython-internals.md sections 2 and 10) and never
 * unwrapped.  Allocation sites come from walking the interpreter's frames
 * through the per-version layout, which is enabled only after it agreed
 * with the public API on a live frame.  gc.callbacks tells which frees
 * happen inside a cyclic collection.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "linger_pyapi.h"

/* First audit event: wraps the domains if allocation tracking is on. */
void linger_pyalloc_install (void);

/* Tries to validate the frame walker against the public API (GIL held);
 * cheap once decided.  Call wherever Python frames are likely. */
void linger_pyalloc_validate (void);

/* At the start of the program's code: registers the gc.callbacks hook. */
void linger_pyalloc_start (void);

/* The allocation site of a live object (through the block under its
 * pre-header, section 4), 0 if it has none. */
uint32_t linger_pyalloc_object_site (lpy_object *obj);

/* True when sites exist at all (for the snapshot). */
bool linger_pyalloc_active (void);

void linger_pyalloc_fork_child (void);
