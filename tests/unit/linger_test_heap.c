/* linger_test_heap.c: a small builder of Python-shaped heaps. */
#include "linger_test_heap.h"

#include <string.h>

#include "linger_report_json.h"
#include "linger_report_text.h"

guint64
heap_obj (Heap       *h,
          const char *type,
          const char *name,
          guint32     flags)
{
  HeapObject o = { .address = h->next, .type = type, .name = name, .flags = flags | LINGER_OBJ_GC_TRACKED };

  h->next += 0x100;
  g_array_append_val (h->objects, o);
  return o.address;
}

void
heap_hold_externally (Heap    *h,
                      guint64  address)
{
  for (guint i = 0; i < h->objects->len; i++)
    if (g_array_index (h->objects, HeapObject, i).address == address)
      g_array_index (h->objects, HeapObject, i).extra++;
}

void
heap_ref (Heap       *h,
          guint64     source,
          guint64     target,
          guint16     label_kind,
          const char *label,
          guint16     ref_kind)
{
  HeapRef r = { source, target, label_kind, label, 0, ref_kind };

  g_array_append_val (h->refs, r);
}

void
heap_attr (Heap       *h,
           guint64     source,
           guint64     target,
           const char *name)
{
  heap_ref (h, source, target, LINGER_LABEL_ATTR, name, LINGER_REF_STRONG);
}

void
heap_key (Heap       *h,
          guint64     dict,
          guint64     target,
          const char *text)
{
  heap_ref (h, dict, target, LINGER_LABEL_KEY, text, LINGER_REF_STRONG);
}

void
heap_item (Heap    *h,
           guint64  tuple,
           guint64  target,
           guint32  index)
{
  HeapRef r = { tuple, target, LINGER_LABEL_INDEX, NULL, index, LINGER_REF_STRONG };

  g_array_append_val (h->refs, r);
}

/* An instance of `type` with a __dict__; returns the instance, the dict
 * in *ret_dict. */
guint64
heap_instance (Heap       *h,
               const char *type,
               guint64    *ret_dict)
{
  guint64 o = heap_obj (h, type, NULL, 0);
  guint64 d = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);

  heap_attr (h, o, d, "__dict__");
  *ret_dict = d;
  return o;
}

guint64
heap_function (Heap       *h,
               const char *qualname)
{
  guint64 f = heap_obj (h, "builtins.function", qualname, LINGER_OBJ_FUNCTION);

  /* Every function reaches every global through __globals__. */
  heap_attr (h, f, h->main_dict, "__globals__");
  return f;
}

guint64
heap_bound_method (Heap       *h,
                   const char *qualname,
                   guint64     self)
{
  guint64 m = heap_obj (h, "builtins.method", qualname, LINGER_OBJ_METHOD);

  heap_attr (h, m, heap_function (h, qualname), "__func__");
  heap_attr (h, m, self, "__self__");
  return m;
}

Heap *
heap_new (void)
{
  Heap *h = g_new0 (Heap, 1);
  guint64 main_module;
  guint64 weakref_module;
  guint64 weakref_dict;
  guint64 finalize_class;

  h->objects = g_array_new (FALSE, FALSE, sizeof (HeapObject));
  h->refs = g_array_new (FALSE, FALSE, sizeof (HeapRef));
  h->roots = g_array_new (FALSE, FALSE, sizeof (guint64));
  h->more_roots = g_array_new (FALSE, FALSE, sizeof (HeapRoot));
  h->finalizers = g_array_new (FALSE, FALSE, sizeof (linger_finalizer_entry));
  h->weakrefs = g_array_new (FALSE, FALSE, sizeof (linger_weakref_entry));
  h->atexits = g_array_new (FALSE, FALSE, sizeof (linger_atexit_entry));
  h->strings = g_ptr_array_new_with_free_func (g_free);
  h->next = 0x10000;

  /* sys.modules['__main__'] and sys.modules['weakref']: the roots. */
  main_module = heap_obj (h, "builtins.module", "__main__", LINGER_OBJ_MODULE);
  h->main_dict = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  heap_attr (h, main_module, h->main_dict, "__dict__");
  g_array_append_val (h->roots, main_module);

  weakref_module = heap_obj (h, "builtins.module", "weakref", LINGER_OBJ_MODULE);
  weakref_dict = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  finalize_class = heap_obj (h, "builtins.type", "finalize", LINGER_OBJ_TYPE);
  h->registry = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);
  heap_attr (h, weakref_module, weakref_dict, "__dict__");
  heap_key (h, weakref_dict, finalize_class, "'finalize'");
  heap_attr (h, finalize_class, h->registry, "_registry");
  g_array_append_val (h->roots, weakref_module);
  return h;
}

