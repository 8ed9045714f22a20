/* linger_symbolizer.c: offline symbolization of native addresses. */
#include "linger_symbolizer.h"

#include <string.h>

struct _LingerSymbolizer
{
  GHashTable *strings;
};

LingerSymbolizer *
linger_symbolizer_new (void)
{
  LingerSymbolizer *s = g_new0 (LingerSymbolizer, 1);

  s->strings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return s;
}

void
linger_symbolizer_free (LingerSymbolizer *s)
{
  if (s == NULL)
    return;
  g_hash_table_unref (s->strings);
  g_free (s);
}

gboolean
linger_symbolizer_lookup (LingerSymbolizer  *s,
                          const char        *path,
                          const char        *build_id_hex,
                          guint64            base,
                          guint64            addr,
                          LingerNativeFrame *out)
{
  /* Stub: real implementation follows. */
  memset (out, 0, sizeof *out);
  out->module = path;
  out->offset = addr - base;
  return FALSE;
}
