/* linger_policy.c: --fail-on, and findings taken out by suppressions or
 * a baseline. */
#include "linger_policy.h"

#include <string.h>

#include "linger_error.h"
#include "linger_identity.h"

static const char * const kinds[] = {
  LINGER_FINDING_FINALIZER_KEEPALIVE,
  LINGER_FINDING_BOUND_METHOD_CYCLE,
  LINGER_FINDING_WEAKREF_CALLBACK_KEEPALIVE,
  LINGER_FINDING_WEAK_CONTAINER_KEEPALIVE,
  LINGER_FINDING_CLOSURE_CYCLE,
  LINGER_FINDING_REFERENCE_CYCLE,
  LINGER_FINDING_UNCOLLECTABLE,
  LINGER_FINDING_RESURRECTED,
  LINGER_FINDING_LEAK,
  LINGER_FINDING_GC_COLLECTED,
};

G_STATIC_ASSERT (G_N_ELEMENTS (kinds) <= 32);

static int
kind_index (const char *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (strcmp (kinds[i], kind) == 0)
      return (int) i;
  return -1;
}

gboolean
linger_policy_is_kind (const char *kind)
{
  return kind_index (kind) >= 0;
}

char *
linger_policy_kinds_text (gboolean with_levels)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", kinds[i]);
  if (with_levels)
    g_string_append (out, ", error, warning, info, any");
  return g_string_free (out, FALSE);
}

gboolean
linger_fail_on_parse (const char    *text,
                      LingerFailOn  *fail_on,
                      GError       **error)
{
  g_auto(GStrv) words = g_strsplit (text, ",", -1);
  LingerFailOn f = { 0 };

  /* g_strsplit() gives no word at all for "". */
  if (words[0] == NULL)
    {
      g_autofree char *valid = linger_policy_kinds_text (TRUE);

      g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED, "--fail-on needs finding kinds (valid: %s)", valid);
      return FALSE;
    }
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *w = g_strstrip (words[i]);
      LingerSeverity level;
      int k;

      if (strcmp (w, "error") == 0)
        level = LINGER_SEVERITY_ERROR;
      else if (strcmp (w, "warning") == 0)
        level = LINGER_SEVERITY_WARNING;
      else if (strcmp (w, "info") == 0 || strcmp (w, "any") == 0)
        level = LINGER_SEVERITY_INFO;
      else if ((k = kind_index (w)) >= 0)
        {
          f.kinds |= 1u << k;
          continue;
        }
      else
        {
          g_autofree char *valid = linger_policy_kinds_text (TRUE);

          if (*w == '\0')
            g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                         "--fail-on needs finding kinds (valid: %s)", valid);
          else
            g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                         "--fail-on: unknown finding kind '%s' (valid: %s)", w, valid);
          return FALSE;
        }
      if (!f.any_severity || level < f.min_severity)
        f.min_severity = level;
      f.any_severity = TRUE;
    }
  *fail_on = f;
  return TRUE;
}

gboolean
linger_fail_on_matches (const LingerFailOn  *fail_on,
                        const LingerFinding *finding)
{
  int k = kind_index (finding->kind);

  if (k >= 0 && (fail_on->kinds & (1u << k)) != 0)
    return TRUE;
  return fail_on->any_severity && finding->severity >= fail_on->min_severity;
}

guint
linger_fail_on_count (const LingerFailOn   *fail_on,
                      const LingerAnalysis *a)
{
  guint n = 0;

  for (guint i = 0; i < a->findings->len; i++)
    n += linger_fail_on_matches (fail_on, g_ptr_array_index (a->findings, i));
  return n;
}

static void
unused_free (LingerUnusedSuppression *u)
{
  g_free (u->file);
  g_free (u->kind);
  g_free (u);
}

void
linger_filtered_free (LingerFiltered *f)
{
  if (f == NULL)
    return;
  g_ptr_array_unref (f->suppression_files);
  g_ptr_array_unref (f->suppressed);
  g_ptr_array_unref (f->suppressed_by);
  g_ptr_array_unref (f->unused);
  g_ptr_array_unref (f->known);
  g_free (f->baseline_path);
  g_free (f);
}

