/* test_symbolizer.c: offline symbolization of native addresses, checked
 * against this very process: the test binary (PIE, -g), a -g -O0 shared
 * library it dlopen()s, libc (.dynsym, or its debug file by build-id),
 * a non-PIE python3 if there is one, and a copy of the library whose
 * DWARF was moved to a .gnu_debuglink file. */
/* dl_iterate_phdr, RTLD_DEFAULT */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include <glib/gstdio.h>

#include "linger_symbolizer.h"

/* Where an address was loaded from, as the shim's module map says it. */
typedef struct
{
  char   *path;
  char   *build_id;
  guint64 base;
  guint64 exec_low;    /* run-time range of its first executable segment */
  guint64 exec_high;
} Module;

static void
module_clear (Module *m)
{
  g_clear_pointer (&m->path, g_free);
  g_clear_pointer (&m->build_id, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Module, module_clear)

typedef struct
{
  guint64 addr;
  Module *out;
  gboolean found;
} FindModule;

static char *
build_id_from_notes (const struct dl_phdr_info *info)
{
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      const guint8 *p;
      const guint8 *end;

      if (ph->p_type != PT_NOTE)
        continue;
      p = (const guint8 *) (info->dlpi_addr + ph->p_vaddr);
      end = p + ph->p_memsz;
      while (p + sizeof (ElfW (Nhdr)) <= end)
        {
          const ElfW (Nhdr) *n = (const ElfW (Nhdr) *) (gconstpointer) p;
          const guint8 *name = p + sizeof *n;
          const guint8 *desc = name + ((n->n_namesz + 3) & ~3u);

          if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp (name, "GNU", 4) == 0)
            {
              GString *hex = g_string_new (NULL);

              for (guint j = 0; j < n->n_descsz; j++)
                g_string_append_printf (hex, "%02x", desc[j]);
              return g_string_free (hex, FALSE);
            }
          p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
  return NULL;
}

static int
find_module_cb (struct dl_phdr_info *info,
                size_t               size,
                void                *data)
{
  FindModule *f = data;

  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      guint64 low = info->dlpi_addr + ph->p_vaddr;

      if (ph->p_type != PT_LOAD || f->addr < low || f->addr >= low + ph->p_memsz)
        continue;
      f->out->base = info->dlpi_addr;
      /* "" is the main executable; the analyzer passes its real path. */
      if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')
        f->out->path = g_file_read_link ("/proc/self/exe", NULL);
      else
        f->out->path = g_strdup (info->dlpi_name);
      f->out->build_id = build_id_from_notes (info);
      for (int j = 0; j < info->dlpi_phnum; j++)
        if (info->dlpi_phdr[j].p_type == PT_LOAD && (info->dlpi_phdr[j].p_flags & PF_X))
          {
            f->out->exec_low = info->dlpi_addr + info->dlpi_phdr[j].p_vaddr;
            f->out->exec_high = f->out->exec_low + info->dlpi_phdr[j].p_memsz;
            break;
          }
      f->found = TRUE;
      return 1;
    }
  return 0;
}

static void
find_module (gconstpointer addr,
             Module       *out)
{
  FindModule f = { (guint64) (guintptr) addr, out, FALSE };

  memset (out, 0, sizeof *out);
  dl_iterate_phdr (find_module_cb, &f);
  g_assert_true (f.found);
  g_assert_nonnull (out->path);
}

/* A return address minus one, as the shim's unwinder reports it. */
static G_GNUC_NO_INLINE guint64
caller_pc (void)
{
  return (guint64) (guintptr) __builtin_return_address (0) - 1;
}

/* The address of a call in this function and the line of that call.
 * Called only through a volatile pointer, so the optimizer makes no
 * specialized copy with another name (foo.constprop.0). */
static G_GNUC_NO_INLINE guint64
symbolizer_test_target (guint *line)
{
  guint64 pc = caller_pc (); *line = __LINE__;

  return pc;
}

static guint64 (*volatile target_fn) (guint *line) = symbolizer_test_target;

static const char *symlib_path_env;

