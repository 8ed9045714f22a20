/* linger_report_html.c: the report as one self-contained HTML page. */
#include "linger_report_html.h"

#include <string.h>

#include "linger_finding_graph.h"
#include "linger_report_json.h"

/* Built from analyzer/html/ by embed.py (linger_html_assets.c). */
extern const char linger_html_template[];
extern const char linger_html_css[];
extern const char linger_html_js[];

void
linger_html_append_json (GString       *out,
                         const GString *json)
{
  for (gsize i = 0; i < json->len; i++)
    {
      /* '<' only occurs inside JSON strings, where \u003c means the same. */
      if (json->str[i] == '<')
        g_string_append (out, "\\u003c");
      else
        g_string_append_c (out, json->str[i]);
    }
}

static void
json_key (GString    *out,
          const char *key)
{
  linger_json_append_string (out, key);
  g_string_append_c (out, ':');
}

static void
write_node (GString                 *out,
            const LingerAnalysis    *a,
            const LingerPictureNode *n)
{
  gboolean object = n->node != LINGER_NODE_NONE;

  g_string_append_c (out, '{');
  json_key (out, "kind");
  g_string_append (out, object ? "\"object\"" : "\"text\"");
  g_string_append_c (out, ',');
  json_key (out, "text");
  linger_json_append_string (out, n->text);
  if (object)
    {
      g_autofree char *site = linger_picture_site_text (a->sites, n->site);

      g_string_append_c (out, ',');
      json_key (out, "type");
      linger_json_append_string (out, n->type);
      g_string_append_printf (out, ",\"address\":\"0x%" G_GINT64_MODIFIER "x\",\"size\":%" G_GUINT64_FORMAT
                              ",\"retained\":%" G_GUINT64_FORMAT ",",
                              n->address, n->size, n->retained);
      json_key (out, "site");
      linger_json_append_string (out, site);
    }
  g_string_append_printf (out, ",\"finalizer\":%s,\"method\":%s,\"function\":%s,\"weakref\":%s,"
                          "\"has_del\":%s,\"kept\":%s,",
                          linger_picture_node_is_finalizer (n) ? "true" : "false",
                          (n->flags & (LINGER_OBJ_METHOD | LINGER_OBJ_BUILTIN_METHOD)) ? "true" : "false",
                          (n->flags & LINGER_OBJ_FUNCTION) ? "true" : "false",
                          (n->flags & (LINGER_OBJ_WEAKREF | LINGER_OBJ_PROXY)) ? "true" : "false",
                          (n->flags & LINGER_OBJ_HAS_DEL) ? "true" : "false",
                          n->kept ? "true" : "false");
  json_key (out, "root");
  linger_json_append_string (out, n->root_kind);
  g_string_append_c (out, '}');
}

static void
write_edge (GString                 *out,
            const LingerPictureEdge *e)
{
  const char *ref = e->ref_kind == LINGER_REF_WEAK ? "weak"
                    : e->ref_kind == LINGER_REF_CALLBACK ? "callback" : "strong";

  g_string_append_printf (out, "{\"from\":%u,\"to\":%u,\"ref\":\"%s\",\"text\":%s,\"part\":\"%s\",",
                          e->from, e->to, ref, e->text ? "true" : "false",
                          e->part == LINGER_PICTURE_PATH ? "path" : "held_by");
  json_key (out, "label");
  linger_json_append_string (out, e->label);
  g_string_append_c (out, '}');
}

/* One entry per finding, in the report's order: its objects and
 * references (none for allocation findings). */
static void
write_graphs (const LingerAnalysis *a,
              GString              *out)
{
  g_autoptr(LingerFindingGraphs) graphs = linger_finding_graphs_new (a);

  g_string_append_c (out, '[');
  for (guint i = 0; i < a->findings->len; i++)
    {
      const LingerFinding *f = g_ptr_array_index (a->findings, i);
      g_autoptr(LingerFindingGraph) picture = linger_finding_graphs_get (graphs, f);

      if (i > 0)
        g_string_append (out, ",\n");
      g_string_append_printf (out, "{\"path_matched\":%s,\"held_by_matched\":%s,\"nodes\":[",
                              picture->path_matched ? "true" : "false",
                              picture->held_by_matched ? "true" : "false");
      for (guint k = 0; k < picture->nodes->len; k++)
        {
          if (k > 0)
            g_string_append_c (out, ',');
          write_node (out, a, &g_array_index (picture->nodes, LingerPictureNode, k));
        }
      g_string_append (out, "],\"edges\":[");
      for (guint k = 0; k < picture->edges->len; k++)
        {
          if (k > 0)
            g_string_append_c (out, ',');
          write_edge (out, &g_array_index (picture->edges, LingerPictureEdge, k));
        }
      g_string_append (out, "]}");
    }
  g_string_append (out, "]\n");
}

static void
append_html_text (GString    *out,
                  const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autofree char *escaped = g_markup_escape_text (valid, -1);

  g_string_append (out, escaped);
}

void
linger_report_html (const LingerAnalysis *a,
                    GString              *out)
{
  g_autoptr(GString) report = g_string_new (NULL);
  g_autoptr(GString) graphs = g_string_new (NULL);
  g_autofree char *title = g_strdup_printf ("linger: %s (pid %u)",
                                            a->trace->program != NULL ? a->trace->program : "?", a->trace->pid);
  static const char * const markers[] = {
    "@LINGER_TITLE@", "@LINGER_CSS@", "@LINGER_JS@", "@LINGER_REPORT_JSON@", "@LINGER_GRAPHS_JSON@",
  };
  const char *p = linger_html_template;

  linger_report_json (a, report);
  write_graphs (a, graphs);

  /* The template is scanned once: a marker inside the data it inserts
   * stays text. */
  while (*p != '\0')
    {
      const char *at = strchr (p, '@');
      guint m;

      if (at == NULL)
        {
          g_string_append (out, p);
          break;
        }
      g_string_append_len (out, p, at - p);
      for (m = 0; m < G_N_ELEMENTS (markers); m++)
        if (strncmp (at, markers[m], strlen (markers[m])) == 0)
          break;
      switch (m)
        {
        case 0: append_html_text (out, title); break;
        case 1: g_string_append (out, linger_html_css); break;
        case 2: g_string_append (out, linger_html_js); break;
        case 3: linger_html_append_json (out, report); break;
        case 4: linger_html_append_json (out, graphs); break;
        default:
          g_string_append_c (out, '@');
          p = at + 1;
          continue;
        }
      p = at + strlen (markers[m]);
    }
}
