/* linger_suppressions.c: reading suppressions files, matching findings
 * against them, and writing entries for findings. */
#include "linger_suppressions.h"

#include <fnmatch.h>
#include <string.h>

#include "linger_error.h"
#include "linger_identity.h"
#include "linger_policy.h"

static void
suppression_free (LingerSuppression *s)
{
  if (s == NULL)
    return;
  g_free (s->file);
  g_free (s->kind);
  g_free (s->type);
  g_free (s->site);
  g_free (s->path);
  g_free (s->cycle);
  g_free (s);
}

LingerSuppressions *
linger_suppressions_new (void)
{
  LingerSuppressions *s = g_new0 (LingerSuppressions, 1);

  s->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) suppression_free);
  s->files = g_ptr_array_new_with_free_func (g_free);
  return s;
}

void
linger_suppressions_free (LingerSuppressions *s)
{
  if (s == NULL)
    return;
  g_ptr_array_unref (s->entries);
  g_ptr_array_unref (s->files);
  g_free (s);
}

/* --- Reading ------------------------------------------------------------ */

typedef struct
{
  const char *name;
  guint       line;
  GError    **error;
} Reader;

G_GNUC_PRINTF (2, 3)
static gboolean
syntax_error (Reader     *r,
              const char *format,
              ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (r->error, LINGER_ERROR, LINGER_ERROR_FAILED, "%s:%u: %s", r->name, r->line, message);
  return FALSE;
}

static gboolean
set_key (Reader            *r,
         LingerSuppression *s,
         const char        *key,
         gsize              key_len,
         const char        *value)
{
  char **slot;

  if (key_len == 4 && strncmp (key, "type", 4) == 0)
    slot = &s->type;
  else if (key_len == 4 && strncmp (key, "site", 4) == 0)
    slot = &s->site;
  else if (key_len == 4 && strncmp (key, "path", 4) == 0)
    slot = &s->path;
  else if (key_len == 5 && strncmp (key, "cycle", 5) == 0)
    slot = &s->cycle;
  else
    return syntax_error (r, "unknown key '%.*s' (the keys are type, site, path and cycle)", (int) key_len, key);
  if (*value == '\0')
    return syntax_error (r, "'%.*s' needs a value", (int) key_len, key);
  if (*slot != NULL)
    return syntax_error (r, "'%.*s' is given twice in one entry", (int) key_len, key);
  *slot = g_strdup (value);
  return TRUE;
}

static gboolean
is_key_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-';
}

/* "key=value key=\"value with blanks\" ..." after the kind. */
static gboolean
parse_inline_keys (Reader            *r,
                   LingerSuppression *s,
                   const char        *p)
{
  for (;;)
    {
      const char *key;
      gsize key_len;
      g_autoptr(GString) value = g_string_new (NULL);

      while (g_ascii_isspace (*p))
        p++;
      if (*p == '\0')
        return TRUE;
      key = p;
      while (is_key_char (*p))
        p++;
      key_len = (gsize) (p - key);
      if (key_len == 0 || *p != '=')
        return syntax_error (r, "expected key=value, not '%s'", key);
      p++;
      if (*p == '"')
        {
          for (p++; *p != '"'; p++)
            {
              if (*p == '\0')
                return syntax_error (r, "a quoted value is not closed");
              if (*p == '\\' && p[1] == '"')
                p++;
              g_string_append_c (value, *p);
            }
          p++;
          if (*p != '\0' && !g_ascii_isspace (*p))
            return syntax_error (r, "a blank must follow a quoted value");
        }
      else
        while (*p != '\0' && !g_ascii_isspace (*p))
          g_string_append_c (value, *p++);
      if (!set_key (r, s, key, key_len, value->str))
        return FALSE;
    }
}

/* "key: value" (or "key=value") inside a block: the value is the rest of
 * the line, blanks around it dropped. */
static gboolean
parse_block_key (Reader            *r,
                 LingerSuppression *s,
                 const char        *p)
{
  const char *key = p;
  gsize key_len;
  g_autofree char *value = NULL;

  while (is_key_char (*p))
    p++;
  key_len = (gsize) (p - key);
  while (*p == ' ' || *p == '\t')
    p++;
  if (key_len == 0 || (*p != ':' && *p != '='))
    return syntax_error (r, "expected 'key: value' inside a suppress block, not '%s'", key);
  value = g_strstrip (g_strdup (p + 1));
  return set_key (r, s, key, key_len, value);
}

