/* linger_pyalloc.c: see linger_pyalloc.h. */
#include "linger_pyalloc.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "linger_alloc.h"
#include "linger_intern.h"
#include "linger_output.h"
#include "linger_py_layout.h"

static lpy_mem_allocator saved[3];   /* what was installed before us */
static bool installed;
static const linger_py_layout *L;
static void *(*get_tstate) (void);

typedef enum
{
  WALKER_PENDING,
  WALKER_OK,
  WALKER_OFF,
} walker_state;
static walker_state walker = WALKER_PENDING;

static const uint32_t domain_of[3] = {
  LINGER_DOMAIN_PY_RAW, LINGER_DOMAIN_PY_MEM, LINGER_DOMAIN_PY_OBJ,
};

/* ------------------------------------------------------------------ */
/* The domain hooks.
 *
 * Each tracked block carries its site in a 16-byte header in front of
 * it, so tracking costs no table lookup (a hash table of every Python
 * block misses the cache on each insert and remove: 4x on allocation-heavy
 * code, measured).  The header's check word is MAGIC ^ address: a block
 * allocated before the hooks (or by linger itself, under the guard) has
 * no header, and 64 bits of address-dependent check cannot match by
 * accident.  The inner call runs under the guard: PyObject_Malloc hands
 * big requests to PyMem_RawMalloc, which must not add a second header,
 * and the libc malloc below must not count as native. */

typedef struct
{
  uint64_t check;
  uint32_t site;
  uint32_t size;   /* clamped to UINT32_MAX */
} block_header;

#define HEADER ((size_t) sizeof (block_header))
#define HEADER_MAGIC 0x6c696e6765722121ull /* "linger!!" */

LINGER_STATIC_ASSERT (sizeof (block_header) == 16, "header keeps 16-byte alignment");

static inline block_header *
header_of (const void *p)
{
  return (block_header *) (void *) ((char *) p - HEADER);
}

/* A block allocated before the hooks has no header: this reads the 16
 * bytes before any block on purpose (the allocator's own chunk or pool
 * header, always mapped), which ASan would call an overflow. */
#if defined(__SANITIZE_ADDRESS__)
# define LINGER_NO_ASAN __attribute__ ((no_sanitize_address))
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define LINGER_NO_ASAN __attribute__ ((no_sanitize_address))
# endif
#endif
#ifndef LINGER_NO_ASAN
# define LINGER_NO_ASAN
#endif

LINGER_NO_ASAN static inline bool
has_header (const void *p)
{
  return header_of (p)->check == (HEADER_MAGIC ^ (uint64_t) (uintptr_t) p);
}

static inline uint32_t
domain (void *ctx)
{
  return domain_of[(lpy_mem_allocator *) ctx - saved];
}

/* Raw-domain calls may come without the GIL, from any thread. */
static inline bool
shared_domain (void *ctx)
{
  return (lpy_mem_allocator *) ctx == &saved[LPY_MEM_DOMAIN_RAW];
}

static inline void *
stamp (void *ctx, void *raw, size_t size)
{
  char *p = (char *) raw + HEADER;
  uint32_t site = linger_alloc_site (domain (ctx));
  block_header *h = (block_header *) raw;
  h->check = HEADER_MAGIC ^ (uint64_t) (uintptr_t) p;
  h->site = site;
  h->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t) size;
  if (site != 0)
    linger_alloc_count (site, size, shared_domain (ctx));
  return p;
}

/* Called before the inner free: the block may be reused at once. */
static inline void
unstamp (void *ctx, void *p)
{
  block_header *h = header_of (p);
  h->check = 0;
  if (h->site != 0)
    linger_alloc_count_free (h->site, h->size, p, shared_domain (ctx));
}

static void *
hook_malloc (void *ctx, size_t size)
{
  lpy_mem_allocator *a = ctx;
  if (linger_guarded ())
    return a->malloc (a->ctx, size);
  if (size > SIZE_MAX - HEADER)
    return NULL;
  linger_guard_enter ();
  void *raw = a->malloc (a->ctx, size + HEADER);
  linger_guard_leave ();
  return raw ? stamp (ctx, raw, size) : NULL;
}

