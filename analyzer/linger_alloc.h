/* linger_alloc.h: what a trace says about allocations (format 1.2): the
 * interned Python frames and stacks, native stacks, the module map they
 * are symbolized against, allocation sites, per-site totals, frees done
 * by the cyclic GC, and the blocks still allocated at the end.
 *
 * The reader fills it while it validates the records, so every id in it
 * resolves: a site's stacks, a stack's frames, a block's site.  It is
 * kept in flat arrays indexed by id (ids are dense, starting at 1): a
 * trace can have millions of live blocks, and a hash table per entry
 * would cost more than the entries.
 *
 * The second half turns a site into frames people read: Python frames
 * from the trace, native frames through a symbolizer, the two spliced
 * where the native stack enters the interpreter.
 */
#pragma once

#include <glib.h>

#include "linger_trace_format.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 start;      /* first entry in the pool */
  guint32 depth;
  guint32 flags;      /* 1: truncated at the depth limit */
  guint32 generation; /* native stacks: module-map generation */
  guint32 defined;    /* 0 for an id never defined */
} LingerStackRef;

typedef struct
{
  /* Any allocation record was read. */
  gboolean                 present;
  /* The last ALLOC_INFO (the most complete); has_info FALSE without one. */
  gboolean                 has_info;
  linger_rec_alloc_info    info;

  GArray  *modules;        /* linger_module_entry, file order */

  /* Indexed by id; entry 0 unused.  An undefined slot has id 0
   * (frames, sites) or defined 0 (stacks). */
  GArray  *py_frames;      /* linger_py_frame_entry */
  GArray  *py_stacks;      /* LingerStackRef into py_pool */
  GArray  *py_pool;        /* guint32 frame ids, innermost first */
  GArray  *native_stacks;  /* LingerStackRef into native_pool */
  GArray  *native_pool;    /* guint64 addresses, innermost first */
  GArray  *sites;          /* linger_site_entry */
  /* Indexed by site id: the latest totals (a later record supersedes an
   * earlier one); site 0 for a site without any. */
  GArray  *site_stats;     /* linger_site_stats_entry */
  /* One entry per (site, type_name, kind), the latest; sorted by that key
   * once the trace is read (linger_alloc_finish()). */
  GArray  *gc_frees;       /* linger_gc_free_entry */
  GArray  *live_blocks;    /* linger_block_entry, file order */
  gboolean saw_live_blocks;/* a LIVE_BLOCKS record was read (the final flush) */
} LingerAlloc;

LingerAlloc *linger_alloc_new     (void);
void         linger_alloc_free    (LingerAlloc *alloc);
/* After the last record: keeps the latest GC_FREES entry per key, sorted. */
void         linger_alloc_finish  (LingerAlloc *alloc);

/* The site @id, or NULL if it was never defined (or is 0). */
const linger_site_entry        *linger_alloc_site       (const LingerAlloc *alloc,
                                                         guint32            id);
const linger_site_stats_entry  *linger_alloc_site_stats (const LingerAlloc *alloc,
                                                         guint32            site);
const linger_py_frame_entry    *linger_alloc_py_frame   (const LingerAlloc *alloc,
                                                         guint32            id);
/* A stack's entries and depth; NULL (and 0) if it is not defined. */
const guint32                  *linger_alloc_py_stack   (const LingerAlloc *alloc,
                                                         guint32            id,
                                                         guint32           *depth);
const guint64                  *linger_alloc_native_stack (const LingerAlloc *alloc,
                                                           guint32            id,
                                                           guint32           *depth,
                                                           guint32           *generation);
/* The module that held @address in module-map @generation, or NULL. */
const linger_module_entry      *linger_alloc_module_for (const LingerAlloc *alloc,
                                                         guint64            address,
                                                         guint32            generation);

/* What allocation tracking could not see in this trace, one sentence
 * each, for the report ("objects created before tracking started"...).
 * Returns: (transfer full): a GPtrArray of char *, owning */
GPtrArray *linger_alloc_blind_spots (const LingerAlloc *alloc);

/* Object -> site within a snapshot: @object_sites sorted by address
 * (the reader sorts them).  Returns 0 when the object has none. */
guint32 linger_object_sites_lookup (const GArray *object_sites,
                                    guint64       address);

/* ---- Frames ------------------------------------------------------------ */