static gboolean
check_kind (Reader     *r,
            const char *kind,
            gsize       len)
{
  g_autofree char *copy = g_strndup (kind, len);
  g_autofree char *valid = NULL;

  if (len == 0)
    return syntax_error (r, "'suppress' needs a finding kind (or '*')");
  if (strcmp (copy, "*") == 0 || linger_policy_is_kind (copy))
    return TRUE;
  valid = linger_policy_kinds_text (FALSE);
  return syntax_error (r, "unknown finding kind '%s' (valid: %s, or *)", copy, valid);
}

gboolean
linger_suppressions_load_data (LingerSuppressions  *suppressions,
                               const char          *name,
                               const char          *text,
                               GError             **error)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func ((GDestroyNotify) suppression_free);
  Reader r = { .name = name, .error = error };
  LingerSuppression *block = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize len = strlen (line);
      const char *p = line;
      const char *word;
      gsize word_len;
      LingerSuppression *s;
      gboolean is_block;

      r.line = i + 1;
      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
      if (!g_utf8_validate (line, (gssize) len, NULL))
        return syntax_error (&r, "the line is not UTF-8");
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0')
        {
          block = NULL;
          continue;
        }
      if (*p == '#')
        continue;
      if (p != line)
        {
          if (block == NULL)
            return syntax_error (&r, "an indented line outside a 'suppress KIND' block");
          if (!parse_block_key (&r, block, p))
            return FALSE;
          continue;
        }

      /* "suppress KIND [key=value...]" opens a block; "KIND [key=value...]"
       * is an entry of its own. */
      word = p;
      while (*p != '\0' && !g_ascii_isspace (*p))
        p++;
      word_len = (gsize) (p - word);
      is_block = word_len == strlen ("suppress") && strncmp (word, "suppress", word_len) == 0;
      if (is_block)
        {
          while (g_ascii_isspace (*p))
            p++;
          word = p;
          while (*p != '\0' && !g_ascii_isspace (*p))
            p++;
          word_len = (gsize) (p - word);
        }
      if (!check_kind (&r, word, word_len))
        return FALSE;
      s = g_new0 (LingerSuppression, 1);
      s->file = g_strdup (name);
      s->line = r.line;
      s->kind = g_strndup (word, word_len);
      g_ptr_array_add (parsed, s);
      if (!parse_inline_keys (&r, s, p))
        return FALSE;
      block = is_block ? s : NULL;
    }

  g_ptr_array_add (suppressions->files, g_strdup (name));
  for (guint i = 0; i < parsed->len; i++)
    g_ptr_array_add (suppressions->entries, g_steal_pointer (&parsed->pdata[i]));
  g_ptr_array_set_size (parsed, 0);
  return TRUE;
}

gboolean
linger_suppressions_load_file (LingerSuppressions  *suppressions,
                               const char          *path,
                               GError             **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) read_error = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &read_error))
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO, "%s: cannot read the suppressions: %s",
                   path, read_error->message);
      return FALSE;
    }
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                   "%s: not a suppressions file (it contains NUL bytes)", path);
      return FALSE;
    }
  return linger_suppressions_load_data (suppressions, path, text, error);
}

/* --- Matching ----------------------------------------------------------- */

static gboolean
glob_matches (const char *glob,
              const char *text)
{
  return text != NULL && fnmatch (glob, text, 0) == 0;
}

static gboolean
is_cycle_of_types (const LingerFinding *f)
{
  return strcmp (f->kind, LINGER_FINDING_REFERENCE_CYCLE) == 0;
}

static gboolean
is_cycle (const LingerFinding *f)
{
  return is_cycle_of_types (f) || strcmp (f->kind, LINGER_FINDING_BOUND_METHOD_CYCLE) == 0
         || strcmp (f->kind, LINGER_FINDING_CLOSURE_CYCLE) == 0;
}

static gboolean
is_alloc_kind (const LingerFinding *f)
{
  return strcmp (f->kind, LINGER_FINDING_LEAK) == 0 || strcmp (f->kind, LINGER_FINDING_GC_COLLECTED) == 0;
}

