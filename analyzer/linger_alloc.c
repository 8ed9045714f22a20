/* linger_alloc.c: the allocation model of a trace, and frames. */
#include "linger_alloc.h"

#include <stdlib.h>
#include <string.h>

LingerAlloc *
linger_alloc_new (void)
{
  LingerAlloc *a = g_new0 (LingerAlloc, 1);

  a->modules = g_array_new (FALSE, FALSE, sizeof (linger_module_entry));
  a->py_frames = g_array_new (FALSE, TRUE, sizeof (linger_py_frame_entry));
  a->py_stacks = g_array_new (FALSE, TRUE, sizeof (LingerStackRef));
  a->py_pool = g_array_new (FALSE, FALSE, sizeof (guint32));
  a->native_stacks = g_array_new (FALSE, TRUE, sizeof (LingerStackRef));
  a->native_pool = g_array_new (FALSE, FALSE, sizeof (guint64));
  a->sites = g_array_new (FALSE, TRUE, sizeof (linger_site_entry));
  a->site_stats = g_array_new (FALSE, TRUE, sizeof (linger_site_stats_entry));
  a->gc_frees = g_array_new (FALSE, FALSE, sizeof (linger_gc_free_entry));
  a->live_blocks = g_array_new (FALSE, FALSE, sizeof (linger_block_entry));
  return a;
}

void
linger_alloc_free (LingerAlloc *a)
{
  if (a == NULL)
    return;
  g_array_unref (a->modules);
  g_array_unref (a->py_frames);
  g_array_unref (a->py_stacks);
  g_array_unref (a->py_pool);
  g_array_unref (a->native_stacks);
  g_array_unref (a->native_pool);
  g_array_unref (a->sites);
  g_array_unref (a->site_stats);
  g_array_unref (a->gc_frees);
  g_array_unref (a->live_blocks);
  g_free (a);
}

typedef struct
{
  linger_gc_free_entry entry;
  guint                order;   /* file order: the latest of a key wins */
} OrderedGcFree;