typedef enum
{
  LINGER_FRAME_PYTHON,
  LINGER_FRAME_NATIVE,
} LingerFrameKind;

/* One frame as people read it.  Strings are borrowed (from the trace, or
 * from the LingerSites that resolved them). */
typedef struct
{
  LingerFrameKind kind;
  const char     *function;   /* NULL if unknown */
  const char     *file;       /* NULL if unknown */
  guint           line;       /* 0 if unknown */
  const char     *module;     /* native: the ELF object (path); NULL for Python */
  guint64         address;    /* native: the return address as recorded */
  guint64         offset;     /* native: address - the module's load bias */
  gboolean        has_address;
  gboolean        inlined;    /* native: an inlined call inside the one below */
  /* native, from a lookup only: the compilation directory a relative
   * `file` is relative to (DW_AT_comp_dir); NULL once resolved. */
  const char     *comp_dir;
} LingerFrame;

/* Whether a native function belongs to CPython's evaluation machinery
 * (the eval loop, the calls into it, the interpreter's main): from the
 * first such frame outwards a native stack is "the interpreter running
 * Python code", which the Python stack says better. */
gboolean linger_frame_is_interpreter (const char *function);
/* Whether a native function only allocates for its caller (malloc,
 * PyMem_*, PyObject_Malloc, _PyObject_GC_*, linger's own frames...): the
 * "allocated at" line skips them. */
gboolean linger_frame_is_allocator   (const char *function);

/* Splices an already symbolized native stack and a Python stack (both
 * innermost first) into one: the native frames up to the first
 * interpreter frame, then the Python frames in place of the interpreter.
 * Without an interpreter frame (a stack cut at its depth limit) the
 * Python frames follow the native ones; without Python frames the native
 * stack is kept whole.
 * Returns: (transfer full): a GArray of LingerFrame */
GArray  *linger_frames_splice (const LingerFrame *native,
                               guint              n_native,
                               const LingerFrame *python,
                               guint              n_python);

/* The index of a stack's "allocated at" frame: for a Python-domain site
 * (@python_domain) its innermost Python frame, else the first frame that
 * is not an allocator, with two exceptions that say nothing to people
 * when there is better further out: the foreign-call machinery (libffi,
 * _ctypes) when Python frames follow, whose innermost one is then the
 * answer, and frames without a name (no symbol, no debug information)
 * when a named frame follows; -1 if none. */
gint     linger_frames_allocated_at (const GArray *frames,
                                     gboolean      python_domain);

/* The module a foreign-function call goes through on its way from Python
 * to C: libffi, or ctypes' _ctypes extension.  Their frames are the
 * machinery of `ctypes.CDLL(...).malloc(n)`, not where the program
 * allocated. */
gboolean linger_frame_is_foreign_call (const LingerFrame *frame);

/* The modules of the native frames "allocated at" skipped on its way out
 * (@at the index linger_frames_allocated_at() gave): their short names,
 * outermost first, each once, "ctypes → libffi"; NULL if it skipped none
 * but allocators. */
char    *linger_frames_through (const GArray *frames,
                                gint          at);

/* What left a native block behind, judged from its stack. */
typedef enum
{
  LINGER_ORIGIN_PROGRAM,     /* the program, an extension, a library: may be a leak */
  LINGER_ORIGIN_LOADER,      /* the dynamic loader's link maps, TLS: freed only by dlclose */
  LINGER_ORIGIN_LIBC_CACHE,  /* libc's one-time caches: stdio buffers of stdout/stderr, locales */
} LingerOrigin;

/* Judges a symbolized stack (innermost first).  Conservative: only a
 * stack whose innermost frames past the allocators are the C runtime's
 * own (libc, ld.so) all the way to the call the program made is the
 * runtime's; a callback into other code below that call keeps it the
 * program's. */
LingerOrigin linger_frames_origin (const GArray *frames);

/* Whether a Python source file is the standard library's or an installed
 * package's (under lib/python3.X, site-packages, dist-packages) or
 * frozen ("<frozen abc>") rather than the program's own. */
gboolean linger_python_file_is_library (const char *file);

/* "file:line in function" for @frame, appended to @out. */
void     linger_frame_append (GString           *out,
                              const LingerFrame *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerAlloc, linger_alloc_free)

G_END_DECLS
