/* linger_trace_format.h: the on-disk trace format, shared by the shim
 * (writer) and the analyzer (reader).  See docs/trace-format.md.
 *
 * Rules that keep the format safe to evolve and safe to read:
 *  - every field is fixed width and little endian; no bitfields, no
 *    native int/size_t/bool;
 *  - every record starts with a linger_record_header whose size covers the
 *    whole record and is a multiple of 8, so a reader can skip records it
 *    does not know and detect a record cut short by a crash;
 *  - strings are interned: a STRING record defines an id before any record
 *    uses it, so a trace cut anywhere never refers to an undefined string;
 *  - a trace is complete only if it ends with an END record.
 *
 * This header is GLib-free and Python.h-free: it is included by the shim.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define LINGER_STATIC_ASSERT(cond, msg) _Static_assert (cond, msg)

#define LINGER_TRACE_MAGIC "LINGERTR"
#define LINGER_TRACE_MAGIC_LEN 8
/* Bump MAJOR when a reader of the previous version would misread the file;
 * bump MINOR when records or trailing fields are only added. */
#define LINGER_TRACE_VERSION_MAJOR 1
#define LINGER_TRACE_VERSION_MINOR 3

/* Records are aligned to 8 bytes and never larger than this, so a reader
 * can bound its buffers before trusting a size field. */
#define LINGER_RECORD_ALIGN 8
#define LINGER_RECORD_MAX_SIZE (1u << 20)

/* String ids: 0 means "no string". */
#define LINGER_STRING_NONE 0u

typedef struct
{
  uint8_t  magic[LINGER_TRACE_MAGIC_LEN]; /* "LINGERTR" */
  uint16_t version_major;
  uint16_t version_minor;
  uint32_t header_size;                   /* sizeof (linger_file_header) */
  uint64_t start_time_ns;                 /* CLOCK_REALTIME at open */
  uint32_t pid;
  uint32_t ppid;
  uint32_t pointer_size;                  /* 8 */
  uint32_t flags;                         /* LINGER_FILE_* */
  uint8_t  reserved[24];
} linger_file_header;

LINGER_STATIC_ASSERT (sizeof (linger_file_header) == 64, "file header changed size");

enum
{
  /* The file was written after a fork() by the child. */
  LINGER_FILE_FORKED_CHILD = 1u << 0,
};

typedef enum
{
  LINGER_REC_PROCESS        = 1,
  LINGER_REC_RUNTIME        = 2,
  LINGER_REC_STRING         = 3,
  LINGER_REC_SNAPSHOT_BEGIN = 4,
  LINGER_REC_OBJECTS        = 5,
  LINGER_REC_REFS           = 6,
  LINGER_REC_ROOTS          = 7,
  LINGER_REC_FINALIZERS     = 8,
  LINGER_REC_WEAKREFS       = 9,
  LINGER_REC_SNAPSHOT_END   = 10,
  LINGER_REC_MESSAGE        = 11,
  LINGER_REC_ATEXIT         = 12, /* batch of linger_atexit_entry (minor 1) */
  LINGER_REC_OBJECT_SITES   = 13, /* batch of linger_object_site_entry (minor 2) */
  LINGER_REC_SNAPSHOT_LABEL = 14, /* linger_rec_snapshot_label (minor 3) */
  /* 15..31 reserved for more snapshot records. */
  /* Allocation tracking (minor 2).  Written by the shim at flush points
   * (each snapshot, and the end of the process), never from inside an
   * allocation hook, so a site is always defined before a snapshot or a
   * block refers to it. */
  LINGER_REC_ALLOC_INFO     = 32, /* linger_rec_alloc_info: mode and totals */
  LINGER_REC_MODULES        = 33, /* batch of linger_module_entry */
  LINGER_REC_NATIVE_STACK   = 34, /* linger_rec_native_stack + addresses */
  LINGER_REC_PY_FRAMES      = 35, /* batch of linger_py_frame_entry */
  LINGER_REC_PY_STACK       = 36, /* linger_rec_py_stack + frame ids */
  LINGER_REC_SITES          = 37, /* batch of linger_site_entry */
  LINGER_REC_SITE_STATS     = 38, /* batch of linger_site_stats_entry */
  LINGER_REC_GC_FREES       = 39, /* batch of linger_gc_free_entry */
  LINGER_REC_LIVE_BLOCKS    = 40, /* batch of linger_block_entry */
  /* 41..63 reserved for allocation tracking. */
  LINGER_REC_END            = 64,
} linger_record_type;