static void *
hook_calloc (void *ctx, size_t n, size_t size)
{
  lpy_mem_allocator *a = ctx;
  if (linger_guarded ())
    return a->calloc (a->ctx, n, size);
  size_t total;
  if (__builtin_mul_overflow (n, size, &total) || total > SIZE_MAX - HEADER)
    return NULL;
  linger_guard_enter ();
  void *raw = a->calloc (a->ctx, 1, total + HEADER);
  linger_guard_leave ();
  return raw ? stamp (ctx, raw, total) : NULL;
}

static void *
hook_realloc (void *ctx, void *old, size_t size)
{
  lpy_mem_allocator *a = ctx;
  if (old == NULL)
    return hook_malloc (ctx, size);
  if (!has_header (old))
    {
      /* A block from before the hooks stays untracked. */
      linger_guard_enter ();
      void *p = a->realloc (a->ctx, old, size);
      linger_guard_leave ();
      return p;
    }
  if (size > SIZE_MAX - HEADER)
    return NULL;
  block_header saved_header = *header_of (old);
  unstamp (ctx, old);
  linger_guard_enter ();
  void *raw = a->realloc (a->ctx, header_of (old), size + HEADER);
  linger_guard_leave ();
  if (raw == NULL)
    {
      /* The old block is still there: put its header back. */
      *header_of (old) = saved_header;
      if (saved_header.site != 0)
        linger_alloc_count (saved_header.site, saved_header.size, shared_domain (ctx));
      return NULL;
    }
  if (linger_guarded ())
    {
      block_header *h = (block_header *) raw;
      h->check = HEADER_MAGIC ^ (uint64_t) (uintptr_t) ((char *) raw + HEADER);
      h->site = 0;
      h->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t) size;
      return (char *) raw + HEADER;
    }
  return stamp (ctx, raw, size);
}

static void
hook_free (void *ctx, void *p)
{
  lpy_mem_allocator *a = ctx;
  if (p != NULL && has_header (p))
    {
      unstamp (ctx, p);
      p = header_of (p);
    }
  linger_guard_enter ();
  a->free (a->ctx, p);
  linger_guard_leave ();
}

static uint32_t capture (uint64_t *pairs, uint32_t max, uint32_t dom);
static uint32_t resolve (const uint64_t *pairs, uint32_t n, bool truncated);

bool
linger_pyalloc_active (void)
{
  return installed;
}

void
linger_pyalloc_install (void)
{
  if (installed || !linger_alloc_cfg.python)
    return;
  L = linger_py_layout_get ();
  get_tstate = lpy.PyThreadState_GetUnchecked ? lpy.PyThreadState_GetUnchecked
                                              : lpy._PyThreadState_UncheckedGet;
  for (int d = 0; d < 3; d++)
    {
      lpy.PyMem_GetAllocator (d, &saved[d]);
      lpy_mem_allocator hook = {
        .ctx = &saved[d],
        .malloc = hook_malloc,
        .calloc = hook_calloc,
        .realloc = hook_realloc,
        .free = hook_free,
      };
      lpy.PyMem_SetAllocator (d, &hook);
    }
  installed = true;
  /* Every supported version recycles some objects through freelists
   * (3.13's are per thread) without calling the allocator; only a
   * reference tracer would see them, and PyRefTracer is reliable only
   * from 3.13.3 (cpython-internals.md section 8.2). */
  linger_alloc_add_info_flags (LINGER_ALLOC_FREELISTS);
  if (L == NULL || get_tstate == NULL)
    {
      walker = WALKER_OFF;
      linger_alloc_add_info_flags (LINGER_ALLOC_FRAMES_OFF);
      return;
    }
  /* The walker runs from now on: its row comes from this very minor
   * version's headers, and frame layouts do not change between patch
   * releases.  It is still checked against the public API on the first
   * live frame (an audit event or a collection), and switched off for
   * good if it disagrees. */
  linger_alloc_set_python (capture, resolve);
}

