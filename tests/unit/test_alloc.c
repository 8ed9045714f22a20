/* test_alloc.c: allocation tracking (format 1.2): reading and validating
 * its records, sites resolved and spliced, the leak and gc-collected
 * findings, allocated_at in the reports. */
#include <string.h>

#include "linger_alloc.h"
#include "linger_analysis.h"
#include "linger_error.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_sites.h"
#include "linger_test_trace.h"

/* Addresses of the fake modules: the executable and an extension. */
#define EXE_BASE 0x400000
#define EXT_BASE 0x7f0000000000
#define LIBC_BASE 0x7f1000000000

enum
{
  FRAME_MAKE = 1,      /* app.py:12 in make */
  FRAME_MODULE = 2,    /* app.py:20 in <module> */
  PY_STACK = 1,        /* make <- <module> */
  NATIVE_LEAK = 1,     /* malloc <- ext_alloc <- cfunction_call <- _PyEval_EvalFrameDefault <- main */
  NATIVE_OTHER = 2,    /* malloc <- other_alloc */
  SITE_PY = 1,         /* a Python object allocated in make */
  SITE_EXT = 2,        /* native, through the extension, from make */
  SITE_OTHER = 3,      /* native, elsewhere */
  SITE_STARTUP = 4,    /* native, during start-up */
};

static void
write_info (TestTrace *t,
            guint32    flags)
{
  linger_rec_alloc_info info = {
    .flags = flags,
    .python_depth = 8,
    .native_depth = 16,
    .python_allocs = 1000,
    .native_allocs = 500,
    .untracked = 3,
    .peak_live_blocks = 700,
    .table_bytes = 65536,
    .gc_collections = 4,
  };

  g_assert_true (linger_writer_alloc_info (&t->w, &info));
}

static void
write_module (TestTrace  *t,
              guint64     base,
              const char *path,
              guint32     gen_unloaded)
{
  linger_module_entry m = {
    .base = base,
    .start = base,
    .end = base + 0x100000,
    .path = linger_writer_intern_cstr (&t->w, path),
    .build_id = linger_writer_intern_cstr (&t->w, "abcdef"),
    .gen_loaded = 1,
    .gen_unloaded = gen_unloaded,
  };

  g_assert_true (linger_writer_module (&t->w, &m));
}

static void
write_site (TestTrace *t,
            guint32    id,
            guint32    py_stack,
            guint32    native_stack,
            guint16    domain,
            guint16    flags)
{
  linger_site_entry s = { id, py_stack, native_stack, domain, flags };

  g_assert_true (linger_writer_site (&t->w, &s));
}

static void
write_block (TestTrace *t,
             guint64    address,
             guint64    size,
             guint32    site)
{
  linger_block_entry b = { .address = address, .size = size, .site = site };

  g_assert_true (linger_writer_live_block (&t->w, &b));
}

static void
write_gc_free (TestTrace  *t,
               guint32     site,
               const char *type,
               guint32     kind,
               guint64     count,
               guint64     bytes)
{
  linger_gc_free_entry e = {
    .site = site,
    .type_name = linger_writer_intern_cstr (&t->w, type),
    .kind = kind,
    .count = count,
    .bytes = bytes,
  };

  g_assert_true (linger_writer_gc_free (&t->w, &e));
}

static void
write_stats (TestTrace *t,
             guint32    site,
             guint64    allocs,
             guint64    frees,
             guint64    gc_frees)
{
  linger_site_stats_entry s = {
    .site = site,
    .allocs = allocs,
    .alloc_bytes = allocs * 56,
    .frees = frees,
    .gc_frees = gc_frees,
    .gc_free_bytes = gc_frees * 56,
  };

  g_assert_true (linger_writer_site_stats (&t->w, &s));
}

