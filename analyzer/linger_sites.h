/* linger_sites.h: allocation sites resolved for people: Python frames
 * from the trace, native frames through the symbolizer, spliced into one
 * stack (see linger_frames_splice()), each site once and only when a
 * report shows it. */
#pragma once

#include <glib.h>

#include "linger_alloc.h"
#include "linger_reader.h"

G_BEGIN_DECLS

/* ---- Sites ------------------------------------------------------------- */

/* Looks a native address up (already minus 1) in the ELF object @path
 * (the main executable's path, never ""), loaded at @base.  Fills
 * function, file, line, inlined of @out; strings must live as long as
 * the LingerSites.  The default is the symbolizer (linger_symbolizer.h);
 * tests give fake ones. */
typedef gboolean (*LingerNativeLookup) (gpointer     user_data,
                                        const char  *path,
                                        const char  *build_id_hex,
                                        guint64      base,
                                        guint64      address,
                                        LingerFrame *out);

/* A site resolved for people. */
typedef struct
{
  guint32      id;
  guint16      domain;    /* linger_alloc_domain */
  guint16      flags;     /* LINGER_SITE_* */
  GArray      *frames;    /* LingerFrame, innermost first */
  gint         at;        /* index of the "allocated at" frame, -1 if none */
  /* "app.py:12 in make_conn", "leaky.c:12 in make_node",
   * "libfoo.so+0x1234": the allocated-at frame in one line, or NULL. */
  const char  *summary;
  /* The modules "allocated at" looked through ("ctypes → libffi"), also
   * at the end of the summary; NULL if none. */
  const char  *through;
  /* Native: whose the block is (a leak, or the runtime's bookkeeping). */
  LingerOrigin origin;
  /* It has Python frames and all of them are the standard library's or
   * an installed package's (linger_python_file_is_library()). */
  gboolean     in_library;
} LingerSite;

typedef struct _LingerSites LingerSites;

/* Resolves the sites of @trace lazily, each once.  Native frames go
 * through the symbolizer (when linger is built with it) on first use. */
LingerSites      *linger_sites_new          (const LingerTrace *trace);
/* The same with @lookup instead of the symbolizer. */
LingerSites      *linger_sites_new_with_lookup (const LingerTrace  *trace,
                                                LingerNativeLookup  lookup,
                                                gpointer            user_data);
void              linger_sites_free         (LingerSites *sites);
/* The site @id resolved, or NULL if it is not defined. */
const LingerSite *linger_sites_get          (LingerSites *sites,
                                             guint32      id);
/* The one line of the site @id ("app.py:12 in make"), or NULL; cheap
 * for a Python-domain site (no symbolization). */
const char       *linger_sites_summary      (LingerSites *sites,
                                             guint32      id);
/* A string that lives as long as @sites. */
const char       *linger_sites_intern       (LingerSites *sites,
                                             const char  *text);

/* @file made absolute against @comp_dir (the compilation directory DWARF
 * gives a relative file name against) and canonical, when that names an
 * existing file; NULL otherwise (the build tree is gone, or the path is
 * the build machine's: "./elf/dl-open.c" of libc's package).
 * Returns: (transfer full) (nullable): the path */
char             *linger_source_path_resolve (const char *file,
                                              const char *comp_dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerSites, linger_sites_free)

G_END_DECLS
