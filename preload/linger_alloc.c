/* linger_alloc.c: allocation tracking core (see linger_alloc.h). */
#define UNW_LOCAL_ONLY
#include "linger_alloc.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <libunwind.h>
#include <stdlib.h>
#include <string.h>

#include "linger_blocks.h"
#include "linger_intern.h"

bool linger_alloc_native_on;
bool linger_alloc_any_on;
linger_alloc_config linger_alloc_cfg = { .python_depth = 8, .native_depth = 32 };
__thread bool linger_alloc_in_gc __attribute__ ((tls_model ("initial-exec")));

static linger_alloc_phase phase = LINGER_PHASE_STARTUP;

/* Raw key -> site caches, probed before the interner.  The GIL-held
 * domains share one large cache (only one thread uses it at a time, and
 * a program's hot allocation paths outnumber a per-thread cache). */
/* A cache slot keeps the site itself and the first words of the key
 * inline: following a pointer to the interned key (or to its entry) cost a
 * cache miss per allocation.  The rest of the key is checked through the
 * 64-bit hash only; two different keys with equal length, equal first
 * words and equal hashes would need a 2^-64 accident. */
typedef struct
{
  uint64_t hash;
  uint64_t w1, w2;
  uint32_t n;
  uint32_t site;
} tcache_slot;
#define GCACHE_SIZE 4096
static tcache_slot *gcache;
static linger_py_capture_fn py_capture;
static linger_py_resolve_fn py_resolve;
static linger_gc_classify_fn gc_classify;
static linger_type_name_fn gc_type_name;
static uint32_t extra_info_flags;
/* Blocks tracked right now and at most (Python domains and native). */
static uint64_t live_blocks, peak_blocks;
static uint64_t gc_collections;

/* raw key -> site (value); native stacks (aux: generation | truncated<<31);
 * sites (words: py_stack | native_stack << 32, domain | flags << 16). */
static linger_interner raw_keys, native_stacks, sites;

/* Per-site totals, indexed by site id; reserved once, touched lazily. */
typedef struct
{
  uint64_t allocs, alloc_bytes, frees, gc_frees, gc_free_bytes;
} site_stats;
#define MAX_SITES (1u << 22)
static site_stats *stats;

/* ------------------------------------------------------------------ */
/* Configuration */

static uint32_t
env_uint (const char *name, uint32_t dflt, uint32_t lo, uint32_t hi)
{
  const char *v = getenv (name);
  if (v == NULL || *v == '\0')
    return dflt;
  char *end;
  unsigned long n = strtoul (v, &end, 10);
  if (*end != '\0' || n < lo || n > hi)
    return dflt;
  return (uint32_t) n;
}

static uintptr_t self_start, self_end;

/* The extent [*lo, *hi) of an object's PT_LOAD segments; false if it
 * has none. */
static bool
load_range (const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi)
{
  *lo = UINT64_MAX;
  *hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_LOAD)
        continue;
      uint64_t a = info->dlpi_addr + ph->p_vaddr;
      if (a < *lo)
        *lo = a;
      if (a + ph->p_memsz > *hi)
        *hi = a + ph->p_memsz;
    }
  return *hi != 0;
}

static int
find_self (struct dl_phdr_info *info, size_t size, void *data)
{
  uintptr_t me = (uintptr_t) data;
  uint64_t lo, hi;
  if (!load_range (info, &lo, &hi) || me < lo || me >= hi)
    return 0;
  self_start = lo;
  self_end = hi;
  return 1;
}