/* Frames, stacks, modules and the four sites. */
static void
write_sites (TestTrace *t)
{
  linger_py_frame_entry make = {
    FRAME_MAKE, linger_writer_intern_cstr (&t->w, "app.py"), linger_writer_intern_cstr (&t->w, "make"), 12
  };
  linger_py_frame_entry module = {
    FRAME_MODULE, linger_writer_intern_cstr (&t->w, "app.py"), linger_writer_intern_cstr (&t->w, "<module>"), 20
  };
  const guint32 py[] = { FRAME_MAKE, FRAME_MODULE };
  /* Return addresses: the lookup sees each minus 1. */
  const guint64 leak[] = { LIBC_BASE + 0x101, EXT_BASE + 0x41, EXE_BASE + 0x301, EXE_BASE + 0x401, EXE_BASE + 0x501 };
  const guint64 other[] = { LIBC_BASE + 0x101, EXT_BASE + 0x81 };

  write_module (t, EXE_BASE, "", 0);
  write_module (t, EXT_BASE, "/opt/ext.so", 0);
  write_module (t, LIBC_BASE, "/lib/libc.so.6", 0);
  g_assert_true (linger_writer_py_frame (&t->w, &make));
  g_assert_true (linger_writer_py_frame (&t->w, &module));
  g_assert_true (linger_writer_py_stack (&t->w, PY_STACK, 0, py, G_N_ELEMENTS (py)));
  g_assert_true (linger_writer_native_stack (&t->w, NATIVE_LEAK, 1, 0, leak, G_N_ELEMENTS (leak)));
  g_assert_true (linger_writer_native_stack (&t->w, NATIVE_OTHER, 1, 0, other, G_N_ELEMENTS (other)));
  write_site (t, SITE_PY, PY_STACK, 0, LINGER_DOMAIN_PY_OBJ, 0);
  write_site (t, SITE_EXT, PY_STACK, NATIVE_LEAK, LINGER_DOMAIN_NATIVE, 0);
  write_site (t, SITE_OTHER, 0, NATIVE_OTHER, LINGER_DOMAIN_NATIVE, 0);
  write_site (t, SITE_STARTUP, 0, NATIVE_OTHER, LINGER_DOMAIN_NATIVE, LINGER_SITE_STARTUP);
}

/* A garbage bound-method cycle: Connector.cb = <bound method
 * Connector.on_data>, the Connector allocated at SITE_PY. */
static void
write_cycle_snapshot (TestTrace *t,
                      gboolean   with_sites)
{
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  test_trace_object (t, 0x1000, "__main__.Connector", NULL, LINGER_OBJ_GC_TRACKED, 1);
  test_trace_object (t, 0x1100, "builtins.dict", NULL, LINGER_OBJ_GC_TRACKED | LINGER_OBJ_DICT, 1);
  test_trace_object (t, 0x1200, "builtins.method", "Connector.on_data",
                     LINGER_OBJ_GC_TRACKED | LINGER_OBJ_METHOD, 1);
  test_trace_attr (t, 0x1000, 0x1100, "__dict__");
  test_trace_ref (t, 0x1100, 0x1200, LINGER_LABEL_KEY, "'cb'", LINGER_REF_STRONG);
  test_trace_attr (t, 0x1200, 0x1000, "__self__");
  if (with_sites)
    {
      linger_object_site_entry e = { .address = 0x1000, .site = SITE_PY };
      g_assert_true (linger_writer_object_site (&t->w, &e));
    }
  test_trace_snapshot_end (t);
}

/* The whole model: native tracking on, blocks left at the end. */
static TestTrace *
full_trace (void)
{
  TestTrace *t = test_trace_new ("3.11.2");

  write_info (t, LINGER_ALLOC_PYTHON);
  write_sites (t);
  write_stats (t, SITE_PY, 10, 5, 1);
  write_cycle_snapshot (t, TRUE);
  /* Later flushes supersede earlier totals. */
  write_stats (t, SITE_PY, 42, 42, 42);
  write_gc_free (t, SITE_PY, "__main__.Connector", LINGER_CYCLE_BOUND_METHOD, 1, 56);
  write_gc_free (t, SITE_PY, "__main__.Connector", LINGER_CYCLE_BOUND_METHOD, 42, 42 * 56);
  write_gc_free (t, SITE_OTHER, "__main__.Node", LINGER_CYCLE_OTHER, 3, 300);
  write_block (t, 0xa000, 100, SITE_EXT);
  write_block (t, 0xa100, 100, SITE_EXT);
  write_block (t, 0xa200, 100, SITE_EXT);
  write_block (t, 0xb000, 1000, SITE_OTHER);
  write_block (t, 0xc000, 64, SITE_STARTUP);
  write_block (t, 0xd000, 77, SITE_PY);    /* Python domain: never a leak */
  write_info (t, LINGER_ALLOC_PYTHON | LINGER_ALLOC_NATIVE | LINGER_ALLOC_NATIVE_STACKS
              | LINGER_ALLOC_GC_LIFETIMES | LINGER_ALLOC_FREELISTS | LINGER_ALLOC_FINAL);
  return t;
}