static gboolean
type_matches (const char          *glob,
              const LingerFinding *f)
{
  if (strcmp (f->kind, LINGER_FINDING_GC_COLLECTED) == 0)
    return glob_matches (glob, f->alloc_type);
  if (f->objects->len > 0 && glob_matches (glob, g_array_index (f->objects, LingerFindingObject, 0).type))
    return TRUE;
  /* A cycle is any of its types. */
  if (!is_cycle (f))
    return FALSE;
  for (guint i = 1; i < f->objects->len; i++)
    if (glob_matches (glob, g_array_index (f->objects, LingerFindingObject, i).type))
      return TRUE;
  for (guint i = 0; f->cycle_types != NULL && i < f->cycle_types->len; i++)
    if (glob_matches (glob, g_ptr_array_index (f->cycle_types, i)))
      return TRUE;
  return FALSE;
}

/* The types of a cycle (sorted already) joined with ",". */
static char *
cycle_text (const LingerFinding *f)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < f->cycle_types->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, g_ptr_array_index (f->cycle_types, i));
    }
  return g_string_free (out, FALSE);
}

static gboolean
cycle_matches (const char          *glob,
               const LingerFinding *f)
{
  g_autofree char *all = NULL;

  if (f->cycle_types == NULL)
    return FALSE;
  all = cycle_text (f);
  return glob_matches (glob, all);
}

static gboolean
stack_matches (const char  *glob,
               LingerSites *sites,
               guint32      site_id)
{
  const LingerSite *site = sites != NULL && site_id != 0 ? linger_sites_get (sites, site_id) : NULL;

  if (site == NULL)
    return FALSE;
  for (guint i = 0; i < site->frames->len; i++)
    {
      const LingerFrame *fr = &g_array_index (site->frames, LingerFrame, i);

      if (fr->file != NULL)
        {
          g_autofree char *file_line = g_strdup_printf ("%s:%u", fr->file, fr->line);

          if (glob_matches (glob, file_line) || glob_matches (glob, fr->file))
            return TRUE;
        }
      if (glob_matches (glob, fr->function) || glob_matches (glob, fr->module))
        return TRUE;
    }
  return FALSE;
}

static gboolean
site_matches (const char          *glob,
              const LingerFinding *f,
              LingerSites         *sites)
{
  guint n;

  if (is_alloc_kind (f))
    return stack_matches (glob, sites, f->site);
  n = is_cycle_of_types (f) ? f->objects->len : MIN (f->objects->len, 1);
  for (guint i = 0; i < n; i++)
    if (stack_matches (glob, sites, g_array_index (f->objects, LingerFindingObject, i).site))
      return TRUE;
  return FALSE;
}

static char *
path_text (const LingerFinding *f)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < f->path->len; i++)
    {
      if (i > 0)
        g_string_append (out, " → ");
      g_string_append (out, g_ptr_array_index (f->path, i));
    }
  return g_string_free (out, FALSE);
}

static gboolean
path_matches (const char          *glob,
              const LingerFinding *f)
{
  g_autofree char *shown = path_text (f);
  g_autofree char *shape = NULL;

  if (glob_matches (glob, shown))
    return TRUE;
  shape = f->shape != NULL ? g_strdup (f->shape) : linger_finding_identity_shape (f);
  return glob_matches (glob, shape);
}

static gboolean
entry_matches (const LingerSuppression *s,
               const LingerFinding     *f,
               LingerSites             *sites)
{
  if (strcmp (s->kind, "*") != 0 && strcmp (s->kind, f->kind) != 0)
    return FALSE;
  if (s->type != NULL && !type_matches (s->type, f))
    return FALSE;
  if (s->path != NULL && !path_matches (s->path, f))
    return FALSE;
  if (s->cycle != NULL && !cycle_matches (s->cycle, f))
    return FALSE;
  if (s->site != NULL && !site_matches (s->site, f, sites))
    return FALSE;
  return TRUE;
}

const LingerSuppression *
linger_suppressions_match (LingerSuppressions  *suppressions,
                           const LingerFinding *finding,
                           LingerSites         *sites)
{
  const LingerSuppression *first = NULL;

  /* Every entry that matches counts it: an entry is unused only when it
   * matches nothing at all, so it can be deleted. */
  for (guint i = 0; i < suppressions->entries->len; i++)
    {
      LingerSuppression *s = g_ptr_array_index (suppressions->entries, i);

      if (!entry_matches (s, finding, sites))
        continue;
      s->used++;
      if (first == NULL)
        first = s;
    }
  return first;
}

