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
  /* A stack of depth 0 may be all a trace has: its pool is then empty,
   * with no data to point into. */
  if (s->depth == 0)
    {
      static const guint32 no_frames[1];
      return no_frames;
    }
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
  if (s->depth == 0)   /* as for Python stacks */
    {
      static const guint64 no_addresses[1];
      return no_addresses;
    }
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
    g_ptr_array_add (out, g_strdup ("freelists: CPython reuses some objects (floats, tuples, lists, dicts, "
                                    "and on 3.8 bound methods) without the allocator: such an object keeps "
                                    "the site of its first allocation, and frees into a freelist are not "
                                    "seen"));
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

static const char *
module_basename (const char *module)
{
  const char *base;

  if (module == NULL)
    return NULL;
  base = strrchr (module, '/');
  return base != NULL ? base + 1 : module;
}

/* The frame is in one of the modules whose basename starts with one of
 * @prefixes. */
static gboolean
in_module (const LingerFrame  *f,
           const char * const *prefixes)
{
  const char *base = module_basename (f->module);

  if (f->kind != LINGER_FRAME_NATIVE || base == NULL)
    return FALSE;
  for (guint i = 0; prefixes[i] != NULL; i++)
    if (g_str_has_prefix (base, prefixes[i]))
      return TRUE;
  return FALSE;
}

/* The C runtime: libc and the dynamic loader (glibc and musl), and the
 * libraries glibc merged into libc since 2.34. */
static gboolean
in_runtime (const LingerFrame *f)
{
  static const char * const runtime[] = {
    "libc.so", "libc-", "ld-linux", "ld64.so", "ld-musl", "libpthread.so", "libpthread-",
    "libdl.so", "libdl-",
    NULL
  };

  return in_module (f, runtime);
}

gboolean
linger_frame_is_foreign_call (const LingerFrame *f)
{
  static const char * const foreign[] = { "libffi.so", "libffi-", "_ctypes.", "_ctypes_test.", NULL };

  return in_module (f, foreign);
}

/* A frame that only allocates for its caller: an allocator by name, an
 * unnamed frame in libc (its malloc without symbols) or any frame of the
 * shim. */
static gboolean
frame_only_allocates (const LingerFrame *f)
{
  static const char * const shim[] = { "liblinger", NULL };

  if (f->kind != LINGER_FRAME_NATIVE)
    return FALSE;
  if (in_module (f, shim))
    return TRUE;
  if (f->function == NULL && f->module != NULL && strstr (f->module, "libc.so") != NULL)
    return TRUE;
  return linger_frame_is_allocator (f->function);
}

/* A frame that says where code is, to people: a Python frame, or a named
 * native one that is neither an allocator nor the interpreter running
 * Python code. */
static gboolean
frame_is_named (const LingerFrame *f)
{
  if (f->kind == LINGER_FRAME_PYTHON)
    return TRUE;
  return f->function != NULL && !linger_frame_is_allocator (f->function)
         && !linger_frame_is_interpreter (f->function);
}

gint
linger_frames_allocated_at (const GArray *frames,
                            gboolean      python_domain)
{
  const LingerFrame *fs = (const LingerFrame *) (gpointer) frames->data;
  gint first_unnamed = -1;
  gint last_named = -1;              /* the outermost named frame */
  guint python_from = frames->len;   /* the innermost Python frame */

  for (guint i = 0; i < frames->len; i++)
    if (fs[i].kind == LINGER_FRAME_PYTHON)
      {
        python_from = i;
        break;
      }
  if (python_domain && python_from < frames->len)
    return (gint) python_from;
  for (guint i = frames->len; i > 0; i--)
    if (frame_is_named (&fs[i - 1]))
      {
        last_named = (gint) i - 1;
        break;
      }

  for (guint i = 0; i < frames->len; i++)
    {
      const LingerFrame *f = &fs[i];

      if (f->kind == LINGER_FRAME_PYTHON)
        return (gint) i;
      if (frame_only_allocates (f))
        continue;
      /* ctypes' own frames: the program's call is the Python line that
       * made it. */
      if (python_from < frames->len && linger_frame_is_foreign_call (f))
        continue;
      /* An unnamed frame (a stripped module): shown in the stack, but a
       * named caller further out says more. */
      if (f->function == NULL && (gint) i < last_named)
        {
          if (first_unnamed < 0)
            first_unnamed = (gint) i;
          continue;
        }
      return (gint) i;
    }
  if (first_unnamed >= 0)
    return first_unnamed;
  return frames->len > 0 ? 0 : -1;
}

/* "ctypes" for _ctypes.cpython-311-x86_64-linux-gnu.so, "libffi" for
 * libffi.so.8: what people call the module. */
static char *
module_short_name (const char *module)
{
  const char *base = module_basename (module);
  const char *dot = strchr (base, '.');
  char *name = dot != NULL && dot > base ? g_strndup (base, (gsize) (dot - base)) : g_strdup (base);

  if (strcmp (name, "_ctypes") == 0)
    {
      g_free (name);
      return g_strdup ("ctypes");
    }
  return name;
}

