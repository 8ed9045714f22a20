/* linger_symbolizer.h: offline symbolization of native addresses.
 *
 * The shim records native stacks as raw addresses plus a map of the ELF
 * objects loaded in the traced process (LINGER_REC_MODULES).  Turning an
 * address into function, file and line happens here, in the analyzer, from
 * the files on disk: never in the traced process, where it would cost time
 * and memory inside the program being measured.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LingerSymbolizer LingerSymbolizer;

typedef struct
{
  const char *function;  /* demangled if C++ and __cxa_demangle is available, else the raw name; NULL if unknown */
  const char *file;      /* source file from DWARF, NULL if no debug info */
  guint       line;      /* 0 if unknown */
  const char *module;    /* path of the ELF object (basename not applied), never NULL once found */
  guint64     offset;    /* address relative to the module's load bias */
  gboolean    inlined;   /* reserved: FALSE */
  /* DW_AT_comp_dir of the compilation unit when `file` is relative (as
   * "../src/x.c" is, built out of tree): what it is relative to; NULL
   * otherwise. */
  const char *comp_dir;
} LingerNativeFrame;     /* strings are owned by the symbolizer and live as long as it */

LingerSymbolizer *linger_symbolizer_new (void);
void linger_symbolizer_free (LingerSymbolizer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerSymbolizer, linger_symbolizer_free)

/* Symbolizes `addr` (an absolute address in the traced process, ALREADY
 * adjusted by the caller: return addresses are passed as addr - 1) that lies
 * in the module loaded at `base` from `path` with build-id `build_id_hex`
 * (may be NULL).  Fills *out and returns TRUE if at least the module could
 * be opened; function/file may still be NULL.  Never fails hard on a
 * missing or unreadable file: returns FALSE with out->module = path.
 *
 * If `build_id_hex` is given and the file at `path` has another build-id
 * (the library was replaced since the run), no symbol is returned rather
 * than a wrong one: TRUE with function = NULL. */
gboolean linger_symbolizer_lookup (LingerSymbolizer  *s,
                                   const char        *path,
                                   const char        *build_id_hex,
                                   guint64            base,
                                   guint64            addr,
                                   LingerNativeFrame *out);

G_END_DECLS