void
linger_alloc_init (bool is_python, bool is_root)
{
  const char *alloc = getenv ("LINGER_ALLOC");
  bool enabled = alloc == NULL || strcmp (alloc, "0") != 0;
  const char *native = getenv ("LINGER_NATIVE");
  linger_alloc_cfg.python = enabled && is_python;
  /* LINGER_NATIVE is inherited by every descendant; those that will
   * write no trace (non-Python helpers of a Python program) skip the
   * work. */
  if (native != NULL && *native != '\0')
    linger_alloc_cfg.native = enabled && strcmp (native, "0") != 0 && (is_python || is_root);
  else
    linger_alloc_cfg.native = enabled && !is_python && is_root;
  linger_alloc_cfg.python_depth = env_uint ("LINGER_PYTHON_DEPTH", 8, 1, LINGER_PY_DEPTH_MAX);
  linger_alloc_cfg.native_depth = env_uint ("LINGER_NATIVE_DEPTH", 32, 1, LINGER_NATIVE_DEPTH_MAX);
  if (!linger_alloc_cfg.python && !linger_alloc_cfg.native)
    return;

  stats = linger_map ((size_t) MAX_SITES * sizeof *stats);
  if (stats == NULL)
    {
      linger_alloc_cfg.python = linger_alloc_cfg.native = false;
      return;
    }
  dl_iterate_phdr (find_self, (void *) (uintptr_t) &linger_alloc_init);
  /* A C program's allocations made before main() are start-up ones; its
   * own code starts now (constructors of preloaded libraries run first). */
  if (!is_python)
    phase = LINGER_PHASE_RUNNING;
  if (linger_alloc_cfg.python)
    gcache = linger_map (GCACHE_SIZE * sizeof *gcache);
  linger_alloc_any_on = true;
  __atomic_store_n (&linger_alloc_native_on, linger_alloc_cfg.native, __ATOMIC_RELEASE);
}

void
linger_alloc_python_late (void)
{
  /* Python allocations of an embedded interpreter, tracked like those of
   * python3 itself; the native side keeps the choice made at start-up. */
  const char *alloc = getenv ("LINGER_ALLOC");
  if ((alloc != NULL && strcmp (alloc, "0") == 0) || linger_alloc_cfg.python)
    return;
  if (stats == NULL && (stats = linger_map ((size_t) MAX_SITES * sizeof *stats)) == NULL)
    return;
  if (gcache == NULL && (gcache = linger_map (GCACHE_SIZE * sizeof *gcache)) == NULL)
    return;
  if (!linger_alloc_cfg.native)
    dl_iterate_phdr (find_self, (void *) (uintptr_t) &linger_alloc_init);
  linger_alloc_cfg.python = true;
  linger_alloc_any_on = true;
}

void
linger_alloc_set_phase (linger_alloc_phase p)
{
  __atomic_store_n (&phase, p, __ATOMIC_RELAXED);
}

linger_alloc_phase
linger_alloc_get_phase (void)
{
  return __atomic_load_n (&phase, __ATOMIC_RELAXED);
}

void
linger_alloc_set_python (linger_py_capture_fn capture, linger_py_resolve_fn resolve)
{
  py_resolve = resolve;
  __atomic_store_n (&py_capture, capture, __ATOMIC_RELEASE);
}

void
linger_alloc_set_gc_classifier (linger_gc_classify_fn classify, linger_type_name_fn name)
{
  gc_type_name = name;
  gc_classify = classify;
}