/* ------------------------------------------------------------------ */
/* Frame walking: (code, instruction index) pairs, innermost first. */

#define AT(p, off, type) (*(type *) (void *) ((char *) (p) + (off)))

enum
{
  OWNED_BY_GENERATOR = 1,
  OWNED_BY_CSTACK = 3, /* 3.12+ */
};

static inline char *
top_frame (void *ts)
{
  if (lpy.minor == 11 || lpy.minor == 12)
    {
      char *cf = AT (ts, L->tstate_frame, char *);
      return cf ? AT (cf, L->cframe_current, char *) : NULL;
    }
  return AT (ts, L->tstate_frame, char *);
}

/* Whether the thread that captured the frames holds the GIL: resolving
 * them without it must not touch reference counts or call the API. */
static __thread bool capture_has_gil __attribute__ ((tls_model ("initial-exec")));

static uint32_t
capture (uint64_t *pairs, uint32_t max, uint32_t dom)
{
  void *ts;
  if (dom == LINGER_DOMAIN_PY_MEM || dom == LINGER_DOMAIN_PY_OBJ)
    {
      /* These domains are only used with the GIL held. */
      ts = get_tstate ();
      capture_has_gil = true;
    }
  else
    {
      /* Raw and native allocations come with or without the GIL (ctypes
       * and most C extensions release it around their C code).  The
       * calling thread's own frames cannot change while it is in C, so
       * they are read through its own thread state.  The thread-state
       * key is only valid while the interpreter runs. */
      if (linger_alloc_get_phase () != LINGER_PHASE_RUNNING)
        return 0;
      ts = lpy.PyGILState_GetThisThreadState ();
      capture_has_gil = ts != NULL && ts == get_tstate ();
    }
  if (ts == NULL)
    return 0;
  char *f = top_frame (ts);
  uint32_t n = 0;
  if (lpy.minor <= 10)
    {
      while (f != NULL && n < max)
        {
          pairs[2 * n] = (uint64_t) (uintptr_t) AT (f, L->frame_code, char *);
          pairs[2 * n + 1] = (uint64_t) (uint32_t) AT (f, L->frame_instr, int);
          n++;
          f = AT (f, L->frame_back, char *);
        }
      return n;
    }
  while (f != NULL && n < max)
    {
      char *code = AT (f, L->frame_code, char *);
      char *next = AT (f, L->frame_back, char *);
      uint8_t owner = AT (f, L->frame_owner, uint8_t);
      if ((lpy.minor >= 12 && owner == OWNED_BY_CSTACK) || code == NULL
          || (lpy.minor >= 13 && lpy_type ((lpy_object *) code) != lpy.PyCode_Type))
        {
          f = next;
          continue;
        }
      char *instr = AT (f, L->frame_instr, char *);
      char *first = code + L->code_adaptive;
      /* An incomplete frame (still being set up) is skipped, as
       * tracemalloc does; only the innermost frames can be incomplete
       * (a caller is always past its first instruction). */
      if (n == 0 && owner != OWNED_BY_GENERATOR
          && instr < first + 2 * AT (code, L->code_firsttraceable, int))
        {
          f = next;
          continue;
        }
      pairs[2 * n] = (uint64_t) (uintptr_t) code;
      pairs[2 * n + 1] = (uint64_t) ((instr - first) / 2);
      n++;
      f = next;
    }
  return n;
}

static int
line_of (uint64_t code, uint64_t instr)
{
  int offset;
  if (lpy.minor <= 9)
    offset = (int) (uint32_t) instr;            /* f_lasti in bytes */
  else
    offset = (int) (uint32_t) instr * 2;        /* code units */
  if (offset < 0)
    offset = 0;
  return lpy.PyCode_Addr2Line ((lpy_object *) (uintptr_t) code, offset);
}

/* ------------------------------------------------------------------ */
/* Frames and Python stacks, interned.  A frame is (code, line); the code
 * object is kept alive (one reference per distinct code object) so its
 * address is never reused for another while the key exists. */