static int
compare_gc_frees (const void *a,
                  const void *b)
{
  const OrderedGcFree *x = a;
  const OrderedGcFree *y = b;

  if (x->entry.site != y->entry.site)
    return x->entry.site < y->entry.site ? -1 : 1;
  if (x->entry.type_name != y->entry.type_name)
    return x->entry.type_name < y->entry.type_name ? -1 : 1;
  if (x->entry.kind != y->entry.kind)
    return x->entry.kind < y->entry.kind ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

void
linger_alloc_finish (LingerAlloc *a)
{
  guint n = a->gc_frees->len;
  g_autofree OrderedGcFree *ordered = NULL;

  if (n == 0)
    return;
  /* GC_FREES are cumulative, written at every flush: only the latest
   * entry of each key counts.  Sorting by key then file order keeps them
   * in an array rather than a hash table per key. */
  ordered = g_new (OrderedGcFree, n);
  for (guint i = 0; i < n; i++)
    {
      ordered[i].entry = g_array_index (a->gc_frees, linger_gc_free_entry, i);
      ordered[i].order = i;
    }
  qsort (ordered, n, sizeof *ordered, compare_gc_frees);
  g_array_set_size (a->gc_frees, 0);
  for (guint i = 0; i < n; i++)
    {
      const linger_gc_free_entry *e = &ordered[i].entry;

      if (i + 1 < n && ordered[i + 1].entry.site == e->site
          && ordered[i + 1].entry.type_name == e->type_name && ordered[i + 1].entry.kind == e->kind)
        continue;
      g_array_append_val (a->gc_frees, *e);
    }
}

const linger_site_entry *
linger_alloc_site (const LingerAlloc *a,
                   guint32            id)
{
  const linger_site_entry *s;

  if (id == 0 || id >= a->sites->len)
    return NULL;
  s = &g_array_index (a->sites, linger_site_entry, id);
  return s->id != 0 ? s : NULL;
}

const linger_site_stats_entry *
linger_alloc_site_stats (const LingerAlloc *a,
                         guint32            site)
{
  const linger_site_stats_entry *s;

  if (site == 0 || site >= a->site_stats->len)
    return NULL;
  s = &g_array_index (a->site_stats, linger_site_stats_entry, site);
  return s->site != 0 ? s : NULL;
}

const linger_py_frame_entry *
linger_alloc_py_frame (const LingerAlloc *a,
                       guint32            id)
{
  const linger_py_frame_entry *f;

  if (id == 0 || id >= a->py_frames->len)
    return NULL;
  f = &g_array_index (a->py_frames, linger_py_frame_entry, id);
  return f->id != 0 ? f : NULL;
}

const guint32 *
linger_alloc_py_stack (const LingerAlloc *a,
                       guint32            id,
                       guint32           *depth)
{
  const LingerStackRef *s;

  *depth = 0;
  if (id == 0 || id >= a->py_stacks->len)
    return NULL;
  s = &g_array_index (a->py_stacks, LingerStackRef, id);
  if (!s->defined)
    return NULL;
  *depth = s->depth;
  return &g_array_index (a->py_pool, guint32, s->start);
}

const guint64 *
linger_alloc_native_stack (const LingerAlloc *a,
                           guint32            id,
                           guint32           *depth,
                           guint32           *generation)
{
  const LingerStackRef *s;

  *depth = 0;
  *generation = 0;
  if (id == 0 || id >= a->native_stacks->len)
    return NULL;
  s = &g_array_index (a->native_stacks, LingerStackRef, id);
  if (!s->defined)
    return NULL;
  *depth = s->depth;
  *generation = s->generation;
  return &g_array_index (a->native_pool, guint64, s->start);
}

const linger_module_entry *
linger_alloc_module_for (const LingerAlloc *a,
                         guint64            address,
                         guint32            generation)
{
  /* Modules are few (tens to hundreds): a scan is cheaper than an index,
   * and the latest matching entry wins, should two overlap. */
  const linger_module_entry *found = NULL;

  for (guint i = 0; i < a->modules->len; i++)
    {
      const linger_module_entry *m = &g_array_index (a->modules, linger_module_entry, i);

      if (address < m->start || address >= m->end)
        continue;
      if (generation < m->gen_loaded || (m->gen_unloaded != 0 && generation >= m->gen_unloaded))
        continue;
      found = m;
    }
  return found;
}

GPtrArray *
linger_alloc_blind_spots (const LingerAlloc *a)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  guint32 flags = a->info.flags;

  if (!a->has_info)
    return out;
  /* The Python blind spots only where Python allocations were tracked. */
  if (flags & LINGER_ALLOC_PYTHON)
    {
      g_ptr_array_add (out, g_strdup ("objects created before tracking started (during interpreter start-up, "
                                      "before the shim's hooks were in place) have no site"));
      g_ptr_array_add (out, g_strdup ("static objects (types and singletons compiled into the interpreter or "
                                      "an extension) are never allocated"));
    }
  if (flags & LINGER_ALLOC_FREELISTS)
    g_ptr_array_add (out, g_strdup ("freelists: CPython 3.8-3.12 reuse some objects (floats, tuples, frames, "
                                    "dicts, lists) without the allocator: their sites may be stale"));
  if (flags & LINGER_ALLOC_FRAMES_OFF)
    g_ptr_array_add (out, g_strdup ("Python stacks: the frame walker is off for this interpreter (unknown "
                                    "version, or it failed its check): sites have no Python frames"));
  if (flags & LINGER_ALLOC_TABLE_FULL)
    g_ptr_array_add (out, g_strdup_printf ("the allocation table was full: %" G_GUINT64_FORMAT
                                           " blocks were not tracked", a->info.untracked));
  if (!(flags & LINGER_ALLOC_PYTHON))
    g_ptr_array_add (out, g_strdup ("Python allocations were not tracked: objects have no site"));
  if (!(flags & LINGER_ALLOC_NATIVE))
    g_ptr_array_add (out, g_strdup ("native allocations (malloc and co.) were not tracked "
                                    "(linger run --native): no leak report"));
  else if (!(flags & LINGER_ALLOC_NATIVE_STACKS))
    g_ptr_array_add (out, g_strdup ("native stacks were not unwound: native sites have no C frames"));
  return out;
}

guint32
linger_object_sites_lookup (const GArray *object_sites,
                            guint64       address)
{
  guint lo = 0;
  guint hi;

  if (object_sites == NULL)
    return 0;
  hi = object_sites->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const linger_object_site_entry *e = &g_array_index (object_sites, linger_object_site_entry, mid);

      if (e->address == address)
        return e->site;
      if (e->address < address)
        lo = mid + 1;
      else
        hi = mid;
    }
  return 0;
}

/* ---- Frames ------------------------------------------------------------ */

static gboolean
matches_one_of (const char         *function,
                const char * const *exact,
                const char * const *prefixes)
{
  if (function == NULL)
    return FALSE;
  for (guint i = 0; exact[i] != NULL; i++)
    if (strcmp (function, exact[i]) == 0)
      return TRUE;
  for (guint i = 0; prefixes[i] != NULL; i++)
    if (g_str_has_prefix (function, prefixes[i]))
      return TRUE;
  return FALSE;
}