typedef struct
{
  uint16_t type;   /* linger_record_type */
  uint16_t flags;  /* reserved, 0 */
  uint32_t size;   /* whole record including this header; multiple of 8 */
} linger_record_header;

LINGER_STATIC_ASSERT (sizeof (linger_record_header) == 8, "record header changed size");

/* PROCESS: who wrote this trace.  Followed by exe_len bytes of the
 * executable path, then cmdline_len bytes of the command line (arguments
 * separated by NUL), then zero padding to 8. */
typedef struct
{
  linger_record_header header;
  uint32_t pid;
  uint32_t ppid;
  uint64_t time_ns;
  uint32_t exe_len;
  uint32_t cmdline_len;
  uint32_t program;        /* string id: short program name (argv[0] basename) */
  uint32_t padding;
} linger_rec_process;

LINGER_STATIC_ASSERT (sizeof (linger_rec_process) == 40, "process record changed size");

enum
{
  LINGER_RUNTIME_SHARED_LIBPYTHON = 1u << 0, /* libpython*.so is mapped */
  LINGER_RUNTIME_DEBUG_ALLOCATORS = 1u << 1, /* PYTHONMALLOC=debug / -X dev */
  LINGER_RUNTIME_LAYOUT_KNOWN     = 1u << 2, /* a per-version layout was validated */
};

/* RUNTIME: the Python interpreter found in the process.  Absent from the
 * trace of a process that is not CPython. */
typedef struct
{
  linger_record_header header;
  uint32_t hexversion;     /* PY_VERSION_HEX, e.g. 0x030b02f0 */
  uint32_t flags;          /* LINGER_RUNTIME_* */
  uint32_t version;        /* string id: "3.11.2" */
  uint32_t implementation; /* string id: "cpython" */
} linger_rec_runtime;

LINGER_STATIC_ASSERT (sizeof (linger_rec_runtime) == 24, "runtime record changed size");

/* STRING: defines id -> text.  Followed by len bytes (UTF-8, no NUL) and
 * zero padding to 8.  Ids are dense, starting at 1, defined in order. */
typedef struct
{
  linger_record_header header;
  uint32_t id;
  uint32_t len;
} linger_rec_string;

LINGER_STATIC_ASSERT (sizeof (linger_rec_string) == 16, "string record changed size");

typedef enum
{
  LINGER_SNAPSHOT_AT_EXIT   = 1, /* before weakref.finalize's atexit handler */
  LINGER_SNAPSHOT_ON_SIGNAL = 2,
  LINGER_SNAPSHOT_INTERVAL  = 3,
  LINGER_SNAPSHOT_ON_API    = 4,
} linger_snapshot_reason;

typedef struct
{
  linger_record_header header;
  uint32_t snapshot_id;    /* 1, 2, ... in file order */
  uint32_t reason;         /* linger_snapshot_reason */
  uint64_t time_ns;
} linger_rec_snapshot_begin;

LINGER_STATIC_ASSERT (sizeof (linger_rec_snapshot_begin) == 24, "snapshot begin changed size");

/* SNAPSHOT_LABEL (minor 3): names a snapshot the program asked for
 * (_linger.snapshot(label), e.g. the pytest node id of the test that just
 * ended).  Written right before that snapshot's SNAPSHOT_BEGIN, so a
 * snapshot is never seen without what the label says about it.  A record
 * of its own rather than a field of SNAPSHOT_BEGIN, which has no room
 * left: readers of 1.0-1.2 step over it. */
enum
{
  /* The snapshot lists the objects the cyclic GC tracks and their sites,
   * nothing else (no references, roots, finalizers, weak references):
   * enough to tell which objects existed, for attribution; never judged
   * or compared. */
  LINGER_SNAPSHOT_OBJECTS_ONLY = 1u << 0,
};

typedef struct
{
  linger_record_header header;
  uint32_t snapshot_id;    /* the snapshot that begins next */
  uint32_t label;          /* string id, never LINGER_STRING_NONE */
  uint32_t flags;          /* LINGER_SNAPSHOT_OBJECTS_ONLY */
  uint32_t padding;
} linger_rec_snapshot_label;

LINGER_STATIC_ASSERT (sizeof (linger_rec_snapshot_label) == 24, "snapshot label changed size");

/* Batched records (OBJECTS, REFS, ROOTS, FINALIZERS, WEAKREFS) share this
 * head, followed by count entries of the record's entry type.  A batch
 * belongs to the snapshot opened by the last SNAPSHOT_BEGIN. */