typedef struct
{
  const char *filename;
  const char *function;
  uint32_t    line;
} frame_info;

#define MAX_FRAMES (1u << 22)
static linger_interner frames, py_stacks, codes;
static frame_info *frame_infos;
static uint32_t frames_written, py_stacks_written;
static uint8_t *str_arena;
static size_t str_left;

static const char *
copy_bytes (const char *s, size_t len)
{
  if (len > 1024)
    len = 1024;
  if (len + 1 > str_left)
    {
      str_arena = linger_map (1u << 20);
      if (str_arena == NULL)
        {
          str_left = 0;
          return "?";
        }
      str_left = 1u << 20;
    }
  char *p = (char *) str_arena;
  memcpy (p, s, len);
  p[len] = '\0';
  str_arena += len + 1;
  str_left -= len + 1;
  return p;
}

/* A str's UTF-8 text, read in place for compact ASCII strings (nearly
 * all file and function names), else through the API. */
static const char *
copy_str (lpy_object *s)
{
  if (s == NULL || lpy_type (s) != lpy.PyUnicode_Type)
    return "?";
  uint32_t state = AT (s, L->unicode_state, uint32_t);
  bool compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
  if (compact && ascii)
    return copy_bytes ((const char *) s + L->ascii_data, (size_t) AT (s, L->unicode_length, intptr_t));
  if (!capture_has_gil)
    return "?";
  ssize_t len = 0;
  const char *u = lpy.PyUnicode_AsUTF8AndSize (s, &len);
  if (u == NULL)
    {
      lpy.PyErr_Clear ();
      return "?";
    }
  return copy_bytes (u, (size_t) len);
}

static uint32_t
frame_id (uint64_t code, int line)
{
  uint64_t words[2] = { code, (uint64_t) (uint32_t) line };
  bool inserted;
  uint32_t id = linger_intern (&frames, words, 2, linger_hash_words (words, 2), 0, &inserted);
  if (id == 0 || !inserted)
    return id;
  if (frame_infos == NULL)
    frame_infos = linger_map ((size_t) MAX_FRAMES * sizeof *frame_infos);
  if (frame_infos == NULL || id >= MAX_FRAMES)
    return id;
  lpy_object *co = (lpy_object *) (uintptr_t) code;
  bool code_new;
  linger_intern (&codes, &code, 1, linger_hash_words (&code, 1), 0, &code_new);
  /* Without the GIL the code object cannot be kept alive (its refcount
   * is not ours to touch then); the frame using it keeps it alive for
   * now, and a code object that dies later could give its address to
   * another: such a site would then be misnamed, never crash. */
  if (code_new && capture_has_gil)
    lpy.Py_IncRef (co);
  frame_info *fi = &frame_infos[id];
  fi->filename = copy_str (AT (co, L->code_filename, lpy_object *));
  fi->function = copy_str (AT (co, lpy.minor >= 11 ? L->code_qualname : L->code_name, lpy_object *));
  fi->line = line > 0 ? (uint32_t) line : 0;
  return id;
}

static uint32_t
resolve (const uint64_t *pairs, uint32_t n, bool truncated)
{
  uint64_t ids[LINGER_PY_DEPTH_MAX];
  lpy_object *et = NULL, *ev = NULL, *etb = NULL;
  if (capture_has_gil)
    lpy.PyErr_Fetch (&et, &ev, &etb);
  for (uint32_t i = 0; i < n; i++)
    ids[i] = frame_id (pairs[2 * i], line_of (pairs[2 * i], pairs[2 * i + 1]));
  if (capture_has_gil)
    lpy.PyErr_Restore (et, ev, etb);
  bool inserted;
  return linger_intern (&py_stacks, ids, n, linger_hash_words (ids, n), truncated ? 1 : 0, &inserted);
}

