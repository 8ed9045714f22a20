// linger-sample: a clean program that allocates and frees two million blocks
//
// Mixed sizes (16 bytes to 64 KiB, so both glibc's bins and its mmap
// threshold are hit), up to 1024 blocks alive at once, freed out of
// order, with calloc and realloc among them; everything is freed before
// exit.  linger must report no leak, and must have seen the allocations
// (so that "no leak" is not just "no tracking").
//
// linger-expect-none
// linger-expect-allocations: native_allocs>=2000000

#include <stdlib.h>

#include "sample_out.h"

#define LIVE   1024
#define ROUNDS 2000000

static size_t
pick_size (unsigned *seed)
{
  unsigned r = next_random (seed);
  if (r % 1000 == 0)
    return 64 * 1024 + r % 4096;      /* rare: above the mmap threshold */
  if (r % 10 == 0)
    return 256 + r % 4096;
  return 16 + r % 240;
}

int
main (void)
{
  static void *slots[LIVE];
  unsigned seed = 42;
  unsigned long touched = 0;

  for (long i = 0; i < ROUNDS; i++)
    {
      unsigned slot = next_random (&seed) % LIVE;
      size_t size = pick_size (&seed);
      char *p;

      switch (i % 8)
        {
        case 0:
          p = calloc (1, size);
          break;
        case 1:
          /* Resize the block in the slot instead of replacing it. */
          p = realloc (slots[slot], size);
          slots[slot] = NULL;
          break;
        default:
          p = malloc (size);
          break;
        }
      if (p == NULL)
        abort ();
      p[0] = 1;
      touched += (unsigned char) p[0];
      free (slots[slot]);
      slots[slot] = p;
    }
  for (int i = 0; i < LIVE; i++)
    free (slots[i]);
  say ("blocks touched: %lu", touched);
  return 0;
}