/* The test library, dlopen()ed from the directory of this executable,
 * where meson builds it. */
static gpointer
symlib_symbol (const char *name)
{
  static void *handle;

  if (handle == NULL)
    {
      g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
      g_autofree char *dir = g_path_get_dirname (exe);
      g_autofree char *path = g_build_filename (dir, "liblinger_test_symlib.so", NULL);

      handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
      if (handle == NULL)
        g_error ("%s", dlerror ());
      symlib_path_env = g_strdup (path);
    }
  return dlsym (handle, name);
}

static void
assert_frame (const LingerNativeFrame *f,
              const char              *function,
              const char              *file_basename,
              guint                    line)
{
  g_autofree char *base = NULL;

  g_assert_cmpstr (f->function, ==, function);
  g_assert_nonnull (f->file);
  base = g_path_get_basename (f->file);
  g_assert_cmpstr (base, ==, file_basename);
  g_assert_cmpuint (f->line, ==, line);
  g_assert_false (f->inlined);
}

static void
test_executable (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  g_auto(Module) m;
  LingerNativeFrame f;
  guint line = 0;
  guint64 pc = target_fn (&line);
  guint64 entry = (guint64) (guintptr) symbolizer_test_target;

  find_module ((gconstpointer) (guintptr) pc, &m);
  g_assert_nonnull (m.build_id);

  /* A call inside the function: its name, this file and the call's line. */
  g_assert_true (linger_symbolizer_lookup (s, m.path, m.build_id, m.base, pc, &f));
  assert_frame (&f, "symbolizer_test_target", "test_symbolizer.c", line);
  g_assert_cmpstr (f.module, ==, m.path);
  g_assert_cmpuint (f.offset, ==, pc - m.base);

  /* The function's own first byte, and a static function of this file. */
  g_assert_true (linger_symbolizer_lookup (s, m.path, m.build_id, m.base, entry, &f));
  g_assert_cmpstr (f.function, ==, "symbolizer_test_target");
  g_assert_true (linger_symbolizer_lookup (s, m.path, NULL, m.base,
                                           (guint64) (guintptr) caller_pc, &f));
  g_assert_cmpstr (f.function, ==, "caller_pc");
}

static void
test_shared_library (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  guint64 (*where) (guint *line) = symlib_symbol ("linger_test_symlib_where");
  g_auto(Module) m;
  LingerNativeFrame f;
  guint line = 0;
  guint64 pc;

  g_assert_nonnull (where);
  pc = where (&line);
  find_module ((gconstpointer) (guintptr) pc, &m);
  g_assert_cmpstr (m.path, ==, symlib_path_env);
  g_assert_cmpuint (m.base, !=, 0);

  g_assert_true (linger_symbolizer_lookup (s, m.path, m.build_id, m.base, pc, &f));
  assert_frame (&f, "linger_test_symlib_where", "linger_test_symlib.c", line);

  /* Same module again (cached), a static function in it. */
  g_assert_true (linger_symbolizer_lookup (s, m.path, m.build_id, m.base,
                                           (guint64) (guintptr) where + 1, &f));
  g_assert_cmpstr (f.function, ==, "linger_test_symlib_where");
  g_assert_cmpuint (f.line, >, 0);
}

static void
test_libc (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  gpointer qsort_addr = dlsym (RTLD_DEFAULT, "qsort");
  g_auto(Module) m;
  LingerNativeFrame f;

  g_assert_nonnull (qsort_addr);
  find_module (qsort_addr, &m);
  if (strstr (m.path, "libc.so") == NULL)
    {
      g_test_skip ("qsort does not come from libc here");
      return;
    }
  g_assert_true (linger_symbolizer_lookup (s, m.path, m.build_id, m.base,
                                           (guint64) (guintptr) qsort_addr + 2, &f));
  g_assert_cmpstr (f.function, ==, "qsort");
  g_assert_cmpstr (f.module, ==, m.path);
  g_test_message ("libc qsort+2: %s at %s:%u", f.function,
                  f.file != NULL ? f.file : "(no debug info)", f.line);
}

