/* linger_alloc.h: allocation tracking, the part shared by the malloc
 * family and CPython's allocator domains.
 *
 * The hooks hand a block, its size and a *raw key* (the Python frames as
 * (code, instruction) pairs and/or native return addresses, plus domain
 * and phase) to linger_alloc_track().  The raw key is turned into a site
 * id once per distinct key; after that the hot path is a per-thread cache
 * probe, a shard-locked insert and two relaxed atomic adds.  Nothing is
 * written from inside a hook: stacks, sites and totals go to the trace at
 * flush points (snapshots, process end), so a hook never waits for the
 * trace's lock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "linger_guard.h"
#include "linger_trace_format.h"
#include "linger_writer.h"

/* Hot flags read by every hook. */
extern bool linger_alloc_native_on;   /* malloc family tracked */
extern bool linger_alloc_any_on;      /* some domain tracked: frees must look */

typedef enum
{
  LINGER_PHASE_STARTUP = 0,
  LINGER_PHASE_RUNNING = 1,
  LINGER_PHASE_SHUTDOWN = 2,
} linger_alloc_phase;

#define LINGER_PY_DEPTH_MAX 256
#define LINGER_NATIVE_DEPTH_MAX 256

typedef struct
{
  bool     python;         /* LINGER_ALLOC != 0 */
  bool     native;         /* LINGER_NATIVE, or a non-Python root process */
  uint32_t python_depth;   /* LINGER_PYTHON_DEPTH, default 8 */
  uint32_t native_depth;   /* LINGER_NATIVE_DEPTH, default 32 */
} linger_alloc_config;

extern linger_alloc_config linger_alloc_cfg;

/* Constructor: reads the environment and decides what is tracked.
 * `is_python`: CPython's API is present in the process. */
void linger_alloc_init (bool is_python, bool is_root);
/* An interpreter was dlopen()ed after start-up (an embedder). */
void linger_alloc_python_late (void);

void linger_alloc_set_phase (linger_alloc_phase phase);
linger_alloc_phase linger_alloc_get_phase (void);

/* Python frames of the calling thread as (code, instruction) word pairs,
 * filled by linger_pyalloc; returns the number of frames.  Set by the
 * Python side once its frame walker is validated. */
typedef uint32_t (*linger_py_capture_fn) (uint64_t *pairs, uint32_t max_frames, uint32_t domain);
/* Turns captured pairs into an interned Python stack id (called outside
 * any table lock, guard held). */
typedef uint32_t (*linger_py_resolve_fn) (const uint64_t *pairs, uint32_t n_frames, bool truncated);
void linger_alloc_set_python (linger_py_capture_fn capture, linger_py_resolve_fn resolve);

/* The site of an allocation the calling thread is making in `domain`:
 * captures the stacks the configuration asks for and interns them.  Call
 * with the guard NOT held (it enters it).  0 if it cannot be known. */
uint32_t linger_alloc_site (uint32_t domain);

/* Per-site totals.  `shared`: other threads may count the same site at
 * the same time (raw and native domains); the GIL-held domains use plain
 * increments. */
void linger_alloc_count (uint32_t site, size_t size, bool shared);
void linger_alloc_count_free (uint32_t site, uint32_t size, void *block, bool shared);

/* Native blocks live in a table (their memory is not ours to extend).
 * Tracks a block allocated in `domain` by the calling thread: captures
 * the stacks the configuration asks for.  Call with the guard NOT held
 * (it enters it); the block must already be allocated. */
void linger_alloc_track (void *p, size_t size, uint32_t domain);

/* Forgets a block about to be freed; counts the free for its site (and
 * as a cyclic-GC free inside a collection).  Safe with the guard held. */
bool linger_alloc_untrack (void *p, uint32_t *site, uint32_t *size);

/* Puts a block back with the site it had (a realloc that failed left it
 * allocated). */
void linger_alloc_retrack (void *p, uint32_t site, uint32_t size);

/* Cyclic GC windows (gc.callbacks start/stop), per thread. */
/* `skip`: blocks the collection's own bookkeeping will free inside the
 * window (not counted as the collector's frees). */
void linger_alloc_gc_start (const uintptr_t *skip, unsigned n_skip);
void linger_alloc_gc_stop (void);
extern __thread bool linger_alloc_in_gc __attribute__ ((tls_model ("initial-exec")));

/* Optional: classifies a block freed inside a collection (type name and
 * cycle kind).  Set by the Python side. */
typedef struct
{
  uintptr_t block;
  uint32_t  site;
  uint32_t  size;
  uintptr_t object;     /* object address, 0 if not an object */
  uintptr_t type;       /* a key for its type's name, resolved when the
                           type is known alive (see linger_type_name_fn) */
  uintptr_t link;       /* method: __self__; cell: contents; function: closure */
  uint32_t  link_kind;  /* linger_cycle_kind the link implies */
  uint32_t  kind;       /* decided at the end of the collection */
} linger_gc_event;
typedef void (*linger_gc_classify_fn) (linger_gc_event *ev);
typedef uint32_t (*linger_type_name_fn) (linger_writer *w, uintptr_t type);
void linger_alloc_set_gc_classifier (linger_gc_classify_fn classify, linger_type_name_fn name);

/* Writes the Python frames and stacks interned since the last flush;
 * called first by linger_alloc_flush so sites never refer forward. */
typedef void (*linger_py_flush_fn) (linger_writer *w);
void linger_alloc_set_py_flush (linger_py_flush_fn fn);

/* Writes what is new since the last flush: modules, stacks, sites, the
 * ALLOC_INFO record; with `final`, also per-site totals, cyclic-GC frees
 * and the blocks still live.  The caller holds the trace lock. */
void linger_alloc_flush (linger_writer *w, bool final);

/* fork() handlers. */
void linger_alloc_fork_prepare (void);
void linger_alloc_fork_parent (void);
void linger_alloc_fork_child (void);

/* Flags for ALLOC_INFO that the Python side knows. */
void linger_alloc_add_info_flags (uint32_t flags);
