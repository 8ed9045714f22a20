/* linger_identity.c: a finding's identity across runs, and its fingerprint. */
#include "linger_identity.h"

#include <string.h>

#include "linger_describe.h"

/* Allocation findings (leak, gc-collected) have no objects: their site
 * is the finding's own. */
static gboolean
is_alloc_finding (const char *kind)
{
  return strcmp (kind, LINGER_FINDING_LEAK) == 0 || strcmp (kind, LINGER_FINDING_GC_COLLECTED) == 0;
}

/* A reference cycle's example (the member with the lowest address) and
 * so its first object and path change from run to run; its group is
 * known by the types in it. */
static gboolean
is_reference_cycle (const char *kind)
{
  return strcmp (kind, LINGER_FINDING_REFERENCE_CYCLE) == 0;
}

char *
linger_identity_site_key (const char *file,
                          guint       line,
                          const char *function,
                          const char *module)
{
  if (file != NULL && *file != '\0')
    {
      /* The last two components: "pkg/mod.py", not the checkout's root. */
      const char *cut = file + strlen (file);
      guint slashes = 0;

      while (cut > file)
        {
          if (cut[-1] == '/' && ++slashes == 2)
            break;
          cut--;
        }
      return g_strdup_printf ("%s:%u", cut, line);
    }
  if (function != NULL && *function != '\0')
    return g_strdup (function);
  if (module != NULL && *module != '\0')
    {
      const char *slash = strrchr (module, '/');

      return g_strdup (slash != NULL ? slash + 1 : module);
    }
  return g_strdup ("");
}

const LingerFrame *
linger_identity_site_frame (LingerSites *sites,
                            guint32      site_id)
{
  const LingerSite *site;

  if (sites == NULL || site_id == 0)
    return NULL;
  site = linger_sites_get (sites, site_id);
  if (site == NULL || site->at < 0)
    return NULL;
  return &g_array_index (site->frames, LingerFrame, site->at);
}

static char *
site_key_of (LingerSites *sites,
             guint32      site_id)
{
  const LingerFrame *at = linger_identity_site_frame (sites, site_id);

  if (at == NULL)
    return g_strdup ("");
  return linger_identity_site_key (at->file, at->line, at->function, at->module);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Sorted, each once, joined with ",": a cycle's member sites. */
static char *
join_sorted_unique (GPtrArray *keys)
{
  GString *out = g_string_new (NULL);
  const char *last = NULL;

  g_ptr_array_sort (keys, compare_strings);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *k = g_ptr_array_index (keys, i);

      if (*k == '\0' || (last != NULL && strcmp (last, k) == 0))
        continue;
      if (out->len > 0)
        g_string_append_c (out, ',');
      g_string_append (out, k);
      last = k;
    }
  return g_string_free (out, FALSE);
}

static char *
join_strings (const GPtrArray *strings,
              const char      *separator,
              gboolean         shapes)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < strings->len; i++)
    {
      const char *s = g_ptr_array_index (strings, i);

      if (i > 0)
        g_string_append (out, separator);
      if (shapes)
        {
          g_autofree char *shape = linger_describe_step_shape (s);
          g_string_append (out, shape);
        }
      else
        g_string_append (out, s);
    }
  return g_string_free (out, FALSE);
}

char *
linger_finding_identity_type (const LingerFinding *f)
{
  if (is_reference_cycle (f->kind) && f->cycle_types != NULL)
    return join_strings (f->cycle_types, ",", FALSE);
  if (strcmp (f->kind, LINGER_FINDING_GC_COLLECTED) == 0)
    return g_strdup (f->alloc_type != NULL ? f->alloc_type : "");
  if (f->objects->len > 0)
    return g_strdup (g_array_index (f->objects, LingerFindingObject, 0).type);
  return g_strdup ("");
}

char *
linger_finding_identity_shape (const LingerFinding *f)
{
  if (is_reference_cycle (f->kind) || is_alloc_finding (f->kind))
    return g_strdup ("");
  if (f->shape != NULL)
    return g_strdup (f->shape);
  return join_strings (f->path, " → ", TRUE);
}

static char *
identity_site (const LingerFinding *f,
               LingerSites         *sites)
{
  g_autoptr(GPtrArray) keys = NULL;

  if (is_alloc_finding (f->kind))
    return site_key_of (sites, f->site);
  if (f->objects->len == 0)
    return g_strdup ("");
  if (!is_reference_cycle (f->kind))
    return site_key_of (sites, g_array_index (f->objects, LingerFindingObject, 0).site);
  keys = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < f->objects->len; i++)
    g_ptr_array_add (keys, site_key_of (sites, g_array_index (f->objects, LingerFindingObject, i).site));
  return join_sorted_unique (keys);
}