typedef struct
{
  linger_record_header header;
  uint32_t count;
  uint32_t padding;
} linger_rec_batch;

LINGER_STATIC_ASSERT (sizeof (linger_rec_batch) == 16, "batch head changed size");

/* Object flags. */
enum
{
  LINGER_OBJ_HAS_DEL     = 1u << 0,  /* its type defines __del__ (tp_finalize from Python) */
  LINGER_OBJ_FINALIZED   = 1u << 1,  /* the GC already ran its finalizer */
  LINGER_OBJ_GC_TRACKED  = 1u << 2,  /* listed by the cyclic GC */
  LINGER_OBJ_WEAKREF     = 1u << 3,  /* weakref.ref or a subclass */
  LINGER_OBJ_PROXY       = 1u << 4,  /* weakref.proxy / callable proxy */
  LINGER_OBJ_METHOD      = 1u << 5,  /* bound method (types.MethodType) */
  LINGER_OBJ_CELL        = 1u << 6,
  LINGER_OBJ_FUNCTION    = 1u << 7,
  LINGER_OBJ_FRAME       = 1u << 8,
  LINGER_OBJ_MODULE      = 1u << 9,
  LINGER_OBJ_TYPE        = 1u << 10,
  LINGER_OBJ_GC_TYPE     = 1u << 11, /* its type supports the cyclic GC */
  LINGER_OBJ_IMMORTAL    = 1u << 12, /* 3.12+ immortal refcount */
  LINGER_OBJ_IN_GARBAGE  = 1u << 13, /* listed in gc.garbage */
  LINGER_OBJ_WEAKMETHOD  = 1u << 14, /* weakref.WeakMethod */
  LINGER_OBJ_FINALIZE    = 1u << 15, /* a weakref.finalize instance */
  LINGER_OBJ_PARTIAL     = 1u << 16, /* functools.partial */
  LINGER_OBJ_BUILTIN_METHOD = 1u << 17, /* builtin method bound to __self__ */
  LINGER_OBJ_DICT        = 1u << 18, /* exactly dict or a dict subclass */
  LINGER_OBJ_SIZE_ESTIMATED = 1u << 19, /* size from tp_basicsize, not __sizeof__ */
};

typedef struct
{
  uint64_t address;
  uint64_t size;           /* sys.getsizeof semantics */
  int64_t  refcount;       /* ob_refcnt minus the snapshot's own references */
  uint32_t type_name;      /* string id: "module.QualName" */
  uint32_t flags;          /* LINGER_OBJ_* */
  uint32_t name;           /* string id: __qualname__ of a function, class,
                              bound method's function or code, a module's
                              __name__; LINGER_STRING_NONE otherwise */
  uint32_t padding;
} linger_object_entry;

LINGER_STATIC_ASSERT (sizeof (linger_object_entry) == 40, "object entry changed size");

typedef enum
{
  LINGER_REF_STRONG   = 0, /* an owned reference (tp_traverse visits it) */
  LINGER_REF_WEAK     = 1, /* weak reference -> its referent (not owned) */
  LINGER_REF_CALLBACK = 2, /* weak reference -> its callback (owned) */
} linger_ref_kind;

/* How to print the edge.  `label` is a string id unless said otherwise. */
typedef enum
{
  LINGER_LABEL_NONE     = 0, /* unknown slot; label unused */
  LINGER_LABEL_ATTR     = 1, /* .name: attribute, slot, member */
  LINGER_LABEL_KEY      = 2, /* [text]: dict value; text is the key already
                                formatted ('k' quoted for str, 42 for int,
                                <Type> for other keys) */
  LINGER_LABEL_INDEX    = 3, /* [n]: list/tuple item; label is the number */
  LINGER_LABEL_DICT_KEY = 4, /* a dict key object; text as for KEY */
  LINGER_LABEL_CLOSURE  = 5, /* closure cell of the free variable `text` */
  LINGER_LABEL_LOCAL    = 6, /* frame local variable `text` */
  LINGER_LABEL_ITEM     = 7, /* set / frozenset member; label unused */
  LINGER_LABEL_REFERENT = 8, /* weakref -> referent; label unused */
} linger_label_kind;

typedef struct
{
  uint64_t source;
  uint64_t target;
  uint32_t label;          /* string id, or index for LINGER_LABEL_INDEX */
  uint16_t label_kind;     /* linger_label_kind */
  uint16_t ref_kind;       /* linger_ref_kind */
} linger_ref_entry;

