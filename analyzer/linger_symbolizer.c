/* linger_symbolizer.c: offline symbolization of native addresses.
 *
 * Each ELF object of the trace is opened once per (path, build-id) and
 * turned into two sorted tables that are binary-searched afterwards:
 *  - the function symbols (.symtab of the file or of its separate debug
 *    file, else .dynsym);
 *  - the address ranges of the DWARF compilation units, so the CU of an
 *    address is found without .debug_aranges (clang does not emit it);
 *    the line table of a CU is then searched by libdw, which caches it.
 *
 * Addresses in the symbol tables and in DWARF are link-time virtual
 * addresses; the load bias recorded by the shim (dlpi_addr) is exactly the
 * difference to run-time addresses, for PIE, shared libraries and non-PIE
 * executables (bias 0) alike.  A separate debug file has the same link-time
 * layout as its object, so the same vaddr is used for both.
 */
#include "linger_symbolizer.h"
#include "linger_progress.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>

#define LINGER_DEBUG_DIR "/usr/lib/debug"

/* C++ names are demangled only if some loaded library (libstdc++) provides
 * the demangler: the analyzer does not link libstdc++ for this alone. */
extern char *__cxa_demangle (const char *mangled,
                             char       *buffer,
                             size_t     *length,
                             int        *status) __attribute__ ((weak));

typedef struct
{
  guint64     start;
  guint64     size;   /* 0: unknown, the symbol runs to the next one */
  const char *name;   /* in the symbolizer's string chunk */
} LingerSym;

typedef struct
{
  guint64   low;
  guint64   high;     /* exclusive */
  Dwarf_Off cu_offset;
} LingerCuRange;

typedef struct
{
  guint64 low;
  guint64 high;
} LingerRange;

/* An ELF file kept open for its DWARF: libdw needs the Elf for as long as
 * the Dwarf lives. */
typedef struct
{
  Elf   *elf;
  Dwarf *dwarf;
} LingerDwarfFile;

typedef struct
{
  const char     *path;       /* interned */
  const char     *build_id;   /* interned, from the trace; NULL if unknown */
  gboolean        opened;     /* the object itself could be read */
  gboolean        replaced;   /* the file on disk is not the one that ran */
  GArray         *syms;       /* LingerSym, sorted by start, one per start */
  GArray         *exec;       /* LingerRange: executable PT_LOAD segments */
  GArray         *cus;        /* LingerCuRange, sorted by low */
  LingerDwarfFile dw;
} LingerModule;

typedef struct
{
  const char *path;
  const char *build_id;
} LingerModuleKey;

struct _LingerSymbolizer
{
  GStringChunk *strings;
  GHashTable   *modules;   /* LingerModuleKey* (inside the module) -> LingerModule* */
  GHashTable   *demangled; /* mangled name -> demangled name, both interned */
};

static guint
module_key_hash (gconstpointer p)
{
  const LingerModuleKey *k = p;

  return g_str_hash (k->path) * 31 + (k->build_id != NULL ? g_str_hash (k->build_id) : 0);
}

static gboolean
module_key_equal (gconstpointer a,
                  gconstpointer b)
{
  const LingerModuleKey *ka = a;
  const LingerModuleKey *kb = b;

  return g_str_equal (ka->path, kb->path)
         && g_strcmp0 (ka->build_id, kb->build_id) == 0;
}

static void
dwarf_file_close (LingerDwarfFile *f)
{
  if (f->dwarf != NULL)
    dwarf_end (f->dwarf);
  if (f->elf != NULL)
    elf_end (f->elf);
  f->dwarf = NULL;
  f->elf = NULL;
}

static void
module_free (gpointer p)
{
  LingerModule *m = p;

  g_clear_pointer (&m->syms, g_array_unref);
  g_clear_pointer (&m->exec, g_array_unref);
  g_clear_pointer (&m->cus, g_array_unref);
  dwarf_file_close (&m->dw);
  g_free (m);
}