static char *
identity_join (const char *kind,
               const char *type,
               const char *shape,
               const char *site)
{
  return g_strdup_printf ("%s\n%s\n%s\n%s", kind, type, shape, site);
}

char *
linger_finding_identity (const LingerFinding *f,
                         LingerSites         *sites)
{
  g_autofree char *type = linger_finding_identity_type (f);
  g_autofree char *shape = linger_finding_identity_shape (f);
  g_autofree char *site = identity_site (f, sites);

  return identity_join (f->kind, type, shape, site);
}

static char *
fingerprint_of (const char *identity)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, identity, -1);

  return g_strndup (sum, 16);
}

char *
linger_finding_fingerprint (const LingerFinding *f,
                            LingerSites         *sites)
{
  g_autofree char *identity = linger_finding_identity (f, sites);

  return fingerprint_of (identity);
}

/* --- From a JSON report ------------------------------------------------- */

static char *
json_site_key (const LingerJsonValue *allocated_at)
{
  if (allocated_at == NULL || allocated_at->type != LINGER_JSON_OBJECT)
    return g_strdup ("");
  return linger_identity_site_key (linger_json_get_string (linger_json_member (allocated_at, "file")),
                                   (guint) linger_json_get_number (linger_json_member (allocated_at, "line"), 0),
                                   linger_json_get_string (linger_json_member (allocated_at, "function")),
                                   linger_json_get_string (linger_json_member (allocated_at, "module")));
}

/* The strings of a JSON array (others skipped), borrowed. */
static GPtrArray *
json_strings (const LingerJsonValue *array)
{
  GPtrArray *out = g_ptr_array_new ();

  if (array != NULL && array->type == LINGER_JSON_ARRAY)
    for (guint i = 0; i < array->items->len; i++)
      {
        const char *s = linger_json_get_string (g_ptr_array_index (array->items, i));

        if (s != NULL)
          g_ptr_array_add (out, (gpointer) s);
      }
  return out;
}

char *
linger_json_finding_fingerprint (const LingerJsonValue *finding)
{
  const char *kind = linger_json_get_string (linger_json_member (finding, "kind"));
  const char *fingerprint = linger_json_get_string (linger_json_member (finding, "fingerprint"));
  const LingerJsonValue *objects = linger_json_member (finding, "objects");
  const LingerJsonValue *first = NULL;
  g_autofree char *type = NULL;
  g_autofree char *shape = NULL;
  g_autofree char *site = NULL;
  g_autofree char *identity = NULL;

  if (kind == NULL)
    return NULL;
  if (fingerprint != NULL)
    return g_strdup (fingerprint);

  if (objects != NULL && objects->type == LINGER_JSON_ARRAY && objects->items->len > 0)
    first = g_ptr_array_index (objects->items, 0);

  if (is_alloc_finding (kind))
    {
      const char *t = linger_json_get_string (linger_json_member (finding, "type"));

      type = g_strdup (t != NULL && strcmp (kind, LINGER_FINDING_GC_COLLECTED) == 0 ? t : "");
      shape = g_strdup ("");
      site = json_site_key (linger_json_member (finding, "allocated_at"));
    }
  else if (is_reference_cycle (kind))
    {
      g_autoptr(GPtrArray) types = json_strings (linger_json_member (finding, "cycle_types"));
      g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);

      if (types->len > 0)
        type = join_strings (types, ",", FALSE);
      else
        {
          const char *t = first != NULL ? linger_json_get_string (linger_json_member (first, "type")) : NULL;

          type = g_strdup (t != NULL ? t : "");
        }
      shape = g_strdup ("");
      if (objects != NULL && objects->type == LINGER_JSON_ARRAY)
        for (guint i = 0; i < objects->items->len; i++)
          g_ptr_array_add (keys, json_site_key (linger_json_member (g_ptr_array_index (objects->items, i),
                                                                    "allocated_at")));
      site = join_sorted_unique (keys);
    }
  else
    {
      g_autoptr(GPtrArray) path = json_strings (linger_json_member (finding, "path"));
      const char *t = first != NULL ? linger_json_get_string (linger_json_member (first, "type")) : NULL;

      type = g_strdup (t != NULL ? t : "");
      shape = join_strings (path, " → ", TRUE);
      site = json_site_key (first != NULL ? linger_json_member (first, "allocated_at") : NULL);
    }
  identity = identity_join (kind, type, shape, site);
  return fingerprint_of (identity);
}