static void
test_round_trip (void)
{
  g_autoptr(LingerTrace) trace = test_trace_read (full_trace ());
  const LingerAlloc *a = trace->alloc;
  const linger_site_entry *site;
  const linger_site_stats_entry *stats;
  const linger_gc_free_entry *gc;
  const guint32 *frames;
  const guint64 *addrs;
  guint32 depth;
  guint32 generation;
  LingerSnapshot *s;

  g_assert_true (a->present);
  g_assert_true (a->has_info);
  g_assert_true (a->info.flags & LINGER_ALLOC_FINAL);
  g_assert_cmpuint (a->info.native_depth, ==, 16);
  g_assert_cmpuint (a->info.table_bytes, ==, 65536);
  g_assert_cmpuint (a->modules->len, ==, 3);
  g_assert_cmpstr (linger_trace_string (trace, g_array_index (a->modules, linger_module_entry, 1).path), ==,
                   "/opt/ext.so");

  g_assert_cmpstr (linger_trace_string (trace, linger_alloc_py_frame (a, FRAME_MAKE)->function), ==, "make");
  g_assert_cmpuint (linger_alloc_py_frame (a, FRAME_MODULE)->line, ==, 20);
  g_assert_null (linger_alloc_py_frame (a, 3));
  frames = linger_alloc_py_stack (a, PY_STACK, &depth);
  g_assert_cmpuint (depth, ==, 2);
  g_assert_cmpuint (frames[0], ==, FRAME_MAKE);
  addrs = linger_alloc_native_stack (a, NATIVE_LEAK, &depth, &generation);
  g_assert_cmpuint (depth, ==, 5);
  g_assert_cmpuint (generation, ==, 1);
  g_assert_cmphex (addrs[1], ==, EXT_BASE + 0x41);
  g_assert_true (linger_alloc_module_for (a, EXT_BASE + 0x41, 1) != NULL);
  g_assert_null (linger_alloc_module_for (a, 0x10, 1));

  site = linger_alloc_site (a, SITE_EXT);
  g_assert_nonnull (site);
  g_assert_cmpuint (site->py_stack, ==, PY_STACK);
  g_assert_cmpuint (site->native_stack, ==, NATIVE_LEAK);
  g_assert_cmpuint (site->domain, ==, LINGER_DOMAIN_NATIVE);
  g_assert_cmpuint (linger_alloc_site (a, SITE_STARTUP)->flags, ==, LINGER_SITE_STARTUP);
  g_assert_null (linger_alloc_site (a, 0));
  g_assert_null (linger_alloc_site (a, 99));

  stats = linger_alloc_site_stats (a, SITE_PY);
  g_assert_cmpuint (stats->allocs, ==, 42);   /* the later record */
  g_assert_null (linger_alloc_site_stats (a, SITE_EXT));

  /* One entry per key, the latest. */
  g_assert_cmpuint (a->gc_frees->len, ==, 2);
  gc = &g_array_index (a->gc_frees, linger_gc_free_entry, 0);
  g_assert_cmpuint (gc->site, ==, SITE_PY);
  g_assert_cmpuint (gc->count, ==, 42);

  g_assert_true (a->saw_live_blocks);
  g_assert_cmpuint (a->live_blocks->len, ==, 6);

  s = linger_trace_pick_snapshot (trace);
  g_assert_cmpuint (s->object_sites->len, ==, 1);
  g_assert_cmpuint (linger_object_sites_lookup (s->object_sites, 0x1000), ==, SITE_PY);
  g_assert_cmpuint (linger_object_sites_lookup (s->object_sites, 0x1100), ==, 0);
}

/* A trace without allocation records has an empty model. */
static void
test_absent (void)
{
  g_autoptr(LingerTrace) trace = test_trace_empty ();

  g_assert_nonnull (trace->alloc);
  g_assert_false (trace->alloc->present);
  g_assert_false (trace->alloc->has_info);
}

static void
expect_corrupt (TestTrace  *t,
                const char *needle)
{
  g_autoptr(GBytes) bytes = test_trace_finish (t, TRUE);
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autofree guint8 *copy = test_dup (data, len);
  LingerTrace *trace = linger_trace_new_from_data (copy, len, &error);

  g_assert_null (trace);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
  test_assert_contains (error->message, needle);
  test_assert_contains (error->message, "byte offset");
}

