// linger-sample: 8 threads at once, each leaking 25 blocks at one site and freeing 5000 others
//
// Every thread runs worker(): it allocates and frees 5000 blocks of mixed
// sizes (interleaved with the other threads, since they start together
// at a barrier), and leaks 25 blocks of 48 bytes through thread_leak.
// All 8 × 25 leaks come from the same stack, so they are one finding.
// The program exits with status 3 (not 0) so that the check sees
// `linger run` pass the status through.
//
// linger-expect: leak thread_leak blocks=200 bytes=9600 site=thread callers=worker
// linger-expect-not: leak thread_scratch
// linger-expect-exit: 3
// linger-expect-allocations: native_allocs>=40200

#include <pthread.h>
#include <stdlib.h>

#include "sample_out.h"

#define THREADS      8
#define LEAKS        25
#define SCRATCH      5000

static pthread_barrier_t start_line;

static void *
thread_leak (unsigned id)
{
  unsigned *p = malloc (48); // linger-site: thread
  if (p == NULL)
    abort ();
  *p = id;
  return p;
}

static void *
thread_scratch (size_t size)
{
  char *p = malloc (size); // linger-site: thread-scratch
  if (p == NULL)
    abort ();
  p[0] = 1;
  return p;
}

static void *
worker (void *arg)
{
  unsigned id = (unsigned) (size_t) arg;
  unsigned seed = id + 1;
  void *keep[8] = { 0 };
  unsigned long sum = 0;

  pthread_barrier_wait (&start_line);
  for (int i = 0; i < SCRATCH; i++)
    {
      unsigned slot = next_random (&seed) % 8;
      free (keep[slot]);
      keep[slot] = thread_scratch (1 + next_random (&seed) % 512);
      if (i % (SCRATCH / LEAKS) == 0)
        {
          /* Leaked: the pointer is read and dropped. */
          unsigned *leaked = thread_leak (id);
          sum += *leaked;
        }
    }
  for (int i = 0; i < 8; i++)
    free (keep[i]);
  return (void *) sum;
}

int
main (void)
{
  pthread_t threads[THREADS];
  unsigned long total = 0;

  pthread_barrier_init (&start_line, NULL, THREADS);
  for (unsigned i = 0; i < THREADS; i++)
    if (pthread_create (&threads[i], NULL, worker, (void *) (size_t) i) != 0)
      abort ();
  for (unsigned i = 0; i < THREADS; i++)
    {
      void *ret;
      pthread_join (threads[i], &ret);
      total += (unsigned long) ret;
    }
  pthread_barrier_destroy (&start_line);
  say ("threads joined: %d, checksum %lu", THREADS, total);
  return 3;
}
