/* test_alloc_report.c: what the allocation report makes of its sites:
 * the C runtime's own blocks apart from leaks (both ways: a program's
 * unclosed fopen stays a leak), "allocated at" through ctypes and past
 * unnamed frames, gc-collected start-up objects lumped and library code
 * ranked last, relative DWARF paths made absolute. */
#include <glib/gstdio.h>
#include <string.h>

#include "linger_alloc.h"
#include "linger_analysis.h"
#include "linger_findings.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_sites.h"
#include "linger_test_trace.h"

#define EXE_BASE  0x400000
#define LD_BASE   0x7f2000000000
#define LIBC_BASE 0x7f1000000000

/* ---- frames ------------------------------------------------------------ */

static LingerFrame
nat (const char *function,
     const char *module)
{
  LingerFrame f = { .kind = LINGER_FRAME_NATIVE, .function = function, .module = module,
                    .has_address = TRUE, .address = 0x1000 };
  return f;
}

static LingerFrame
py (const char *function,
    const char *file,
    guint       line)
{
  LingerFrame f = { .kind = LINGER_FRAME_PYTHON, .function = function, .file = file, .line = line };
  return f;
}

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LD   "/lib64/ld-linux-x86-64.so.2"
#define APP  "/opt/app"

static GArray *
frames_of (const LingerFrame *frames,
           guint              n)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (LingerFrame));

  g_array_append_vals (out, frames, n);
  return out;
}

static LingerOrigin
origin_of (const LingerFrame *frames,
           guint              n)
{
  g_autoptr(GArray) a = frames_of (frames, n);

  return linger_frames_origin (a);
}

#define ORIGIN(...) \
  ({ const LingerFrame fs_[] = { __VA_ARGS__ }; origin_of (fs_, G_N_ELEMENTS (fs_)); })

static void
test_origin (void)
{
  /* A library's link map, loaded by the program's dlopen. */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("_dl_new_object", LD), nat ("_dl_map_object_from_fd", LD),
                           nat ("_dl_map_object", LD), nat ("dl_open_worker_begin", LD),
                           nat ("dlopen_implementation", LIBC), nat ("dlopen@@GLIBC_2.34", LIBC),
                           nat ("load_plugin", APP), nat ("main", APP)),
                   ==, LINGER_ORIGIN_LOADER);
  /* ld.so's own malloc (rtld-malloc.h), unnamed in the stack, then the
   * loader's object search list. */
  g_assert_cmpint (ORIGIN (nat (NULL, LIBC), nat ("_dl_find_object_update", LD), nat ("dl_open_worker", LD),
                           nat ("main", APP)),
                   ==, LINGER_ORIGIN_LOADER);
  /* A thread's DTV. */
  g_assert_cmpint (ORIGIN (nat ("calloc", LIBC), nat ("allocate_dtv", LD), nat ("_dl_allocate_tls", LD),
                           nat ("pthread_create@@GLIBC_2.34", LIBC), nat ("start_workers", APP)),
                   ==, LINGER_ORIGIN_LOADER);
  /* A library's constructor run by dlopen allocates: the library's. */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("plugin_init", "/opt/libplugin.so"),
                           nat ("call_init", LD), nat ("_dl_init", LD), nat ("dlopen", LIBC), nat ("main", APP)),
                   ==, LINGER_ORIGIN_PROGRAM);

  /* stdout's buffer, under puts: libc's. */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("_IO_file_doallocate", LIBC), nat ("_IO_doallocbuf", LIBC),
                           nat ("_IO_file_overflow", LIBC), nat ("puts", LIBC), nat ("main", APP)),
                   ==, LINGER_ORIGIN_LIBC_CACHE);
  /* A FILE the program opened and never closed: a leak, its buffer too
   * (written with fprintf, which may be any stream). */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("__fopen_internal", LIBC), nat ("fopen", LIBC),
                           nat ("open_log", APP), nat ("main", APP)),
                   ==, LINGER_ORIGIN_PROGRAM);
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("_IO_file_doallocate", LIBC), nat ("_IO_doallocbuf", LIBC),
                           nat ("_IO_file_xsputn", LIBC), nat ("fprintf", LIBC), nat ("write_log", APP)),
                   ==, LINGER_ORIGIN_PROGRAM);
  /* A stack cut inside libc: whose stream is unknown. */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("_IO_file_doallocate", LIBC), nat ("_IO_doallocbuf", LIBC)),
                   ==, LINGER_ORIGIN_PROGRAM);
  /* Locale data loaded by setlocale. */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("_nl_intern_locale_data", LIBC),
                           nat ("_nl_load_locale", LIBC), nat ("_nl_find_locale", LIBC), nat ("setlocale", LIBC),
                           nat ("main", APP)),
                   ==, LINGER_ORIGIN_LIBC_CACHE);
  /* A libc function calling back into the program, which allocates. */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("compare_keys", APP), nat ("msort_with_tmp", LIBC),
                           nat ("_nl_find_locale", LIBC), nat ("main", APP)),
                   ==, LINGER_ORIGIN_PROGRAM);
  /* The program's own malloc; an empty stack. */
  g_assert_cmpint (ORIGIN (nat ("malloc", LIBC), nat ("make_node", APP)), ==, LINGER_ORIGIN_PROGRAM);
  {
    g_autoptr(GArray) none = g_array_new (FALSE, FALSE, sizeof (LingerFrame));
    g_assert_cmpint (linger_frames_origin (none), ==, LINGER_ORIGIN_PROGRAM);
  }
}

