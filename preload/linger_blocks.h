/* linger_blocks.h: the table of live tracked blocks, address -> (site,
 * size).
 *
 * Every tracked allocation inserts and every free removes, from any
 * thread, so the table is split into shards with a lock each, and uses
 * open addressing with backward-shift deletion (no tombstones, so a table
 * with heavy churn never degrades).  An entry is 16 bytes; tables grow
 * at 3/4 load, so a live block costs 16-32 bytes (issue 4's budget is 32).
 * Memory comes from mmap, never from malloc.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes at or above this are stored as it; the exact size is rarely
 * needed for such blocks and the entry stays 16 bytes. */
#define LINGER_BLOCK_SIZE_MAX UINT32_MAX

bool linger_blocks_init (void);

/* Records a block; false if it could not be tracked (no memory). */
bool linger_blocks_insert (uintptr_t addr, uint32_t site, size_t size);

/* Removes a block; returns true and its site and size if it was tracked. */
bool linger_blocks_remove (uintptr_t addr, uint32_t *site, uint32_t *size);

/* Calls fn for every live block (takes each shard's lock in turn; fn must
 * not allocate through tracked paths or touch the table). */
typedef void (*linger_blocks_fn) (uintptr_t addr, uint32_t site, uint32_t size, void *data);
void linger_blocks_foreach (linger_blocks_fn fn, void *data);

uint64_t linger_blocks_bytes (void);  /* memory of the table itself */

/* fork(): prepare takes every lock, parent and child release them. */
void linger_blocks_lock_all (void);
void linger_blocks_unlock_all (void);