LingerSymbolizer *
linger_symbolizer_new (void)
{
  LingerSymbolizer *s = g_new0 (LingerSymbolizer, 1);

  /* libelf refuses to work until told which ELF version the caller knows. */
  elf_version (EV_CURRENT);
  s->strings = g_string_chunk_new (64 * 1024);
  /* Keys point to the module's interned path and build-id. */
  s->modules = g_hash_table_new_full (module_key_hash, module_key_equal, g_free, module_free);
  s->demangled = g_hash_table_new (g_str_hash, g_str_equal);
  return s;
}

void
linger_symbolizer_free (LingerSymbolizer *s)
{
  if (s == NULL)
    return;
  g_hash_table_unref (s->modules);
  g_hash_table_unref (s->demangled);
  g_string_chunk_free (s->strings);
  g_free (s);
}

/* Opens @path as ELF.  The whole file is read (or mapped) at once so the
 * descriptor can be closed right away: a process with hundreds of
 * libraries must not cost the analyzer hundreds of open files. */
static Elf *
elf_open (const char  *path,
          const char **why)
{
  Elf *elf;
  int fd;

  /* A trace names whatever paths it likes: a FIFO or a device must not
   * block or be read, so open without blocking and accept only regular
   * files. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      if (why != NULL)
        *why = g_strerror (errno);
      return NULL;
    }
  {
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
      {
        close (fd);
        if (why != NULL)
          *why = "not a regular file";
        return NULL;
      }
  }
  elf = elf_begin (fd, ELF_C_READ_MMAP, NULL);
  if (elf == NULL || elf_kind (elf) != ELF_K_ELF || elf_cntl (elf, ELF_C_FDREAD) != 0)
    {
      if (why != NULL)
        *why = elf == NULL || elf_kind (elf) == ELF_K_ELF ? elf_errmsg (-1) : "not an ELF file";
      g_clear_pointer (&elf, elf_end);
    }
  close (fd);
  return elf;
}

/* The NT_GNU_BUILD_ID of @elf as lowercase hex, or NULL.  Read from the
 * SHT_NOTE sections, which separate debug files keep too. */
static char *
elf_build_id (Elf *elf)
{
  Elf_Scn *scn = NULL;

  while ((scn = elf_nextscn (elf, scn)) != NULL)
    {
      GElf_Shdr shdr;
      Elf_Data *data;
      GElf_Nhdr nhdr;
      size_t offset = 0;
      size_t name_offset;
      size_t desc_offset;

      if (gelf_getshdr (scn, &shdr) == NULL || shdr.sh_type != SHT_NOTE)
        continue;
      data = elf_getdata (scn, NULL);
      if (data == NULL)
        continue;
      while ((offset = gelf_getnote (data, offset, &nhdr, &name_offset, &desc_offset)) > 0)
        {
          if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4
              && memcmp ((const char *) data->d_buf + name_offset, "GNU", 4) == 0
              && nhdr.n_descsz > 0)
            {
              const guint8 *desc = (const guint8 *) data->d_buf + desc_offset;
              GString *hex = g_string_sized_new (nhdr.n_descsz * 2);

              for (guint i = 0; i < nhdr.n_descsz; i++)
                g_string_append_printf (hex, "%02x", desc[i]);
              return g_string_free (hex, FALSE);
            }
        }
    }
  return NULL;
}

static Elf_Scn *
elf_find_section (Elf        *elf,
                  const char *name,
                  GElf_Shdr  *shdr_out)
{
  Elf_Scn *scn = NULL;
  size_t shstrndx;

  if (elf_getshdrstrndx (elf, &shstrndx) != 0)
    return NULL;
  while ((scn = elf_nextscn (elf, scn)) != NULL)
    {
      const char *scn_name;

      if (gelf_getshdr (scn, shdr_out) == NULL)
        continue;
      scn_name = elf_strptr (elf, shstrndx, shdr_out->sh_name);
      if (scn_name != NULL && strcmp (scn_name, name) == 0)
        return scn;
    }
  return NULL;
}