#define FFI "/usr/lib/x86_64-linux-gnu/libffi.so.8"
#define CTYPES "/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so"

static void
test_allocated_at (void)
{
  const LingerFrame through_ctypes[] = {
    nat (NULL, FFI), nat (NULL, FFI), nat ("ffi_call", FFI), nat (NULL, CTYPES), nat (NULL, CTYPES),
    py ("leak_buffers", "app.py", 31), py ("<module>", "app.py", 40),
  };
  const LingerFrame ffi_from_c[] = {
    nat ("malloc", LIBC), nat (NULL, FFI), nat ("ffi_call", FFI), nat ("run_callback", APP),
  };
  const LingerFrame stripped[] = {
    nat ("malloc", LIBC), nat (NULL, "/opt/libstripped.so.1"), nat (NULL, "/opt/libstripped.so.1"),
    nat ("caller", APP), nat ("main", APP),
  };
  const LingerFrame stripped_only[] = {
    nat ("malloc", LIBC), nat (NULL, "/opt/libstripped.so.1"), nat ("_PyEval_EvalFrameDefault", "/usr/bin/python3"),
    nat ("main", "/usr/bin/python3"),
  };
  const LingerFrame own[] = {
    nat ("malloc", LIBC), nat ("ext_alloc", "/opt/ext.so"), py ("make", "app.py", 12),
  };
  g_autoptr(GArray) a = frames_of (through_ctypes, G_N_ELEMENTS (through_ctypes));
  g_autoptr(GArray) b = frames_of (ffi_from_c, G_N_ELEMENTS (ffi_from_c));
  g_autoptr(GArray) c = frames_of (stripped, G_N_ELEMENTS (stripped));
  g_autoptr(GArray) d = frames_of (stripped_only, G_N_ELEMENTS (stripped_only));
  g_autoptr(GArray) e = frames_of (own, G_N_ELEMENTS (own));
  g_autofree char *through_a = NULL;
  g_autofree char *through_c = NULL;
  g_autofree char *through_e = NULL;

  /* ctypes' machinery: the Python line that called it. */
  g_assert_cmpint (linger_frames_allocated_at (a, FALSE), ==, 5);
  through_a = linger_frames_through (a, 5);
  g_assert_cmpstr (through_a, ==, "ctypes → libffi");
  g_assert_true (linger_frame_is_foreign_call (&through_ctypes[0]));
  g_assert_true (linger_frame_is_foreign_call (&through_ctypes[3]));
  g_assert_false (linger_frame_is_foreign_call (&ffi_from_c[3]));
  /* Without Python frames libffi's named frame is the best there is. */
  g_assert_cmpint (linger_frames_allocated_at (b, FALSE), ==, 2);
  /* Unnamed frames give way to a named caller... */
  g_assert_cmpint (linger_frames_allocated_at (c, FALSE), ==, 3);
  through_c = linger_frames_through (c, 3);
  g_assert_cmpstr (through_c, ==, "libstripped");
  /* ...but not to the interpreter. */
  g_assert_cmpint (linger_frames_allocated_at (d, FALSE), ==, 1);
  /* A named extension frame stays where it is, with nothing to say. */
  g_assert_cmpint (linger_frames_allocated_at (e, FALSE), ==, 1);
  through_e = linger_frames_through (e, 1);
  g_assert_null (through_e);
}

