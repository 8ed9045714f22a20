/* alloc_workload.c: a native allocation workload for bench/alloc_bench.py.
 *
 * 4 threads, each making ROUNDS allocations of mixed sizes (mostly small,
 * some medium, a few above glibc's mmap threshold) with a working set
 * of 4096 blocks freed out of order, every 8th a realloc of a live block,
 * every 16th a calloc; call stacks of a few different depths so that
 * stack capture has distinct stacks to intern.  Leaks 100 blocks per
 * thread on purpose (a leak report has something to say).  Prints a
 * checksum; deterministic.
 *
 * Usage: alloc-workload [ROUNDS_PER_THREAD]   (default 1500000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define WORKING 4096
#define LEAKS   100

static long rounds = 1500000;

static unsigned
next_random (unsigned *state)
{
  *state = *state * 1103515245u + 12345u;
  return (*state >> 8) & 0xffffffu;
}

static size_t
pick_size (unsigned r)
{
  if (r % 2048 == 0)
    return 200 * 1024 + r % 8192;      /* mmap'ed by glibc */
  if (r % 16 == 0)
    return 512 + r % 8192;
  return 8 + r % 248;
}

/* Three call depths, so that the same malloc call has several stacks. */
__attribute__((noinline)) static char *
alloc_leaf (size_t size, int zero)
{
  char *p = zero ? calloc (1, size) : malloc (size);
  if (p == NULL)
    abort ();
  p[0] = (char) size;
  return p;
}

__attribute__((noinline)) static char *
alloc_mid (size_t size, int zero)
{
  char *p = alloc_leaf (size, zero);
  p[size - 1] = 1;
  return p;
}

__attribute__((noinline)) static char *
alloc_top (size_t size, int zero, unsigned r)
{
  return (r & 1) ? alloc_mid (size, zero) : alloc_leaf (size, zero);
}

__attribute__((noinline)) static void *
leak_one (unsigned id)
{
  unsigned *p = malloc (64);
  if (p == NULL)
    abort ();
  *p = id;
  return p;
}

static void *
worker (void *arg)
{
  unsigned seed = (unsigned) (size_t) arg * 7919u + 1u;
  char **slots = calloc (WORKING, sizeof *slots);
  size_t *sizes = calloc (WORKING, sizeof *sizes);
  unsigned long sum = 0;

  if (slots == NULL || sizes == NULL)
    abort ();
  for (long i = 0; i < rounds; i++)
    {
      unsigned r = next_random (&seed);
      unsigned slot = r % WORKING;
      size_t size = pick_size (next_random (&seed));

      if (i % 8 == 7 && slots[slot] != NULL)
        {
          char *q = realloc (slots[slot], size);
          if (q == NULL)
            abort ();
          q[size - 1] = 2;
          slots[slot] = q;
        }
      else
        {
          free (slots[slot]);
          slots[slot] = alloc_top (size, i % 16 == 0, r);
        }
      sizes[slot] = size;
      sum += (unsigned char) slots[slot][0];
      if (i % (rounds / LEAKS) == 0)
        sum += *(unsigned *) leak_one ((unsigned) i);   /* dropped: leaked */
    }
  for (unsigned i = 0; i < WORKING; i++)
    free (slots[i]);
  free (slots);
  free (sizes);
  return (void *) sum;
}

int
main (int argc, char **argv)
{
  pthread_t threads[THREADS];
  unsigned long total = 0;

  if (argc > 1)
    rounds = atol (argv[1]);
  if (rounds < LEAKS)
    rounds = LEAKS;
  for (unsigned i = 0; i < THREADS; i++)
    if (pthread_create (&threads[i], NULL, worker, (void *) (size_t) i) != 0)
      abort ();
  for (unsigned i = 0; i < THREADS; i++)
    {
      void *ret;
      pthread_join (threads[i], &ret);
      total += (unsigned long) ret;
    }
  printf ("checksum %lu, %d threads × %ld allocations\n", total, THREADS, rounds);
  return 0;
}
