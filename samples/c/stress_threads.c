/* stress_threads.c: eight threads allocate and free a million blocks
 * each, all at once, through malloc, calloc and realloc; one thread
 * leaks one block.  Checks that the shim's sharded table keeps up with
 * concurrent frees of blocks other threads just allocated (no lost or
 * duplicated entries: exactly one leak), and that the host's output and
 * exit status are untouched. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// linger-expect: leak leak_once blocks=1 bytes=4242 site=once callers=worker
// linger-expect-not: leak worker
// linger-expect-allocations: native_allocs>=8000000

#define THREADS 8
#define ROUNDS 1000000
#define SLOTS 64

static void *volatile kept;

static __attribute__ ((noinline)) void
leak_once (void)
{
  kept = malloc (4242); // linger-site: once
}

static void *
worker (void *arg)
{
  uintptr_t id = (uintptr_t) arg;
  void *slots[SLOTS] = { 0 };
  for (unsigned long i = 0; i < ROUNDS; i++)
    {
      unsigned k = i % SLOTS;
      size_t size = (i * 7 + id) % 700 + 1;
      switch (i % 3)
        {
        case 0:
          free (slots[k]);
          slots[k] = malloc (size);
          break;
        case 1:
          free (slots[k]);
          slots[k] = calloc (1, size);
          break;
        default:
          /* realloc of a live block: the old address leaves the table,
           * the new one enters it. */
          slots[k] = realloc (slots[k], size);
          break;
        }
      if (slots[k] != NULL)
        memset (slots[k], (int) id, 1);
    }
  for (unsigned k = 0; k < SLOTS; k++)
    free (slots[k]);
  if (id == 3)
    leak_once ();
  return NULL;
}

int
main (void)
{
  pthread_t threads[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++)
    if (pthread_create (&threads[i], NULL, worker, (void *) i) != 0)
      return 1;
  for (int i = 0; i < THREADS; i++)
    pthread_join (threads[i], NULL);
  static const char done[] = "8 threads x 1000000 allocations done\n";
  if (write (1, done, sizeof done - 1) < 0)
    return 1;
  return 0;
}