/* ---- leaks: the runtime's blocks apart ----------------------------------- */

enum
{
  STACK_LOADER = 1,   /* calloc <- _dl_new_object <- dlopen <- main */
  STACK_STDOUT,       /* malloc <- _IO_file_doallocate <- puts <- main */
  STACK_FOPEN,        /* malloc <- __fopen_internal <- fopen <- open_log <- main */
  STACK_CTYPES,       /* malloc <- libffi <- _ctypes <- interpreter */
  SITE_LOADER = 1,
  SITE_STDOUT,
  SITE_FOPEN,
  SITE_CTYPES,
};

#define FFI_BASE 0x7f3000000000
#define CTYPES_BASE 0x7f4000000000

static gboolean
fake_lookup (gpointer     user_data,
             const char  *path,
             const char  *build_id_hex,
             guint64      base,
             guint64      address,
             LingerFrame *out)
{
  static const struct { const char *module; guint64 offset; const char *function; } symbols[] = {
    { "libc.so.6", 0x100, "malloc" },
    { "libc.so.6", 0x110, "calloc" },
    { "libc.so.6", 0x200, "dlopen" },
    { "libc.so.6", 0x300, "_IO_file_doallocate" },
    { "libc.so.6", 0x310, "_IO_doallocbuf" },
    { "libc.so.6", 0x320, "puts" },
    { "libc.so.6", 0x400, "__fopen_internal" },
    { "libc.so.6", 0x410, "fopen" },
    { "ld-linux-x86-64.so.2", 0x100, "_dl_new_object" },
    { "ld-linux-x86-64.so.2", 0x110, "_dl_map_object" },
    { "libffi.so.8", 0x200, "ffi_call" },
    { "python3.11", 0x100, "cfunction_call" },
    { "python3.11", 0x200, "_PyEval_EvalFrameDefault" },
    { "python3.11", 0x300, "main" },
  };
  guint64 offset = address - base;

  (void) user_data;
  (void) build_id_hex;
  if (base == EXE_BASE && offset >= 0x10000)
    {
      out->function = offset == 0x10100 ? "cfunction_call"
                      : offset == 0x10200 ? "_PyEval_EvalFrameDefault" : "main";
      return TRUE;
    }
  if (base == EXE_BASE)
    {
      out->function = offset == 0x100 ? "open_log" : "main";
      out->file = "../src/app.c";
      out->comp_dir = "/nonexistent/build";
      out->line = 10;
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (symbols); i++)
    if (g_str_has_suffix (path, symbols[i].module) && offset == symbols[i].offset)
      {
        out->function = symbols[i].function;
        return TRUE;
      }
  return TRUE;
}