static void
test_unknown_address (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  static const char rodata[] = "not code";
  g_auto(Module) m;
  LingerNativeFrame f;

  find_module (rodata, &m);
  /* Read-only data: no function there, whatever precedes it. */
  if (linger_symbolizer_lookup (s, m.path, m.build_id, m.base, (guint64) (guintptr) rodata, &f))
    g_assert_null (f.function);
  /* Far past the end of the module. */
  if (linger_symbolizer_lookup (s, m.path, m.build_id, m.base, m.base + (G_GUINT64_CONSTANT (1) << 40), &f))
    {
      g_assert_null (f.function);
      g_assert_null (f.file);
      g_assert_cmpuint (f.line, ==, 0);
    }
}

static void
test_missing_file (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  const char *path = "/nonexistent/linger/libgone.so";
  LingerNativeFrame f;

  g_assert_false (linger_symbolizer_lookup (s, path, "0123abcd", 0x7f0000000000, 0x7f0000001234, &f));
  g_assert_cmpstr (f.module, ==, path);
  g_assert_null (f.function);
  g_assert_null (f.file);
  g_assert_cmpuint (f.offset, ==, 0x1234);
  /* Cached as missing: asked again, the same answer. */
  g_assert_false (linger_symbolizer_lookup (s, path, "0123abcd", 0x7f0000000000, 0x7f0000001234, &f));
  /* Not an ELF file. */
  g_assert_false (linger_symbolizer_lookup (s, "/proc/self/status", NULL, 0, 0x1000, &f));
  g_assert_cmpstr (f.module, ==, "/proc/self/status");
}

/* The file on disk has another build-id than the trace says the process
 * had: the library was rebuilt since, so no name rather than a wrong one. */
static void
test_wrong_build_id (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  g_auto(Module) m;
  LingerNativeFrame f;
  guint line;
  guint64 pc = target_fn (&line);

  find_module ((gconstpointer) (guintptr) pc, &m);
  linger_symbolizer_lookup (s, m.path, "00112233445566778899aabbccddeeff00112233", m.base, pc, &f);
  g_assert_null (f.function);
  g_assert_null (f.file);
  g_assert_cmpstr (f.module, ==, m.path);
  /* The right build-id, in upper case, in the same symbolizer: found. */
  {
    g_autofree char *upper = g_ascii_strup (m.build_id, -1);

    g_assert_true (linger_symbolizer_lookup (s, m.path, upper, m.base, pc, &f));
    g_assert_cmpstr (f.function, ==, "symbolizer_test_target");
  }
}

/* The link-time address of @name in the .dynsym of @path, or 0. */
static guint64
dynsym_value (const char *path,
              const char *name)
{
  guint64 value = 0;
  Elf_Scn *scn = NULL;
  Elf *elf;
  int fd;

  elf_version (EV_CURRENT);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  elf = elf_begin (fd, ELF_C_READ, NULL);
  while (elf != NULL && value == 0 && (scn = elf_nextscn (elf, scn)) != NULL)
    {
      GElf_Shdr shdr;
      Elf_Data *data;

      if (gelf_getshdr (scn, &shdr) == NULL || shdr.sh_type != SHT_DYNSYM || shdr.sh_entsize == 0)
        continue;
      data = elf_getdata (scn, NULL);
      for (gsize i = 0; data != NULL && i < shdr.sh_size / shdr.sh_entsize; i++)
        {
          GElf_Sym sym;
          const char *sym_name;

          if (gelf_getsym (data, (int) i, &sym) == NULL || sym.st_shndx == SHN_UNDEF)
            continue;
          sym_name = elf_strptr (elf, shdr.sh_link, sym.st_name);
          if (sym_name != NULL && strcmp (sym_name, name) == 0)
            {
              value = sym.st_value;
              break;
            }
        }
    }
  if (elf != NULL)
    elf_end (elf);
  close (fd);
  return value;
}