void
linger_policy_filter (LingerAnalysis     *a,
                      LingerSuppressions *suppressions,
                      LingerBaseline     *baseline)
{
  LingerFiltered *out = g_new0 (LingerFiltered, 1);
  g_autoptr(GPtrArray) all = g_ptr_array_new ();

  out->suppression_files = g_ptr_array_new_with_free_func (g_free);
  out->suppressed = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);
  out->suppressed_by = g_ptr_array_new_with_free_func (g_free);
  out->unused = g_ptr_array_new_with_free_func ((GDestroyNotify) unused_free);
  out->known = g_ptr_array_new_with_free_func ((GDestroyNotify) linger_finding_free);

  /* The findings change hands: out of the array without being freed. */
  for (guint i = 0; i < a->findings->len; i++)
    g_ptr_array_add (all, g_ptr_array_index (a->findings, i));
  g_ptr_array_set_free_func (a->findings, NULL);
  g_ptr_array_set_size (a->findings, 0);
  g_ptr_array_set_free_func (a->findings, (GDestroyNotify) linger_finding_free);

  for (guint i = 0; i < all->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (all, i);
      const LingerSuppression *by = NULL;

      if (suppressions != NULL)
        by = linger_suppressions_match (suppressions, f, a->sites);
      if (by != NULL)
        {
          g_ptr_array_add (out->suppressed, f);
          g_ptr_array_add (out->suppressed_by, g_strdup_printf ("%s:%u", by->file, by->line));
        }
      else if (baseline != NULL && linger_baseline_contains (baseline, f, a->sites))
        g_ptr_array_add (out->known, f);
      else
        g_ptr_array_add (a->findings, f);
    }

  if (suppressions != NULL)
    {
      for (guint i = 0; i < suppressions->files->len; i++)
        g_ptr_array_add (out->suppression_files, g_strdup (g_ptr_array_index (suppressions->files, i)));
      for (guint i = 0; i < suppressions->entries->len; i++)
        {
          const LingerSuppression *s = g_ptr_array_index (suppressions->entries, i);
          LingerUnusedSuppression *u;

          if (s->used > 0)
            continue;
          u = g_new0 (LingerUnusedSuppression, 1);
          u->file = g_strdup (s->file);
          u->line = s->line;
          u->kind = g_strdup (s->kind);
          g_ptr_array_add (out->unused, u);
        }
    }
  if (baseline != NULL)
    {
      out->baseline_path = g_strdup (linger_baseline_path (baseline));
      out->baseline_size = linger_baseline_size (baseline);
    }
  linger_filtered_free (a->filtered);
  a->filtered = out;
}

void
linger_policy_warn_unused (const LingerFiltered *f)
{
  if (f == NULL)
    return;
  for (guint i = 0; i < f->unused->len; i++)
    {
      const LingerUnusedSuppression *u = g_ptr_array_index (f->unused, i);

      g_printerr ("linger: warning: unused suppression %s:%u (%s): it matches no finding\n",
                  u->file, u->line, u->kind);
    }
}

void
linger_policy_summary (const LingerAnalysis *a,
                       const LingerFailOn   *fail_on,
                       GString              *out)
{
  for (guint i = 0; i < a->findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (a->findings, i);
      g_autofree char *type = linger_finding_identity_type (f);
      guint32 site = 0;
      const char *summary;

      if (fail_on != NULL && !linger_fail_on_matches (fail_on, f))
        continue;
      if (strcmp (f->kind, LINGER_FINDING_LEAK) == 0 || strcmp (f->kind, LINGER_FINDING_GC_COLLECTED) == 0)
        site = f->site;
      else if (f->objects->len > 0)
        site = g_array_index (f->objects, LingerFindingObject, 0).site;
      summary = site != 0 ? linger_sites_summary (a->sites, site) : NULL;

      g_string_append_printf (out, "%s (%s): %u × %s", f->kind, linger_severity_name (f->severity),
                              f->count, *type != '\0' ? type : "native blocks");
      if (f->state != NULL)
        g_string_append_printf (out, " (%s)", f->state);
      if (summary != NULL)
        g_string_append_printf (out, ", allocated at %s", summary);
      g_string_append_c (out, '\n');
    }
}