static void
write_module (TestTrace  *t,
              guint64     base,
              const char *path)
{
  linger_module_entry m = {
    .base = base, .start = base, .end = base + 0x100000,
    .path = linger_writer_intern_cstr (&t->w, path),
    .build_id = linger_writer_intern_cstr (&t->w, "abcdef"),
    .gen_loaded = 1,
  };

  g_assert_true (linger_writer_module (&t->w, &m));
}

static void
write_native (TestTrace     *t,
              guint32        id,
              const guint64 *addrs,
              guint          n)
{
  g_assert_true (linger_writer_native_stack (&t->w, id, 1, 0, addrs, n));
}

static void
write_site (TestTrace *t,
            guint32    id,
            guint32    py_stack,
            guint32    native_stack,
            guint16    domain)
{
  linger_site_entry s = { id, py_stack, native_stack, domain, 0 };

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
write_info (TestTrace *t,
            guint32    flags)
{
  linger_rec_alloc_info info = { .flags = flags, .python_depth = 8, .native_depth = 16 };

  g_assert_true (linger_writer_alloc_info (&t->w, &info));
}

static TestTrace *
runtime_trace (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  const guint64 loader[] = { LIBC_BASE + 0x111, LD_BASE + 0x101, LD_BASE + 0x111, LIBC_BASE + 0x201, EXE_BASE + 0x201 };
  const guint64 out[] = { LIBC_BASE + 0x101, LIBC_BASE + 0x301, LIBC_BASE + 0x311, LIBC_BASE + 0x321, EXE_BASE + 0x201 };
  const guint64 fopen_[] = { LIBC_BASE + 0x101, LIBC_BASE + 0x401, LIBC_BASE + 0x411, EXE_BASE + 0x101, EXE_BASE + 0x201 };
  const guint64 ctypes[] = { FFI_BASE + 0x101, FFI_BASE + 0x201, CTYPES_BASE + 0x101, EXE_BASE + 0x10101,
                             EXE_BASE + 0x10201, EXE_BASE + 0x10301 };
  linger_py_frame_entry leak = {
    1, linger_writer_intern_cstr (&t->w, "app.py"), linger_writer_intern_cstr (&t->w, "leak_buffers"), 31
  };
  const guint32 pys[] = { 1 };

  write_info (t, LINGER_ALLOC_PYTHON);
  write_module (t, EXE_BASE, "");
  write_module (t, LIBC_BASE, LIBC);
  write_module (t, LD_BASE, LD);
  write_module (t, FFI_BASE, FFI);
  write_module (t, CTYPES_BASE, CTYPES);
  g_assert_true (linger_writer_py_frame (&t->w, &leak));
  g_assert_true (linger_writer_py_stack (&t->w, 1, 0, pys, 1));
  write_native (t, STACK_LOADER, loader, G_N_ELEMENTS (loader));
  write_native (t, STACK_STDOUT, out, G_N_ELEMENTS (out));
  write_native (t, STACK_FOPEN, fopen_, G_N_ELEMENTS (fopen_));
  write_native (t, STACK_CTYPES, ctypes, G_N_ELEMENTS (ctypes));
  write_site (t, SITE_LOADER, 0, STACK_LOADER, LINGER_DOMAIN_NATIVE);
  write_site (t, SITE_STDOUT, 0, STACK_STDOUT, LINGER_DOMAIN_NATIVE);
  write_site (t, SITE_FOPEN, 0, STACK_FOPEN, LINGER_DOMAIN_NATIVE);
  write_site (t, SITE_CTYPES, 1, STACK_CTYPES, LINGER_DOMAIN_NATIVE);
  write_block (t, 0xa000, 1200, SITE_LOADER);
  write_block (t, 0xa800, 34, SITE_LOADER);
  write_block (t, 0xb000, 1024, SITE_STDOUT);
  write_block (t, 0xc000, 472, SITE_FOPEN);
  write_block (t, 0xd000, 3000, SITE_CTYPES);
  write_info (t, LINGER_ALLOC_PYTHON | LINGER_ALLOC_NATIVE | LINGER_ALLOC_NATIVE_STACKS | LINGER_ALLOC_FINAL);
  return t;
}

static void
test_runtime_blocks (void)
{
  g_autoptr(LingerTrace) trace = test_trace_read (runtime_trace ());
  g_autoptr(LingerSites) sites = linger_sites_new_with_lookup (trace, fake_lookup, NULL);
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);
  LingerAllocSummary sum;
  const LingerSite *s;
  const LingerFrame *f;

  linger_findings_add_alloc (findings, trace, sites, NULL, &sum);
  g_assert_true (sum.leaks_known);
  /* The program's unclosed FILE and its ctypes blocks are leaks... */
  g_assert_cmpuint (findings->len, ==, 2);
  g_assert_cmpuint (((LingerFinding *) g_ptr_array_index (findings, 0))->site, ==, SITE_CTYPES);
  g_assert_cmpuint (((LingerFinding *) g_ptr_array_index (findings, 1))->site, ==, SITE_FOPEN);
  /* ...the link map and stdout's buffer are not. */
  g_assert_cmpuint (sum.loader_blocks, ==, 2);
  g_assert_cmpuint (sum.loader_bytes, ==, 1234);
  /* libc, ld.so, libffi, _ctypes: the executable ("") is no library. */
  g_assert_cmpuint (sum.loader_libraries, ==, 4);
  g_assert_cmpuint (sum.libc_cache_blocks, ==, 1);
  g_assert_cmpuint (sum.libc_cache_bytes, ==, 1024);

  s = linger_sites_get (sites, SITE_CTYPES);
  g_assert_cmpint (s->origin, ==, LINGER_ORIGIN_PROGRAM);
  g_assert_cmpstr (s->summary, ==, "app.py:31 in leak_buffers (through ctypes → libffi)");
  g_assert_cmpstr (s->through, ==, "ctypes → libffi");
  /* The native frames stay in the stack. */
  g_assert_cmpstr (g_array_index (s->frames, LingerFrame, 0).module, ==, FFI);
  test_assert_contains (((LingerFinding *) g_ptr_array_index (findings, 0))->hint, "through native code");

  s = linger_sites_get (sites, SITE_FOPEN);
  g_assert_cmpstr (s->summary, ==, "__fopen_internal (libc.so.6)");
  /* A relative file whose build tree is gone stays as DWARF has it. */
  f = &g_array_index (s->frames, LingerFrame, 3);
  g_assert_cmpstr (f->function, ==, "open_log");
  g_assert_cmpstr (f->file, ==, "../src/app.c");
  g_assert_cmpint (linger_sites_get (sites, SITE_LOADER)->origin, ==, LINGER_ORIGIN_LOADER);
  g_assert_cmpint (linger_sites_get (sites, SITE_STDOUT)->origin, ==, LINGER_ORIGIN_LIBC_CACHE);
}

