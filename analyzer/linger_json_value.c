/* linger_json_value.c: a small recursive-descent JSON reader. */
#include "linger_json_value.h"

#include <stdlib.h>
#include <string.h>

#include "linger_error.h"

#define MAX_DEPTH 256

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  guint       depth;
  GError    **error;
} Parser;

static LingerJsonValue *
value_new (LingerJsonType type)
{
  LingerJsonValue *v = g_new0 (LingerJsonValue, 1);

  v->type = type;
  return v;
}

void
linger_json_value_free (LingerJsonValue *v)
{
  if (v == NULL)
    return;
  g_free (v->string);
  if (v->items != NULL)
    g_ptr_array_unref (v->items);
  if (v->keys != NULL)
    g_ptr_array_unref (v->keys);
  g_free (v);
}

G_GNUC_PRINTF (2, 3)
static gboolean
parse_error (Parser     *ps,
             const char *format,
             ...)
{
  g_autofree char *message = NULL;
  guint line = 1;
  guint column = 1;
  va_list args;

  /* Only the first error counts: callers unwind without adding theirs. */
  if (ps->error == NULL || *ps->error != NULL)
    return FALSE;
  for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
    {
      if (*q == '\n')
        {
          line++;
          column = 1;
        }
      else
        column++;
    }
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ps->error, LINGER_ERROR, LINGER_ERROR_CORRUPT,
               "not valid JSON at line %u, column %u: %s", line, column, message);
  return FALSE;
}

