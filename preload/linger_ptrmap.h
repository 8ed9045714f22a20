/* linger_ptrmap.h: address -> 32-bit value, open addressing.
 *
 * Used by the snapshot (seen objects, per-type caches) inside the host
 * process, so it is GLib-free and allocates only when it grows. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct
{
  uintptr_t key;    /* 0 = empty */
  uint32_t  value;
} linger_ptrmap_slot;

typedef struct
{
  linger_ptrmap_slot *slots;
  size_t              mask;  /* n_slots - 1 */
  size_t              used;
} linger_ptrmap;

bool linger_ptrmap_init (linger_ptrmap *m, size_t expected);
void linger_ptrmap_clear (linger_ptrmap *m);

/* Returns the slot's value pointer for key, inserting it with value 0 if
 * absent (*inserted set accordingly); NULL on allocation failure. */
uint32_t *linger_ptrmap_upsert (linger_ptrmap *m, uintptr_t key, bool *inserted);

/* Returns a pointer to the value, or NULL if key is absent. */
uint32_t *linger_ptrmap_lookup (const linger_ptrmap *m, uintptr_t key);
