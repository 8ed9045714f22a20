// linger-sample: leaks three calls deep at two distinct sites, among many freed blocks
//
// main -> grow_forest -> build_list -> make_node mallocs 1000 nodes of 64
// bytes; build_list frees all but the last 10 and drops those: 10 live
// blocks at the make_node site.  main -> setup -> fill_tables ->
// make_table callocs 8 tables of 250 × 4 bytes and frees 5: 3 live
// blocks of 1000 bytes.  make_scratch's 20000 blocks of mixed sizes are
// all freed and must not be reported.
//
// linger-expect: leak make_node blocks=10 bytes=640 site=node callers=build_list>grow_forest>main
// linger-expect: leak make_table blocks=3 bytes=3000 site=table callers=fill_tables>setup>main
// linger-expect-not: leak make_scratch
// linger-expect-allocations: native_allocs>=21000

#include <assert.h>
#include <stdlib.h>

#include "sample_out.h"

struct node
{
  struct node *next;
  long         id;
  char         payload[48];
};
static_assert (sizeof (struct node) == 64, "the expectation says 64 bytes a node");

static struct node *
make_node (long id)
{
  struct node *n = malloc (sizeof *n); // linger-site: node
  if (n == NULL)
    abort ();
  n->id = id;
  n->next = NULL;
  memset (n->payload, (int) (id & 0x7f), sizeof n->payload);
  return n;
}

/* Builds a list of @total nodes, frees all but the last @kept and
 * forgets those: they stay allocated with no pointer to them. */
static long
build_list (int total, int kept)
{
  struct node *head = NULL;
  long sum = 0;

  for (int i = 0; i < total; i++)
    {
      struct node *n = make_node (i);
      n->next = head;
      head = n;
    }
  for (int i = 0; i < total; i++)
    {
      struct node *next = head->next;
      sum += head->id;
      if (i >= kept)          /* the first @kept are the newest: leaked */
        free (head);
      head = next;
    }
  return sum;
}

static long
grow_forest (void)
{
  return build_list (1000, 10);
}

static int *
make_table (void)
{
  int *t = calloc (250, sizeof (int)); // linger-site: table
  if (t == NULL)
    abort ();
  return t;
}

static long
fill_tables (void)
{
  long sum = 0;
  for (int i = 0; i < 8; i++)
    {
      int *t = make_table ();
      for (int j = 0; j < 250; j++)
        t[j] = i + j;
      sum += t[249];
      if (i % 3 != 0)         /* tables 0, 3 and 6 are leaked */
        free (t);
    }
  return sum;
}

static long
setup (void)
{
  return fill_tables ();
}

static void *
make_scratch (size_t size)
{
  char *p = malloc (size); // linger-site: scratch
  if (p == NULL)
    abort ();
  p[0] = p[size - 1] = 1;
  return p;
}

int
main (void)
{
  unsigned seed = 1;
  void *pending[16] = { 0 };

  for (int i = 0; i < 20000; i++)
    {
      /* Up to 16 blocks alive at once, freed out of order. */
      unsigned slot = next_random (&seed) % 16;
      free (pending[slot]);
      pending[slot] = make_scratch (1 + next_random (&seed) % 4096);
    }
  for (int i = 0; i < 16; i++)
    free (pending[i]);

  say ("list sum %ld", grow_forest ());
  say ("table sum %ld", setup ());
  return 0;
}