char *
linger_frames_through (const GArray *frames,
                       gint          at)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GString *out;

  if (at <= 0 || (guint) at > frames->len)
    return NULL;
  /* Outermost first: the order of the calls. */
  for (gint i = at - 1; i >= 0; i--)
    {
      const LingerFrame *f = &g_array_index (frames, LingerFrame, i);
      char *name;
      gboolean seen = FALSE;

      if (f->kind != LINGER_FRAME_NATIVE || f->module == NULL || frame_only_allocates (f))
        continue;
      name = module_short_name (f->module);
      for (guint k = 0; k < names->len && !seen; k++)
        seen = strcmp (g_ptr_array_index (names, k), name) == 0;
      if (seen)
        g_free (name);
      else
        g_ptr_array_add (names, name);
    }
  if (names->len == 0)
    return NULL;
  out = g_string_new (NULL);
  for (guint k = 0; k < names->len; k++)
    {
      if (k > 0)
        g_string_append (out, " → ");
      g_string_append (out, g_ptr_array_index (names, k));
    }
  return g_string_free (out, FALSE);
}

/* The dynamic loader's own work: loading objects (their link maps, names,
 * search lists, scopes), the lookup structures, TLS blocks and DTVs, and
 * dlerror's state. */
static gboolean
is_loader_function (const char *function)
{
  static const char * const exact[] = {
    "allocate_dtv", "_dlerror_run", "dl_open_worker", "dl_open_worker_begin", "openaux",
    "dlopen_implementation", "dlmopen_implementation", "add_to_global_resize",
    "add_to_global_update", "fillin_rpath", "decompose_rpath", "expand_dynamic_string_token",
    "open_path", "resize_scopes", "resize_tls_slotinfo", "update_tls_slotinfo",
    NULL
  };
  static const char * const prefixes[] = {
    "_dl_", "__dl_", "_dlerror", "__libc_dlopen", "__libc_dlsym", "__libc_dlerror", "dl_open_",
    NULL
  };

  return matches_one_of (function, exact, prefixes);
}

/* Caches libc fills once and keeps for the life of the process. */
static gboolean
is_libc_cache_function (const char *function)
{
  static const char * const exact[] = {
    "setlocale", "__gconv_load_cache", "__gconv_read_conf", "__libc_early_init",
    NULL
  };
  static const char * const prefixes[] = {
    "_nl_", "__libc_thread", "__libc_tsd", "__libc_setlocale", "new_composite_name",
    NULL
  };

  return matches_one_of (function, exact, prefixes);
}

/* The libc calls that write to or read from stdout or stderr without a
 * FILE argument: a stdio buffer allocated under them belongs to one of
 * the standard streams, which stay open for the life of the process. */
static gboolean
is_standard_stream_call (const char *function)
{
  static const char * const exact[] = {
    "printf", "vprintf", "puts", "putchar", "perror", "psignal", "psiginfo", "scanf", "vscanf",
    "getchar", "gets", "_IO_printf", "_IO_puts", "_IO_putchar", "_IO_getchar", "__printf_chk",
    "__vprintf_chk", "__isoc99_scanf", "__isoc99_vscanf", "__isoc23_scanf", "__isoc23_vscanf",
    "warn", "warnx", "vwarn", "vwarnx", "err", "errx", "verr", "verrx", "error", "error_at_line",
    "__assert_fail", "__printf", "__vprintf",
    NULL
  };
  static const char * const none[] = { NULL };

  return matches_one_of (function, exact, none);
}

LingerOrigin
linger_frames_origin (const GArray *frames)
{
  const LingerFrame *fs = (const LingerFrame *) (gpointer) frames->data;
  guint inner = 0;
  guint end;

  while (inner < frames->len && frame_only_allocates (&fs[inner]))
    inner++;
  /* The runtime's own frames from there outwards, up to the call the
   * program (or the interpreter, or an extension) made into it. */
  for (end = inner; end < frames->len && in_runtime (&fs[end]); end++)
    ;
  if (end == inner)
    return LINGER_ORIGIN_PROGRAM;

  for (guint i = inner; i < end; i++)
    if (is_loader_function (fs[i].function))
      return LINGER_ORIGIN_LOADER;
  if (is_libc_cache_function (fs[inner].function))
    return LINGER_ORIGIN_LIBC_CACHE;
  /* A stream's buffer: the standard streams' only.  The entry point must
   * be known: a stack cut inside libc might be any FILE's, and a FILE the
   * program opened and never closed is a leak of its own. */
  if (g_strcmp0 (fs[inner].function, "_IO_file_doallocate") == 0 && end < frames->len
      && is_standard_stream_call (fs[end - 1].function))
    return LINGER_ORIGIN_LIBC_CACHE;
  return LINGER_ORIGIN_PROGRAM;
}

gboolean
linger_python_file_is_library (const char *file)
{
  if (file == NULL)
    return FALSE;
  return g_str_has_prefix (file, "<frozen ") || strstr (file, "/lib/python3.") != NULL
         || strstr (file, "/site-packages/") != NULL || strstr (file, "/dist-packages/") != NULL
         || strstr (file, "/lib/python3/") != NULL;
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
