// linger-sample: realloc chains and every aligned allocator, some leaked, some freed
//
// A block that realloc moved or resized is the block realloc returned:
// a leaked one is reported at the realloc call that made it (as valgrind
// and heaptrack do), with its last size, never at the malloc that began
// the chain.  Each allocator leaks from a function of its own, so each
// finding has one innermost function:
//   grow_buffer      realloc 16 → 4096 in 9 steps, twice: 2 × 4096 bytes
//   shrink_buffer    malloc 1000 then realloc to 24: 1 × 24 bytes at the realloc
//   leak_posix_memalign  posix_memalign(64, 200) × 2: 400 bytes
//   leak_aligned_alloc   aligned_alloc(128, 256) × 1
//   leak_memalign        memalign(32, 96) × 3: 288 bytes
//   leak_valloc          valloc(100) × 1: 100 bytes (the size asked for)
//   leak_pvalloc         pvalloc(4096) × 1 (a whole page, so no rounding)
//   leak_reallocarray    reallocarray(NULL, 5, 24) × 2, one kept: 120 bytes
//   grow_array           reallocarray(p, 10, 24) on the other one: 240 bytes
// Everything else is freed: by free, by realloc(p, 0) (which frees in
// glibc), and by free_sized / free_aligned_sized where the C library (or
// the preloaded shim) has them.
//
// linger-expect: leak grow_buffer blocks=2 bytes=8192 site=grow callers=main
// linger-expect: leak shrink_buffer blocks=1 bytes=24 site=shrink
// linger-expect: leak leak_posix_memalign blocks=2 bytes=400 site=posix-memalign
// linger-expect: leak leak_aligned_alloc blocks=1 bytes=256 site=aligned-alloc
// linger-expect: leak leak_memalign blocks=3 bytes=288 site=memalign
// linger-expect: leak leak_valloc blocks=1 bytes=100 site=valloc
// linger-expect: leak leak_pvalloc blocks=1 bytes=4096 site=pvalloc
// linger-expect: leak leak_reallocarray blocks=1 bytes=120 site=reallocarray
// linger-expect: leak grow_array blocks=1 bytes=240 site=grow-array
// linger-expect-not: leak churn
// linger-expect-allocations: native_allocs>=9000

#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "sample_out.h"

/* free_sized and free_aligned_sized are C23; glibc has them from 2.41.
 * Looked up at run time so that the sample builds everywhere; with the
 * shim preloaded they may come from the shim itself. */
typedef void (*free_sized_fn) (void *, size_t);
typedef void (*free_aligned_sized_fn) (void *, size_t, size_t);

static void
check_aligned (void *p, size_t alignment)
{
  if (p == NULL || (uintptr_t) p % alignment != 0)
    abort ();
}

static char *
grow_buffer (void)
{
  char *p = NULL;
  for (size_t size = 16; size <= 4096; size *= 2)
    {
      char *q = realloc (p, size); // linger-site: grow
      if (q == NULL)
        abort ();
      p = q;
      p[size - 1] = 'x';
    }
  return p;
}

static void *
start_buffer (void)
{
  void *p = malloc (1000); // linger-site: shrink-start
  if (p == NULL)
    abort ();
  return p;
}

static void *
shrink_buffer (void *p)
{
  void *q = realloc (p, 24); // linger-site: shrink
  if (q == NULL)
    abort ();
  return q;
}

static void *
leak_posix_memalign (void)
{
  void *p = NULL;
  if (posix_memalign (&p, 64, 200) != 0) // linger-site: posix-memalign
    abort ();
  check_aligned (p, 64);
  return p;
}

static void *
leak_aligned_alloc (void)
{
  void *p = aligned_alloc (128, 256); // linger-site: aligned-alloc
  check_aligned (p, 128);
  return p;
}

static void *
leak_memalign (void)
{
  void *p = memalign (32, 96); // linger-site: memalign
  check_aligned (p, 32);
  return p;
}

static void *
leak_valloc (void)
{
  void *p = valloc (100); // linger-site: valloc
  check_aligned (p, 4096);
  return p;
}

static void *
leak_pvalloc (void)
{
  void *p = pvalloc (4096); // linger-site: pvalloc
  check_aligned (p, 4096);
  return p;
}

static void *
leak_reallocarray (void)
{
  void *p = reallocarray (NULL, 5, 24); // linger-site: reallocarray
  if (p == NULL)
    abort ();
  return p;
}

static void *
grow_array (void *p)
{
  void *q = reallocarray (p, 10, 24); // linger-site: grow-array
  if (q == NULL)
    abort ();
  return q;
}

/* Every allocator once more, all freed: none of this may be reported. */
static unsigned long
churn (int rounds)
{
  free_sized_fn fs = (free_sized_fn) dlsym (RTLD_DEFAULT, "free_sized");
  free_aligned_sized_fn fas = (free_aligned_sized_fn) dlsym (RTLD_DEFAULT, "free_aligned_sized");
  unsigned long sum = 0;
  unsigned seed = 7;

  for (int i = 0; i < rounds; i++)
    {
      size_t size = 1 + next_random (&seed) % 2000;
      char *p = malloc (size);
      char *q = realloc (p, size * 2);
      if (q == NULL)
        abort ();
      q[0] = 1;
      sum += (unsigned char) q[0];
      if (i % 2)
        {
          /* realloc(p, 0) frees p in glibc and returns NULL (or a new
           * minimum block elsewhere, which we free). */
          void *z = realloc (q, 0);
          free (z);
        }
      else if (fs != NULL)
        fs (q, size * 2);
      else
        free (q);

      void *a = NULL;
      if (posix_memalign (&a, 16 << (i % 4), size) != 0)
        abort ();
      free (a);
      void *b = aligned_alloc (64, 64 * (1 + i % 8));
      if (fas != NULL)
        fas (b, 64, 64 * (1 + i % 8));
      else
        free (b);
      free (memalign (256, size));
      free (valloc (size));
      free (pvalloc (size));
      void *c = calloc (size, 3);
      free (reallocarray (c, size, 4));
    }
  return sum;
}

int
main (void)
{
  unsigned long sum = churn (1000);

  /* Leaked: each block is used once and its pointer dropped. */
  for (int i = 0; i < 2; i++)
    sum += (unsigned char) grow_buffer ()[4095];
  sum += shrink_buffer (start_buffer ()) != NULL;
  for (int i = 0; i < 2; i++)
    sum += leak_posix_memalign () != NULL;
  sum += leak_aligned_alloc () != NULL;
  for (int i = 0; i < 3; i++)
    sum += leak_memalign () != NULL;
  sum += leak_valloc () != NULL;
  sum += leak_pvalloc () != NULL;
  sum += leak_reallocarray () != NULL;
  /* This one's block is grown by grow_array: the live block is grow_array's. */
  sum += grow_array (leak_reallocarray ()) != NULL;
  say ("realloc sample done (%lu)", sum);
  return 0;
}