/* The text report says why the runtime's blocks are not counted. */
static void
test_runtime_blocks_text (void)
{
  g_autoptr(LingerTrace) trace = test_trace_read (runtime_trace ());
  g_autoptr(LingerAnalysis) a = linger_analysis_new_for_trace (g_steal_pointer (&trace), FALSE);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new (NULL);

  /* The same analysis with the fake symbols, as linger report would
   * have with real ones. */
  linger_sites_free (a->sites);
  a->sites = linger_sites_new_with_lookup (a->trace, fake_lookup, NULL);
  g_ptr_array_set_size (a->findings, 0);
  linger_findings_add_alloc (a->findings, a->trace, a->sites, NULL, &a->alloc_summary);
  linger_report_text (a, FALSE, text);
  test_assert_contains (text->str, "not counted: 2 blocks, 1234 bytes loader bookkeeping for 4 loaded libraries");
  test_assert_contains (text->str, "not counted: 1 blocks, 1024 bytes in libc's one-time caches");
  test_assert_contains (text->str, "allocated: app.py:31 in leak_buffers (through ctypes → libffi)");
  test_assert_not_contains (text->str, "_dl_new_object");
  linger_report_json (a, json);
  test_assert_contains (json->str, "\"loader_blocks\": 2");
  test_assert_contains (json->str, "\"libc_cache_bytes\": 1024");
  test_assert_contains (json->str, "\"through\": \"ctypes → libffi\"");
}