void
linger_alloc_add_info_flags (uint32_t flags)
{
  __atomic_or_fetch (&extra_info_flags, flags, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Module map: every ELF object ever loaded, with the generations in
 * which it was.  Refreshed when the loader's add/remove counters move,
 * which is checked only when a new native stack is interned. */

typedef struct
{
  uint64_t base, start, end;
  const char *path;
  char     build_id[41];
  uint32_t gen_loaded, gen_unloaded;
  bool     seen;
} module;

#define MAX_MODULES 8192
static module *modules;
static uint32_t n_modules;
static uint32_t generation;
static unsigned long long seen_adds, seen_subs;
static linger_spinlock module_lock;
static uint8_t *path_arena;
static size_t path_left;

static const char *
copy_path (const char *s)
{
  size_t len = strlen (s) + 1;
  if (len > path_left)
    {
      size_t chunk = len > 65536 ? len : 65536;
      path_arena = linger_map (chunk);
      if (path_arena == NULL)
        {
          path_left = 0;
          return "";
        }
      path_left = chunk;
    }
  char *p = (char *) path_arena;
  memcpy (p, s, len);
  path_arena += len;
  path_left -= len;
  return p;
}

static void
read_build_id (struct dl_phdr_info *info, char out[41])
{
  out[0] = '\0';
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_NOTE)
        continue;
      const uint8_t *p = (const uint8_t *) (info->dlpi_addr + ph->p_vaddr);
      const uint8_t *end = p + ph->p_memsz;
      while (p + sizeof (ElfW (Nhdr)) <= end)
        {
          const ElfW (Nhdr) *n = (const ElfW (Nhdr) *) (const void *) p;
          const uint8_t *name = p + sizeof *n;
          const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
          const uint8_t *next = desc + ((n->n_descsz + 3) & ~3u);
          if (next > end)
            break;
          if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp (name, "GNU", 4) == 0)
            {
              static const char hex[] = "0123456789abcdef";
              uint32_t len = n->n_descsz > 20 ? 20 : n->n_descsz;
              for (uint32_t k = 0; k < len; k++)
                {
                  out[2 * k] = hex[desc[k] >> 4];
                  out[2 * k + 1] = hex[desc[k] & 15];
                }
              out[2 * len] = '\0';
              return;
            }
          p = next;
        }
    }
}

static int
counts_cb (struct dl_phdr_info *info, size_t size, void *data)
{
  unsigned long long *c = data;
  c[0] = info->dlpi_adds;
  c[1] = info->dlpi_subs;
  return 1;
}

static int
scan_cb (struct dl_phdr_info *info, size_t size, void *data)
{
  uint64_t lo, hi;
  if (!load_range (info, &lo, &hi))
    return 0;
  const char *name = info->dlpi_name ? info->dlpi_name : "";
  for (uint32_t i = 0; i < n_modules; i++)
    {
      module *m = &modules[i];
      if (m->gen_unloaded == 0 && m->base == info->dlpi_addr && m->start == lo
          && strcmp (m->path, name) == 0)
        {
          m->seen = true;
          return 0;
        }
    }
  if (n_modules >= MAX_MODULES)
    return 0;
  module *m = &modules[n_modules++];
  m->base = info->dlpi_addr;
  m->start = lo;
  m->end = hi;
  m->path = copy_path (name);
  read_build_id (info, m->build_id);
  m->gen_loaded = *(uint32_t *) data;
  m->gen_unloaded = 0;
  m->seen = true;
  return 0;
}

/* Returns the current generation, rescanning if the loader changed. */
static uint32_t
modules_current (void)
{
  unsigned long long c[2] = { 0, 0 };
  dl_iterate_phdr (counts_cb, c);
  linger_spin_lock (&module_lock);
  if (modules == NULL)
    modules = linger_map (MAX_MODULES * sizeof *modules);
  if (modules != NULL && (generation == 0 || c[0] != seen_adds || c[1] != seen_subs))
    {
      uint32_t gen = generation + 1;
      for (uint32_t i = 0; i < n_modules; i++)
        modules[i].seen = false;
      dl_iterate_phdr (scan_cb, &gen);
      for (uint32_t i = 0; i < n_modules; i++)
        if (!modules[i].seen && modules[i].gen_unloaded == 0)
          modules[i].gen_unloaded = gen;
      generation = gen;
      seen_adds = c[0];
      seen_subs = c[1];
    }
  uint32_t g = generation;
  linger_spin_unlock (&module_lock);
  return g;
}

/* ------------------------------------------------------------------ */
/* Capture and interning */

/* Raw key word 0: domain | phase << 8 | n_py << 16 | n_native << 32,
 * plus truncation bits. */
#define KEY_PY_TRUNC (1ull << 48)
#define KEY_NATIVE_TRUNC (1ull << 49)

#define TCACHE_SIZE 64
static __thread tcache_slot tcache[TCACHE_SIZE] __attribute__ ((tls_model ("initial-exec")));

