/* linger_sites.c: allocation sites resolved for people. */
#include "linger_sites.h"

#include <string.h>

#include "linger_symbolizer.h"

struct _LingerSites
{
  const LingerTrace  *trace;
  LingerNativeLookup  lookup;
  gpointer            user_data;
  gboolean            default_lookup;  /* the symbolizer, made on first use */
  LingerSymbolizer   *symbolizer;
  GStringChunk       *chunk;
  GHashTable         *resolved;        /* site id -> LingerSite */
  GHashTable         *summaries;       /* site id -> const char * (linger_sites_summary) */
  GHashTable         *paths;           /* "comp_dir\nfile" -> resolved path or "" */
};

static gboolean
symbolizer_lookup (gpointer     user_data,
                   const char  *path,
                   const char  *build_id_hex,
                   guint64      base,
                   guint64      address,
                   LingerFrame *out)
{
  LingerSites *sites = user_data;
  LingerNativeFrame nf = { 0 };

  if (sites->symbolizer == NULL)
    sites->symbolizer = linger_symbolizer_new ();
  if (sites->symbolizer == NULL
      || !linger_symbolizer_lookup (sites->symbolizer, path, build_id_hex, base, address, &nf))
    return FALSE;
  out->function = nf.function;
  out->file = nf.file;
  out->line = nf.line;
  out->inlined = nf.inlined;
  out->comp_dir = nf.comp_dir;
  return TRUE;
}

static void
site_free (gpointer p)
{
  LingerSite *s = p;

  g_array_unref (s->frames);
  g_free (s);
}

LingerSites *
linger_sites_new_with_lookup (const LingerTrace  *trace,
                              LingerNativeLookup  lookup,
                              gpointer            user_data)
{
  LingerSites *s = g_new0 (LingerSites, 1);

  s->trace = trace;
  s->lookup = lookup;
  s->user_data = user_data;
  s->chunk = g_string_chunk_new (4096);
  s->resolved = g_hash_table_new_full (NULL, NULL, NULL, site_free);
  s->summaries = g_hash_table_new (NULL, NULL);
  s->paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return s;
}

LingerSites *
linger_sites_new (const LingerTrace *trace)
{
  LingerSites *s = linger_sites_new_with_lookup (trace, NULL, NULL);

  s->lookup = symbolizer_lookup;
  s->user_data = s;
  s->default_lookup = TRUE;
  return s;
}

void
linger_sites_free (LingerSites *s)
{
  if (s == NULL)
    return;
  g_hash_table_unref (s->resolved);
  g_hash_table_unref (s->summaries);
  g_hash_table_unref (s->paths);
  g_clear_pointer (&s->symbolizer, linger_symbolizer_free);
  g_string_chunk_free (s->chunk);
  g_free (s);
}

const char *
linger_sites_intern (LingerSites *s,
                     const char  *text)
{
  return text != NULL ? g_string_chunk_insert_const (s->chunk, text) : NULL;
}

char *
linger_source_path_resolve (const char *file,
                            const char *comp_dir)
{
  g_autofree char *joined = NULL;
  char *canonical;

  if (file == NULL || comp_dir == NULL || g_path_is_absolute (file) || !g_path_is_absolute (comp_dir))
    return NULL;
  joined = g_build_filename (comp_dir, file, NULL);
  /* "../samples/c/x.c" against /work/main/build reads better as
   * /work/main/samples/c/x.c. */
  canonical = g_canonicalize_filename (joined, NULL);
  if (!g_file_test (canonical, G_FILE_TEST_IS_REGULAR))
    {
      g_free (canonical);
      return NULL;
    }
  return canonical;
}

/* A relative source file of a native frame, absolute when it can be:
 * each (directory, file) checked on disk once. */
static const char *
resolve_source (LingerSites *s,
                const char  *file,
                const char  *comp_dir)
{
  g_autofree char *key = NULL;
  const char *found;

  if (file == NULL || comp_dir == NULL || g_path_is_absolute (file))
    return file;
  key = g_strconcat (comp_dir, "\n", file, NULL);
  found = g_hash_table_lookup (s->paths, key);
  if (found == NULL)
    {
      g_autofree char *path = linger_source_path_resolve (file, comp_dir);

      found = linger_sites_intern (s, path != NULL ? path : "");
      g_hash_table_insert (s->paths, g_steal_pointer (&key), (gpointer) found);
    }
  return *found != '\0' ? found : file;
}

static GArray *
python_frames (LingerSites *s,
               guint32      stack)
{
  const LingerAlloc *a = s->trace->alloc;
  guint32 depth;
  const guint32 *ids = linger_alloc_py_stack (a, stack, &depth);
  GArray *out = g_array_sized_new (FALSE, TRUE, sizeof (LingerFrame), depth);

  for (guint32 i = 0; ids != NULL && i < depth; i++)
    {
      const linger_py_frame_entry *e = linger_alloc_py_frame (a, ids[i]);
      LingerFrame f = { .kind = LINGER_FRAME_PYTHON };

      if (e == NULL)
        continue;
      f.function = linger_trace_string (s->trace, e->function);
      f.file = linger_trace_string (s->trace, e->filename);
      f.line = e->line;
      g_array_append_val (out, f);
    }
  return out;
}

