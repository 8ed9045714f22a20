/* linger_intern.h: interning of short arrays of 64-bit words (stacks,
 * sites), with dense ids starting at 1.
 *
 * Used inside allocation hooks, so it never calls malloc: its tables and
 * the interned words live in mmap'ed memory that only grows.  Entries are
 * never removed, which is what lets readers keep pointers to them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "linger_guard.h"

typedef struct
{
  const uint64_t *words;
  uint32_t        n_words;
  uint32_t        value;   /* caller's payload, set with linger_intern_set_value */
  uint32_t        aux;     /* caller's payload fixed at insertion */
} linger_intern_entry;

typedef struct
{
  uint64_t hash;
  uint32_t id;             /* 0 = empty slot */
  uint32_t padding;
} linger_intern_slot;

typedef struct
{
  linger_spinlock      lock;
  linger_intern_slot  *slots;
  size_t               mask;
  linger_intern_entry *entries;      /* indexed by id; [0] unused */
  size_t               entries_cap;
  uint32_t             next_id;
  uint8_t             *arena;        /* current chunk for words */
  size_t               arena_left;
  size_t               bytes;        /* mapped, for the report */
} linger_interner;

uint64_t linger_hash_words (const uint64_t *words, uint32_t n);

/* Returns the id of words[0..n) (inserting a copy if new; *inserted says
 * so), or 0 if memory ran out.  `aux` is stored only on insertion. */
uint32_t linger_intern (linger_interner *in, const uint64_t *words, uint32_t n, uint64_t hash,
                        uint32_t aux, bool *inserted);

/* The entry of an id returned by linger_intern (stable pointer). */
static inline const linger_intern_entry *
linger_intern_get (const linger_interner *in, uint32_t id)
{
  return &in->entries[id];
}

static inline uint32_t
linger_intern_count (const linger_interner *in)
{
  return __atomic_load_n (&in->next_id, __ATOMIC_ACQUIRE) ? in->next_id - 1 : 0;
}

void linger_intern_set_value (linger_interner *in, uint32_t id, uint32_t value);
uint32_t linger_intern_value (const linger_interner *in, uint32_t id);

/* Memory from mmap, for the shim's own tables (never malloc). */
void *linger_map (size_t bytes);
void linger_unmap (void *p, size_t bytes);