static void
skip_space (Parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static gboolean
literal (Parser     *ps,
         const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (ps->end - ps->p) < n || memcmp (ps->p, word, n) != 0)
    return FALSE;
  ps->p += n;
  return TRUE;
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
read_hex4 (Parser  *ps,
           guint32 *out)
{
  guint32 u = 0;

  if (ps->end - ps->p < 4)
    return parse_error (ps, "a \\u escape needs four hex digits");
  for (int i = 0; i < 4; i++)
    {
      int d = hex_digit (ps->p[i]);

      if (d < 0)
        return parse_error (ps, "a \\u escape needs four hex digits");
      u = u * 16 + (guint32) d;
    }
  ps->p += 4;
  *out = u;
  return TRUE;
}

/* At the opening quote; a string without NUL (a \u0000 is refused: the
 * strings here are C strings). */
static char *
parse_string (Parser *ps)
{
  g_autoptr(GString) s = g_string_new (NULL);

  ps->p++;
  for (;;)
    {
      guchar c;

      if (ps->p >= ps->end)
        {
          parse_error (ps, "a string is not closed");
          return NULL;
        }
      c = (guchar) *ps->p;
      if (c == '"')
        {
          ps->p++;
          break;
        }
      if (c < 0x20)
        {
          parse_error (ps, "a control character inside a string");
          return NULL;
        }
      if (c != '\\')
        {
          g_string_append_c (s, (char) c);
          ps->p++;
          continue;
        }
      ps->p++;
      if (ps->p >= ps->end)
        {
          parse_error (ps, "a string is not closed");
          return NULL;
        }
      c = (guchar) *ps->p++;
      switch (c)
        {
        case '"': g_string_append_c (s, '"'); break;
        case '\\': g_string_append_c (s, '\\'); break;
        case '/': g_string_append_c (s, '/'); break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            guint32 u;

            if (!read_hex4 (ps, &u))
              return NULL;
            if (u >= 0xd800 && u < 0xdc00)
              {
                guint32 low;

                if (!literal (ps, "\\u") || !read_hex4 (ps, &low) || low < 0xdc00 || low >= 0xe000)
                  {
                    parse_error (ps, "a lone UTF-16 surrogate");
                    return NULL;
                  }
                u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
              }
            else if (u >= 0xdc00 && u < 0xe000)
              {
                parse_error (ps, "a lone UTF-16 surrogate");
                return NULL;
              }
            if (u == 0)
              {
                parse_error (ps, "\\u0000 inside a string");
                return NULL;
              }
            g_string_append_unichar (s, u);
            break;
          }
        default:
          ps->p--;
          parse_error (ps, "unknown escape \\%c", c);
          return NULL;
        }
    }
  if (!g_utf8_validate (s->str, (gssize) s->len, NULL))
    {
      parse_error (ps, "a string is not UTF-8");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static LingerJsonValue *parse_value (Parser *ps);

static LingerJsonValue *
parse_number (Parser *ps)
{
  const char *q = ps->p;
  g_autofree char *text = NULL;
  LingerJsonValue *v;

  /* The JSON grammar, checked by hand: strtod also takes "inf", hex... */
  if (q < ps->end && *q == '-')
    q++;
  if (q >= ps->end || !g_ascii_isdigit (*q))
    {
      parse_error (ps, "unexpected character '%c'", *ps->p);
      return NULL;
    }
  if (*q == '0')
    q++;
  else
    while (q < ps->end && g_ascii_isdigit (*q))
      q++;
  if (q < ps->end && *q == '.')
    {
      q++;
      if (q >= ps->end || !g_ascii_isdigit (*q))
        {
          ps->p = q;
          parse_error (ps, "a digit must follow the decimal point");
          return NULL;
        }
      while (q < ps->end && g_ascii_isdigit (*q))
        q++;
    }
  if (q < ps->end && (*q == 'e' || *q == 'E'))
    {
      q++;
      if (q < ps->end && (*q == '+' || *q == '-'))
        q++;
      if (q >= ps->end || !g_ascii_isdigit (*q))
        {
          ps->p = q;
          parse_error (ps, "a digit must follow the exponent");
          return NULL;
        }
      while (q < ps->end && g_ascii_isdigit (*q))
        q++;
    }
  text = g_strndup (ps->p, (gsize) (q - ps->p));
  v = value_new (LINGER_JSON_NUMBER);
  v->number = g_ascii_strtod (text, NULL);
  ps->p = q;
  return v;
}

static LingerJsonValue *
parse_container (Parser *ps,
                 gboolean object)
{
  g_autoptr(LingerJsonValue) v = value_new (object ? LINGER_JSON_OBJECT : LINGER_JSON_ARRAY);
  char close = object ? '}' : ']';

  if (++ps->depth > MAX_DEPTH)
    {
      parse_error (ps, "nested deeper than %d", MAX_DEPTH);
      return NULL;
    }
  v->items = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_json_value_free);
  if (object)
    v->keys = g_ptr_array_new_with_free_func (g_free);
  ps->p++;
  skip_space (ps);
  if (ps->p < ps->end && *ps->p == close)
    {
      ps->p++;
      ps->depth--;
      return g_steal_pointer (&v);
    }
  for (;;)
    {
      LingerJsonValue *item;

      skip_space (ps);
      if (object)
        {
          char *key;

          if (ps->p >= ps->end || *ps->p != '"')
            {
              parse_error (ps, "expected a string key");
              return NULL;
            }
          key = parse_string (ps);
          if (key == NULL)
            return NULL;
          g_ptr_array_add (v->keys, key);
          skip_space (ps);
          if (ps->p >= ps->end || *ps->p != ':')
            {
              parse_error (ps, "expected ':' after a key");
              return NULL;
            }
          ps->p++;
        }
      item = parse_value (ps);
      if (item == NULL)
        return NULL;
      g_ptr_array_add (v->items, item);
      skip_space (ps);
      if (ps->p < ps->end && *ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (ps->p < ps->end && *ps->p == close)
        {
          ps->p++;
          break;
        }
      parse_error (ps, "expected ',' or '%c'", close);
      return NULL;
    }
  ps->depth--;
  return g_steal_pointer (&v);
}

static LingerJsonValue *
parse_value (Parser *ps)
{
  LingerJsonValue *v;

  skip_space (ps);
  if (ps->p >= ps->end)
    {
      parse_error (ps, "the text ends where a value was expected");
      return NULL;
    }
  switch (*ps->p)
    {
    case '{':
      return parse_container (ps, TRUE);
    case '[':
      return parse_container (ps, FALSE);
    case '"':
      {
        char *s = parse_string (ps);

        if (s == NULL)
          return NULL;
        v = value_new (LINGER_JSON_STRING);
        v->string = s;
        return v;
      }
    default:
      break;
    }
  if (literal (ps, "true"))
    {
      v = value_new (LINGER_JSON_BOOL);
      v->boolean = TRUE;
      return v;
    }
  if (literal (ps, "false"))
    return value_new (LINGER_JSON_BOOL);
  if (literal (ps, "null"))
    return value_new (LINGER_JSON_NULL);
  return parse_number (ps);
}

LingerJsonValue *
linger_json_parse (const char  *text,
                   gssize       len,
                   GError     **error)
{
  Parser ps = { .start = text, .p = text, .error = error };
  g_autoptr(LingerJsonValue) v = NULL;

  ps.end = text + (len < 0 ? strlen (text) : (gsize) len);
  v = parse_value (&ps);
  if (v == NULL)
    return NULL;
  skip_space (&ps);
  if (ps.p != ps.end)
    {
      parse_error (&ps, "more text after the value");
      return NULL;
    }
  return g_steal_pointer (&v);
}

const LingerJsonValue *
linger_json_member (const LingerJsonValue *object,
                    const char            *key)
{
  if (object == NULL || object->type != LINGER_JSON_OBJECT)
    return NULL;
  for (guint i = 0; i < object->keys->len; i++)
    if (strcmp (g_ptr_array_index (object->keys, i), key) == 0)
      return g_ptr_array_index (object->items, i);
  return NULL;
}

const char *
linger_json_get_string (const LingerJsonValue *value)
{
  return value != NULL && value->type == LINGER_JSON_STRING ? value->string : NULL;
}

double
linger_json_get_number (const LingerJsonValue *value,
                        double                 fallback)
{
  return value != NULL && value->type == LINGER_JSON_NUMBER ? value->number : fallback;
}
