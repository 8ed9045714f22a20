/* linger_json_value.h: a small JSON reader, enough for linger to read its
 * own reports back (`linger report --baseline=OLD.json`).  The writer is
 * linger_report_json.c; the two share no code on purpose: the reader must
 * also accept reports of older linger versions and hand-edited files. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  LINGER_JSON_NULL,
  LINGER_JSON_BOOL,
  LINGER_JSON_NUMBER,
  LINGER_JSON_STRING,
  LINGER_JSON_ARRAY,
  LINGER_JSON_OBJECT,
} LingerJsonType;

typedef struct _LingerJsonValue LingerJsonValue;

struct _LingerJsonValue
{
  LingerJsonType type;
  gboolean       boolean;
  double         number;
  char          *string;   /* STRING: UTF-8, NUL-free */
  /* ARRAY: the items; OBJECT: the values, keys[i] naming items[i]. */
  GPtrArray     *items;    /* LingerJsonValue */
  GPtrArray     *keys;     /* char *; OBJECT only */
};

/* Parses @text (@len bytes; -1: NUL-terminated), one value and nothing
 * but white space after it.  Nesting deeper than 256 is an error.
 * Returns: (transfer full): the value, or NULL with @error set; the
 * message says what is wrong and at which line and column. */
LingerJsonValue *linger_json_parse       (const char  *text,
                                          gssize       len,
                                          GError     **error);

void             linger_json_value_free  (LingerJsonValue *value);

/* The member @key of an object, or NULL (also when @object is NULL or
 * not an object). */
const LingerJsonValue *linger_json_member     (const LingerJsonValue *object,
                                               const char            *key);
/* The string of @value, or NULL when it is not a string. */
const char            *linger_json_get_string (const LingerJsonValue *value);
/* The number of @value, or @fallback when it is not a number. */
double                 linger_json_get_number (const LingerJsonValue *value,
                                               double                 fallback);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerJsonValue, linger_json_value_free)

G_END_DECLS