/* A non-PIE executable is loaded at its link-time addresses: bias 0. */
static void
test_non_pie (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  g_autofree char *real = NULL;
  LingerNativeFrame f;
  guint64 value;

  /* The system's python3: Debian builds it non-PIE, exporting its API. */
  if ((real = realpath ("/usr/bin/python3", NULL)) == NULL)
    {
      g_test_skip ("no python3");
      return;
    }
  value = dynsym_value (real, "Py_BytesMain");
  if (value == 0 || value > G_GUINT64_CONSTANT (0x10000000))
    {
      g_test_skip ("python3 is not a non-PIE executable exporting Py_BytesMain");
      return;
    }
  g_assert_true (linger_symbolizer_lookup (s, real, NULL, 0, value + 4, &f));
  g_assert_cmpstr (f.function, ==, "Py_BytesMain");
  g_assert_cmpuint (f.offset, ==, value + 4);
}

static gboolean
run (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH,
                     NULL, NULL, NULL, NULL, &status, &error)
      || !g_spawn_check_exit_status (status, &error))
    {
      g_test_message ("%s: %s", argv[0], error->message);
      return FALSE;
    }
  return TRUE;
}

/* Copies @src to @dir/@name and moves its DWARF and .symtab to
 * @name.debug, named by .gnu_debuglink, the way distributions ship them
 * (without the build-id directory here).  FALSE if objcopy failed. */
static gboolean
split_debug (const char *src,
             const char *dir,
             const char *name,
             gboolean    keep_build_id,
             char      **lib_out,
             char      **debug_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *link_arg = NULL;
  gsize len;
  char *lib = g_build_filename (dir, name, NULL);
  char *debug = g_strconcat (lib, ".debug", NULL);
  const char *no_id[] = { "objcopy", "--remove-section=.note.gnu.build-id", lib, NULL };
  const char *keep[] = { "objcopy", "--only-keep-debug", lib, debug, NULL };
  const char *strip[] = { "objcopy", "--strip-debug", "--strip-unneeded", NULL, lib, NULL };

  *lib_out = lib;
  *debug_out = debug;
  g_assert_true (g_file_get_contents (src, &contents, &len, &error));
  g_assert_true (g_file_set_contents (lib, contents, len, &error));
  link_arg = g_strdup_printf ("--add-gnu-debuglink=%s", debug);
  strip[3] = link_arg;
  return (keep_build_id || run (no_id)) && run (keep) && run (strip);
}

static void
test_debuglink (void)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  guint64 (*where) (guint *line) = symlib_symbol ("linger_test_symlib_where");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *lib = NULL;
  g_autofree char *debug = NULL;
  g_autofree char *lib2 = NULL;
  g_autofree char *debug2 = NULL;
  g_auto(Module) m;
  LingerNativeFrame f;
  guint line = 0;
  guint64 pc;
  FILE *fp;

  pc = where (&line);
  find_module ((gconstpointer) (guintptr) pc, &m);
  dir = g_dir_make_tmp ("linger-symbolizer-XXXXXX", &error);
  g_assert_no_error (error);
  if (!split_debug (m.path, dir, "libcopy.so", TRUE, &lib, &debug)
      || !split_debug (m.path, dir, "libnoid.so", FALSE, &lib2, &debug2))
    {
      g_test_skip ("objcopy failed or is missing");
      goto out;
    }

  /* The stripped copy keeps its build-id: the debug file must match it. */
  g_assert_true (linger_symbolizer_lookup (s, lib, m.build_id, m.base, pc, &f));
  assert_frame (&f, "linger_test_symlib_where", "linger_test_symlib.c", line);
  g_assert_cmpstr (f.module, ==, lib);

  /* No build-id anywhere: the debuglink CRC ties the two files. */
  g_assert_true (linger_symbolizer_lookup (s, lib2, NULL, m.base, pc, &f));
  assert_frame (&f, "linger_test_symlib_where", "linger_test_symlib.c", line);

  /* A debug file that fails the CRC gives no lines; the name still comes
   * from the object's own .dynsym. */
  fp = fopen (debug2, "ab");
  g_assert_nonnull (fp);
  fputc (0, fp);
  fclose (fp);
  {
    g_autoptr(LingerSymbolizer) s2 = linger_symbolizer_new ();

    g_assert_true (linger_symbolizer_lookup (s2, lib2, NULL, m.base, pc, &f));
    g_assert_cmpstr (f.function, ==, "linger_test_symlib_where");
    g_assert_null (f.file);
    g_assert_cmpuint (f.line, ==, 0);
  }

