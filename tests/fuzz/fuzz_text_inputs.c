/* fuzz_text_inputs.c: libFuzzer target for the analyzer's two text
 * inputs besides traces: the JSON reader that loads --baseline files
 * (linger_json_value.c) and the suppressions parser (.linger-suppressions,
 * --suppressions).  The first byte picks the parser; the rest is the
 * file.  Either parses it or fails with a GError, never crashes, hangs
 * or leaks (ASan/LSan, UBSan). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "linger_json_value.h"
#include "linger_suppressions.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Touches every value the way the baseline loader reads a report. */
static void
walk (const LingerJsonValue *v, int depth)
{
  if (v == NULL || depth > 64)
    return;
  (void) linger_json_get_string (v);
  (void) linger_json_get_number (v, 0);
  if (v->type == LINGER_JSON_OBJECT)
    {
      (void) linger_json_member (v, "findings");
      (void) linger_json_member (v, "fingerprint");
    }
  if (v->items != NULL)
    for (guint i = 0; i < v->items->len; i++)
      walk (g_ptr_array_index (v->items, i), depth + 1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const char *text = (const char *) data + 1;
  size_t len = size - 1;
  if ((data[0] & 1) == 0)
    {
      GError *error = NULL;
      LingerJsonValue *v = linger_json_parse (text, (gssize) len, &error);
      if (v != NULL)
        {
          walk (v, 0);
          linger_json_value_free (v);
        }
      g_clear_error (&error);
    }
  else
    {
      char *copy = g_strndup (text, len); /* a file's text ends at its first NUL */
      LingerSuppressions *s = linger_suppressions_new ();
      GError *error = NULL;
      (void) linger_suppressions_load_data (s, "fuzz", copy, &error);
      g_clear_error (&error);
      linger_suppressions_free (s);
      g_free (copy);
    }
  return 0;
}
