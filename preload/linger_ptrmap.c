/* linger_ptrmap.c */
#include "linger_ptrmap.h"

#include <stdlib.h>

static inline size_t
hash_ptr (uintptr_t p)
{
  /* Objects are 16-byte aligned: drop the zero bits, then mix. */
  uint64_t h = (uint64_t) p >> 4;
  h *= 0x9E3779B97F4A7C15ull;
  return (size_t) (h ^ (h >> 29));
}

bool
linger_ptrmap_init (linger_ptrmap *m, size_t expected)
{
  size_t n = 64;
  while (n < expected * 2)
    n *= 2;
  m->slots = calloc (n, sizeof *m->slots);
  m->mask = n - 1;
  m->used = 0;
  return m->slots != NULL;
}

void
linger_ptrmap_clear (linger_ptrmap *m)
{
  free (m->slots);
  m->slots = NULL;
  m->mask = 0;
  m->used = 0;
}

static bool
grow (linger_ptrmap *m)
{
  size_t n = (m->mask + 1) * 2;
  linger_ptrmap_slot *slots = calloc (n, sizeof *slots);
  if (slots == NULL)
    return false;
  for (size_t i = 0; i <= m->mask; i++)
    {
      if (m->slots[i].key == 0)
        continue;
      size_t j = hash_ptr (m->slots[i].key) & (n - 1);
      while (slots[j].key != 0)
        j = (j + 1) & (n - 1);
      slots[j] = m->slots[i];
    }
  free (m->slots);
  m->slots = slots;
  m->mask = n - 1;
  return true;
}

uint32_t *
linger_ptrmap_upsert (linger_ptrmap *m, uintptr_t key, bool *inserted)
{
  *inserted = false;
  if (m->slots == NULL)
    return NULL;
  if ((m->used + 1) * 3 > (m->mask + 1) * 2 && !grow (m))
    return NULL;
  size_t j = hash_ptr (key) & m->mask;
  while (m->slots[j].key != 0)
    {
      if (m->slots[j].key == key)
        return &m->slots[j].value;
      j = (j + 1) & m->mask;
    }
  m->slots[j].key = key;
  m->slots[j].value = 0;
  m->used++;
  *inserted = true;
  return &m->slots[j].value;
}

uint32_t *
linger_ptrmap_lookup (const linger_ptrmap *m, uintptr_t key)
{
  if (m->slots == NULL)
    return NULL;
  size_t j = hash_ptr (key) & m->mask;
  while (m->slots[j].key != 0)
    {
      if (m->slots[j].key == key)
        return &m->slots[j].value;
      j = (j + 1) & m->mask;
    }
  return NULL;
}