static void
test_bad_ids (void)
{
  TestTrace *t;
  const guint32 undefined_frame[] = { 7 };
  const guint64 addr[] = { 0x1234 };

  /* A Python stack of a frame never defined. */
  t = test_trace_new ("3.11.2");
  g_assert_true (linger_writer_py_stack (&t->w, 1, 0, undefined_frame, 1));
  expect_corrupt (t, "frame id 7, which is not defined");

  /* A site of a stack never defined. */
  t = test_trace_new ("3.11.2");
  write_site (t, 1, 0, 3, LINGER_DOMAIN_NATIVE, 0);
  expect_corrupt (t, "native stack id 3, which is not defined");

  /* A site defined twice. */
  t = test_trace_new ("3.11.2");
  write_site (t, 1, 0, 0, LINGER_DOMAIN_NATIVE, 0);
  write_site (t, 1, 0, 0, LINGER_DOMAIN_NATIVE, 0);
  expect_corrupt (t, "site id 1 is defined twice");

  /* Id 0 means none. */
  t = test_trace_new ("3.11.2");
  g_assert_true (linger_writer_native_stack (&t->w, 0, 1, 0, addr, 1));
  expect_corrupt (t, "native stack id 0 is reserved");

  /* An id no file of this size can reach. */
  t = test_trace_new ("3.11.2");
  g_assert_true (linger_writer_native_stack (&t->w, 1000000, 1, 0, addr, 1));
  expect_corrupt (t, "out of range");

  /* A domain out of range. */
  t = test_trace_new ("3.11.2");
  write_site (t, 1, 0, 0, 9, 0);
  expect_corrupt (t, "site domain 9 is out of range");

  /* Blocks, totals and objects of sites never defined. */
  t = test_trace_new ("3.11.2");
  write_block (t, 0x10, 8, 5);
  expect_corrupt (t, "live block uses site id 5");
  t = test_trace_new ("3.11.2");
  write_stats (t, 2, 1, 1, 1);
  expect_corrupt (t, "site totals uses site id 2");
  t = test_trace_new ("3.11.2");
  write_gc_free (t, 4, "x.Y", LINGER_CYCLE_OTHER, 1, 1);
  expect_corrupt (t, "GC frees uses site id 4");
  t = test_trace_new ("3.11.2");
  write_site (t, 1, 0, 0, LINGER_DOMAIN_PY_OBJ, 0);
  write_gc_free (t, 1, "x.Y", 7, 1, 1);
  expect_corrupt (t, "cycle kind 7 is out of range");
  t = test_trace_new ("3.11.2");
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  {
    linger_object_site_entry e = { .address = 0x1000, .site = 3 };
    g_assert_true (linger_writer_object_site (&t->w, &e));
  }
  test_trace_snapshot_end (t);
  expect_corrupt (t, "object site uses site id 3");

  /* OBJECT_SITES belong in a snapshot. */
  t = test_trace_new ("3.11.2");
  {
    linger_object_site_entry e = { .address = 0x1000, .site = 0 };
    g_assert_true (linger_writer_object_site (&t->w, &e));
  }
  expect_corrupt (t, "batch outside a snapshot");
}

/* Counts that do not fit their record: patched into a valid trace. */
static void
test_bad_counts (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  const guint64 addr[] = { 0x1234, 0x5678 };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *copy = NULL;
  const guint8 *data;
  gsize len;
  gsize off = sizeof (linger_file_header);
  gsize stack_at = 0;
  gsize sites_at = 0;

  g_assert_true (linger_writer_native_stack (&t->w, 1, 1, 0, addr, 2));
  write_site (t, 1, 0, 1, LINGER_DOMAIN_NATIVE, 0);
  bytes = test_trace_finish (t, TRUE);
  data = g_bytes_get_data (bytes, &len);
  while (off < len)
    {
      linger_record_header h;

      memcpy (&h, data + off, sizeof h);
      if (h.type == LINGER_REC_NATIVE_STACK)
        stack_at = off;
      if (h.type == LINGER_REC_SITES)
        sites_at = off;
      off += h.size;
    }
  g_assert_cmpuint (stack_at, >, 0);
  g_assert_cmpuint (sites_at, >, 0);

  /* A depth beyond the record. */
  copy = test_dup (data, len);
  {
    guint32 depth = 3;
    LingerTrace *trace;

    memcpy (copy + stack_at + offsetof (linger_rec_native_stack, depth), &depth, sizeof depth);
    trace = linger_trace_new_from_data (copy, len, &error);
    g_assert_null (trace);
    g_assert_error (error, LINGER_ERROR, LINGER_ERROR_CORRUPT);
    test_assert_contains (error->message, "3 addresses overflow the record");
    test_assert_contains (error->message, "NATIVE_STACK record at byte offset");
  }
  g_clear_error (&error);
  g_free (copy);

  /* A batch count that does not fill the record. */
  copy = test_dup (data, len);
  {
    guint32 count = 2;
    LingerTrace *trace;

    memcpy (copy + sites_at + offsetof (linger_rec_batch, count), &count, sizeof count);
    trace = linger_trace_new_from_data (copy, len, &error);
    g_assert_null (trace);
    test_assert_contains (error->message, "SITES record at byte offset");
    test_assert_contains (error->message, "do not fill the record");
  }
}