static Elf_Scn *
elf_find_section_type (Elf       *elf,
                       Elf64_Word type,
                       GElf_Shdr *shdr_out)
{
  Elf_Scn *scn = NULL;

  while ((scn = elf_nextscn (elf, scn)) != NULL)
    if (gelf_getshdr (scn, shdr_out) != NULL && shdr_out->sh_type == type)
      return scn;
  return NULL;
}

/* A debug file carries DWARF only if its .debug_info has contents: in
 * the stripped object the section is absent, in some tools' output it is
 * NOBITS. */
static gboolean
elf_has_dwarf (Elf *elf)
{
  GElf_Shdr shdr;

  return (elf_find_section (elf, ".debug_info", &shdr) != NULL && shdr.sh_type != SHT_NOBITS)
         || (elf_find_section (elf, ".zdebug_info", &shdr) != NULL && shdr.sh_type != SHT_NOBITS);
}

static gboolean
elf_has_symtab (Elf *elf)
{
  GElf_Shdr shdr;

  return elf_find_section_type (elf, SHT_SYMTAB, &shdr) != NULL;
}

/* How much a symbol is worth as the name of its address when several
 * symbols share it (aliases such as malloc / __libc_malloc): a known size,
 * a function type, a global binding and fewer leading underscores. */
static int
sym_rank (const GElf_Sym *sym,
          const char     *name)
{
  int rank = 0;
  int underscores = 0;

  if (sym->st_size > 0)
    rank += 1000;
  if (GELF_ST_TYPE (sym->st_info) != STT_NOTYPE)
    rank += 100;
  switch (GELF_ST_BIND (sym->st_info))
    {
    case STB_GLOBAL: rank += 20; break;
    case STB_WEAK: rank += 10; break;
    default: break;
    }
  while (name[underscores] == '_' && underscores < 9)
    underscores++;
  return rank + 9 - underscores;
}

typedef struct
{
  LingerSym sym;
  int       rank;
} LingerSymCandidate;

static int
sym_candidate_cmp (gconstpointer a,
                   gconstpointer b)
{
  const LingerSymCandidate *sa = a;
  const LingerSymCandidate *sb = b;

  if (sa->sym.start != sb->sym.start)
    return sa->sym.start < sb->sym.start ? -1 : 1;
  if (sa->rank != sb->rank)
    return sa->rank > sb->rank ? -1 : 1;
  return strcmp (sa->sym.name, sb->sym.name);
}

/* Reads the function symbols of @elf's symbol table of @type into
 * @m->syms, sorted by address with one symbol (the best alias) per
 * address.  Returns FALSE if @elf has no such table. */