void
heap_free (Heap *h)
{
  g_array_unref (h->objects);
  g_array_unref (h->refs);
  g_array_unref (h->roots);
  g_array_unref (h->more_roots);
  g_array_unref (h->finalizers);
  g_array_unref (h->weakrefs);
  g_array_unref (h->atexits);
  g_ptr_array_unref (h->strings);
  g_free (h);
}


/* weakref.finalize(referent, func, *args, **kwargs) as CPython lays it
 * out: registry {finalize: _Info}, _Info holds weakref, func, args,
 * kwargs.  Returns the finalize object. */
guint64
heap_finalize (Heap    *h,
               guint64  referent,
               guint64  func,
               guint64  args,
               guint64  kwargs,
               gboolean atexit)
{
  guint64 fin = heap_obj (h, "weakref.finalize", NULL, LINGER_OBJ_FINALIZE);
  guint64 info = heap_obj (h, "weakref.finalize._Info", NULL, 0);
  guint64 wr = heap_obj (h, "weakref.ReferenceType", NULL, LINGER_OBJ_WEAKREF);
  linger_finalizer_entry e = {
    .finalizer = fin, .info = info, .weakref = wr, .referent = referent,
    .func = func, .args = args, .kwargs = kwargs,
    .index = h->finalizers->len, .flags = atexit ? LINGER_FINALIZER_ATEXIT : 0,
  };

  heap_ref (h, h->registry, fin, LINGER_LABEL_DICT_KEY, "<finalize>", LINGER_REF_STRONG);
  heap_ref (h, h->registry, info, LINGER_LABEL_KEY, "<finalize>", LINGER_REF_STRONG);
  heap_attr (h, info, wr, "weakref");
  heap_attr (h, info, func, "func");
  if (args != 0)
    heap_attr (h, info, args, "args");
  if (kwargs != 0)
    heap_attr (h, info, kwargs, "kwargs");
  heap_ref (h, wr, referent, LINGER_LABEL_REFERENT, NULL, LINGER_REF_WEAK);
  g_array_append_val (h->finalizers, e);
  return fin;
}

GBytes *
heap_write (Heap *h)
{
  TestTrace *t = test_trace_new ("3.11.2");

  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  for (guint i = 0; i < h->objects->len; i++)
    {
      const HeapObject *o = &g_array_index (h->objects, HeapObject, i);
      gint64 refcount = o->extra;

      for (guint j = 0; j < h->refs->len; j++)
        {
          const HeapRef *r = &g_array_index (h->refs, HeapRef, j);
          if (r->target == o->address && r->ref_kind != LINGER_REF_WEAK)
            refcount++;
        }
      test_trace_object (t, o->address, o->type, o->name, o->flags, refcount);
    }
  for (guint j = 0; j < h->refs->len; j++)
    {
      const HeapRef *r = &g_array_index (h->refs, HeapRef, j);

      if (r->label_kind == LINGER_LABEL_INDEX)
        test_trace_index (t, r->source, r->target, r->index);
      else
        test_trace_ref (t, r->source, r->target, r->label_kind, r->label, r->ref_kind);
    }
  /* Module roots are labelled by their sys.modules key, the module's name. */
  for (guint i = 0; i < h->roots->len; i++)
    {
      guint64 address = g_array_index (h->roots, guint64, i);
      const char *label = "module";

      for (guint k = 0; k < h->objects->len; k++)
        if (g_array_index (h->objects, HeapObject, k).address == address
            && g_array_index (h->objects, HeapObject, k).name != NULL)
          label = g_array_index (h->objects, HeapObject, k).name;
      test_trace_root (t, address, LINGER_ROOT_MODULE, label);
    }
  for (guint i = 0; i < h->more_roots->len; i++)
    {
      const HeapRoot *r = &g_array_index (h->more_roots, HeapRoot, i);
      test_trace_root (t, r->address, r->kind, r->label);
    }
  for (guint i = 0; i < h->finalizers->len; i++)
    g_assert_true (linger_writer_finalizer (&t->w, &g_array_index (h->finalizers, linger_finalizer_entry, i)));
  for (guint i = 0; i < h->weakrefs->len; i++)
    g_assert_true (linger_writer_weakref (&t->w, &g_array_index (h->weakrefs, linger_weakref_entry, i)));
  for (guint i = 0; i < h->atexits->len; i++)
    g_assert_true (linger_writer_atexit (&t->w, &g_array_index (h->atexits, linger_atexit_entry, i)));
  test_trace_snapshot_end (t);
  return test_trace_finish (t, TRUE);
}

