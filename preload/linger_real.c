/* linger_real.c: resolving the next allocator (see linger_real.h). */
#include "linger_real.h"

#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

#include "linger_guard.h"

linger_real_fns linger_real;

/* Enough for glibc's dlsym/dlerror bookkeeping during resolution, and for
 * anything that runs on another thread in that short window.  Blocks are
 * never reused: the pool only serves start-up. */
#define BOOTSTRAP_SIZE (256u * 1024u)
static uint8_t bootstrap_pool[BOOTSTRAP_SIZE] __attribute__ ((aligned (64)));
static size_t bootstrap_used;

/* Each block is preceded by its size so realloc can copy it out. */
void *
linger_bootstrap_alloc (size_t size, size_t align)
{
  if (align < 16)
    align = 16;
  if (size > BOOTSTRAP_SIZE)
    return NULL;
  size_t old, start, end;
  do
    {
      old = __atomic_load_n (&bootstrap_used, __ATOMIC_RELAXED);
      start = (old + 16 + align - 1) & ~(align - 1);
      end = start + size;
      if (end > BOOTSTRAP_SIZE)
        return NULL;
    }
  while (!__atomic_compare_exchange_n (&bootstrap_used, &old, end, false, __ATOMIC_RELAXED,
                                       __ATOMIC_RELAXED));
  uint8_t *p = bootstrap_pool + start;
  memcpy (p - sizeof (size_t), &size, sizeof size);
  memset (p, 0, size); /* callers include calloc */
  return p;
}

bool
linger_bootstrap_owns (const void *p)
{
  return (const uint8_t *) p >= bootstrap_pool && (const uint8_t *) p < bootstrap_pool + BOOTSTRAP_SIZE;
}

size_t
linger_bootstrap_size (const void *p)
{
  size_t size;
  memcpy (&size, (const uint8_t *) p - sizeof (size_t), sizeof size);
  return size;
}

static volatile int resolve_state; /* 0 not started, 1 resolving, 2 done */

bool
linger_real_ready (void)
{
  if (LINGER_LIKELY (__atomic_load_n (&resolve_state, __ATOMIC_ACQUIRE) == 2))
    return true;
  int expected = 0;
  if (!__atomic_compare_exchange_n (&resolve_state, &expected, 1, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
    return false; /* another caller (maybe this thread, inside dlsym) is resolving */

  linger_guard_enter ();
  linger_real_fns r;
  memset (&r, 0, sizeof r);
#define RESOLVE(name) *(void **) (&r.name) = dlsym (RTLD_NEXT, #name)
  RESOLVE (malloc);
  RESOLVE (free);
  RESOLVE (calloc);
  RESOLVE (realloc);
  RESOLVE (posix_memalign);
  RESOLVE (aligned_alloc);
  RESOLVE (memalign);
  RESOLVE (valloc);
  RESOLVE (pvalloc);
  RESOLVE (reallocarray);
  RESOLVE (free_sized);
  RESOLVE (free_aligned_sized);
  RESOLVE (malloc_usable_size);
#undef RESOLVE
  linger_real = r;
  linger_guard_leave ();
  __atomic_store_n (&resolve_state, 2, __ATOMIC_RELEASE);
  return linger_real.malloc != NULL && linger_real.free != NULL && linger_real.calloc != NULL
         && linger_real.realloc != NULL;
}