static gboolean
module_load_symbols (LingerSymbolizer *s,
                     LingerModule     *m,
                     Elf              *elf,
                     Elf64_Word        type)
{
  g_autoptr(GArray) candidates = NULL;
  GElf_Shdr shdr;
  Elf_Scn *scn;
  Elf_Data *data;
  size_t count;

  scn = elf_find_section_type (elf, type, &shdr);
  if (scn == NULL || shdr.sh_entsize == 0)
    return FALSE;
  data = elf_getdata (scn, NULL);
  if (data == NULL)
    return FALSE;
  count = shdr.sh_size / shdr.sh_entsize;
  candidates = g_array_sized_new (FALSE, FALSE, sizeof (LingerSymCandidate), count);
  for (size_t i = 0; i < count; i++)
    {
      GElf_Sym sym;
      LingerSymCandidate c;
      const char *name;
      int st_type;

      if (gelf_getsym (data, (int) i, &sym) == NULL)
        continue;
      st_type = GELF_ST_TYPE (sym.st_info);
      /* NOTYPE symbols without a size are section markers and linker
       * labels (_end, __bss_start): as the "nearest preceding symbol"
       * they would name code that is not theirs. */
      if (!(st_type == STT_FUNC || st_type == STT_GNU_IFUNC
            || (st_type == STT_NOTYPE && sym.st_size > 0)))
        continue;
      if (sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS || sym.st_value == 0)
        continue;
      name = elf_strptr (elf, shdr.sh_link, sym.st_name);
      if (name == NULL || name[0] == '\0')
        continue;
      c.sym.start = sym.st_value;
      c.sym.size = sym.st_size;
      c.sym.name = name;
      c.rank = sym_rank (&sym, name);
      g_array_append_val (candidates, c);
    }

  g_array_sort (candidates, sym_candidate_cmp);
  m->syms = g_array_sized_new (FALSE, FALSE, sizeof (LingerSym), candidates->len);
  for (guint i = 0; i < candidates->len; i++)
    {
      LingerSymCandidate *c = &g_array_index (candidates, LingerSymCandidate, i);

      if (i > 0 && g_array_index (candidates, LingerSymCandidate, i - 1).sym.start == c->sym.start)
        continue;
      /* The names are copied: the Elf they come from may be closed. */
      c->sym.name = g_string_chunk_insert_const (s->strings, c->sym.name);
      g_array_append_val (m->syms, c->sym);
    }
  return TRUE;
}

static void
module_load_exec_ranges (LingerModule *m,
                         Elf          *elf)
{
  size_t phnum;

  m->exec = g_array_new (FALSE, FALSE, sizeof (LingerRange));
  if (elf_getphdrnum (elf, &phnum) != 0)
    return;
  for (size_t i = 0; i < phnum; i++)
    {
      GElf_Phdr phdr;

      if (gelf_getphdr (elf, (int) i, &phdr) != NULL
          && phdr.p_type == PT_LOAD && (phdr.p_flags & PF_X) != 0)
        {
          LingerRange r = { phdr.p_vaddr, phdr.p_vaddr + phdr.p_memsz };

          g_array_append_val (m->exec, r);
        }
    }
}

static int
cu_range_cmp (gconstpointer a,
              gconstpointer b)
{
  const LingerCuRange *ra = a;
  const LingerCuRange *rb = b;

  if (ra->low != rb->low)
    return ra->low < rb->low ? -1 : 1;
  return 0;
}

/* Indexes the address ranges of every compilation unit.  Only unit
 * headers and the CU DIE are read here; line tables are read by libdw
 * when an address first falls in their CU. */
static void
module_index_cus (LingerModule *m)
{
  Dwarf_CU *cu = NULL;
  Dwarf_Die cudie;
  uint8_t unit_type;

  m->cus = g_array_new (FALSE, FALSE, sizeof (LingerCuRange));
  while (dwarf_get_units (m->dw.dwarf, cu, &cu, NULL, &unit_type, &cudie, NULL) == 0)
    {
      Dwarf_Addr base;
      Dwarf_Addr start;
      Dwarf_Addr end;
      ptrdiff_t offset = 0;

      if (unit_type != DW_UT_compile && unit_type != DW_UT_skeleton)
        continue;
      while ((offset = dwarf_ranges (&cudie, offset, &base, &start, &end)) > 0)
        {
          LingerCuRange r = { start, end, dwarf_dieoffset (&cudie) };

          if (end > start)
            g_array_append_val (m->cus, r);
        }
    }
  g_array_sort (m->cus, cu_range_cmp);
}

static const guint32 *
crc32_table (void)
{
  static guint32 table[256];
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (guint32 i = 0; i < 256; i++)
        {
          guint32 c = i;

          for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
          table[i] = c;
        }
      g_once_init_leave (&done, 1);
    }
  return table;
}

/* The CRC of .gnu_debuglink (the zlib / IEEE CRC-32 of the whole debug
 * file): the only way to match a debug file when there is no build-id. */