/* --- Writing ------------------------------------------------------------ */

/* @text as a glob that matches exactly it. */
static void
append_escaped (GString    *out,
                const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '*' || *p == '?' || *p == '[' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
}

/* The site as the identity has it ("dir/file.py:12"), starting with "*"
 * when the path was cut: the entry works in another checkout too. */
static void
append_site_glob (GString           *out,
                  const LingerFrame *at)
{
  g_autofree char *key = linger_identity_site_key (at->file, at->line, at->function, at->module);

  if (at->file != NULL && *at->file != '\0')
    {
      if (strlen (key) - strlen (strrchr (key, ':')) < strlen (at->file))
        g_string_append (out, "*/");
      append_escaped (out, key);
    }
  else if (at->function != NULL && *at->function != '\0')
    append_escaped (out, at->function);
  else
    {
      g_string_append (out, "*/");
      append_escaped (out, key);
    }
}

/* The type of the finding's comment: for a reference cycle, all its
 * types. */
static char *
block_type (const LingerFinding *f)
{
  g_autofree char *type = linger_finding_identity_type (f);

  return *type != '\0' ? g_steal_pointer (&type) : NULL;
}

static guint32
block_site (const LingerFinding *f)
{
  if (is_alloc_kind (f))
    return f->site;
  if (f->objects->len > 0)
    return g_array_index (f->objects, LingerFindingObject, 0).site;
  return 0;
}

static void
append_block (GString             *out,
              const LingerFinding *f,
              LingerSites         *sites)
{
  g_autofree char *type = block_type (f);
  const LingerFrame *at = linger_identity_site_frame (sites, block_site (f));

  g_string_append_printf (out, "suppress %s\n", f->kind);
  /* A reference cycle by all its types: one of them ("type") would also
   * match larger cycles through it. */
  if (is_cycle_of_types (f) && f->cycle_types != NULL)
    {
      g_autofree char *all = cycle_text (f);

      g_string_append (out, "  cycle: ");
      append_escaped (out, all);
      g_string_append_c (out, '\n');
    }
  else if (type != NULL)
    {
      g_string_append (out, "  type: ");
      append_escaped (out, type);
      g_string_append_c (out, '\n');
    }
  if (at != NULL)
    {
      g_string_append (out, "  site: ");
      append_site_glob (out, at);
      g_string_append_c (out, '\n');
    }
  /* A reference cycle's path starts at whichever member has the lowest
   * address: its types say which cycle it is. */
  if (!is_cycle_of_types (f) && f->path->len > 0)
    {
      g_autofree char *shape = linger_finding_identity_shape (f);

      g_string_append (out, "  path: ");
      append_escaped (out, shape);
      g_string_append_c (out, '\n');
    }
}

static void
append_comment (GString             *out,
                const LingerFinding *f,
                LingerSites         *sites)
{
  g_autofree char *type = block_type (f);
  const char *summary = linger_sites_summary (sites, block_site (f));

  g_string_append_printf (out, "# %s (%s): %u × %s", f->kind, linger_severity_name (f->severity),
                          f->count, type != NULL ? type : "native blocks");
  if (f->state != NULL)
    g_string_append_printf (out, " (%s)", f->state);
  g_string_append_c (out, '\n');
  if (summary != NULL)
    g_string_append_printf (out, "#   allocated at %s\n", summary);
}

void
linger_suppressions_generate (const GPtrArray *findings,
                              LingerSites     *sites,
                              GString         *out)
{
  g_autoptr(GHashTable) written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) block = g_string_new (NULL);

  for (guint i = 0; i < findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (findings, i);

      g_string_truncate (block, 0);
      append_block (block, f, sites);
      /* Two groups can differ only in what the entry does not say (a
       * gc-collected group per cycle kind): one entry covers both. */
      if (g_hash_table_contains (written, block->str))
        continue;
      g_hash_table_add (written, g_strdup (block->str));
      if (out->len > 0)
        g_string_append_c (out, '\n');
      append_comment (out, f, sites);
      g_string_append (out, block->str);
    }
}