/* Frames inside linger itself (the hooks) are dropped from the top. */
static uint32_t
capture_native (uint64_t *out, uint32_t max, bool *truncated)
{
  uint32_t want = max + 8;
  void *ips[want];
  int n = unw_backtrace (ips, (int) want);
  if (n <= 0)
    return 0;
  uint32_t skip = 0;
  while (skip < (uint32_t) n && (uintptr_t) ips[skip] >= self_start && (uintptr_t) ips[skip] < self_end)
    skip++;
  uint32_t count = (uint32_t) n - skip;
  *truncated = (uint32_t) n == want;
  if (count > max)
    {
      count = max;
      *truncated = true;
    }
  for (uint32_t i = 0; i < count; i++)
    out[i] = (uint64_t) (uintptr_t) ips[skip + i];
  return count;
}

static uint32_t
resolve_key (const uint64_t *key, uint32_t n_words)
{
  uint64_t tag = key[0];
  uint32_t domain = tag & 0xff;
  uint32_t ph = (tag >> 8) & 0xff;
  uint32_t n_py = (tag >> 16) & 0xffff;
  uint32_t n_native = (tag >> 32) & 0xffff;
  uint32_t py_stack = 0, native_stack = 0;
  if (n_py > 0 && py_resolve != NULL)
    py_stack = py_resolve (key + 1, n_py, (tag & KEY_PY_TRUNC) != 0);
  if (n_native > 0)
    {
      const uint64_t *ips = key + 1 + 2 * n_py;
      uint32_t gen = modules_current ();
      bool inserted;
      uint32_t aux = gen | ((tag & KEY_NATIVE_TRUNC) ? 1u << 31 : 0);
      native_stack = linger_intern (&native_stacks, ips, n_native, linger_hash_words (ips, n_native),
                                    aux, &inserted);
    }
  uint32_t flags = ph == LINGER_PHASE_STARTUP ? LINGER_SITE_STARTUP
                   : ph == LINGER_PHASE_SHUTDOWN ? LINGER_SITE_SHUTDOWN
                                                 : 0;
  uint64_t words[2] = { (uint64_t) py_stack | (uint64_t) native_stack << 32,
                        (uint64_t) domain | (uint64_t) flags << 16 };
  bool inserted;
  return linger_intern (&sites, words, 2, linger_hash_words (words, 2), 0, &inserted);
}

static uint32_t
site_of_key (const uint64_t *key, uint32_t n)
{
  uint64_t h = linger_hash_words (key, n);
  uint32_t domain = key[0] & 0xff;
  uint64_t w1 = n > 1 ? key[1] : 0, w2 = n > 2 ? key[2] : 0;
  tcache_slot *t;
  if ((domain == LINGER_DOMAIN_PY_MEM || domain == LINGER_DOMAIN_PY_OBJ) && gcache != NULL)
    t = &gcache[(h >> 20) & (GCACHE_SIZE - 1)];
  else
    t = &tcache[(h >> 20) & (TCACHE_SIZE - 1)];
  if (t->hash == h && t->n == n && t->w1 == w1 && t->w2 == w2 && t->site != 0)
    return t->site;
  bool inserted;
  uint32_t id = linger_intern (&raw_keys, key, n, h, 0, &inserted);
  if (id == 0)
    return 0;
  uint32_t site = linger_intern_value (&raw_keys, id);
  if (site == 0)
    {
      site = resolve_key (key, n);
      if (site != 0)
        linger_intern_set_value (&raw_keys, id, site);
    }
  *t = (tcache_slot) { .hash = h, .w1 = w1, .w2 = w2, .n = n, .site = site };
  return site;
}

