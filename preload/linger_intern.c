/* linger_intern.c: see linger_intern.h. */
#include "linger_intern.h"

#include <string.h>
#include <sys/mman.h>

void *
linger_map (size_t bytes)
{
  void *p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void
linger_unmap (void *p, size_t bytes)
{
  if (p != NULL)
    munmap (p, bytes);
}

uint64_t
linger_hash_words (const uint64_t *words, uint32_t n)
{
  /* Two independent multiply lanes: this runs on every allocation, and
   * one serial chain of multiplies is the longest part of it. */
  uint64_t a = 0x9e3779b97f4a7c15ull ^ n, b = 0xc2b2ae3d27d4eb4full;
  uint32_t i = 0;
  for (; i + 1 < n; i += 2)
    {
      a = (a ^ words[i]) * 0xff51afd7ed558ccdull;
      b = (b ^ words[i + 1]) * 0xc4ceb9fe1a85ec53ull;
    }
  if (i < n)
    a = (a ^ words[i]) * 0xff51afd7ed558ccdull;
  uint64_t h = a ^ (b >> 31) ^ (b << 33);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h | 1; /* never 0 */
}

#define ARENA_CHUNK (1u << 20)

static bool
grow_slots (linger_interner *in)
{
  size_t old_n = in->slots ? in->mask + 1 : 0;
  size_t n = old_n ? old_n * 2 : 4096;
  linger_intern_slot *slots = linger_map (n * sizeof *slots);
  if (slots == NULL)
    return false;
  for (size_t i = 0; i < old_n; i++)
    {
      linger_intern_slot s = in->slots[i];
      if (s.id == 0)
        continue;
      size_t j = s.hash & (n - 1);
      while (slots[j].id != 0)
        j = (j + 1) & (n - 1);
      slots[j] = s;
    }
  if (in->slots)
    {
      linger_unmap (in->slots, old_n * sizeof *in->slots);
      in->bytes -= old_n * sizeof *in->slots;
    }
  in->slots = slots;
  in->mask = n - 1;
  in->bytes += n * sizeof *slots;
  return true;
}

/* Entries are an array indexed by id that readers may index without the
 * lock, so it is reserved once, large, and touched lazily. */
#define MAX_ENTRIES (1u << 22)

uint32_t
linger_intern (linger_interner *in, const uint64_t *words, uint32_t n, uint64_t hash, uint32_t aux,
               bool *inserted)
{
  *inserted = false;
  linger_spin_lock (&in->lock);
  if (in->slots == NULL || in->entries == NULL)
    {
      if ((in->slots == NULL && !grow_slots (in))
          || (in->entries == NULL
              && (in->entries = linger_map (MAX_ENTRIES * sizeof *in->entries)) == NULL))
        {
          linger_spin_unlock (&in->lock);
          return 0;
        }
      in->entries_cap = MAX_ENTRIES;
      if (in->next_id == 0)
        in->next_id = 1;
    }
  size_t i = hash & in->mask;
  for (;;)
    {
      linger_intern_slot *s = &in->slots[i];
      if (s->id == 0)
        break;
      if (s->hash == hash)
        {
          const linger_intern_entry *e = &in->entries[s->id];
          if (e->n_words == n && memcmp (e->words, words, n * sizeof *words) == 0)
            {
              uint32_t id = s->id;
              linger_spin_unlock (&in->lock);
              return id;
            }
        }
      i = (i + 1) & in->mask;
    }
  /* Insert. */
  if (in->next_id >= in->entries_cap)
    {
      linger_spin_unlock (&in->lock);
      return 0;
    }
  size_t need = (size_t) n * sizeof *words;
  if (need > in->arena_left)
    {
      size_t chunk = need > ARENA_CHUNK ? need : ARENA_CHUNK;
      uint8_t *a = linger_map (chunk);
      if (a == NULL)
        {
          linger_spin_unlock (&in->lock);
          return 0;
        }
      in->arena = a;
      in->arena_left = chunk;
    }
  uint64_t *copy = (uint64_t *) (void *) in->arena;
  memcpy (copy, words, need);
  in->arena += need;
  in->arena_left -= need;
  /* Memory in use, not address space: the words and the entry (pages
   * of the mappings that were never touched cost nothing). */
  in->bytes += need + sizeof (linger_intern_entry);

  uint32_t id = in->next_id;
  in->entries[id] = (linger_intern_entry) { .words = copy, .n_words = n, .aux = aux };
  in->slots[i] = (linger_intern_slot) { .hash = hash, .id = id };
  __atomic_store_n (&in->next_id, id + 1, __ATOMIC_RELEASE);
  *inserted = true;
  /* Keep the load under 1/2. */
  if ((size_t) id * 2 > in->mask + 1)
    grow_slots (in);
  linger_spin_unlock (&in->lock);
  return id;
}

void
linger_intern_set_value (linger_interner *in, uint32_t id, uint32_t value)
{
  __atomic_store_n (&in->entries[id].value, value, __ATOMIC_RELEASE);
}

uint32_t
linger_intern_value (const linger_interner *in, uint32_t id)
{
  return __atomic_load_n (&in->entries[id].value, __ATOMIC_ACQUIRE);
}