static gboolean
file_crc32_is (const char *path,
               guint32     expected)
{
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, NULL);
  const guint32 *table = crc32_table ();
  const guint8 *p;
  gsize len;
  guint32 crc = 0xffffffffu;

  if (file == NULL)
    return FALSE;
  p = (const guint8 *) g_mapped_file_get_contents (file);
  len = g_mapped_file_get_length (file);
  for (gsize i = 0; i < len; i++)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return (crc ^ 0xffffffffu) == expected;
}

/* Opens @candidate as the debug file of a module whose build-id is
 * @build_id (NULL if unknown).  A file with another build-id is rejected:
 * its symbols and lines would belong to another build. */
static Elf *
debug_file_open (const char *candidate,
                 const char *build_id,
                 gboolean    check_crc,
                 guint32     crc)
{
  Elf *elf;

  if (!g_file_test (candidate, G_FILE_TEST_IS_REGULAR))
    return NULL;
  elf = elf_open (candidate, NULL);
  if (elf == NULL)
    return NULL;
  if (build_id != NULL)
    {
      g_autofree char *found = elf_build_id (elf);

      if (g_strcmp0 (found, build_id) != 0)
        {
          g_debug ("%s: build-id %s, expected %s: not used", candidate,
                   found != NULL ? found : "none", build_id);
          elf_end (elf);
          return NULL;
        }
    }
  else if (check_crc && !file_crc32_is (candidate, crc))
    {
      g_debug ("%s: CRC does not match .gnu_debuglink: not used", candidate);
      elf_end (elf);
      return NULL;
    }
  return elf;
}

/* Finds the separate debug file of @path, in the places gdb and elfutils
 * look: by build-id first (exact by construction), then by the object's
 * own path under /usr/lib/debug, then by its .gnu_debuglink name. */
static Elf *
debug_file_find (const char *path,
                 Elf        *elf,
                 const char *build_id)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *candidate = NULL;
  GElf_Shdr shdr;
  Elf_Scn *scn;
  Elf *found;

  if (build_id != NULL && strlen (build_id) > 2)
    {
      candidate = g_strdup_printf (LINGER_DEBUG_DIR "/.build-id/%.2s/%s.debug",
                                   build_id, build_id + 2);
      if ((found = debug_file_open (candidate, build_id, FALSE, 0)) != NULL)
        return found;
      g_clear_pointer (&candidate, g_free);
    }

  scn = elf_find_section (elf, ".gnu_debuglink", &shdr);
  if (scn != NULL)
    {
      Elf_Data *data = elf_getdata (scn, NULL);
      const char *name;
      gsize name_len;
      guint32 crc;

      /* A NUL-terminated file name, padded to 4, then the CRC. */
      if (data != NULL && data->d_size >= 8
          && (name_len = strnlen (data->d_buf, data->d_size)) < data->d_size
          && name_len > 0 && strchr (data->d_buf, '/') == NULL)
        {
          name = data->d_buf;
          memcpy (&crc, (const char *) data->d_buf + data->d_size - 4, 4);
          for (guint i = 0; i < 3; i++)
            {
              g_autofree char *p = NULL;

              if (i == 0)
                p = g_build_filename (dir, name, NULL);
              else if (i == 1)
                p = g_build_filename (dir, ".debug", name, NULL);
              else
                p = g_build_filename (LINGER_DEBUG_DIR, dir, name, NULL);
              /* The first place is the object itself when it names itself. */
              if (g_str_equal (p, path))
                continue;
              if ((found = debug_file_open (p, build_id, TRUE, crc)) != NULL)
                return found;
            }
        }
    }

  /* Checked against the build-id when there is one; without, nothing
   * ties this file to the object but its name. */
  candidate = g_strconcat (LINGER_DEBUG_DIR, path, NULL);
  return debug_file_open (candidate, build_id, FALSE, 0);
}