/* ---- frames and splicing ---------------------------------------------- */

static LingerFrame
native (const char *function,
        const char *file,
        guint       line)
{
  LingerFrame f = { .kind = LINGER_FRAME_NATIVE, .function = function, .file = file, .line = line,
                    .module = "/opt/ext.so", .has_address = TRUE, .address = 0x1000 };
  return f;
}

static LingerFrame
python (const char *function,
        guint       line)
{
  LingerFrame f = { .kind = LINGER_FRAME_PYTHON, .function = function, .file = "app.py", .line = line };
  return f;
}

static char *
render (const GArray *frames)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < frames->len; i++)
    {
      if (i > 0)
        g_string_append (s, " ← ");
      linger_frame_append (s, &g_array_index (frames, LingerFrame, i));
    }
  return g_string_free (s, FALSE);
}

static void
test_splice (void)
{
  const LingerFrame n[] = {
    native ("malloc", NULL, 0),
    native ("ext_alloc", "ext.c", 40),
    native ("cfunction_vectorcall_NOARGS", NULL, 0),
    native ("_PyEval_EvalFrameDefault", NULL, 0),
    native ("PyEval_EvalCode", NULL, 0),
    native ("main", NULL, 0),
  };
  const LingerFrame p[] = { python ("make", 12), python ("<module>", 20) };
  g_autoptr(GArray) mixed = linger_frames_splice (n, G_N_ELEMENTS (n), p, G_N_ELEMENTS (p));
  g_autoptr(GArray) native_only = linger_frames_splice (n, G_N_ELEMENTS (n), NULL, 0);
  g_autoptr(GArray) cut = linger_frames_splice (n, 2, p, G_N_ELEMENTS (p));
  g_autoptr(GArray) py_only = linger_frames_splice (NULL, 0, p, G_N_ELEMENTS (p));
  g_autofree char *text = render (mixed);

  g_assert_cmpstr (text, ==, "malloc (ext.so) ← ext.c:40 in ext_alloc ← app.py:12 in make ← app.py:20 in <module>");
  /* The allocated-at frame skips malloc. */
  g_assert_cmpint (linger_frames_allocated_at (mixed, FALSE), ==, 1);
  /* A Python-domain site is at its innermost Python frame. */
  g_assert_cmpint (linger_frames_allocated_at (mixed, TRUE), ==, 2);
  /* Without Python frames, the native stack stays whole. */
  g_assert_cmpuint (native_only->len, ==, G_N_ELEMENTS (n));
  /* A native stack cut before the interpreter: the Python frames follow. */
  g_assert_cmpuint (cut->len, ==, 4);
  g_assert_cmpint (g_array_index (cut, LingerFrame, 2).kind, ==, LINGER_FRAME_PYTHON);
  g_assert_cmpint (linger_frames_allocated_at (py_only, FALSE), ==, 0);

  g_assert_true (linger_frame_is_interpreter ("_PyEval_EvalFrameDefault"));
  g_assert_true (linger_frame_is_interpreter ("method_vectorcall_O"));
  g_assert_true (linger_frame_is_interpreter ("__libc_start_main"));
  g_assert_false (linger_frame_is_interpreter ("ext_alloc"));
  g_assert_false (linger_frame_is_interpreter (NULL));
  g_assert_true (linger_frame_is_allocator ("PyMem_RawMalloc"));
  g_assert_true (linger_frame_is_allocator ("_PyObject_GC_New"));
  g_assert_true (linger_frame_is_allocator ("calloc"));
  g_assert_true (linger_frame_is_allocator ("linger_malloc_hook"));
  g_assert_false (linger_frame_is_allocator ("make_node"));
}