out:
  for (guint i = 0; i < 4; i++)
    {
      const char *p = (const char *[]) { lib, debug, lib2, debug2 }[i];

      if (p != NULL)
        g_unlink (p);
    }
  g_rmdir (dir);
}

/* Not a timed assertion: the figures go to the log, for the record. */
static void
bench_module (const char *label,
              const char *path,
              const char *build_id,
              guint64     base,
              guint64     low,
              guint64     high)
{
  g_autoptr(LingerSymbolizer) s = linger_symbolizer_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  const guint n = 100000;
  g_autofree guint64 *addrs = g_new (guint64, n);
  LingerNativeFrame f;
  guint named = 0;
  guint lines = 0;
  gint64 t0;
  gint64 t1;
  gint64 t2;
  gint64 t3;

  /* Stacks repeat: draw from 5000 distinct addresses. */
  for (guint i = 0; i < n; i++)
    addrs[i] = low + (guint64) g_rand_int_range (rand, 0, 5000) * ((high - low) / 5000);
  t0 = g_get_monotonic_time ();
  linger_symbolizer_lookup (s, path, build_id, base, addrs[0], &f);
  t1 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    if (linger_symbolizer_lookup (s, path, build_id, base, addrs[i], &f))
      {
        named += f.function != NULL;
        lines += f.file != NULL;
      }
  t2 = g_get_monotonic_time ();
  /* Again, with every line table already decoded. */
  for (guint i = 0; i < n; i++)
    linger_symbolizer_lookup (s, path, build_id, base, addrs[i], &f);
  t3 = g_get_monotonic_time ();
  g_test_message ("bench %s: open %.1f ms; 100000 lookups %.1f ms (%.2f us each; "
                  "%.2f us each once warm), %u with a function, %u with a line",
                  label, (t1 - t0) / 1000.0, (t2 - t1) / 1000.0, (t2 - t1) / 100000.0,
                  (t3 - t2) / 100000.0, named, lines);
}

static void
test_bench (void)
{
  g_auto(Module) exe;
  guint line;
  const char *libpython = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";

  find_module ((gconstpointer) (guintptr) target_fn (&line), &exe);
  bench_module ("test binary", exe.path, exe.build_id, exe.base, exe.exec_low, exe.exec_high);

  /* libc: with libc6-dbg installed, .symtab and DWARF come from its
   * separate debug file, found by build-id. */
  {
    g_auto(Module) libc;

    find_module (dlsym (RTLD_DEFAULT, "qsort"), &libc);
    bench_module ("libc", libc.path, libc.build_id, libc.base, libc.exec_low, libc.exec_high);
  }

  if (g_file_test (libpython, G_FILE_TEST_EXISTS))
    {
      /* Not loaded here: symbolization is offline, any bias will do. */
      guint64 base = G_GUINT64_CONSTANT (0x7f0000000000);
      guint64 value = dynsym_value (libpython, "PyObject_Malloc");

      if (value != 0)
        bench_module ("libpython3.11 (.dynsym)", libpython, NULL, base,
                      base + value - 0x100000, base + value + 0x100000);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/symbolizer/executable", test_executable);
  g_test_add_func ("/symbolizer/shared-library", test_shared_library);
  g_test_add_func ("/symbolizer/libc", test_libc);
  g_test_add_func ("/symbolizer/unknown-address", test_unknown_address);
  g_test_add_func ("/symbolizer/missing-file", test_missing_file);
  g_test_add_func ("/symbolizer/wrong-build-id", test_wrong_build_id);
  g_test_add_func ("/symbolizer/non-pie", test_non_pie);
  g_test_add_func ("/symbolizer/debuglink", test_debuglink);
  g_test_add_func ("/symbolizer/bench", test_bench);
  return g_test_run ();
}
