/* linger_test_heap.h: a small builder of Python-shaped heaps for the
 * unit tests.
 *
 * Objects and references are collected first; refcounts are computed when
 * the heap is written (incoming owned references, plus `extra` for
 * references from outside the graph), as the shim would record them. */
#pragma once

#include <glib.h>

#include "linger_analysis.h"
#include "linger_test_trace.h"

G_BEGIN_DECLS

typedef struct
{
  guint64     address;
  const char *type;
  const char *name;
  guint32     flags;
  gint64      extra;
} HeapObject;

typedef struct
{
  guint64     source;
  guint64     target;
  guint16     label_kind;
  const char *label;
  guint32     index;
  guint16     ref_kind;
} HeapRef;

typedef struct
{
  guint64     address;
  guint32     kind;    /* linger_root_kind */
  const char *label;
} HeapRoot;

typedef struct
{
  GArray *objects;
  GArray *refs;
  GArray *roots;       /* guint64, module roots labelled by the module's name */
  GArray *more_roots;  /* HeapRoot */
  GArray *finalizers;  /* linger_finalizer_entry */
  GArray *weakrefs;    /* linger_weakref_entry */
  GArray *atexits;     /* linger_atexit_entry */
  GPtrArray *strings;  /* labels made up by the helpers */
  guint64 next;        /* address allocator */
  guint64 main_dict;   /* __main__.__dict__ */
  guint64 registry;    /* weakref.finalize._registry */
} Heap;

/* A heap with modules __main__ (h->main_dict) and weakref, whose
 * finalize class holds the registry; both modules are ROOTS. */
Heap           *heap_new             (void);
void            heap_free            (Heap *h);

/* A GC-tracked object at the next free address. */
guint64         heap_obj             (Heap       *h,
                                      const char *type,
                                      const char *name,
                                      guint32     flags);
/* One more reference to @address from outside the graph. */
void            heap_hold_externally (Heap    *h,
                                      guint64  address);
void            heap_ref             (Heap       *h,
                                      guint64     source,
                                      guint64     target,
                                      guint16     label_kind,
                                      const char *label,
                                      guint16     ref_kind);
void            heap_attr            (Heap       *h,
                                      guint64     source,
                                      guint64     target,
                                      const char *name);
/* Dict value; @text is the formatted key ("'k'"). */
void            heap_key             (Heap       *h,
                                      guint64     dict,
                                      guint64     target,
                                      const char *text);
void            heap_item            (Heap    *h,
                                      guint64  tuple,
                                      guint64  target,
                                      guint32  index);
/* An instance with a __dict__ (returned in *ret_dict). */
guint64         heap_instance        (Heap       *h,
                                      const char *type,
                                      guint64    *ret_dict);
/* A function whose __globals__ is __main__'s dict. */
guint64         heap_function        (Heap       *h,
                                      const char *qualname);
guint64         heap_bound_method    (Heap       *h,
                                      const char *qualname,
                                      guint64     self);
/* weakref.finalize(referent, func, *args, **kwargs) as CPython lays it
 * out; returns the finalize object. */
guint64         heap_finalize        (Heap    *h,
                                      guint64  referent,
                                      guint64  func,
                                      guint64  args,
                                      guint64  kwargs,
                                      gboolean atexit);
/* A root of any kind. */
void            heap_root            (Heap       *h,
                                      guint64     address,
                                      guint32     kind,
                                      const char *label);
/* A function @qualname whose closure holds @contents in variable @var;
 * the cell in *ret_cell if not NULL. */
guint64         heap_closure         (Heap       *h,
                                      const char *qualname,
                                      const char *var,
                                      guint64     contents,
                                      guint64    *ret_cell);
/* A weak reference of @kind (LINGER_WEAKREF_*) to @referent with
 * @callback (0 for none), and its WEAKREFS entry. */
guint64         heap_weakref         (Heap    *h,
                                      guint64  referent,
                                      guint64  callback,
                                      guint32  kind);
/* atexit.register(func, *args, **kwargs): the ATEXIT entry, and the
 * roots "atexit callback #N: @name" of its parts, which the
 * interpreter holds from outside the graph. */
void            heap_atexit          (Heap       *h,
                                      const char *name,
                                      guint64     func,
                                      guint64     args,
                                      guint64     kwargs);
/* The heap as a complete trace with one AT_EXIT snapshot. */
GBytes         *heap_write           (Heap *h);
/* Writes the heap as an AT_EXIT snapshot and analyses it. */
LingerAnalysis *heap_analyse         (Heap     *h,
                                      gboolean  all);
/* The same with every option. */
LingerAnalysis *heap_analyse_with    (Heap                        *h,
                                      const LingerFindingsOptions *options);

/* A module @name (a root labelled @name) and its __dict__ in *ret_dict. */
guint64         heap_module          (Heap       *h,
                                      const char *name,
                                      guint64    *ret_dict);

/* Findings of @kind in @a. */
guint           heap_count_kind      (const LingerAnalysis *a,
                                      const char           *kind);
/* The finding of @kind whose objects[0] has type @type (any if NULL);
 * fails the test if there is none. */
const LingerFinding *heap_find       (const LingerAnalysis *a,
                                      const char           *kind,
                                      const char           *type);
/* Fails the test unless @steps (char *) are exactly the NULL-terminated
 * arguments. */
void            heap_assert_steps    (const GPtrArray *steps,
                                      ...) G_GNUC_NULL_TERMINATED;

/* Analyses one damaged trace, taking ownership of @trace; any options it
 * varies are drawn from @rand, so a seed replays the same rounds. */
typedef LingerAnalysis *(*HeapFuzzAnalyse) (LingerTrace *trace,
                                            GRand       *rand);

/* @rounds times, changes 1 to 5 random bytes past the header of a copy of
 * @trace (mostly single bits, so entries stay plausible), and whenever
 * the reader still accepts it, analyses it with @analyse and writes both
 * reports, asserting the JSON is valid UTF-8.
 * Returns: how many copies were analysed. */
guint           heap_fuzz_analysis   (GBytes          *trace,
                                      guint            rounds,
                                      GRand           *rand,
                                      HeapFuzzAnalyse  analyse);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Heap, heap_free)

G_END_DECLS