static GArray *
native_frames (LingerSites *s,
               guint32      stack)
{
  const LingerAlloc *a = s->trace->alloc;
  guint32 depth;
  guint32 generation;
  const guint64 *addrs = linger_alloc_native_stack (a, stack, &depth, &generation);
  GArray *out = g_array_sized_new (FALSE, TRUE, sizeof (LingerFrame), depth);

  for (guint32 i = 0; addrs != NULL && i < depth; i++)
    {
      LingerFrame f = { .kind = LINGER_FRAME_NATIVE, .address = addrs[i], .has_address = TRUE };
      const linger_module_entry *m = linger_alloc_module_for (a, addrs[i], generation);

      if (m != NULL)
        {
          const char *path = linger_trace_string (s->trace, m->path);
          const char *build_id = linger_trace_string (s->trace, m->build_id);

          /* "" is the main executable, whose path PROCESS gives. */
          if (path == NULL || *path == '\0')
            path = s->trace->exe;
          f.module = path;
          f.offset = addrs[i] - m->base;
          /* Every recorded address is a return address (the shim skips
           * its own frames): the call is the byte before it. */
          if (path != NULL && s->lookup != NULL && addrs[i] > 0)
            {
              LingerFrame found = f;

              if (s->lookup (s->user_data, path, build_id, m->base, addrs[i] - 1, &found))
                {
                  f.function = linger_sites_intern (s, found.function);
                  f.file = linger_sites_intern (s, resolve_source (s, found.file, found.comp_dir));
                  f.line = found.line;
                  f.inlined = found.inlined;
                }
            }
        }
      g_array_append_val (out, f);
    }
  return out;
}

static char *
frame_summary (const LingerFrame *f)
{
  GString *out = g_string_new (NULL);

  linger_frame_append (out, f);
  return g_string_free (out, FALSE);
}

const LingerSite *
linger_sites_get (LingerSites *s,
                  guint32      id)
{
  const linger_site_entry *e = linger_alloc_site (s->trace->alloc, id);
  LingerSite *site;
  g_autoptr(GArray) py = NULL;
  g_autoptr(GArray) native = NULL;

  if (e == NULL)
    return NULL;
  site = g_hash_table_lookup (s->resolved, GUINT_TO_POINTER (id));
  if (site != NULL)
    return site;

  py = python_frames (s, e->py_stack);
  native = native_frames (s, e->native_stack);
  site = g_new0 (LingerSite, 1);
  site->id = id;
  site->domain = e->domain;
  site->flags = e->flags;
  site->frames = linger_frames_splice ((const LingerFrame *) (gpointer) native->data, native->len,
                                       (const LingerFrame *) (gpointer) py->data, py->len);
  site->at = linger_frames_allocated_at (site->frames, e->domain != LINGER_DOMAIN_NATIVE);
  site->origin = e->domain == LINGER_DOMAIN_NATIVE ? linger_frames_origin (site->frames) : LINGER_ORIGIN_PROGRAM;
  site->in_library = py->len > 0;
  for (guint i = 0; i < py->len && site->in_library; i++)
    site->in_library = linger_python_file_is_library (g_array_index (py, LingerFrame, i).file);
  if (site->at >= 0)
    {
      g_autofree char *text = frame_summary (&g_array_index (site->frames, LingerFrame, site->at));
      g_autofree char *through = NULL;

      /* Said only where it tells something: a Python line reached
       * through native machinery, or a named frame past a stripped one.
       * A Python-domain site's interpreter frames are no news. */
      if (e->domain == LINGER_DOMAIN_NATIVE)
        through = linger_frames_through (site->frames, site->at);
      if (through != NULL)
        {
          g_autofree char *plain = g_steal_pointer (&text);

          site->through = linger_sites_intern (s, through);
          text = g_strdup_printf ("%s (through %s)", plain, through);
        }
      site->summary = linger_sites_intern (s, text);
    }
  g_hash_table_insert (s->resolved, GUINT_TO_POINTER (id), site);
  return site;
}

const char *
linger_sites_summary (LingerSites *s,
                      guint32      id)
{
  const linger_site_entry *e = linger_alloc_site (s->trace->alloc, id);
  const char *summary;
  gpointer found;

  if (e == NULL)
    return NULL;
  if (g_hash_table_lookup_extended (s->summaries, GUINT_TO_POINTER (id), NULL, &found))
    return found;
  /* A Python-domain site is where its innermost Python frame is: no need
   * to symbolize its native stack for that (a diff asks for many). */
  summary = NULL;
  if (e->domain != LINGER_DOMAIN_NATIVE && e->py_stack != 0)
    {
      g_autoptr(GArray) py = python_frames (s, e->py_stack);

      if (py->len > 0)
        {
          g_autofree char *text = frame_summary (&g_array_index (py, LingerFrame, 0));
          summary = linger_sites_intern (s, text);
        }
    }
  if (summary == NULL)
    {
      const LingerSite *site = linger_sites_get (s, id);
      summary = site != NULL ? site->summary : NULL;
    }
  g_hash_table_insert (s->summaries, GUINT_TO_POINTER (id), (gpointer) summary);
  return summary;
}