static void
py_flush (linger_writer *w)
{
  uint32_t nf = linger_intern_count (&frames);
  for (uint32_t id = frames_written + 1; id <= nf && frame_infos != NULL && id < MAX_FRAMES; id++)
    {
      frame_info *fi = &frame_infos[id];
      linger_py_frame_entry e = {
        .id = id,
        .filename = linger_writer_intern_cstr (w, fi->filename ? fi->filename : "?"),
        .function = linger_writer_intern_cstr (w, fi->function ? fi->function : "?"),
        .line = fi->line,
      };
      linger_writer_py_frame (w, &e);
    }
  frames_written = nf;
  uint32_t ns = linger_intern_count (&py_stacks);
  for (uint32_t id = py_stacks_written + 1; id <= ns; id++)
    {
      const linger_intern_entry *e = linger_intern_get (&py_stacks, id);
      uint32_t ids[LINGER_PY_DEPTH_MAX];
      uint32_t depth = e->n_words > LINGER_PY_DEPTH_MAX ? LINGER_PY_DEPTH_MAX : e->n_words;
      for (uint32_t i = 0; i < depth; i++)
        ids[i] = (uint32_t) e->words[i];
      linger_writer_py_stack (w, id, e->aux, ids, depth);
    }
  py_stacks_written = ns;
}

/* ------------------------------------------------------------------ */
/* Validation: our walker's innermost frame must be the public API's. */

void
linger_pyalloc_validate (void)
{
  if (walker != WALKER_PENDING || !installed)
    return;
  uint64_t pairs[2];
  uint32_t n = capture (pairs, 1, LINGER_DOMAIN_PY_RAW);
  lpy_object *f = lpy.PyEval_GetFrame ();
  if (n == 0 || f == NULL)
    return; /* no Python frame yet: decide later */
  linger_guard_enter ();
  lpy_object *code = lpy.minor >= 9 ? lpy.PyFrame_GetCode (f) : AT (f, 32, lpy_object *);
  int api_line = lpy.PyFrame_GetLineNumber (f);
  int our_line = line_of (pairs[0], pairs[1]);
  bool ok = (uint64_t) (uintptr_t) code == pairs[0] && api_line == our_line;
  if (lpy.minor >= 9 && code != NULL)
    lpy.Py_DecRef (code);
  linger_guard_leave ();
  if (ok)
    {
      walker = WALKER_OK;
      linger_alloc_add_info_flags (LINGER_ALLOC_FRAMES_CHECKED);
    }
  else
    {
      walker = WALKER_OFF;
      linger_alloc_set_python (NULL, resolve);
      linger_alloc_add_info_flags (LINGER_ALLOC_FRAMES_OFF);
      char msg[160];
      snprintf (msg, sizeof msg,
                "the frame walker disagreed with CPython %s's API (line %d vs %d): "
                "Python allocation sites are not recorded", lpy.version, our_line, api_line);
      linger_output_note (LINGER_MSG_WARNING, msg);
    }
}

/* ------------------------------------------------------------------ */
/* Cyclic GC: gc.callbacks marks the collection; each block freed inside
 * it is classified by reading the dying object in place (it is still
 * intact: the free hook runs before the real free). */

static size_t
presize (lpy_object *type)
{
  unsigned long flags = LPY_TP_FLAGS (type);
  size_t s = (flags & LPY_TPFLAGS_HAVE_GC) ? 16 : 0;
  if (lpy.minor == 11 && (flags & LPY_TPFLAGS_MANAGED_DICT))
    s += 16;
  if (lpy.minor >= 12 && (flags & (LPY_TPFLAGS_MANAGED_DICT | LPY_TPFLAGS_MANAGED_WEAKREF)))
    s += 16;
  return s;
}

/* Type pointers already checked: readable and really types. */
typedef struct
{
  uintptr_t type;
  uint32_t  name;  /* id in `names`, 0 = not a type */
} type_slot;
#define TYPE_CACHE 4096
static type_slot type_cache[TYPE_CACHE];
static linger_interner names;

/* Whether `len` bytes at `p` can be read, asked of the kernel: write()
 * fails with EFAULT instead of faulting.  Used once per distinct type
 * pointer (they are cached), never per block. */
static int probe_pipe[2] = { -1, -1 };