LINGER_STATIC_ASSERT (sizeof (linger_ref_entry) == 24, "ref entry changed size");

typedef enum
{
  LINGER_ROOT_MODULE   = 1, /* sys.modules[label] */
  LINGER_ROOT_THREAD   = 2, /* a thread's frame; label describes thread and frame */
  LINGER_ROOT_BUILTINS = 3, /* the interpreter's builtins dict */
  LINGER_ROOT_SYS      = 4, /* interpreter state reachable through sys */
  LINGER_ROOT_GARBAGE  = 5, /* gc.garbage */
  LINGER_ROOT_ATEXIT   = 6, /* func/args/kwargs of an atexit.register()
                               callback; label "atexit callback #N: func"
                               (minor 1) */
} linger_root_kind;

typedef struct
{
  uint64_t address;
  uint32_t kind;           /* linger_root_kind */
  uint32_t label;          /* string id */
} linger_root_entry;

LINGER_STATIC_ASSERT (sizeof (linger_root_entry) == 16, "root entry changed size");

enum
{
  LINGER_FINALIZER_ATEXIT = 1u << 0, /* finalize.atexit is true */
};

/* One live entry of weakref.finalize._registry: {finalizer: _Info}. */
typedef struct
{
  uint64_t finalizer;      /* the weakref.finalize object */
  uint64_t info;           /* its _Info */
  uint64_t weakref;        /* _Info.weakref */
  uint64_t referent;       /* the watched object, 0 if already dead */
  uint64_t func;           /* _Info.func */
  uint64_t args;           /* _Info.args (tuple), 0 if None */
  uint64_t kwargs;         /* _Info.kwargs (dict), 0 if None/empty */
  uint64_t index;          /* _Info.index: creation order */
  uint32_t flags;          /* LINGER_FINALIZER_* */
  uint32_t padding;
} linger_finalizer_entry;

LINGER_STATIC_ASSERT (sizeof (linger_finalizer_entry) == 72, "finalizer entry changed size");

typedef enum
{
  LINGER_WEAKREF_REF        = 1, /* weakref.ref and subclasses */
  LINGER_WEAKREF_PROXY      = 2,
  LINGER_WEAKREF_CALLABLE_PROXY = 3,
  LINGER_WEAKREF_METHOD     = 4, /* weakref.WeakMethod */
} linger_weakref_kind;

typedef struct
{
  uint64_t weakref;
  uint64_t referent;       /* 0 if dead */
  uint64_t callback;       /* 0 if none */
  uint32_t kind;           /* linger_weakref_kind */
  uint32_t padding;
} linger_weakref_entry;

LINGER_STATIC_ASSERT (sizeof (linger_weakref_entry) == 32, "weakref entry changed size");

/* One callback registered with atexit.register(func, *args, **kwargs),
 * in registration order.  The interpreter keeps them outside any object
 * the GC can traverse (3.10+), so they are roots of their own. */
typedef struct
{
  uint64_t func;
  uint64_t args;           /* tuple, 0 if none */
  uint64_t kwargs;         /* dict, 0 if none */
  uint32_t index;          /* registration order, 0 first */
  uint32_t padding;
} linger_atexit_entry;

LINGER_STATIC_ASSERT (sizeof (linger_atexit_entry) == 32, "atexit entry changed size");

typedef enum
{
  LINGER_SNAPSHOT_OK      = 0,
  LINGER_SNAPSHOT_PARTIAL = 1, /* the walk stopped early; see MESSAGE records */
} linger_snapshot_status;

typedef struct
{
  linger_record_header header;
  uint32_t snapshot_id;
  uint32_t status;         /* linger_snapshot_status */
  uint64_t n_objects;      /* entries written in this snapshot, for checking */
  uint64_t n_refs;
  uint64_t n_roots;
  uint64_t duration_ns;    /* wall time the program was paused */
} linger_rec_snapshot_end;

LINGER_STATIC_ASSERT (sizeof (linger_rec_snapshot_end) == 48, "snapshot end changed size");

typedef enum
{
  LINGER_MSG_INFO    = 0,
  LINGER_MSG_WARNING = 1, /* something was not recorded */
} linger_message_level;

/* MESSAGE: a note from the shim to the user, printed by the report.
 * Followed by len bytes of UTF-8 text and padding. */
typedef struct
{
  linger_record_header header;
  uint32_t level;
  uint32_t len;
} linger_rec_message;

