/* linger_guard.h: the per-thread re-entrancy guard and the spinlock every
 * allocation-tracking table uses.
 *
 * Whatever the shim does for itself (writing the trace, unwinding, its own
 * Python API calls, a snapshot) may allocate; those allocations must go
 * straight to the real allocator instead of being tracked, or the shim
 * would recurse into itself.  Frees are the exception: they always leave
 * the live table, because the address can be handed out again at once.
 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

extern __thread int linger_guard_depth __attribute__ ((tls_model ("initial-exec")));

static inline bool
linger_guarded (void)
{
  return linger_guard_depth != 0;
}

static inline void
linger_guard_enter (void)
{
  linger_guard_depth++;
}

static inline void
linger_guard_leave (void)
{
  linger_guard_depth--;
}

/* A test-and-set lock: the critical sections are a handful of loads and
 * stores, far shorter than a futex round trip.  After a while it yields,
 * so a preempted holder on a 2-core machine gets to finish. */
typedef struct
{
  volatile uint32_t locked;
} linger_spinlock;

static inline void
linger_spin_lock (linger_spinlock *l)
{
  unsigned spins = 0;
  while (__atomic_exchange_n (&l->locked, 1, __ATOMIC_ACQUIRE) != 0)
    {
      while (__atomic_load_n (&l->locked, __ATOMIC_RELAXED) != 0)
        {
          if (++spins < 64)
            __builtin_ia32_pause ();
          else
            sched_yield ();
        }
    }
}

static inline void
linger_spin_unlock (linger_spinlock *l)
{
  __atomic_store_n (&l->locked, 0, __ATOMIC_RELEASE);
}

/* After fork() only the calling thread exists: a lock held by any other
 * thread would never be released.  The atfork prepare handler takes every
 * lock so the tables are consistent; the child resets them. */
static inline void
linger_spin_reset (linger_spinlock *l)
{
  __atomic_store_n (&l->locked, 0, __ATOMIC_RELEASE);
}

#define LINGER_LIKELY(x) __builtin_expect (!!(x), 1)
#define LINGER_UNLIKELY(x) __builtin_expect (!!(x), 0)