/* Fake symbols: by offset in the module. */
static gboolean
fake_lookup (gpointer     user_data,
             const char  *path,
             const char  *build_id_hex,
             guint64      base,
             guint64      address,
             LingerFrame *out)
{
  guint64 offset = address - base;
  guint *calls = user_data;

  (*calls)++;
  g_assert_cmpstr (build_id_hex, ==, "abcdef");
  if (g_str_has_suffix (path, "libc.so.6") && offset == 0x100)
    out->function = "malloc";
  else if (g_str_equal (path, "/opt/ext.so") && offset == 0x40)
    {
      out->function = "ext_alloc";
      out->file = "ext.c";
      out->line = 40;
    }
  else if (g_str_equal (path, "/opt/ext.so") && offset == 0x80)
    {
      out->function = "other_alloc";
      out->file = "other.c";
      out->line = 7;
    }
  else if (g_str_equal (path, "/usr/bin/python3.11") && offset == 0x300)
    out->function = "cfunction_call";
  else if (g_str_equal (path, "/usr/bin/python3.11") && offset == 0x400)
    out->function = "_PyEval_EvalFrameDefault";
  else if (g_str_equal (path, "/usr/bin/python3.11") && offset == 0x500)
    out->function = "main";
  else
    return FALSE;
  return TRUE;
}

static void
test_sites (void)
{
  g_autoptr(LingerTrace) trace = test_trace_read (full_trace ());
  guint calls = 0;
  g_autoptr(LingerSites) sites = linger_sites_new_with_lookup (trace, fake_lookup, &calls);
  const LingerSite *py = linger_sites_get (sites, SITE_PY);
  const LingerSite *ext;
  const LingerSite *other;
  g_autofree char *text = NULL;
  const LingerFrame *f;

  /* A Python site needs no symbolizer. */
  g_assert_nonnull (py);
  g_assert_cmpuint (py->frames->len, ==, 2);
  g_assert_cmpstr (py->summary, ==, "app.py:12 in make");
  g_assert_cmpuint (calls, ==, 0);
  g_assert_cmpstr (linger_sites_summary (sites, SITE_PY), ==, "app.py:12 in make");

  /* Mixed: the extension's frames, then Python's in place of the
   * interpreter; the executable's module path "" is PROCESS's exe. */
  ext = linger_sites_get (sites, SITE_EXT);
  g_assert_nonnull (ext);
  text = render (ext->frames);
  g_assert_cmpstr (text, ==, "malloc (libc.so.6) ← ext.c:40 in ext_alloc ← app.py:12 in make ← app.py:20 in <module>");
  g_assert_cmpstr (ext->summary, ==, "ext.c:40 in ext_alloc");
  g_assert_cmpuint (calls, ==, 5);
  f = &g_array_index (ext->frames, LingerFrame, 1);
  g_assert_cmphex (f->address, ==, EXT_BASE + 0x41);
  g_assert_cmphex (f->offset, ==, 0x41);
  g_assert_cmpstr (f->module, ==, "/opt/ext.so");
  /* Resolved once. */
  g_assert_true (linger_sites_get (sites, SITE_EXT) == ext);
  g_assert_cmpuint (calls, ==, 5);

  other = linger_sites_get (sites, SITE_OTHER);
  g_assert_cmpstr (other->summary, ==, "other.c:7 in other_alloc");
  g_assert_null (linger_sites_get (sites, 0));
  g_assert_null (linger_sites_get (sites, 77));
}

/* ---- findings ----------------------------------------------------------- */

static LingerAnalysis *
analyse_bytes (GBytes *bytes,
               gboolean all)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  LingerTrace *trace = linger_trace_new_from_data (data, len, &error);
  LingerFindingsOptions options = { .ungrouped = all };

  g_assert_no_error (error);
  return linger_analysis_new_for_trace_with_options (trace, &options);
}

static GPtrArray *
of_kind (const LingerAnalysis *a,
         const char           *kind)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < a->findings->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (a->findings, i);
      if (strcmp (f->kind, kind) == 0)
        g_ptr_array_add (out, f);
    }
  return out;
}

