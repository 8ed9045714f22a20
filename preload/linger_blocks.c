/* linger_blocks.c: see linger_blocks.h. */
#include "linger_blocks.h"

#include "linger_guard.h"
#include "linger_intern.h"

typedef struct
{
  uintptr_t addr;  /* 0 = empty */
  uint32_t  site;
  uint32_t  size;
} block_slot;

/* 256 shards: two threads rarely hit the same lock, and a shard's table
 * starts at one page. */
#define N_SHARDS 256
#define SHARD_INITIAL 256

typedef struct
{
  linger_spinlock lock;
  block_slot     *slots;
  size_t          mask;
  size_t          used;
  char            pad[64 - sizeof (linger_spinlock) - sizeof (void *) - 2 * sizeof (size_t)];
} shard;

static shard shards[N_SHARDS] __attribute__ ((aligned (64)));
static uint64_t table_bytes;

static inline uint64_t
mix (uintptr_t a)
{
  /* Blocks are 16-aligned: drop the low bits, then spread. */
  uint64_t h = (uint64_t) a >> 4;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

static inline shard *
shard_of (uint64_t h)
{
  return &shards[h >> 56];
}

bool
linger_blocks_init (void)
{
  return true;
}

static bool
shard_grow (shard *s)
{
  size_t old_n = s->slots ? s->mask + 1 : 0;
  size_t n = old_n ? old_n * 2 : SHARD_INITIAL;
  block_slot *slots = linger_map (n * sizeof *slots);
  if (slots == NULL)
    return false;
  for (size_t i = 0; i < old_n; i++)
    {
      block_slot b = s->slots[i];
      if (b.addr == 0)
        continue;
      size_t j = mix (b.addr) & (n - 1);
      while (slots[j].addr != 0)
        j = (j + 1) & (n - 1);
      slots[j] = b;
    }
  if (s->slots)
    linger_unmap (s->slots, old_n * sizeof *s->slots);
  __atomic_add_fetch (&table_bytes, (n - old_n) * sizeof *slots, __ATOMIC_RELAXED);
  s->slots = slots;
  s->mask = n - 1;
  return true;
}

bool
linger_blocks_insert (uintptr_t addr, uint32_t site, size_t size)
{
  uint64_t h = mix (addr);
  shard *s = shard_of (h);
  uint32_t sz = size >= LINGER_BLOCK_SIZE_MAX ? LINGER_BLOCK_SIZE_MAX : (uint32_t) size;
  linger_spin_lock (&s->lock);
  if ((s->slots == NULL || (s->used + 1) * 4 > (s->mask + 1) * 3) && !shard_grow (s))
    {
      linger_spin_unlock (&s->lock);
      return false;
    }
  size_t i = h & s->mask;
  for (;;)
    {
      block_slot *b = &s->slots[i];
      if (b->addr == 0)
        {
          b->addr = addr;
          b->site = site;
          b->size = sz;
          s->used++;
          break;
        }
      if (b->addr == addr)
        {
          /* A free we never saw (freed before tracking, or by a path we
           * do not hook): the new block replaces it. */
          b->site = site;
          b->size = sz;
          linger_spin_unlock (&s->lock);
          return true;
        }
      i = (i + 1) & s->mask;
    }
  linger_spin_unlock (&s->lock);
  return true;
}

bool
linger_blocks_remove (uintptr_t addr, uint32_t *site, uint32_t *size)
{
  uint64_t h = mix (addr);
  shard *s = shard_of (h);
  linger_spin_lock (&s->lock);
  if (s->slots == NULL)
    {
      linger_spin_unlock (&s->lock);
      return false;
    }
  size_t mask = s->mask;
  size_t i = h & mask;
  for (;;)
    {
      block_slot *b = &s->slots[i];
      if (b->addr == 0)
        {
          linger_spin_unlock (&s->lock);
          return false;
        }
      if (b->addr == addr)
        break;
      i = (i + 1) & mask;
    }
  *site = s->slots[i].site;
  *size = s->slots[i].size;
  /* Backward-shift deletion: move later members of the probe run into
   * the hole so lookups never need tombstones. */
  size_t hole = i;
  size_t j = (i + 1) & mask;
  for (;;)
    {
      block_slot *b = &s->slots[j];
      if (b->addr == 0)
        break;
      size_t home = mix (b->addr) & mask;
      /* b may move into the hole if its home is not in (hole, j]. */
      bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!between)
        {
          s->slots[hole] = *b;
          hole = j;
        }
      j = (j + 1) & mask;
    }
  s->slots[hole].addr = 0;
  s->used--;
  linger_spin_unlock (&s->lock);
  return true;
}

void
linger_blocks_foreach (linger_blocks_fn fn, void *data)
{
  /* Each shard is copied out before fn runs: fn writes the trace, whose
   * own frees would otherwise wait for the shard lock held here. */
  block_slot *copy = NULL;
  size_t copy_cap = 0;
  for (int k = 0; k < N_SHARDS; k++)
    {
      shard *s = &shards[k];
      size_t n = 0;
      for (;;)
        {
          linger_spin_lock (&s->lock);
          size_t need = s->slots ? s->used : 0;
          if (need <= copy_cap)
            {
              if (s->slots != NULL)
                for (size_t i = 0; i <= s->mask; i++)
                  if (s->slots[i].addr != 0)
                    copy[n++] = s->slots[i];
              linger_spin_unlock (&s->lock);
              break;
            }
          linger_spin_unlock (&s->lock);
          size_t cap = need * 2;
          block_slot *bigger = linger_map (cap * sizeof *bigger);
          if (bigger == NULL)
            break;
          linger_unmap (copy, copy_cap * sizeof *copy);
          copy = bigger;
          copy_cap = cap;
        }
      for (size_t i = 0; i < n; i++)
        fn (copy[i].addr, copy[i].site, copy[i].size, data);
    }
  linger_unmap (copy, copy_cap * sizeof *copy);
}

uint64_t
linger_blocks_bytes (void)
{
  return __atomic_load_n (&table_bytes, __ATOMIC_RELAXED);
}

void
linger_blocks_lock_all (void)
{
  for (int k = 0; k < N_SHARDS; k++)
    linger_spin_lock (&shards[k].lock);
}

void
linger_blocks_unlock_all (void)
{
  for (int k = 0; k < N_SHARDS; k++)
    linger_spin_unlock (&shards[k].lock);
}