LINGER_STATIC_ASSERT (sizeof (linger_rec_message) == 16, "message record changed size");

typedef enum
{
  LINGER_EXIT_UNKNOWN = 0,
  LINGER_EXIT_NORMAL  = 1, /* exit() or return from main: destructors ran */
  LINGER_EXIT_UNDERSCORE = 2, /* _exit()/_Exit()/os._exit(): no atexit, no
                                 interpreter shutdown, so no exit snapshot */
} linger_exit_path;

/* END: the process finished and the shim closed the trace cleanly. */
typedef struct
{
  linger_record_header header;
  uint64_t time_ns;
  uint32_t n_strings;      /* strings defined, for checking */
  uint32_t exit_path;      /* linger_exit_path (was padding in 1.0) */
} linger_rec_end;

LINGER_STATIC_ASSERT (sizeof (linger_rec_end) == 24, "end record changed size");

/* ---- Allocation tracking (minor 2) --------------------------------------
 *
 * An allocation *site* is the pair (Python stack, native stack) of the
 * code that allocated a block, plus the allocator domain.  Stacks and
 * sites are interned by the shim: each distinct one is written once, with
 * a dense id starting at 1 (0 = none), before anything refers to it.
 */

enum
{
  LINGER_ALLOC_PYTHON         = 1u << 0, /* CPython allocator domains wrapped */
  LINGER_ALLOC_NATIVE         = 1u << 1, /* malloc family tracked */
  LINGER_ALLOC_NATIVE_STACKS  = 1u << 2, /* native stacks unwound */
  LINGER_ALLOC_GC_LIFETIMES   = 1u << 3, /* frees inside gc collections counted */
  LINGER_ALLOC_FRAMES_CHECKED = 1u << 4, /* the frame walker matched the API */
  LINGER_ALLOC_FRAMES_OFF     = 1u << 5, /* no frame walker for this version,
                                           or it failed its check */
  LINGER_ALLOC_FREELISTS      = 1u << 6, /* freelists recycle objects unseen
                                           (3.8-3.12): sites may be stale */
  LINGER_ALLOC_TABLE_FULL     = 1u << 7, /* some blocks could not be tracked */
  LINGER_ALLOC_FINAL          = 1u << 8, /* written at the end of the process */
};

/* ALLOC_INFO: how allocations were tracked, and totals so far.  Written at
 * every flush point; the last one in the file is the most complete. */
typedef struct
{
  linger_record_header header;
  uint32_t flags;               /* LINGER_ALLOC_* */
  uint32_t python_depth;        /* frames kept per Python stack */
  uint32_t native_depth;        /* frames kept per native stack, 0 = none */
  uint32_t padding;
  uint64_t python_allocs;       /* blocks allocated through the Python domains */
  uint64_t native_allocs;       /* blocks allocated through malloc & co. */
  uint64_t untracked;           /* blocks that could not be tracked */
  uint64_t peak_live_blocks;    /* most blocks tracked at once */
  uint64_t table_bytes;         /* memory the shim used for its tables */
  uint64_t gc_collections;      /* gc.callbacks "stop" events seen */
} linger_rec_alloc_info;

LINGER_STATIC_ASSERT (sizeof (linger_rec_alloc_info) == 72, "alloc info changed size");

/* One loaded ELF object.  Native addresses are symbolized against the
 * module that contained them when their stack was recorded: a module is
 * current for generations [gen_loaded, gen_unloaded). */
typedef struct
{
  uint64_t base;                /* load bias (dl_phdr_info.dlpi_addr) */
  uint64_t start;               /* lowest mapped PT_LOAD address */
  uint64_t end;                 /* one past the highest */
  uint32_t path;                /* string id; "" means the main executable */
  uint32_t build_id;            /* string id: lowercase hex, or NONE */
  uint32_t gen_loaded;          /* module-map generation it appeared in */
  uint32_t gen_unloaded;        /* generation it was gone in; 0 = never */
} linger_module_entry;

LINGER_STATIC_ASSERT (sizeof (linger_module_entry) == 40, "module entry changed size");

/* NATIVE_STACK: followed by depth uint64 instruction addresses, innermost
 * first.  All but a signal frame are return addresses: look up addr - 1. */
typedef struct
{
  linger_record_header header;
  uint32_t id;
  uint32_t depth;
  uint32_t generation;          /* module-map generation when recorded */
  uint32_t flags;               /* 1: truncated at the depth limit */
} linger_rec_native_stack;