gboolean
linger_frame_is_interpreter (const char *function)
{
  /* The eval loop and what calls into it on the way from a C function
   * back to the Python code that called it (cfunction_*, the vectorcall
   * and tp_call paths), and the interpreter's own main below them. */
  static const char * const exact[] = {
    "_PyEval_EvalFrameDefault", "_PyEval_EvalFrame", "_PyEval_Vector",
    "_PyFunction_Vectorcall", "_PyObject_MakeTpCall", "Py_RunMain", "Py_BytesMain",
    "Py_Main", "main", "_start", "PyRun_SimpleFileExFlags", "PyRun_AnyFileExFlags",
    "run_mod", "run_eval_code_obj", "builtin_exec", "builtin_eval",
    NULL
  };
  static const char * const prefixes[] = {
    "PyEval_EvalCode", "_PyEval_EvalCode", "cfunction_", "_PyCFunction_", "PyCFunction_",
    "method_vectorcall", "_PyObject_Vectorcall", "PyObject_Vectorcall", "_PyObject_Call",
    "PyObject_Call", "pymain_", "__libc_start", "_PyRun_", "PyRun_", "slot_tp_",
    NULL
  };

  return matches_one_of (function, exact, prefixes);
}

gboolean
linger_frame_is_allocator (const char *function)
{
  static const char * const exact[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "strdup", "strndup", "__libc_malloc", "__libc_calloc",
    "__libc_realloc", "__libc_memalign", "_int_malloc", "_int_realloc",
    "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc", "_PyObject_New", "_PyObject_NewVar",
    "PyType_GenericAlloc", "_PyType_AllocNoTrack",
    "operator new", "operator new[]",
    NULL
  };
  static const char * const prefixes[] = {
    "PyMem_", "_PyMem_", "PyObject_Malloc", "_PyObject_Malloc", "_PyObject_Calloc",
    "_PyObject_Realloc", "_PyObject_GC_", "PyObject_GC_", "gc_alloc", "pymalloc_",
    "_PyObject_ArenaMmap", "linger_", "g_malloc", "g_realloc", "g_try_malloc", "g_try_realloc",
    "g_slice_alloc", "_Znw", "_Zna", "operator new",
    NULL
  };

  return matches_one_of (function, exact, prefixes);
}

GArray *
linger_frames_splice (const LingerFrame *native,
                      guint              n_native,
                      const LingerFrame *python,
                      guint              n_python)
{
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (LingerFrame), n_native + n_python);
  guint k = n_native;

  if (n_python > 0)
    for (guint i = 0; i < n_native; i++)
      if (linger_frame_is_interpreter (native[i].function))
        {
          k = i;
          break;
        }
  g_array_append_vals (out, native, k);
  g_array_append_vals (out, python, n_python);
  return out;
}

gint
linger_frames_allocated_at (const GArray *frames,
                            gboolean      python_domain)
{
  if (python_domain)
    for (guint i = 0; i < frames->len; i++)
      if (g_array_index (frames, LingerFrame, i).kind == LINGER_FRAME_PYTHON)
        return (gint) i;
  for (guint i = 0; i < frames->len; i++)
    {
      const LingerFrame *f = &g_array_index (frames, LingerFrame, i);

      if (f->kind == LINGER_FRAME_PYTHON)
        return (gint) i;
      /* An unnamed frame in an allocator's library says nothing either;
       * one elsewhere (a stripped extension) is the best there is. */
      if (f->function == NULL && f->module != NULL
          && (strstr (f->module, "libc.so") != NULL || strstr (f->module, "liblinger") != NULL))
        continue;
      if (!linger_frame_is_allocator (f->function))
        return (gint) i;
    }
  return frames->len > 0 ? 0 : -1;
}

void
linger_frame_append (GString           *out,
                     const LingerFrame *f)
{
  const char *file = f->file;

  if (file != NULL)
    {
      g_string_append (out, file);
      if (f->line > 0)
        g_string_append_printf (out, ":%u", f->line);
      if (f->function != NULL)
        g_string_append_printf (out, " in %s", f->function);
      return;
    }
  if (f->function != NULL)
    {
      g_string_append (out, f->function);
      if (f->module != NULL)
        {
          const char *base = strrchr (f->module, '/');
          g_string_append_printf (out, " (%s)", base != NULL ? base + 1 : f->module);
        }
      return;
    }
  if (f->module != NULL)
    {
      const char *base = strrchr (f->module, '/');
      g_string_append (out, base != NULL ? base + 1 : f->module);
      if (f->has_address)
        g_string_append_printf (out, "+0x%" G_GINT64_MODIFIER "x", f->offset);
      return;
    }
  if (f->has_address)
    g_string_append_printf (out, "0x%" G_GINT64_MODIFIER "x", f->address);
  else
    g_string_append (out, "?");
}