uint32_t
linger_alloc_site (uint32_t domain)
{
  linger_guard_enter ();
  uint32_t py_max = linger_alloc_cfg.python_depth;
  uint32_t native_max = linger_alloc_cfg.native ? linger_alloc_cfg.native_depth : 0;
  /* Sized by the configuration: a fixed worst-case array would make
   * every call probe several pages of stack. */
  uint64_t key[1 + 2 * (py_max + 1) + native_max];
  uint64_t tag = domain | (uint64_t) __atomic_load_n (&phase, __ATOMIC_RELAXED) << 8;
  uint32_t n_py = 0, n_native = 0;
  linger_py_capture_fn capture = __atomic_load_n (&py_capture, __ATOMIC_ACQUIRE);
  if (capture != NULL)
    {
      /* One frame more than kept tells whether the stack was cut. */
      n_py = capture (key + 1, py_max + 1, domain);
      if (n_py > py_max)
        {
          n_py = py_max;
          tag |= KEY_PY_TRUNC;
        }
    }
  if (native_max > 0)
    {
      bool truncated = false;
      n_native = capture_native (key + 1 + 2 * n_py, native_max, &truncated);
      if (truncated)
        tag |= KEY_NATIVE_TRUNC;
    }
  tag |= (uint64_t) n_py << 16 | (uint64_t) n_native << 32;
  key[0] = tag;
  uint32_t site = site_of_key (key, 1 + 2 * n_py + n_native);
  linger_guard_leave ();
  return site;
}

void
linger_alloc_count (uint32_t site, size_t size, bool shared)
{
  site_stats *s = &stats[site];
  uint64_t live;
  if (shared)
    {
      __atomic_add_fetch (&s->allocs, 1, __ATOMIC_RELAXED);
      __atomic_add_fetch (&s->alloc_bytes, size, __ATOMIC_RELAXED);
      live = __atomic_add_fetch (&live_blocks, 1, __ATOMIC_RELAXED);
    }
  else
    {
      s->allocs++;
      s->alloc_bytes += size;
      /* Under the GIL; a racing native thread may make the count a
       * little off, never wrong by more than its own blocks. */
      live = ++live_blocks;
    }
  if (LINGER_UNLIKELY (live > peak_blocks))
    peak_blocks = live;
}

void
linger_alloc_track (void *p, size_t size, uint32_t domain)
{
  uint32_t site = linger_alloc_site (domain);
  if (site != 0 && linger_blocks_insert ((uintptr_t) p, site, size))
    linger_alloc_count (site, size, true);
  else
    linger_alloc_add_info_flags (LINGER_ALLOC_TABLE_FULL);
}

/* ------------------------------------------------------------------ */
/* Frees and cyclic-GC windows */

/* Events of the collection in progress.  Only the collecting thread
 * writes them (the GC does not run concurrently with itself). */
#define MAX_GC_EVENTS (1u << 16)
static linger_gc_event *gc_events;
static uint32_t n_gc_events;
static bool gc_events_overflow;

/* Cumulative cyclic-GC frees by (site, type, kind). */
static linger_interner gc_tally;
typedef struct
{
  uint64_t count, bytes;
  uintptr_t type;
} tally_counts;
static tally_counts *tallies;

#define MAX_GC_SKIP 4
static uintptr_t gc_skip[MAX_GC_SKIP];

void
linger_alloc_count_free (uint32_t site, uint32_t size, void *block, bool shared)
{
  site_stats *s = &stats[site];
  if (shared)
    {
      __atomic_add_fetch (&s->frees, 1, __ATOMIC_RELAXED);
      __atomic_sub_fetch (&live_blocks, 1, __ATOMIC_RELAXED);
    }
  else
    {
      s->frees++;
      live_blocks--;
    }
  if (linger_alloc_in_gc && (uintptr_t) block != gc_skip[0] && (uintptr_t) block != gc_skip[1])
    {
      if (gc_events == NULL || gc_classify == NULL)
        return;
      /* Only objects the collector can have freed count: objects of GC
       * types (the members of the cycles).  Buffers, ints and strings
       * released along the way, and whatever the interpreter's own
       * bookkeeping frees inside the window, are not "in a cycle". */
      linger_gc_event ev = { .block = (uintptr_t) block, .site = site, .size = size };
      gc_classify (&ev);
      if (ev.object == 0 || ev.object == (uintptr_t) block)
        return;
      s->gc_frees++;
      s->gc_free_bytes += size;
      if (n_gc_events < MAX_GC_EVENTS)
        gc_events[n_gc_events++] = ev;
      else
        gc_events_overflow = true;
    }
}