LingerAnalysis *
heap_analyse_with (Heap                        *h,
                   const LingerFindingsOptions *options)
{
  g_autoptr(GBytes) bytes = heap_write (h);
  GError *error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  LingerTrace *trace = linger_trace_new_from_data (data, len, &error);

  g_assert_no_error (error);
  return linger_analysis_new_for_trace_with_options (trace, options);
}

LingerAnalysis *
heap_analyse (Heap     *h,
              gboolean  all)
{
  LingerFindingsOptions options = { .ungrouped = all };

  return heap_analyse_with (h, &options);
}

void
heap_root (Heap       *h,
           guint64     address,
           guint32     kind,
           const char *label)
{
  HeapRoot r = { address, kind, label };

  g_array_append_val (h->more_roots, r);
}

guint64
heap_closure (Heap       *h,
              const char *qualname,
              const char *var,
              guint64     contents,
              guint64    *ret_cell)
{
  guint64 f = heap_function (h, qualname);
  guint64 closure = heap_obj (h, "builtins.tuple", NULL, 0);
  guint64 cell = heap_obj (h, "builtins.cell", NULL, LINGER_OBJ_CELL);

  heap_attr (h, f, closure, "__closure__");
  heap_ref (h, closure, cell, LINGER_LABEL_CLOSURE, var, LINGER_REF_STRONG);
  heap_attr (h, cell, contents, "cell_contents");
  if (ret_cell != NULL)
    *ret_cell = cell;
  return f;
}

guint64
heap_weakref (Heap    *h,
              guint64  referent,
              guint64  callback,
              guint32  kind)
{
  const char *type = kind == LINGER_WEAKREF_PROXY ? "weakref.ProxyType"
                     : kind == LINGER_WEAKREF_CALLABLE_PROXY ? "weakref.CallableProxyType"
                     : kind == LINGER_WEAKREF_METHOD ? "weakref.WeakMethod" : "weakref.ReferenceType";
  guint32 flags = kind == LINGER_WEAKREF_PROXY || kind == LINGER_WEAKREF_CALLABLE_PROXY
                  ? LINGER_OBJ_PROXY
                  : LINGER_OBJ_WEAKREF | (kind == LINGER_WEAKREF_METHOD ? LINGER_OBJ_WEAKMETHOD : 0);
  guint64 wr = heap_obj (h, type, NULL, flags);
  linger_weakref_entry e = { .weakref = wr, .referent = referent, .callback = callback, .kind = kind };

  if (referent != 0)
    heap_ref (h, wr, referent, LINGER_LABEL_REFERENT, NULL, LINGER_REF_WEAK);
  if (callback != 0)
    heap_ref (h, wr, callback, LINGER_LABEL_ATTR, "__callback__", LINGER_REF_CALLBACK);
  g_array_append_val (h->weakrefs, e);
  return wr;
}