/* ---- gc-collected --------------------------------------------------------- */

static void
write_gc_free (TestTrace  *t,
               guint32     site,
               const char *type,
               guint64     count,
               guint64     bytes)
{
  linger_gc_free_entry e = {
    .site = site, .type_name = linger_writer_intern_cstr (&t->w, type),
    .kind = LINGER_CYCLE_OTHER, .count = count, .bytes = bytes,
  };

  g_assert_true (linger_writer_gc_free (&t->w, &e));
}

static void
test_gc_lumped (void)
{
  TestTrace *t = test_trace_new ("3.11.2");
  linger_py_frame_entry mine = {
    1, linger_writer_intern_cstr (&t->w, "/srv/app/conn.py"), linger_writer_intern_cstr (&t->w, "connect"), 9
  };
  linger_py_frame_entry lib = {
    2, linger_writer_intern_cstr (&t->w, "/usr/lib/python3.11/threading.py"),
    linger_writer_intern_cstr (&t->w, "<module>"), 838
  };
  linger_py_frame_entry frozen = {
    3, linger_writer_intern_cstr (&t->w, "<frozen importlib._bootstrap>"),
    linger_writer_intern_cstr (&t->w, "_call_with_frames_removed"), 241
  };
  const guint32 mine_stack[] = { 1, 3 };
  const guint32 lib_stack[] = { 2, 3 };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LingerTrace) trace = NULL;
  g_autoptr(LingerAnalysis) a = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new (NULL);
  GPtrArray *fs;
  guint gc = 0;

  write_info (t, LINGER_ALLOC_PYTHON);
  g_assert_true (linger_writer_py_frame (&t->w, &mine));
  g_assert_true (linger_writer_py_frame (&t->w, &lib));
  g_assert_true (linger_writer_py_frame (&t->w, &frozen));
  g_assert_true (linger_writer_py_stack (&t->w, 1, 0, mine_stack, 2));
  g_assert_true (linger_writer_py_stack (&t->w, 2, 0, lib_stack, 2));
  write_site (t, 1, 1, 0, LINGER_DOMAIN_PY_OBJ);   /* the program's (calls through frozen code) */
  write_site (t, 2, 2, 0, LINGER_DOMAIN_PY_OBJ);   /* the standard library's */
  write_site (t, 3, 0, 0, LINGER_DOMAIN_PY_OBJ);   /* start-up: no stack */
  /* The library's group is larger, the program's still comes first. */
  write_gc_free (t, 1, "__main__.Conn", 2, 112);
  write_gc_free (t, 2, "builtins.dict", 50, 5000);
  write_gc_free (t, 3, "builtins.tuple", 79, 4416);
  write_gc_free (t, 3, "builtins.list", 41, 2296);
  write_gc_free (t, 0, "builtins.tuple", 1, 64);    /* no site at all */
  test_trace_snapshot_begin (t, LINGER_SNAPSHOT_AT_EXIT);
  test_trace_snapshot_end (t);
  write_info (t, LINGER_ALLOC_PYTHON | LINGER_ALLOC_FINAL);
  bytes = test_trace_finish (t, TRUE);
  trace = linger_trace_new_from_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL);
  g_assert_nonnull (trace);
  a = linger_analysis_new_for_trace (g_steal_pointer (&trace), FALSE);
  fs = a->findings;
  for (guint i = 0; i < fs->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (fs, i);

      if (strcmp (f->kind, LINGER_FINDING_GC_COLLECTED) != 0)
        continue;
      if (gc == 0)
        {
          g_assert_cmpstr (f->alloc_type, ==, "__main__.Conn");
          g_assert_false (f->in_library);
        }
      else
        {
          g_assert_cmpstr (f->alloc_type, ==, "builtins.dict");
          g_assert_true (f->in_library);
        }
      gc++;
    }
  g_assert_cmpuint (gc, ==, 2);
  g_assert_cmpuint (a->alloc_summary.gc_unattributed_objects, ==, 121);
  g_assert_cmpuint (a->alloc_summary.gc_unattributed_bytes, ==, 6776);
  g_assert_cmpuint (a->alloc_summary.gc_unattributed_types, ==, 2);

  linger_report_text (a, FALSE, text);
  test_assert_contains (text->str, "… and 121 objects (6776 bytes) of 2 types allocated during interpreter "
                                   "start-up were also freed by the cyclic GC");
  g_assert_true (strstr (text->str, "__main__.Conn") == NULL
                 || strstr (text->str, "Conn") < strstr (text->str, "threading.py"));
  linger_report_json (a, json);
  test_assert_contains (json->str, "\"gc_collected_unattributed\": {");
  test_assert_contains (json->str, "\"objects\": 121");
  test_assert_contains (json->str, "\"types\": 2");
  test_assert_contains (json->str, "\"in_library\": true");

  g_assert_true (linger_python_file_is_library ("/usr/lib/python3.11/json/decoder.py"));
  g_assert_true (linger_python_file_is_library ("/venv/lib/python3.12/site-packages/requests/api.py"));
  g_assert_true (linger_python_file_is_library ("<frozen abc>"));
  g_assert_false (linger_python_file_is_library ("/srv/app/conn.py"));
  g_assert_false (linger_python_file_is_library (NULL));
}

