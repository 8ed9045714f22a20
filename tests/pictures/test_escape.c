/* test_escape.c: what the pictures do with text from the traced program.
 *
 * Type names and keys are the program's: dot labels must stay one valid
 * double-quoted UTF-8 string whatever they hold, and the JSON embedded in
 * the HTML page must hold no '<' a browser could read as "</script>".
 * Bytes that are not UTF-8 cannot come from a Python program (str cannot
 * hold them), so they are tested here rather than with a traced program.
 */
#include <string.h>

#include <glib.h>

#include "linger_report_dot.h"
#include "linger_report_html.h"

static char *
dot_string (const char *text,
            guint       max_chars)
{
  GString *out = g_string_new (NULL);

  linger_dot_append_string (out, text, max_chars);
  return g_string_free (out, FALSE);
}

/* The body of a dot string has no unescaped quote and no raw control
 * character, and is valid UTF-8. */
static void
assert_valid_dot_string (const char *s)
{
  gsize len = strlen (s);

  g_assert_cmpuint (len, >=, 2);
  g_assert_cmpint (s[0], ==, '"');
  g_assert_cmpint (s[len - 1], ==, '"');
  g_assert_true (g_utf8_validate (s, -1, NULL));
  for (gsize i = 1; i + 1 < len; i++)
    {
      g_assert_cmpint ((guchar) s[i], >=, 0x20);
      if (s[i] == '\\')
        {
          g_assert_true (i + 2 < len);   /* never escapes the closing quote */
          i++;
          g_assert_true (s[i] == '\\' || s[i] == '"' || s[i] == 'n');
        }
      else
        g_assert_cmpint (s[i], !=, '"');
    }
}

static void
test_dot_escapes (void)
{
  static const struct { const char *in; const char *out; } cases[] = {
    { "plain", "\"plain\"" },
    { "a\"b", "\"a\\\"b\"" },
    { "back\\slash", "\"back\\\\slash\"" },
    { "trailing\\", "\"trailing\\\\\"" },
    { "two\nlines", "\"two\\nlines\"" },
    { "tab\there", "\"tab\xef\xbf\xbdhere\"" },
    { "caf\xc3\xa9 \xe2\x98\x83", "\"caf\xc3\xa9 \xe2\x98\x83\"" },
    { "bad\xff" "byte", "\"bad\xef\xbf\xbd" "byte\"" },
    { "cut\xe2\x82", "\"cut\xef\xbf\xbd\xef\xbf\xbd\"" },
    { "</script>\\l\\N", "\"</script>\\\\l\\\\N\"" },
    { "", "\"\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = dot_string (cases[i].in, 0);

      g_assert_cmpstr (s, ==, cases[i].out);
      assert_valid_dot_string (s);
    }
}

static void
test_dot_truncates_by_character (void)
{
  g_autofree char *s = dot_string ("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3);
  g_autofree char *exact = dot_string ("abc", 3);
  g_autofree char *null = dot_string (NULL, 0);

  g_assert_cmpstr (s, ==, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6\"");
  g_assert_cmpstr (exact, ==, "\"abc\"");
  g_assert_cmpstr (null, ==, "\"\"");
}

/* Every byte value, alone and in pairs: always a valid dot string. */
static void
test_dot_any_bytes (void)
{
  for (guint a = 1; a < 256; a++)
    for (guint b = 0; b < 256; b += 17)
      {
        char in[4] = { (char) a, (char) b, 'x', '\0' };
        g_autofree char *s = NULL;

        if (b == 0)
          in[1] = 'y';
        s = dot_string (in, 0);
        assert_valid_dot_string (s);
      }
}

static void
test_html_json (void)
{
  g_autoptr(GString) json = g_string_new ("{\"k\": \"</script><!-- <b>\"}");
  g_autoptr(GString) out = g_string_new (NULL);

  linger_html_append_json (out, json);
  g_assert_null (strchr (out->str, '<'));
  g_assert_cmpstr (out->str, ==,
                   "{\"k\": \"\\u003c/script>\\u003c!-- \\u003cb>\"}");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pictures/dot/escapes", test_dot_escapes);
  g_test_add_func ("/pictures/dot/truncates-by-character", test_dot_truncates_by_character);
  g_test_add_func ("/pictures/dot/any-bytes", test_dot_any_bytes);
  g_test_add_func ("/pictures/html/json", test_html_json);
  return g_test_run ();
}