void
heap_atexit (Heap       *h,
             const char *name,
             guint64     func,
             guint64     args,
             guint64     kwargs)
{
  linger_atexit_entry e = { .func = func, .args = args, .kwargs = kwargs, .index = h->atexits->len };
  const guint64 parts[3] = { func, args, kwargs };
  char *label = g_strdup_printf ("atexit callback #%u: %s", e.index + 1, name);

  g_ptr_array_add (h->strings, label);
  for (guint p = 0; p < 3; p++)
    if (parts[p] != 0)
      {
        heap_root (h, parts[p], LINGER_ROOT_ATEXIT, label);
        heap_hold_externally (h, parts[p]);
      }
  g_array_append_val (h->atexits, e);
}


guint64
heap_module (Heap       *h,
             const char *name,
             guint64    *ret_dict)
{
  guint64 m = heap_obj (h, "builtins.module", name, LINGER_OBJ_MODULE);
  guint64 d = heap_obj (h, "builtins.dict", NULL, LINGER_OBJ_DICT);

  heap_attr (h, m, d, "__dict__");
  g_array_append_val (h->roots, m);
  *ret_dict = d;
  return m;
}

guint
heap_count_kind (const LingerAnalysis *a,
                 const char           *kind)
{
  guint n = 0;

  for (guint i = 0; i < a->findings->len; i++)
    if (strcmp (((LingerFinding *) g_ptr_array_index (a->findings, i))->kind, kind) == 0)
      n++;
  return n;
}

const LingerFinding *
heap_find (const LingerAnalysis *a,
           const char           *kind,
           const char           *type)
{
  for (guint i = 0; i < a->findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (a->findings, i);

      if (strcmp (f->kind, kind) == 0
          && (type == NULL || strcmp (g_array_index (f->objects, LingerFindingObject, 0).type, type) == 0))
        return f;
    }
  g_error ("no %s finding of type %s among %u findings", kind, type ? type : "(any)", a->findings->len);
  return NULL;
}

void
heap_assert_steps (const GPtrArray *steps,
                   ...)
{
  g_autoptr(GString) joined = g_string_new (NULL);
  va_list args;
  const char *want;
  guint i = 0;

  g_assert_nonnull (steps);
  for (guint k = 0; k < steps->len; k++)
    g_string_append_printf (joined, "%s%s", k > 0 ? " → " : "", (const char *) g_ptr_array_index (steps, k));
  va_start (args, steps);
  while ((want = va_arg (args, const char *)) != NULL)
    {
      if (i >= steps->len || strcmp (g_ptr_array_index (steps, i), want) != 0)
        g_error ("step %u: want '%s' in: %s", i, want, joined->str);
      i++;
    }
  va_end (args);
  if (i != steps->len)
    g_error ("%u steps, want %u: %s", steps->len, i, joined->str);
}

guint
heap_fuzz_analysis (GBytes          *trace,
                    guint            rounds,
                    GRand           *rand,
                    HeapFuzzAnalyse  analyse)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (trace, &len);
  guint n_analysed = 0;

  for (guint round = 0; round < rounds; round++)
    {
      g_autofree guint8 *copy = test_dup (data, len);
      g_autoptr(GError) error = NULL;
      g_autoptr(LingerTrace) damaged = NULL;
      guint n_flips = (guint) g_rand_int_range (rand, 1, 6);

      for (guint k = 0; k < n_flips; k++)
        {
          gsize at = (gsize) g_rand_int_range (rand, (gint32) sizeof (linger_file_header), (gint32) len);
          /* Mostly small changes, so entries stay plausible. */
          if (g_rand_boolean (rand))
            copy[at] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
          else
            copy[at] = (guint8) g_rand_int_range (rand, 0, 256);
        }
      damaged = linger_trace_new_from_data (copy, len, &error);
      if (damaged != NULL)
        {
          g_autoptr(LingerAnalysis) a = analyse (g_steal_pointer (&damaged), rand);
          g_autoptr(GString) text = g_string_new (NULL);
          g_autoptr(GString) json = g_string_new (NULL);

          linger_report_text (a, TRUE, text);
          linger_report_json (a, json);
          g_assert_true (g_utf8_validate (json->str, (gssize) json->len, NULL));
          n_analysed++;
        }
    }
  return n_analysed;
}
