/* linger_malloc.c: the interposed malloc family, and nothing else.
 *
 * Each entry point forwards to the next allocator (linger_real) and, when
 * native tracking is on and the calling thread is not inside linger
 * itself, tells linger_alloc about the block.  Frees leave the live table
 * *before* the real free: once freed, the address can be handed to
 * another thread at once, whose insert must not be undone by ours.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linger_alloc.h"
#include "linger_guard.h"
#include "linger_real.h"

__thread int linger_guard_depth __attribute__ ((tls_model ("initial-exec")));

#define EXPORT __attribute__ ((visibility ("default")))

static inline bool
tracking (void)
{
  return LINGER_UNLIKELY (__atomic_load_n (&linger_alloc_native_on, __ATOMIC_RELAXED))
         && !linger_guarded ();
}

static inline void
track (void *p, size_t size)
{
  if (p != NULL && tracking ())
    linger_alloc_track (p, size, LINGER_DOMAIN_NATIVE);
}

static inline void
untrack (void *p)
{
  if (LINGER_UNLIKELY (__atomic_load_n (&linger_alloc_native_on, __ATOMIC_RELAXED)))
    linger_alloc_untrack (p, NULL, NULL);
}

EXPORT void *
malloc (size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready ()))
    return linger_bootstrap_alloc (size, 16);
  void *p = linger_real.malloc (size);
  track (p, size);
  return p;
}

EXPORT void
free (void *p)
{
  if (p == NULL || LINGER_UNLIKELY (linger_bootstrap_owns (p)))
    return;
  untrack (p);
  linger_real.free (p);
}

EXPORT void *
calloc (size_t n, size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready ()))
    {
      size_t total;
      if (__builtin_mul_overflow (n, size, &total))
        return NULL;
      return linger_bootstrap_alloc (total, 16);
    }
  void *p = linger_real.calloc (n, size);
  track (p, n * size);
  return p;
}

EXPORT void *
realloc (void *old, size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready () || linger_bootstrap_owns (old)))
    {
      /* Out of the bootstrap pool: copy into a real (or pool) block. */
      void *p = linger_real_ready () ? malloc (size) : linger_bootstrap_alloc (size, 16);
      if (p != NULL && old != NULL)
        {
          size_t old_size = linger_bootstrap_size (old);
          memcpy (p, old, old_size < size ? old_size : size);
        }
      return p;
    }
  if (old == NULL)
    {
      void *p = linger_real.realloc (NULL, size);
      track (p, size);
      return p;
    }
  /* Remember the old block's site: if realloc fails the block is still
   * live and goes back into the table. */
  uint32_t old_site = 0, old_size = 0;
  bool was_tracked = LINGER_UNLIKELY (__atomic_load_n (&linger_alloc_native_on, __ATOMIC_RELAXED))
                     && linger_alloc_untrack (old, &old_site, &old_size);
  void *p = linger_real.realloc (old, size);
  if (p == NULL)
    {
      if (size != 0 && was_tracked)
        linger_alloc_retrack (old, old_site, old_size);
      return NULL;
    }
  track (p, size);
  return p;
}

EXPORT void *
reallocarray (void *old, size_t n, size_t size)
{
  size_t total;
  if (__builtin_mul_overflow (n, size, &total))
    {
      errno = ENOMEM;
      return NULL;
    }
  return realloc (old, total);
}

EXPORT int
posix_memalign (void **out, size_t align, size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready ()))
    {
      *out = linger_bootstrap_alloc (size, align);
      return *out ? 0 : ENOMEM;
    }
  int rc = linger_real.posix_memalign (out, align, size);
  if (rc == 0)
    track (*out, size);
  return rc;
}

EXPORT void *
aligned_alloc (size_t align, size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready ()))
    return linger_bootstrap_alloc (size, align);
  void *p = linger_real.aligned_alloc (align, size);
  track (p, size);
  return p;
}

EXPORT void *
memalign (size_t align, size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready ()))
    return linger_bootstrap_alloc (size, align);
  void *p = linger_real.memalign (align, size);
  track (p, size);
  return p;
}

EXPORT void *
valloc (size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready ()))
    return linger_bootstrap_alloc (size, 4096);
  void *p = linger_real.valloc (size);
  track (p, size);
  return p;
}

EXPORT void *
pvalloc (size_t size)
{
  if (LINGER_UNLIKELY (!linger_real_ready ()))
    return linger_bootstrap_alloc ((size + 4095) & ~(size_t) 4095, 4096);
  void *p = linger_real.pvalloc (size);
  track (p, (size + 4095) & ~(size_t) 4095);
  return p;
}

void free_sized (void *p, size_t size);
void free_aligned_sized (void *p, size_t align, size_t size);

/* C23 sized frees (glibc 2.40+); a program built against an older libc
 * never calls them, one built against a newer one may. */
EXPORT void
free_sized (void *p, size_t size)
{
  (void) size;
  free (p);
}

EXPORT void
free_aligned_sized (void *p, size_t align, size_t size)
{
  (void) align;
  (void) size;
  free (p);
}