bool
linger_alloc_untrack (void *p, uint32_t *site_out, uint32_t *size_out)
{
  uint32_t site, size;
  if (!linger_blocks_remove ((uintptr_t) p, &site, &size))
    return false;
  linger_alloc_count_free (site, size, p, true);
  if (site_out)
    *site_out = site;
  if (size_out)
    *size_out = size;
  return true;
}

void
linger_alloc_retrack (void *p, uint32_t site, uint32_t size)
{
  if (linger_blocks_insert ((uintptr_t) p, site, size))
    linger_alloc_count (site, size, true);
}

void
linger_alloc_gc_start (const uintptr_t *skip, unsigned n_skip)
{
  for (unsigned i = 0; i < MAX_GC_SKIP; i++)
    gc_skip[i] = i < n_skip ? skip[i] : 0;
  if (gc_events == NULL && gc_classify != NULL)
    gc_events = linger_map (MAX_GC_EVENTS * sizeof *gc_events);
  if (tallies == NULL && gc_classify != NULL)
    tallies = linger_map ((size_t) MAX_SITES * sizeof *tallies);
  n_gc_events = 0;
  linger_alloc_in_gc = true;
}

/* Object address -> event, for the collection being closed.  Slots are
 * stamped with the collection number so the table is never cleared. */
typedef struct
{
  uintptr_t object;
  uint32_t  index;
  uint32_t  stamp;
} object_slot;
#define OBJECT_SLOTS (2 * MAX_GC_EVENTS)
static object_slot *object_slots;
static uint32_t object_stamp;

static inline size_t
object_home (uintptr_t obj)
{
  uint64_t h = (uint64_t) obj >> 4;
  h *= 0x9e3779b97f4a7c15ull;
  return (size_t) (h >> 40) & (OBJECT_SLOTS - 1);
}

static void
objects_index (uint32_t n)
{
  object_stamp++;
  for (uint32_t i = 0; i < n; i++)
    {
      uintptr_t obj = gc_events[i].object;
      if (obj == 0)
        continue;
      size_t j = object_home (obj);
      while (object_slots[j].stamp == object_stamp)
        j = (j + 1) & (OBJECT_SLOTS - 1);
      object_slots[j] = (object_slot) { .object = obj, .index = i, .stamp = object_stamp };
    }
}

static linger_gc_event *
find_object (uintptr_t obj)
{
  for (size_t j = object_home (obj); object_slots[j].stamp == object_stamp;
       j = (j + 1) & (OBJECT_SLOTS - 1))
    if (object_slots[j].object == obj)
      return &gc_events[object_slots[j].index];
  return NULL;
}

void
linger_alloc_gc_stop (void)
{
  linger_alloc_in_gc = false;
  gc_collections++;
  if (gc_events == NULL || tallies == NULL || n_gc_events == 0)
    return;
  linger_guard_enter ();
  /* Which objects were in which kind of cycle: a bound method freed in
   * this collection marks its __self__, a cell its contents, a function
   * with a closure itself. */
  uint32_t n = n_gc_events;
  bool any_link = false;
  for (uint32_t i = 0; i < n && !any_link; i++)
    any_link = gc_events[i].link_kind != LINGER_CYCLE_OTHER;
  if (any_link && object_slots == NULL)
    object_slots = linger_map (OBJECT_SLOTS * sizeof *object_slots);
  if (any_link && object_slots != NULL)
    {
      objects_index (n);
      for (uint32_t i = 0; i < n; i++)
        {
          linger_gc_event *ev = &gc_events[i];
          if (ev->link_kind == LINGER_CYCLE_CLOSURE && ev->link == ev->object)
            ev->kind = LINGER_CYCLE_CLOSURE;
          else if (ev->link_kind != LINGER_CYCLE_OTHER && ev->link != 0)
            {
              /* Both ends were in that kind of cycle: the method (or
               * cell) and the object it pointed at. */
              linger_gc_event *target = find_object (ev->link);
              if (target != NULL)
                {
                  if (target->kind == LINGER_CYCLE_OTHER || ev->link_kind == LINGER_CYCLE_BOUND_METHOD)
                    target->kind = ev->link_kind;
                  if (ev->kind == LINGER_CYCLE_OTHER)
                    ev->kind = ev->link_kind;
                }
            }
        }
    }
  for (uint32_t i = 0; i < n; i++)
    {
      linger_gc_event *ev = &gc_events[i];
      if (ev->object == 0)
        continue;
      uint64_t words[2] = { (uint64_t) ev->site | (uint64_t) ev->kind << 32, ev->type };
      bool inserted;
      uint32_t id = linger_intern (&gc_tally, words, 2, linger_hash_words (words, 2), 0, &inserted);
      if (id == 0 || id >= MAX_SITES)
        continue;
      tallies[id].count++;
      tallies[id].bytes += ev->size;
      tallies[id].type = ev->type;
    }
  n_gc_events = 0;
  linger_guard_leave ();
}

