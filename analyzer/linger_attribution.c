/* linger_attribution.c: the test that created each finding's object
 * (see linger_attribution.h). */
#include "linger_attribution.h"

#include <string.h>

#include "linger_alloc.h"

/* One object of the judged snapshot to attribute. */
typedef struct
{
  guint64     address;
  const char *type;
  guint32     site;       /* 0: unknown */
  guint       seen_in;    /* 1 + index of the last labelled snapshot holding it */
  gint        run_start;  /* first labelled snapshot of its current run, -1: none */
} Query;

static GPtrArray *
labelled_snapshots (const LingerTrace    *trace,
                    const LingerSnapshot *judged)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < trace->snapshots->len; i++)
    {
      LingerSnapshot *s = g_ptr_array_index (trace->snapshots, i);

      if (judged != NULL && s->id > judged->id)
        break;
      if (s->label != NULL)
        g_ptr_array_add (out, s);
    }
  return out;
}

guint
linger_attribution_n_labelled (const LingerTrace    *trace,
                               const LingerSnapshot *judged)
{
  g_autoptr(GPtrArray) labelled = labelled_snapshots (trace, judged);

  return labelled->len;
}

static void
add_query (GArray      *queries,
           GHashTable  *by_address,
           const LingerFinding *f)
{
  const LingerFindingObject *o;

  if (f->objects == NULL || f->objects->len == 0)
    return;
  o = &g_array_index (f->objects, LingerFindingObject, 0);
  if (g_hash_table_contains (by_address, &o->address))
    return;
  Query q = { .address = o->address, .type = o->type, .site = o->site, .run_start = -1 };
  g_array_append_val (queries, q);
  /* Keys point into the array: it is sized before the first add. */
  g_hash_table_insert (by_address, &g_array_index (queries, Query, queries->len - 1).address,
                       GUINT_TO_POINTER (queries->len));
}

static const char *
created_by (const GPtrArray *labelled,
            GArray          *queries,
            GHashTable      *by_address,
            const LingerFinding *f)
{
  const LingerFindingObject *o = &g_array_index (f->objects, LingerFindingObject, 0);
  guint idx = GPOINTER_TO_UINT (g_hash_table_lookup (by_address, &o->address));
  const Query *q;

  if (idx == 0)
    return NULL;
  q = &g_array_index (queries, Query, idx - 1);
  if (q->run_start < 0)
    return NULL;
  return ((const LingerSnapshot *) g_ptr_array_index (labelled, q->run_start))->label;
}

guint
linger_attribution_apply (const LingerTrace    *trace,
                          const LingerSnapshot *judged,
                          GPtrArray            *findings)
{
  g_autoptr(GPtrArray) labelled = labelled_snapshots (trace, judged);
  g_autoptr(GArray) queries = NULL;
  g_autoptr(GHashTable) by_address = NULL;
  guint n_queries = 0;

  if (labelled->len == 0 || findings == NULL)
    return 0;

  for (guint i = 0; i < findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (findings, i);

      n_queries += 1 + (f->instances != NULL ? f->instances->len : 0);
    }
  queries = g_array_sized_new (FALSE, TRUE, sizeof (Query), n_queries);
  by_address = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (findings, i);

      add_query (queries, by_address, f);
      for (guint k = 0; f->instances != NULL && k < f->instances->len; k++)
        add_query (queries, by_address, g_ptr_array_index (f->instances, k));
    }
  if (queries->len == 0)
    return labelled->len;

  /* One pass over each labelled snapshot's objects, oldest first: a run
   * of presence starts where the object appears and breaks where it is
   * missing. */
  for (guint s = 0; s < labelled->len; s++)
    {
      const LingerSnapshot *snap = g_ptr_array_index (labelled, s);

      for (guint i = 0; i < snap->objects->len; i++)
        {
          const linger_object_entry *e = &g_array_index (snap->objects, linger_object_entry, i);
          guint idx = GPOINTER_TO_UINT (g_hash_table_lookup (by_address, &e->address));
          Query *q;
          const char *type;
          guint32 site;

          if (idx == 0)
            continue;
          q = &g_array_index (queries, Query, idx - 1);
          type = linger_trace_string (trace, e->type_name);
          if (type == NULL || q->type == NULL || strcmp (type, q->type) != 0)
            continue;
          /* Same address and type but another allocation: the address was
           * reused. */
          site = linger_object_sites_lookup (snap->object_sites, e->address);
          if (site != 0 && q->site != 0 && site != q->site)
            continue;
          q->seen_in = s + 1;
        }
      for (guint k = 0; k < queries->len; k++)
        {
          Query *q = &g_array_index (queries, Query, k);

          if (q->seen_in != s + 1)
            q->run_start = -1;
          else if (q->run_start < 0)
            q->run_start = (gint) s;
        }
    }

  for (guint i = 0; i < findings->len; i++)
    {
      LingerFinding *f = g_ptr_array_index (findings, i);

      if (f->objects == NULL || f->objects->len == 0)
        continue;
      f->created_by = created_by (labelled, queries, by_address, f);
      for (guint k = 0; f->instances != NULL && k < f->instances->len; k++)
        {
          LingerFinding *inst = g_ptr_array_index (f->instances, k);

          if (inst->objects != NULL && inst->objects->len > 0)
            inst->created_by = created_by (labelled, queries, by_address, inst);
        }
    }
  return labelled->len;
}

GArray *
linger_attribution_by_test (const LingerTrace    *trace,
                            const LingerSnapshot *judged,
                            const GPtrArray      *findings)
{
  g_autoptr(GPtrArray) labelled = labelled_snapshots (trace, judged);
  GArray *out = g_array_new (FALSE, TRUE, sizeof (LingerTestFindings));
  LingerTestFindings none = { NULL, 0, 0 };

  /* Labels in snapshot order; a label used twice (a test re-run) once. */
  for (guint s = 0; s < labelled->len; s++)
    {
      const char *label = ((const LingerSnapshot *) g_ptr_array_index (labelled, s))->label;
      LingerTestFindings row = { label, 0, 0 };
      gboolean dup = FALSE;

      for (guint k = 0; k < out->len && !dup; k++)
        dup = strcmp (g_array_index (out, LingerTestFindings, k).label, label) == 0;
      for (guint i = 0; i < findings->len && !dup; i++)
        {
          const LingerFinding *f = g_ptr_array_index (findings, i);

          if (f->created_by != NULL && strcmp (f->created_by, label) == 0)
            {
              row.findings++;
              row.instances += f->count;
            }
        }
      if (!dup && row.findings > 0)
        g_array_append_val (out, row);
    }
  for (guint i = 0; i < findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (findings, i);

      if (f->objects != NULL && f->objects->len > 0 && f->created_by == NULL)
        {
          none.findings++;
          none.instances += f->count;
        }
    }
  if (none.findings > 0)
    g_array_append_val (out, none);
  return out;
}
