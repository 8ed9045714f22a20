/* linger_real.h: the allocator functions linger interposes, as found next
 * in the symbol search order (glibc's, or another preloaded allocator's).
 *
 * dlsym itself may allocate (glibc's dlerror buffer uses calloc), and the
 * first malloc can come before linger's constructor, so until the real
 * functions are known allocations are served from a small static pool.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct
{
  void *(*malloc) (size_t);
  void (*free) (void *);
  void *(*calloc) (size_t, size_t);
  void *(*realloc) (void *, size_t);
  int (*posix_memalign) (void **, size_t, size_t);
  void *(*aligned_alloc) (size_t, size_t);
  void *(*memalign) (size_t, size_t);
  void *(*valloc) (size_t);
  void *(*pvalloc) (size_t);
  void *(*reallocarray) (void *, size_t, size_t);
  void (*free_sized) (void *, size_t);                   /* C23; may be NULL */
  void (*free_aligned_sized) (void *, size_t, size_t);   /* C23; may be NULL */
  size_t (*malloc_usable_size) (void *);
} linger_real_fns;

extern linger_real_fns linger_real;

/* Resolves the table once; true when malloc/free/calloc/realloc are known.
 * Safe to call from any allocation entry point. */
bool linger_real_ready (void);

/* The bootstrap pool used while resolving. */
void *linger_bootstrap_alloc (size_t size, size_t align);
bool linger_bootstrap_owns (const void *p);
/* Size of a bootstrap block (for realloc out of the pool). */
size_t linger_bootstrap_size (const void *p);
