/* make_seeds.c: synthetic seeds for the fuzzers, written with the shim's
 * own writer (preload/linger_writer.c), so they are encoded exactly as
 * real traces are.
 *
 *   make_seeds DIR
 *
 * writes into DIR:
 *   synthetic-all.trace         every record type of format 1.2: PROCESS,
 *                               RUNTIME, STRING, two snapshots (interval,
 *                               at exit) with OBJECTS (every flag), REFS
 *                               (every label and ref kind), ROOTS (every
 *                               kind), FINALIZERS, WEAKREFS, ATEXIT,
 *                               OBJECT_SITES, a MESSAGE, ALLOC_INFO,
 *                               MODULES, NATIVE_STACK, PY_FRAMES, PY_STACK,
 *                               SITES, SITE_STATS, GC_FREES, LIVE_BLOCKS, END
 *   synthetic-cut.trace         the same without END and with the second
 *                               snapshot left open (a killed program)
 *   synthetic-native.trace      a non-Python process: allocation records only
 * Each heap holds one example of each finding: finalizer, weakref callback
 * and weak container keep-alives, bound-method and closure cycles,
 * gc.garbage, a resurrected object, a leak and gc-collected objects.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linger_trace_format.h"
#include "linger_writer.h"

static linger_writer w;

#define S(text) linger_writer_intern_cstr (&w, (text))
#define CHECK(x) do { if (!(x)) { fprintf (stderr, "make_seeds: %s failed\n", #x); exit (1); } } while (0)

static uint64_t n_objects, n_refs, n_roots;

static void
obj (uint64_t addr, const char *type, const char *name, uint32_t flags, int64_t refcount, uint64_t size)
{
  linger_object_entry e = { addr, size, refcount, S (type), flags, name ? S (name) : 0, 0 };
  CHECK (linger_writer_object (&w, &e));
  n_objects++;
}

static void
ref (uint64_t src, uint64_t dst, uint16_t label_kind, const char *label, uint32_t index, uint16_t ref_kind)
{
  linger_ref_entry e = { src, dst, label_kind == LINGER_LABEL_INDEX ? index : (label ? S (label) : 0),
                         label_kind, ref_kind };
  CHECK (linger_writer_ref (&w, &e));
  n_refs++;
}

static void
root (uint64_t addr, uint32_t kind, const char *label)
{
  linger_root_entry e = { addr, kind, S (label) };
  CHECK (linger_writer_root (&w, &e));
  n_roots++;
}

static void
alloc_head (uint32_t extra_flags)
{
  linger_rec_alloc_info info = {
    .flags = LINGER_ALLOC_PYTHON | LINGER_ALLOC_NATIVE | LINGER_ALLOC_NATIVE_STACKS
             | LINGER_ALLOC_GC_LIFETIMES | LINGER_ALLOC_FRAMES_CHECKED | LINGER_ALLOC_FREELISTS | extra_flags,
    .python_depth = 8, .native_depth = 16,
    .python_allocs = 1000, .native_allocs = 200, .untracked = 1,
    .peak_live_blocks = 300, .table_bytes = 65536, .gc_collections = 3,
  };
  CHECK (linger_writer_alloc_info (&w, &info));
}

static void
alloc_defs (void)
{
  linger_module_entry exe = { 0x400000, 0x400000, 0x480000, S (""), S ("0123456789abcdef"), 1, 0 };
  linger_module_entry lib = { 0x7f0000000000, 0x7f0000001000, 0x7f0000100000, S ("/nonexistent/libleak.so"), 0, 1, 2 };
  linger_py_frame_entry f1 = { 1, S ("app.py"), S ("Conn.__init__"), 12 };
  linger_py_frame_entry f2 = { 2, S ("app.py"), S ("<module>"), 40 };
  linger_py_frame_entry f3 = { 3, S ("/usr/lib/python3.11/threading.py"), S ("Thread.run"), 0 };
  uint32_t py1[] = { 1, 2 };
  uint32_t py2[] = { 3 };
  uint64_t nat1[] = { 0x401234, 0x7f0000002345, 0x400100 };
  linger_site_entry s1 = { 1, 1, 0, LINGER_DOMAIN_PY_OBJ, 0 };
  linger_site_entry s2 = { 2, 0, 1, LINGER_DOMAIN_NATIVE, 0 };
  linger_site_entry s3 = { 3, 2, 1, LINGER_DOMAIN_PY_MEM, LINGER_SITE_STARTUP };
  linger_site_entry s4 = { 4, 0, 0, LINGER_DOMAIN_PY_RAW, LINGER_SITE_SHUTDOWN };

  CHECK (linger_writer_module (&w, &exe));
  CHECK (linger_writer_module (&w, &lib));
  CHECK (linger_writer_py_frame (&w, &f1));
  CHECK (linger_writer_py_frame (&w, &f2));
  CHECK (linger_writer_py_frame (&w, &f3));
  CHECK (linger_writer_py_stack (&w, 1, 0, py1, 2));
  CHECK (linger_writer_py_stack (&w, 2, 1, py2, 1));
  CHECK (linger_writer_native_stack (&w, 1, 1, 0, nat1, 3));
  CHECK (linger_writer_site (&w, &s1));
  CHECK (linger_writer_site (&w, &s2));
  CHECK (linger_writer_site (&w, &s3));
  CHECK (linger_writer_site (&w, &s4));
}

static void
alloc_totals (void)
{
  linger_site_stats_entry st1 = { 1, 0, 50, 2400, 40, 30, 1440 };
  linger_site_stats_entry st2 = { 2, 0, 10, 4096, 2, 0, 0 };
  linger_site_stats_entry st3 = { 3, 0, 5, 100, 5, 5, 100 };
  linger_gc_free_entry g1 = { 1, S ("__main__.Conn"), LINGER_CYCLE_BOUND_METHOD, 0, 30, 1440 };
  linger_gc_free_entry g2 = { 3, S ("builtins.function"), LINGER_CYCLE_CLOSURE, 0, 5, 100 };
  linger_gc_free_entry g3 = { 1, 0, LINGER_CYCLE_OTHER, 0, 2, 96 };
  linger_block_entry b1 = { 0x10000, 512, 2, 0 };
  linger_block_entry b2 = { 0x10400, 256, 2, 0 };
  linger_block_entry b3 = { 0x10800, 64, 3, 0 };

  CHECK (linger_writer_site_stats (&w, &st1));
  CHECK (linger_writer_site_stats (&w, &st2));
  CHECK (linger_writer_site_stats (&w, &st3));
  CHECK (linger_writer_gc_free (&w, &g1));
  CHECK (linger_writer_gc_free (&w, &g2));
  CHECK (linger_writer_gc_free (&w, &g3));
  CHECK (linger_writer_live_block (&w, &b1));
  CHECK (linger_writer_live_block (&w, &b2));
  CHECK (linger_writer_live_block (&w, &b3));
}

/* One heap with an example of every finding; @grow adds more of them. */
static void
snapshot (uint32_t id, uint32_t reason, int grow, int close)
{
  n_objects = n_refs = n_roots = 0;
  CHECK (linger_writer_snapshot_begin (&w, id, reason));

  /* __main__ and the bound-method cycle Conn <-> Conn.cb */
  obj (0x1000, "builtins.module", "__main__", LINGER_OBJ_MODULE | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 3, 72);
  obj (0x1100, "builtins.dict", NULL, LINGER_OBJ_DICT | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 232);
  obj (0x2000, "__main__.Conn", NULL, LINGER_OBJ_HAS_DEL | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 4, 48);
  obj (0x2100, "builtins.dict", NULL, LINGER_OBJ_DICT | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 104);
  obj (0x3000, "builtins.method", "Conn.on_event", LINGER_OBJ_METHOD | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 2, 48);
  obj (0x4000, "builtins.function", "Conn.on_event", LINGER_OBJ_FUNCTION | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 2, 160);
  obj (0x4100, "builtins.type", "Conn", LINGER_OBJ_TYPE | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED | LINGER_OBJ_SIZE_ESTIMATED, 5, 1072);
  obj (0x4200, "builtins.str", NULL, LINGER_OBJ_IMMORTAL, 1, 55);
  ref (0x1000, 0x1100, LINGER_LABEL_ATTR, "__dict__", 0, LINGER_REF_STRONG);
  ref (0x1100, 0x2000, LINGER_LABEL_KEY, "conn", 0, LINGER_REF_STRONG);
  ref (0x1100, 0x4200, LINGER_LABEL_DICT_KEY, "conn", 0, LINGER_REF_STRONG);
  ref (0x2000, 0x2100, LINGER_LABEL_ATTR, "__dict__", 0, LINGER_REF_STRONG);
  ref (0x2000, 0x4100, LINGER_LABEL_NONE, NULL, 0, LINGER_REF_STRONG);
  ref (0x2100, 0x3000, LINGER_LABEL_KEY, "cb", 0, LINGER_REF_STRONG);
  ref (0x3000, 0x2000, LINGER_LABEL_ATTR, "__self__", 0, LINGER_REF_STRONG);
  ref (0x3000, 0x4000, LINGER_LABEL_ATTR, "__func__", 0, LINGER_REF_STRONG);

  /* finalize(obj, func, obj): the finalizer keeps Res alive */
  obj (0x5000, "weakref.finalize", NULL, LINGER_OBJ_FINALIZE | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x5100, "weakref._Info", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 80);
  obj (0x5200, "builtins.tuple", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x5300, "__main__.Res", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x5400, "weakref.ReferenceType", NULL, LINGER_OBJ_WEAKREF | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 80);
  obj (0x5500, "builtins.dict", NULL, LINGER_OBJ_DICT | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 64);
  ref (0x5000, 0x5100, LINGER_LABEL_NONE, NULL, 0, LINGER_REF_STRONG);
  ref (0x5100, 0x5200, LINGER_LABEL_ATTR, "args", 0, LINGER_REF_STRONG);
  ref (0x5100, 0x4000, LINGER_LABEL_ATTR, "func", 0, LINGER_REF_STRONG);
  ref (0x5100, 0x5400, LINGER_LABEL_ATTR, "weakref", 0, LINGER_REF_STRONG);
  ref (0x5100, 0x5500, LINGER_LABEL_ATTR, "kwargs", 0, LINGER_REF_STRONG);
  ref (0x5200, 0x5300, LINGER_LABEL_INDEX, NULL, 0, LINGER_REF_STRONG);
  ref (0x5400, 0x5300, LINGER_LABEL_REFERENT, NULL, 0, LINGER_REF_WEAK);
  ref (0x5500, 0x5300, LINGER_LABEL_KEY, "res", 0, LINGER_REF_STRONG);
  {
    linger_finalizer_entry f = { 0x5000, 0x5100, 0x5400, 0x5300, 0x4000, 0x5200, 0x5500, 1, 0, 0 };
    linger_finalizer_entry fa = { 0x5000, 0x5100, 0x5400, 0, 0x4000, 0, 0, 2, LINGER_FINALIZER_ATEXIT, 0 };
    CHECK (linger_writer_finalizer (&w, &f));
    CHECK (linger_writer_finalizer (&w, &fa));
  }

  /* weakref.ref(obj, closure over obj); a proxy; a WeakMethod */
  obj (0x6000, "weakref.ReferenceType", NULL, LINGER_OBJ_WEAKREF | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 80);
  obj (0x6100, "builtins.function", "watch.<locals>.cb", LINGER_OBJ_FUNCTION | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 160);
  obj (0x6200, "builtins.cell", NULL, LINGER_OBJ_CELL | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 40);
  obj (0x6300, "__main__.Watched", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x6400, "weakref.ProxyType", NULL, LINGER_OBJ_PROXY | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 80);
  obj (0x6500, "weakref.WeakMethod", NULL, LINGER_OBJ_WEAKREF | LINGER_OBJ_WEAKMETHOD | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 96);
  obj (0x6600, "functools.partial", NULL, LINGER_OBJ_PARTIAL | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 80);
  obj (0x6700, "builtins.builtin_function_or_method", "append", LINGER_OBJ_BUILTIN_METHOD | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 72);
  ref (0x1100, 0x6000, LINGER_LABEL_KEY, "w", 0, LINGER_REF_STRONG);
  ref (0x6000, 0x6300, LINGER_LABEL_REFERENT, NULL, 0, LINGER_REF_WEAK);
  ref (0x6000, 0x6100, LINGER_LABEL_ATTR, "__callback__", 0, LINGER_REF_CALLBACK);
  ref (0x6100, 0x6200, LINGER_LABEL_CLOSURE, "obj", 0, LINGER_REF_STRONG);
  ref (0x6200, 0x6300, LINGER_LABEL_ATTR, "cell_contents", 0, LINGER_REF_STRONG);
  ref (0x1100, 0x6400, LINGER_LABEL_KEY, "p", 0, LINGER_REF_STRONG);
  ref (0x6400, 0x6300, LINGER_LABEL_REFERENT, NULL, 0, LINGER_REF_WEAK);
  ref (0x6400, 0x6600, LINGER_LABEL_ATTR, "__callback__", 0, LINGER_REF_CALLBACK);
  ref (0x6600, 0x6300, LINGER_LABEL_ATTR, "args", 0, LINGER_REF_STRONG);
  ref (0x1100, 0x6500, LINGER_LABEL_KEY, "wm", 0, LINGER_REF_STRONG);
  ref (0x6500, 0x2000, LINGER_LABEL_REFERENT, NULL, 0, LINGER_REF_WEAK);
  ref (0x6700, 0x2100, LINGER_LABEL_ATTR, "__self__", 0, LINGER_REF_STRONG);
  {
    linger_weakref_entry a = { 0x6000, 0x6300, 0x6100, LINGER_WEAKREF_REF, 0 };
    linger_weakref_entry b = { 0x6400, 0x6300, 0x6600, LINGER_WEAKREF_PROXY, 0 };
    linger_weakref_entry c = { 0x6500, 0x2000, 0, LINGER_WEAKREF_METHOD, 0 };
    linger_weakref_entry d = { 0x5400, 0x5300, 0, LINGER_WEAKREF_CALLABLE_PROXY, 0 };
    CHECK (linger_writer_weakref (&w, &a));
    CHECK (linger_writer_weakref (&w, &b));
    CHECK (linger_writer_weakref (&w, &c));
    CHECK (linger_writer_weakref (&w, &d));
  }

  /* A WeakKeyDictionary whose value refers to its key */
  obj (0x7000, "weakref.WeakKeyDictionary", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x7100, "builtins.dict", NULL, LINGER_OBJ_DICT | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 232);
  obj (0x7200, "weakref.KeyedRef", NULL, LINGER_OBJ_WEAKREF | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 80);
  obj (0x7300, "__main__.Key", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x7400, "builtins.list", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 72);
  obj (0x7500, "builtins.set", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 216);
  ref (0x1100, 0x7000, LINGER_LABEL_KEY, "cache", 0, LINGER_REF_STRONG);
  ref (0x7000, 0x7100, LINGER_LABEL_ATTR, "data", 0, LINGER_REF_STRONG);
  ref (0x7100, 0x7200, LINGER_LABEL_DICT_KEY, "<KeyedRef>", 0, LINGER_REF_STRONG);
  ref (0x7100, 0x7400, LINGER_LABEL_KEY, "<KeyedRef>", 0, LINGER_REF_STRONG);
  ref (0x7200, 0x7300, LINGER_LABEL_REFERENT, NULL, 0, LINGER_REF_WEAK);
  ref (0x7400, 0x7300, LINGER_LABEL_INDEX, NULL, 3, LINGER_REF_STRONG);
  ref (0x7500, 0x7300, LINGER_LABEL_ITEM, NULL, 0, LINGER_REF_STRONG);

  /* gc.garbage, a resurrected object, a closure cycle (garbage), a frame */
  obj (0x8000, "builtins.list", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 72);
  obj (0x8100, "__main__.Saved", NULL, LINGER_OBJ_IN_GARBAGE | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x8200, "__main__.Phoenix", NULL, LINGER_OBJ_HAS_DEL | LINGER_OBJ_FINALIZED | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
  obj (0x8300, "builtins.function", "outer.<locals>.inner", LINGER_OBJ_FUNCTION | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 160);
  obj (0x8400, "builtins.cell", NULL, LINGER_OBJ_CELL | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 40);
  obj (0x8500, "builtins.frame", "main", LINGER_OBJ_FRAME | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 400);
  ref (0x8000, 0x8100, LINGER_LABEL_INDEX, NULL, 0, LINGER_REF_STRONG);
  ref (0x8300, 0x8400, LINGER_LABEL_CLOSURE, "inner", 0, LINGER_REF_STRONG);
  ref (0x8400, 0x8300, LINGER_LABEL_ATTR, "cell_contents", 0, LINGER_REF_STRONG);
  ref (0x8500, 0x8200, LINGER_LABEL_LOCAL, "phoenix", 0, LINGER_REF_STRONG);
  ref (0x8500, 0x7500, LINGER_LABEL_LOCAL, "seen", 0, LINGER_REF_STRONG);
  ref (0x8500, 0x6700, LINGER_LABEL_LOCAL, "add", 0, LINGER_REF_STRONG);
  ref (0x8500, 0x9999, LINGER_LABEL_LOCAL, "dangling", 0, LINGER_REF_STRONG);  /* no such object */

  for (int i = 0; i < grow; i++)
    {
      uint64_t a = 0xa000 + (uint64_t) i * 0x100;
      obj (a, "__main__.Conn", NULL, LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 2, 48);
      obj (a + 0x10, "builtins.method", "Conn.on_event", LINGER_OBJ_METHOD | LINGER_OBJ_GC_TYPE | LINGER_OBJ_GC_TRACKED, 1, 48);
      ref (a, a + 0x10, LINGER_LABEL_ATTR, "cb", 0, LINGER_REF_STRONG);
      ref (a + 0x10, a, LINGER_LABEL_ATTR, "__self__", 0, LINGER_REF_STRONG);
      ref (0x7400, a, LINGER_LABEL_INDEX, NULL, (uint32_t) i, LINGER_REF_STRONG);
    }

  root (0x1000, LINGER_ROOT_MODULE, "__main__");
  root (0x1100, LINGER_ROOT_BUILTINS, "builtins");
  root (0x4100, LINGER_ROOT_SYS, "sys.modules");
  root (0x8000, LINGER_ROOT_GARBAGE, "gc.garbage");
  root (0x8500, LINGER_ROOT_THREAD, "MainThread: main (app.py:40)");
  root (0x3000, LINGER_ROOT_ATEXIT, "atexit callback #1: Conn.on_event");
  {
    linger_atexit_entry a = { 0x3000, 0, 0, 0, 0 };
    linger_atexit_entry b = { 0x4000, 0x5200, 0x5500, 1, 0 };
    linger_object_site_entry os1 = { 0x2000, 1, 0 };
    linger_object_site_entry os2 = { 0x5300, 3, 0 };
    linger_object_site_entry os3 = { 0x8300, 1, 0 };
    CHECK (linger_writer_atexit (&w, &a));
    CHECK (linger_writer_atexit (&w, &b));
    CHECK (linger_writer_object_site (&w, &os1));
    CHECK (linger_writer_object_site (&w, &os2));
    CHECK (linger_writer_object_site (&w, &os3));
  }
  CHECK (linger_writer_message (&w, LINGER_MSG_WARNING, "synthetic: 1 object skipped"));
  if (close)
    {
      linger_rec_snapshot_end end = { .snapshot_id = id, .status = grow ? LINGER_SNAPSHOT_OK : LINGER_SNAPSHOT_PARTIAL,
                                      .n_objects = n_objects, .n_refs = n_refs, .n_roots = n_roots,
                                      .duration_ns = 12345 };
      CHECK (linger_writer_snapshot_end (&w, &end));
    }
}

static void
open_trace (const char *dir, const char *name)
{
  char path[4096];
  int fd;

  snprintf (path, sizeof path, "%s/%s", dir, name);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK (fd >= 0);
  CHECK (linger_writer_init (&w, fd, 0));
}

int
main (int    argc,
      char **argv)
{
  static const char cmdline[] = "python3\0app.py\0--serve\0";
  static const char native_cmdline[] = "./leaky\0";

  if (argc != 2)
    {
      fprintf (stderr, "usage: make_seeds DIR\n");
      return 2;
    }

  for (int cut = 0; cut < 2; cut++)
    {
      open_trace (argv[1], cut ? "synthetic-cut.trace" : "synthetic-all.trace");
      CHECK (linger_writer_process (&w, 4242, 1, "/usr/bin/python3.11", cmdline, sizeof cmdline - 1, "python3"));
      CHECK (linger_writer_runtime (&w, 0x030b02f0, LINGER_RUNTIME_LAYOUT_KNOWN | LINGER_RUNTIME_SHARED_LIBPYTHON,
                                    "3.11.2"));
      alloc_head (0);
      alloc_defs ();
      snapshot (1, LINGER_SNAPSHOT_INTERVAL, 0, 1);
      snapshot (2, cut ? LINGER_SNAPSHOT_ON_SIGNAL : LINGER_SNAPSHOT_AT_EXIT, 3, !cut);
      if (!cut)
        {
          alloc_totals ();
          alloc_head (LINGER_ALLOC_FINAL | LINGER_ALLOC_TABLE_FULL);
          CHECK (linger_writer_end (&w, LINGER_EXIT_NORMAL));
        }
      CHECK (linger_writer_flush (&w));
      linger_writer_close (&w);
    }

  /* Format 1.3: per-test labels (the pytest plugin), a whole labelled
   * snapshot, an objects-only one, then the exit snapshot. */
  open_trace (argv[1], "synthetic-labels.trace");
  CHECK (linger_writer_process (&w, 4243, 1, "/usr/bin/python3.11", cmdline, sizeof cmdline - 1, "python3"));
  CHECK (linger_writer_runtime (&w, 0x030b02f0, LINGER_RUNTIME_LAYOUT_KNOWN, "3.11.2"));
  alloc_head (0);
  alloc_defs ();
  CHECK (linger_writer_snapshot_label (&w, 1, "<collection>", 12, LINGER_SNAPSHOT_OBJECTS_ONLY));
  snapshot (1, LINGER_SNAPSHOT_ON_API, 0, 1);
  CHECK (linger_writer_snapshot_label (&w, 2, "test_app.py::test_one", 21, 0));
  snapshot (2, LINGER_SNAPSHOT_ON_API, 2, 1);
  snapshot (3, LINGER_SNAPSHOT_AT_EXIT, 3, 1);
  CHECK (linger_writer_end (&w, LINGER_EXIT_NORMAL));
  linger_writer_close (&w);

  open_trace (argv[1], "synthetic-native.trace");
  CHECK (linger_writer_process (&w, 77, 1, "/tmp/leaky", native_cmdline, sizeof native_cmdline - 1, "leaky"));
  alloc_head (0);
  alloc_defs ();
  alloc_totals ();
  alloc_head (LINGER_ALLOC_FINAL);
  CHECK (linger_writer_end (&w, LINGER_EXIT_UNDERSCORE));
  linger_writer_close (&w);
  return 0;
}