static void
test_leaks (void)
{
  g_autoptr(GBytes) bytes = test_trace_finish (full_trace (), TRUE);
  g_autoptr(LingerAnalysis) a = analyse_bytes (bytes, FALSE);
  g_autoptr(GPtrArray) leaks = of_kind (a, LINGER_FINDING_LEAK);
  const LingerFinding *f;

  g_assert_true (a->alloc_summary.leaks_known);
  /* SITE_OTHER (1000 bytes) first, then SITE_EXT (3 × 100); the start-up
   * block is not counted, the Python one is no leak. */
  g_assert_cmpuint (leaks->len, ==, 2);
  f = g_ptr_array_index (leaks, 0);
  g_assert_cmpuint (f->site, ==, SITE_OTHER);
  g_assert_cmpuint (f->blocks, ==, 1);
  g_assert_cmpuint (f->bytes, ==, 1000);
  g_assert_cmpint (f->severity, ==, LINGER_SEVERITY_WARNING);
  f = g_ptr_array_index (leaks, 1);
  g_assert_cmpuint (f->site, ==, SITE_EXT);
  g_assert_cmpuint (f->blocks, ==, 3);
  g_assert_cmpuint (f->bytes, ==, 300);
  g_assert_nonnull (f->hint);
  g_assert_cmpuint (a->alloc_summary.not_counted_blocks, ==, 1);
  g_assert_cmpuint (a->alloc_summary.not_counted_bytes, ==, 64);
  /* Warnings come before the info findings of the snapshot. */
  g_assert_cmpint (((LingerFinding *) g_ptr_array_index (a->findings, a->findings->len - 1))->severity, ==,
                   LINGER_SEVERITY_INFO);
}

/* Without the end of the process, live blocks are not leaks. */
static void
test_leaks_unknown (void)
{
  g_autoptr(GBytes) bytes = test_trace_finish (full_trace (), FALSE);
  g_autoptr(LingerAnalysis) a = analyse_bytes (bytes, FALSE);
  g_autoptr(GPtrArray) leaks = of_kind (a, LINGER_FINDING_LEAK);
  g_autoptr(GString) text = g_string_new (NULL);

  g_assert_false (a->trace->complete);
  g_assert_false (a->alloc_summary.leaks_known);
  g_assert_cmpuint (leaks->len, ==, 0);
  linger_report_text (a, FALSE, text);
  test_assert_contains (text->str, "leaks:");
  test_assert_contains (text->str, "cannot be known");
}

/* Native tracking off: no leak report, whatever the blocks. */
static void
test_leaks_native_off (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GPtrArray) leaks = NULL;

  write_sites (t);
  write_block (t, 0xb000, 1000, SITE_OTHER);
  write_info (t, LINGER_ALLOC_PYTHON | LINGER_ALLOC_FINAL);
  bytes = test_trace_finish (t, TRUE);
  a = analyse_bytes (bytes, FALSE);
  leaks = of_kind (a, LINGER_FINDING_LEAK);
  g_assert_false (a->alloc_summary.native);
  g_assert_cmpuint (leaks->len, ==, 0);
}

static void
test_gc_collected (void)
{
  g_autoptr(GBytes) bytes = test_trace_finish (full_trace (), TRUE);
  g_autoptr(LingerAnalysis) a = analyse_bytes (bytes, FALSE);
  g_autoptr(GPtrArray) gc = of_kind (a, LINGER_FINDING_GC_COLLECTED);
  g_autoptr(GPtrArray) cycles = of_kind (a, LINGER_FINDING_BOUND_METHOD_CYCLE);
  const LingerFinding *f;
  const LingerFindingObject *o;

  /* The snapshot's cycle knows where its Connector was allocated. */
  g_assert_cmpuint (cycles->len, ==, 1);
  o = &g_array_index (((LingerFinding *) g_ptr_array_index (cycles, 0))->objects, LingerFindingObject, 0);
  g_assert_cmpuint (o->site, ==, SITE_PY);

  g_assert_cmpuint (gc->len, ==, 2);
  /* Most bytes first: 42 Connectors (2352 bytes), then 3 Nodes. */
  f = g_ptr_array_index (gc, 0);
  g_assert_cmpstr (f->alloc_type, ==, "__main__.Connector");
  g_assert_cmpstr (f->cycle_kind, ==, "bound-method");
  g_assert_cmpuint (f->blocks, ==, 42);
  g_assert_cmpuint (f->bytes, ==, 42 * 56);
  g_assert_cmpuint (f->allocs, ==, 42);
  g_assert_cmpfloat (f->gc_share, ==, 1.0);
  g_assert_cmpint (f->severity, ==, LINGER_SEVERITY_INFO);
  /* Its example is the snapshot's cycle of the same site. */
  g_assert_false (f->example_is_generic);
  g_assert_cmpstr (f->example, ==, "Connector.cb → <bound method Connector.on_data>.__self__ → Connector");
  test_assert_contains (f->hint, "WeakMethod");

  f = g_ptr_array_index (gc, 1);
  g_assert_cmpstr (f->alloc_type, ==, "__main__.Node");
  g_assert_cmpstr (f->cycle_kind, ==, "other");
  g_assert_true (f->example_is_generic);
  g_assert_cmpstr (f->example, ==, "Node → .<attr> → … → Node");
}

