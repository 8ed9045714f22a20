/* linger_snapshot.h: a snapshot of the Python object graph.
 *
 * Must be called with the GIL held, from a point where running a little C
 * API is allowed (an atexit-like callback, never a signal handler).  The
 * walk itself runs no Python code: it reads objects through tp_traverse
 * (as gc.get_referents does), dict iteration and fixed layouts, and
 * disables the cyclic GC so nothing moves while it reads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "linger_writer.h"

/* Writes one snapshot into w.  Returns false if it had to stop early (the
 * trace then says so in a MESSAGE and a PARTIAL snapshot status).  With
 * objects_only, only the objects gc.get_objects() lists and their sites
 * are written, without walking their references (about 3 times faster
 * and 4 times smaller): what per-test attribution needs to know. */
bool linger_snapshot_take (linger_writer *w, uint32_t snapshot_id, uint32_t reason, bool objects_only);