/* ------------------------------------------------------------------ */
/* Flush */

static uint32_t modules_written, native_written, sites_written;
static linger_py_flush_fn py_flush;

void
linger_alloc_set_py_flush (linger_py_flush_fn fn)
{
  py_flush = fn;
}

typedef struct
{
  linger_writer *w;
} live_ctx;

static void
write_live (uintptr_t addr, uint32_t site, uint32_t size, void *data)
{
  live_ctx *ctx = data;
  const linger_intern_entry *e = linger_intern_get (&sites, site);
  if ((e->words[1] & 0xffff) != LINGER_DOMAIN_NATIVE)
    return;
  linger_block_entry b = { .address = addr, .size = size, .site = site };
  linger_writer_live_block (ctx->w, &b);
}

void
linger_alloc_flush (linger_writer *w, bool final)
{
  if (!linger_alloc_any_on || w == NULL)
    return;
  linger_guard_enter ();
  if (py_flush != NULL)
    py_flush (w);

  /* Modules: the whole list each time (small); the reader keeps the last
   * state of each (base, path, gen_loaded). */
  if (linger_alloc_cfg.native)
    {
      modules_current ();
      linger_spin_lock (&module_lock);
      uint32_t count = n_modules;
      linger_spin_unlock (&module_lock);
      for (uint32_t i = 0; i < count; i++)
        {
          module *m = &modules[i];
          linger_module_entry e = {
            .base = m->base, .start = m->start, .end = m->end,
            .path = linger_writer_intern_cstr (w, m->path),
            .build_id = m->build_id[0] ? linger_writer_intern_cstr (w, m->build_id) : LINGER_STRING_NONE,
            .gen_loaded = m->gen_loaded, .gen_unloaded = m->gen_unloaded,
          };
          linger_writer_module (w, &e);
        }
      modules_written = count;
    }

  uint32_t n_native = linger_intern_count (&native_stacks);
  for (uint32_t id = native_written + 1; id <= n_native; id++)
    {
      const linger_intern_entry *e = linger_intern_get (&native_stacks, id);
      linger_writer_native_stack (w, id, e->aux & 0x7fffffffu, e->aux >> 31, e->words, e->n_words);
    }
  native_written = n_native;

  uint32_t n_sites = linger_intern_count (&sites);
  for (uint32_t id = sites_written + 1; id <= n_sites; id++)
    {
      const linger_intern_entry *e = linger_intern_get (&sites, id);
      linger_site_entry s = {
        .id = id,
        .py_stack = (uint32_t) e->words[0],
        .native_stack = (uint32_t) (e->words[0] >> 32),
        .domain = (uint16_t) (e->words[1] & 0xffff),
        .flags = (uint16_t) (e->words[1] >> 16),
      };
      linger_writer_site (w, &s);
    }
  sites_written = n_sites;
  /* Batches of different kinds are emitted when they fill up: make sure
   * every SITES entry is out before totals and blocks that name them. */
  linger_writer_flush (w);

  uint64_t python_allocs = 0, native_allocs = 0;
  for (uint32_t id = 1; id <= n_sites; id++)
    {
      const linger_intern_entry *e = linger_intern_get (&sites, id);
      site_stats *st = &stats[id];
      uint64_t allocs = __atomic_load_n (&st->allocs, __ATOMIC_RELAXED);
      if ((e->words[1] & 0xffff) == LINGER_DOMAIN_NATIVE)
        native_allocs += allocs;
      else
        python_allocs += allocs;
      if (final && allocs > 0)
        {
          linger_site_stats_entry se = {
            .site = id,
            .allocs = allocs,
            .alloc_bytes = __atomic_load_n (&st->alloc_bytes, __ATOMIC_RELAXED),
            .frees = __atomic_load_n (&st->frees, __ATOMIC_RELAXED),
            .gc_frees = st->gc_frees,
            .gc_free_bytes = st->gc_free_bytes,
          };
          linger_writer_site_stats (w, &se);
        }
    }

  if (final && tallies != NULL)
    {
      uint32_t n_tally = linger_intern_count (&gc_tally);
      for (uint32_t id = 1; id <= n_tally && id < MAX_SITES; id++)
        {
          const linger_intern_entry *e = linger_intern_get (&gc_tally, id);
          linger_gc_free_entry g = {
            .site = (uint32_t) e->words[0],
            .kind = (uint32_t) (e->words[0] >> 32),
            .type_name = gc_type_name ? gc_type_name (w, (uintptr_t) e->words[1]) : LINGER_STRING_NONE,
            .count = tallies[id].count,
            .bytes = tallies[id].bytes,
          };
          linger_writer_gc_free (w, &g);
        }
    }

  if (final && linger_alloc_cfg.native)
    {
      live_ctx ctx = { w };
      linger_blocks_foreach (write_live, &ctx);
    }

  /* Python blocks carry a 16-byte header each (counted at the peak). */
  uint64_t header_bytes = linger_alloc_cfg.python ? 16 * peak_blocks : 0;
  uint64_t table = linger_blocks_bytes () + header_bytes + raw_keys.bytes + native_stacks.bytes + sites.bytes
                   + gc_tally.bytes;
  uint32_t flags = __atomic_load_n (&extra_info_flags, __ATOMIC_RELAXED);
  if (linger_alloc_cfg.python)
    flags |= LINGER_ALLOC_PYTHON;
  if (linger_alloc_cfg.native)
    flags |= LINGER_ALLOC_NATIVE | LINGER_ALLOC_NATIVE_STACKS;
  if (gc_classify != NULL)
    flags |= LINGER_ALLOC_GC_LIFETIMES;
  if (final)
    flags |= LINGER_ALLOC_FINAL;
  linger_rec_alloc_info info = {
    .flags = flags,
    .python_depth = linger_alloc_cfg.python ? linger_alloc_cfg.python_depth : 0,
    .native_depth = linger_alloc_cfg.native ? linger_alloc_cfg.native_depth : 0,
    .python_allocs = python_allocs,
    .native_allocs = native_allocs,
    .untracked = 0,
    .peak_live_blocks = peak_blocks,
    .table_bytes = table,
    .gc_collections = gc_collections,
  };
  linger_writer_alloc_info (w, &info);
  linger_guard_leave ();
}

/* ------------------------------------------------------------------ */
/* fork */

void
linger_alloc_fork_prepare (void)
{
  if (!linger_alloc_any_on)
    return;
  linger_spin_lock (&module_lock);
  linger_spin_lock (&raw_keys.lock);
  linger_spin_lock (&native_stacks.lock);
  linger_spin_lock (&sites.lock);
  linger_blocks_lock_all ();
}

void
linger_alloc_fork_parent (void)
{
  if (!linger_alloc_any_on)
    return;
  linger_blocks_unlock_all ();
  linger_spin_unlock (&sites.lock);
  linger_spin_unlock (&native_stacks.lock);
  linger_spin_unlock (&raw_keys.lock);
  linger_spin_unlock (&module_lock);
}

void
linger_alloc_fork_child (void)
{
  linger_alloc_fork_parent ();
  /* The child writes its own trace from scratch: everything interned so
   * far must be written again. */
  modules_written = native_written = sites_written = 0;
}