static void
module_open (LingerSymbolizer *s,
             LingerModule     *m)
{
  g_autofree char *file_build_id = NULL;
  const char *build_id;
  const char *why = NULL;
  Elf *elf;
  Elf *debug = NULL;

  elf = elf_open (m->path, &why);
  if (elf == NULL)
    {
      g_debug ("%s: not symbolized: %s", m->path, why);
      return;
    }
  m->opened = TRUE;

  /* The build-id recorded in the trace is that of the file the process
   * mapped.  Another one on disk (or none) means the file was replaced
   * since the run: its symbols would be wrong ones. */
  file_build_id = elf_build_id (elf);
  if (m->build_id != NULL && g_strcmp0 (file_build_id, m->build_id) != 0)
    {
      g_debug ("%s: build-id %s on disk, %s in the trace: not symbolized",
               m->path, file_build_id != NULL ? file_build_id : "none", m->build_id);
      m->replaced = TRUE;
      elf_end (elf);
      return;
    }
  build_id = m->build_id != NULL ? m->build_id : file_build_id;

  module_load_exec_ranges (m, elf);

  if (!elf_has_symtab (elf) || !elf_has_dwarf (elf))
    debug = debug_file_find (m->path, elf, build_id);

  /* The full symbol table, wherever it is, names static functions that
   * .dynsym does not have. */
  if (!module_load_symbols (s, m, elf, SHT_SYMTAB)
      && (debug == NULL || !module_load_symbols (s, m, debug, SHT_SYMTAB))
      && !module_load_symbols (s, m, elf, SHT_DYNSYM))
    m->syms = g_array_new (FALSE, FALSE, sizeof (LingerSym));

  if (elf_has_dwarf (elf))
    m->dw.elf = g_steal_pointer (&elf);
  else if (debug != NULL && elf_has_dwarf (debug))
    m->dw.elf = g_steal_pointer (&debug);
  if (m->dw.elf != NULL)
    {
      m->dw.dwarf = dwarf_begin_elf (m->dw.elf, DWARF_C_READ, NULL);
      if (m->dw.dwarf == NULL)
        {
          g_debug ("%s: unreadable DWARF: %s", m->path, dwarf_errmsg (-1));
          dwarf_file_close (&m->dw);
        }
      else
        module_index_cus (m);
    }

  g_clear_pointer (&elf, elf_end);
  g_clear_pointer (&debug, elf_end);
}

static LingerModule *
module_get (LingerSymbolizer *s,
            const char       *path,
            const char       *build_id)
{
  g_autofree char *lower = NULL;
  LingerModuleKey key = { path, NULL };
  LingerModuleKey *stored;
  LingerModule *m;

  /* Build-ids are compared as lowercase hex; "" is the same as none. */
  if (build_id != NULL && build_id[0] != '\0')
    key.build_id = lower = g_ascii_strdown (build_id, -1);
  m = g_hash_table_lookup (s->modules, &key);
  if (m != NULL)
    return m;

  m = g_new0 (LingerModule, 1);
  m->path = g_string_chunk_insert_const (s->strings, path);
  if (key.build_id != NULL)
    m->build_id = g_string_chunk_insert_const (s->strings, key.build_id);
  stored = g_new (LingerModuleKey, 1);
  stored->path = m->path;
  stored->build_id = m->build_id;
  g_hash_table_insert (s->modules, stored, m);
  module_open (s, m);
  return m;
}

static gboolean
module_is_exec (LingerModule *m,
                guint64       vaddr)
{
  for (guint i = 0; i < m->exec->len; i++)
    {
      LingerRange *r = &g_array_index (m->exec, LingerRange, i);

      if (vaddr >= r->low && vaddr < r->high)
        return TRUE;
    }
  return FALSE;
}