static bool
readable (const void *p, size_t len)
{
  if (probe_pipe[0] < 0 && pipe2 (probe_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    return false;
  ssize_t n = write (probe_pipe[1], p, len);
  if (n <= 0)
    return false;
  char sink[64];
  while (read (probe_pipe[0], sink, sizeof sink) > 0)
    ;
  return (size_t) n == len;
}

static bool
readable_type (uintptr_t t)
{
  if (t < 4096 || (t & 7) != 0)
    return false;
  /* Up to tp_flags, the fields read below. */
  return readable ((const void *) t, 176);
}

static uint32_t
type_name_id (uintptr_t t)
{
  type_slot *slot = &type_cache[(t >> 4) & (TYPE_CACHE - 1)];
  if (slot->type == t)
    return slot->name;
  uint32_t id = 0;
  if (readable_type (t))
    {
      /* t is a type if its own type is `type` or a metaclass (a type
       * whose instances are types). */
      /* Freelists reuse ob_type as a link (floats before 3.11), so the
       * chain must end in `type` itself within two steps. */
      uintptr_t meta = (uintptr_t) lpy_type ((lpy_object *) t);
      const char *name = NULL;
      if (meta == (uintptr_t) lpy.PyType_Type
          || (readable_type (meta) && lpy_type ((lpy_object *) meta) == lpy.PyType_Type
              && (LPY_TP_FLAGS ((lpy_object *) meta) & LPY_TPFLAGS_TYPE_SUBCLASS) != 0))
        name = LPY_TP_NAME ((lpy_object *) t);
      if (name != NULL && readable (name, 1))
        {
          uint64_t words[16] = { 0 };
          size_t len = name ? strnlen (name, sizeof words - 1) : 0;
          memcpy (words, name, len);
          bool inserted;
          id = linger_intern (&names, words, (uint32_t) ((len + 8) / 8), linger_hash_words (words, (uint32_t) ((len + 8) / 8)), 0,
                              &inserted);
        }
    }
  slot->type = t;
  slot->name = id;
  return id;
}

static void
classify (linger_gc_event *ev)
{
  static const size_t candidates[] = { 16, 32, 0 };
  for (size_t k = 0; k < sizeof candidates / sizeof candidates[0]; k++)
    {
      size_t off = candidates[k];
      if (off == 32 && lpy.minor < 11)
        continue;
      if (ev->size < off + 16)
        continue;
      char *obj = (char *) ev->block + off;
      /* Cheap shape checks first, so that few candidates reach the type
       * probe: a dying GC object was untracked (its PyGC_Head reads
       * next == 0, prev holding at most the finalized bit), and a dying
       * object's refcount is 0. */
      if (off != 0)
        {
          uintptr_t next = AT (obj, -16, uintptr_t), prev = AT (obj, -8, uintptr_t);
          if (next != 0 || (prev & ~(uintptr_t) 3) != 0)
            continue;
        }
      else if (AT (obj, 0, intptr_t) != 0)
        continue;
      uintptr_t t = (uintptr_t) lpy_type ((lpy_object *) obj);
      uint32_t name = type_name_id (t);
      if (name == 0)
        continue;
      lpy_object *type = (lpy_object *) t;
      if (presize (type) != off || (size_t) LPY_TP_BASICSIZE (type) + off > ev->size)
        continue;
      ev->object = (uintptr_t) obj;
      ev->type = name;
      /* A dying type's address may next hold anything: forget it. */
      if (LPY_TP_FLAGS (type) & LPY_TPFLAGS_TYPE_SUBCLASS)
        {
          type_slot *slot = &type_cache[((uintptr_t) obj >> 4) & (TYPE_CACHE - 1)];
          if (slot->type == (uintptr_t) obj)
            slot->type = 0;
        }
      if (type == lpy.PyMethod_Type)
        {
          ev->link = (uintptr_t) AT (obj, 24, void *);
          ev->link_kind = LINGER_CYCLE_BOUND_METHOD;
        }
      else if (type == lpy.PyCell_Type)
        {
          ev->link = (uintptr_t) AT (obj, 16, void *);
          ev->link_kind = LINGER_CYCLE_CLOSURE;
        }
      else if (type == lpy.PyFunction_Type && AT (obj, L->func_closure, void *) != NULL)
        {
          ev->link = (uintptr_t) obj;
          ev->link_kind = LINGER_CYCLE_CLOSURE;
        }
      return;
    }
}

static uint32_t
type_name_string (linger_writer *w, uintptr_t name)
{
  if (name == 0 || name > linger_intern_count (&names))
    return LINGER_STRING_NONE;
  const linger_intern_entry *e = linger_intern_get (&names, (uint32_t) name);
  return linger_writer_intern (w, (const char *) e->words, strnlen ((const char *) e->words, e->n_words * 8));
}

/* The user pointer of an object's block (what the free hook sees). */
static uintptr_t
object_block (lpy_object *obj)
{
  return (uintptr_t) obj - presize (lpy_type (obj));
}

static lpy_object *
gc_callback (lpy_object *self, lpy_object *args)
{
  lpy_object *phase = args ? lpy.PyTuple_GetItem (args, 0) : NULL;
  ssize_t len = 0;
  const char *s = phase ? lpy.PyUnicode_AsUTF8AndSize (phase, &len) : NULL;
  if (s == NULL)
    lpy.PyErr_Clear ();
  else if (strcmp (s, "start") == 0)
    {
      /* CPython built the argument tuple and the info dict for the
       * callbacks before calling them and frees them once they return,
       * inside the window: those two frees are not the collector's. */
      lpy_object *info = lpy.PyTuple_GetItem (args, 1);
      if (info == NULL)
        lpy.PyErr_Clear ();
      uintptr_t skip[2] = { object_block (args), info ? object_block (info) : 0 };
      linger_alloc_gc_start (skip, 2);
    }
  else if (strcmp (s, "stop") == 0)
    linger_alloc_gc_stop ();
  lpy.Py_IncRef (lpy._Py_NoneStruct);
  return lpy._Py_NoneStruct;
}

static lpy_method_def gc_callback_def = {
  "_linger_gc_callback", gc_callback, LPY_METH_VARARGS,
  "linger: counts frees that happen inside cyclic collections",
};

void
linger_pyalloc_start (void)
{
  if (!installed)
    return;
  linger_alloc_set_py_flush (py_flush);
  if (L != NULL)
    linger_alloc_set_gc_classifier (classify, type_name_string);
  lpy_object *gc = lpy.PyImport_ImportModule ("gc");
  lpy_object *callbacks = gc ? lpy.PyObject_GetAttrString (gc, "callbacks") : NULL;
  lpy_object *cb = lpy.PyCFunction_NewEx (&gc_callback_def, NULL, NULL);
  if (callbacks == NULL || cb == NULL || lpy.PyList_Append (callbacks, cb) != 0)
    {
      lpy.PyErr_Clear ();
      linger_output_note (LINGER_MSG_WARNING, "cannot register gc.callbacks: "
                                              "frees by the cyclic GC are not told apart");
    }
  if (cb)
    lpy.Py_DecRef (cb);
  if (callbacks)
    lpy.Py_DecRef (callbacks);
  if (gc)
    lpy.Py_DecRef (gc);
}

uint32_t
linger_pyalloc_object_site (lpy_object *obj)
{
  if (!installed)
    return 0;
  lpy_object *type = lpy_type (obj);
  /* Static types are not heap blocks: nothing in front of them is ours
   * to read. */
  if (obj == NULL || ((LPY_TP_FLAGS (type) & LPY_TPFLAGS_TYPE_SUBCLASS)
                      && !(LPY_TP_FLAGS (obj) & LPY_TPFLAGS_HEAPTYPE)))
    return 0;
  const char *block = (const char *) obj - presize (type);
  return has_header (block) ? header_of (block)->site : 0;
}

void
linger_pyalloc_fork_child (void)
{
  frames_written = py_stacks_written = 0;
}