/* ---- source paths --------------------------------------------------------- */

static void
test_source_paths (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("linger-paths-XXXXXX", &error);
  g_autofree char *build = NULL;
  g_autofree char *src = NULL;
  g_autofree char *file = NULL;
  g_autofree char *resolved = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *absolute = NULL;

  g_assert_no_error (error);
  build = g_build_filename (root, "build", NULL);
  src = g_build_filename (root, "samples", "c", NULL);
  file = g_build_filename (src, "leak_depth.c", NULL);
  g_assert_cmpint (g_mkdir_with_parents (build, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (src, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "int x;\n", -1, NULL));

  resolved = linger_source_path_resolve ("../samples/c/leak_depth.c", build);
  g_assert_cmpstr (resolved, ==, file);
  /* Gone, already absolute, or no directory: left to the caller. */
  missing = linger_source_path_resolve ("../samples/c/gone.c", build);
  g_assert_null (missing);
  absolute = linger_source_path_resolve (file, build);
  g_assert_null (absolute);
  g_assert_null (linger_source_path_resolve ("x.c", NULL));
  g_assert_null (linger_source_path_resolve ("x.c", "relative/dir"));

  g_assert_cmpint (g_remove (file), ==, 0);
  g_assert_cmpint (g_rmdir (src), ==, 0);
  g_free (g_steal_pointer (&src));
  src = g_build_filename (root, "samples", NULL);
  g_assert_cmpint (g_rmdir (src), ==, 0);
  g_assert_cmpint (g_rmdir (build), ==, 0);
  g_assert_cmpint (g_rmdir (root), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/linger/alloc-report/origin", test_origin);
  g_test_add_func ("/linger/alloc-report/allocated-at", test_allocated_at);
  g_test_add_func ("/linger/alloc-report/runtime-blocks", test_runtime_blocks);
  g_test_add_func ("/linger/alloc-report/runtime-blocks-text", test_runtime_blocks_text);
  g_test_add_func ("/linger/alloc-report/gc-lumped", test_gc_lumped);
  g_test_add_func ("/linger/alloc-report/source-paths", test_source_paths);
  return g_test_run ();
}