LINGER_STATIC_ASSERT (sizeof (linger_rec_native_stack) == 24, "native stack changed size");

/* One Python source location, interned. */
typedef struct
{
  uint32_t id;
  uint32_t filename;            /* string id (co_filename) */
  uint32_t function;            /* string id (co_qualname on 3.11+, co_name before) */
  uint32_t line;                /* 0 if unknown */
} linger_py_frame_entry;

LINGER_STATIC_ASSERT (sizeof (linger_py_frame_entry) == 16, "py frame entry changed size");

/* PY_STACK: followed by depth uint32 frame ids, innermost first, and
 * padding to 8. */
typedef struct
{
  linger_record_header header;
  uint32_t id;
  uint32_t depth;
  uint32_t flags;               /* 1: truncated at the depth limit */
  uint32_t padding;
} linger_rec_py_stack;

LINGER_STATIC_ASSERT (sizeof (linger_rec_py_stack) == 24, "py stack changed size");

typedef enum
{
  LINGER_DOMAIN_PY_RAW = 1,     /* PyMem_RawMalloc */
  LINGER_DOMAIN_PY_MEM = 2,     /* PyMem_Malloc */
  LINGER_DOMAIN_PY_OBJ = 3,     /* PyObject_Malloc */
  LINGER_DOMAIN_NATIVE = 4,     /* malloc, calloc, realloc, memalign ... */
} linger_alloc_domain;

enum
{
  /* Allocated while the interpreter was starting, before the program's
   * own code ran (or before main() in a C program's constructors). */
  LINGER_SITE_STARTUP = 1u << 0,
  /* Allocated while the interpreter was shutting down. */
  LINGER_SITE_SHUTDOWN = 1u << 1,
};

typedef struct
{
  uint32_t id;
  uint32_t py_stack;            /* 0 if none */
  uint32_t native_stack;        /* 0 if none */
  uint16_t domain;              /* linger_alloc_domain */
  uint16_t flags;               /* LINGER_SITE_* */
} linger_site_entry;

LINGER_STATIC_ASSERT (sizeof (linger_site_entry) == 16, "site entry changed size");

/* Totals for one site since the start, at the time of the flush. */
typedef struct
{
  uint32_t site;
  uint32_t padding;
  uint64_t allocs;
  uint64_t alloc_bytes;
  uint64_t frees;               /* all frees of blocks from this site */
  uint64_t gc_frees;            /* of which inside a cyclic collection */
  uint64_t gc_free_bytes;
} linger_site_stats_entry;

LINGER_STATIC_ASSERT (sizeof (linger_site_stats_entry) == 48, "site stats changed size");

typedef enum
{
  LINGER_CYCLE_OTHER        = 0,
  LINGER_CYCLE_BOUND_METHOD = 1, /* the object was the __self__ of a bound
                                    method freed in the same collection */
  LINGER_CYCLE_CLOSURE      = 2, /* a function with a closure, or an object
                                    a cell freed in the collection held */
} linger_cycle_kind;

/* Objects freed inside cyclic collections, by site, type and the kind of
 * cycle they were in (cumulative). */
typedef struct
{
  uint32_t site;
  uint32_t type_name;           /* string id: tp_name, or NONE if unknown */
  uint32_t kind;                /* linger_cycle_kind */
  uint32_t padding;
  uint64_t count;
  uint64_t bytes;
} linger_gc_free_entry;

LINGER_STATIC_ASSERT (sizeof (linger_gc_free_entry) == 32, "gc free entry changed size");

/* A block still allocated at the end of the process (written only in the
 * final flush). */
typedef struct
{
  uint64_t address;
  uint64_t size;
  uint32_t site;
  uint32_t padding;
} linger_block_entry;

LINGER_STATIC_ASSERT (sizeof (linger_block_entry) == 24, "block entry changed size");

/* In a snapshot: the allocation site of an object (found through the
 * block under its pre-header).  Objects without one are absent. */
typedef struct
{
  uint64_t address;
  uint32_t site;
  uint32_t padding;
} linger_object_site_entry;

LINGER_STATIC_ASSERT (sizeof (linger_object_site_entry) == 16, "object site entry changed size");

static inline uint32_t
linger_record_padded (uint32_t size)
{
  return (size + (LINGER_RECORD_ALIGN - 1)) & ~(uint32_t) (LINGER_RECORD_ALIGN - 1);
}

#if defined(__cplusplus)
}
#endif
