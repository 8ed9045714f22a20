/* linger_baseline.c: the fingerprints of an earlier JSON report. */
#include "linger_baseline.h"

#include "linger_error.h"
#include "linger_identity.h"
#include "linger_json_value.h"

struct _LingerBaseline
{
  char       *path;
  guint       n_findings;
  GHashTable *fingerprints;   /* char * set */
};

static LingerBaseline *
not_a_report (const char  *path,
              const char  *why,
              GError     **error)
{
  g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
               "%s: not a baseline: %s (make one with linger report --format=json TRACE > %s)",
               path, why, path);
  return NULL;
}

LingerBaseline *
linger_baseline_load (const char  *path,
                      GError     **error)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(LingerJsonValue) root = NULL;
  const LingerJsonValue *findings;
  LingerBaseline *b;

  if (!g_file_get_contents (path, &text, &len, &local_error))
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_IO, "%s: cannot read the baseline: %s",
                   path, local_error->message);
      return NULL;
    }
  root = linger_json_parse (text, (gssize) len, &local_error);
  if (root == NULL)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED, "%s: not a baseline: %s", path,
                   local_error->message);
      return NULL;
    }
  if (root->type != LINGER_JSON_OBJECT || linger_json_member (root, "linger_version") == NULL)
    return not_a_report (path, "not a linger JSON report", error);
  if (linger_json_member (root, "new_findings") != NULL && linger_json_member (root, "findings") == NULL)
    return not_a_report (path, "a report of --diff, not of a trace", error);
  findings = linger_json_member (root, "findings");
  if (findings == NULL || findings->type != LINGER_JSON_ARRAY)
    return not_a_report (path, "it has no \"findings\" list", error);

  b = g_new0 (LingerBaseline, 1);
  b->path = g_strdup (path);
  b->fingerprints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < findings->items->len; i++)
    {
      char *fingerprint = linger_json_finding_fingerprint (g_ptr_array_index (findings->items, i));

      if (fingerprint == NULL)
        {
          g_autofree char *why = g_strdup_printf ("finding #%u has no \"kind\"", i + 1);

          linger_baseline_free (b);
          return not_a_report (path, why, error);
        }
      g_hash_table_add (b->fingerprints, fingerprint);
      b->n_findings++;
    }
  return b;
}

void
linger_baseline_free (LingerBaseline *b)
{
  if (b == NULL)
    return;
  g_free (b->path);
  g_hash_table_unref (b->fingerprints);
  g_free (b);
}

const char *
linger_baseline_path (const LingerBaseline *b)
{
  return b->path;
}

guint
linger_baseline_size (const LingerBaseline *b)
{
  return b->n_findings;
}

gboolean
linger_baseline_contains (const LingerBaseline *b,
                          const LingerFinding  *finding,
                          LingerSites          *sites)
{
  g_autofree char *fingerprint = linger_finding_fingerprint (finding, sites);

  return g_hash_table_contains (b->fingerprints, fingerprint);
}