static const LingerSym *
module_find_symbol (LingerModule *m,
                    guint64       vaddr)
{
  const LingerSym *syms = (const LingerSym *) (gpointer) m->syms->data;
  guint lo = 0;
  guint hi = m->syms->len;

  /* The last symbol starting at or before vaddr. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (syms[mid].start <= vaddr)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    return NULL;

  /* A sized symbol that ends before vaddr may still sit inside a larger
   * one before it (a local label with a size inside a function); look
   * back a little rather than give up. */
  for (guint i = lo, tries = 0; i > 0 && tries < 4; i--, tries++)
    {
      const LingerSym *sym = &syms[i - 1];

      if (sym->size > 0 && vaddr < sym->start + sym->size)
        return sym;
      if (sym->size == 0 && i == lo && module_is_exec (m, vaddr))
        return sym;
    }
  return NULL;
}

static void
module_find_line (LingerSymbolizer  *s,
                  LingerModule      *m,
                  guint64            vaddr,
                  LingerNativeFrame *out)
{
  const LingerCuRange *cus;
  guint lo = 0;
  guint hi;

  if (m->dw.dwarf == NULL || m->cus->len == 0)
    return;
  cus = (const LingerCuRange *) (gpointer) m->cus->data;
  hi = m->cus->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (cus[mid].low <= vaddr)
        lo = mid + 1;
      else
        hi = mid;
    }
  /* CU ranges do not usually overlap, but a CU with a wide range (one
   * DW_AT_low_pc/high_pc over code interleaved with another CU's) can
   * hide a later one: try the few before. */
  for (guint i = lo, tries = 0; i > 0 && tries < 8; i--, tries++)
    {
      const LingerCuRange *r = &cus[i - 1];
      Dwarf_Die cudie;
      Dwarf_Line *line;
      const char *src;
      int lineno = 0;

      if (vaddr >= r->high)
        continue;
      if (dwarf_offdie (m->dw.dwarf, r->cu_offset, &cudie) == NULL)
        continue;
      line = dwarf_getsrc_die (&cudie, vaddr);
      if (line == NULL)
        continue;
      src = dwarf_linesrc (line, NULL, NULL);
      if (src == NULL || dwarf_lineno (line, &lineno) != 0)
        continue;
      out->file = g_string_chunk_insert_const (s->strings, src);
      out->line = lineno > 0 ? (guint) lineno : 0;
      if (!g_path_is_absolute (src))
        {
          Dwarf_Attribute attr;
          const char *dir = dwarf_formstring (dwarf_attr (&cudie, DW_AT_comp_dir, &attr));

          if (dir != NULL)
            out->comp_dir = g_string_chunk_insert_const (s->strings, dir);
        }
      return;
    }
}

static const char *
demangle (LingerSymbolizer *s,
          const char       *name)
{
  const char *result;
  char *demangled;
  int status = -1;

  if (__cxa_demangle == NULL || !g_str_has_prefix (name, "_Z"))
    return name;
  result = g_hash_table_lookup (s->demangled, name);
  if (result != NULL)
    return result;
  demangled = __cxa_demangle (name, NULL, NULL, &status);
  if (status == 0 && demangled != NULL)
    result = g_string_chunk_insert_const (s->strings, demangled);
  else
    result = name;
  free (demangled);
  g_hash_table_insert (s->demangled, (gpointer) name, (gpointer) result);
  return result;
}

gboolean
linger_symbolizer_lookup (LingerSymbolizer  *s,
                          const char        *path,
                          const char        *build_id_hex,
                          guint64            base,
                          guint64            addr,
                          LingerNativeFrame *out)
{
  LingerModule *m;
  const LingerSym *sym;
  guint64 vaddr = addr - base;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  linger_progress_step ("symbolizing");
  memset (out, 0, sizeof *out);
  out->module = path;
  out->offset = vaddr;
  if (path == NULL || path[0] == '\0')
    return FALSE;

  m = module_get (s, path, build_id_hex);
  out->module = m->path;
  if (!m->opened)
    return FALSE;
  if (m->replaced)
    return TRUE;

  sym = module_find_symbol (m, vaddr);
  if (sym != NULL)
    out->function = demangle (s, sym->name);
  module_find_line (s, m, vaddr, out);
  return TRUE;
}