static void
test_json (void)
{
  g_autoptr(GBytes) bytes = test_trace_finish (full_trace (), TRUE);
  g_autoptr(LingerAnalysis) a = analyse_bytes (bytes, FALSE);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) full = g_string_new (NULL);
  static const char * const keys[] = {
    "\"allocations\": {", "\"python\": true", "\"native\": true", "\"native_stacks\": true",
    "\"python_depth\": 8", "\"native_depth\": 16", "\"python_allocs\": 1000", "\"native_allocs\": 500",
    "\"untracked\": 3", "\"peak_live_blocks\": 700", "\"table_bytes\": 65536", "\"gc_collections\": 4",
    "\"not_counted_blocks\": 1", "\"not_counted_bytes\": 64", "\"blind_spots\": [",
    "\"kind\": \"leak\"", "\"blocks\": 3", "\"bytes\": 300",
    "\"kind\": \"gc-collected\"", "\"type\": \"__main__.Connector\"", "\"cycle_kind\": \"bound-method\"",
    "\"count\": 42", "\"allocs\": 42", "\"gc_share\": 1", "\"example_is_generic\": false",
    "\"example_is_generic\": true",
    "\"allocated_at\": {", "\"file\": \"app.py\"", "\"line\": 12", "\"function\": \"make\"",
    "\"stack\": [", "\"kind\": \"python\"", "\"kind\": \"native\"", "\"address\": \"0x",
    "\"address\": null", "\"module\": null",
    NULL
  };

  linger_report_json (a, out);
  for (guint i = 0; keys[i] != NULL; i++)
    test_assert_contains (out->str, keys[i]);
  g_assert_true (g_utf8_validate (out->str, -1, NULL));

  linger_report_text (a, FALSE, text);
  test_assert_contains (text->str, "allocations:");
  test_assert_contains (text->str, "python sites yes (depth 8), native yes (depth 16)");
  test_assert_contains (text->str, "not seen:");
  test_assert_contains (text->str, "keeps the site of its first allocation");
  test_assert_contains (text->str, "not counted: 1 blocks, 64 bytes allocated during interpreter start-up/shutdown");
  test_assert_contains (text->str, "warning leak: native memory never freed");
  test_assert_contains (text->str, "3 blocks, 300 bytes never freed");
  test_assert_contains (text->str, "allocated: app.py:12 in make");
  test_assert_contains (text->str, "info gc-collected:");
  test_assert_contains (text->str, "42 of 42 Connector objects allocated at app.py:12 in make were freed only by the cyclic GC");

  linger_report_text_full (a, FALSE, G_MAXUINT, full);
  test_assert_contains (full->str, "stack:");
}

/* A trace without allocation tracking: "allocations": null, objects'
 * allocated_at null. */
static void
test_json_absent (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  write_cycle_snapshot (t, FALSE);
  bytes = test_trace_finish (t, TRUE);
  a = analyse_bytes (bytes, FALSE);
  linger_report_json (a, out);
  test_assert_contains (out->str, "\"allocations\": null");
  test_assert_contains (out->str, "\"allocated_at\": null");
  test_assert_not_contains (out->str, "gc-collected");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/linger/alloc/reader/round-trip", test_round_trip);
  g_test_add_func ("/linger/alloc/reader/absent", test_absent);
  g_test_add_func ("/linger/alloc/reader/bad-ids", test_bad_ids);
  g_test_add_func ("/linger/alloc/reader/bad-counts", test_bad_counts);
  g_test_add_func ("/linger/alloc/frames/splice", test_splice);
  g_test_add_func ("/linger/alloc/sites/resolve", test_sites);
  g_test_add_func ("/linger/alloc/findings/leaks", test_leaks);
  g_test_add_func ("/linger/alloc/findings/leaks-unknown", test_leaks_unknown);
  g_test_add_func ("/linger/alloc/findings/leaks-native-off", test_leaks_native_off);
  g_test_add_func ("/linger/alloc/findings/gc-collected", test_gc_collected);
  g_test_add_func ("/linger/alloc/report/json", test_json);
  g_test_add_func ("/linger/alloc/report/json-absent", test_json_absent);
  return g_test_run ();
}
