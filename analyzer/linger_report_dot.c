/* linger_report_dot.c: the findings as a Graphviz graph. */
#include "linger_report_dot.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "linger_finding_graph.h"

/* Labels from the traced program can be anything; a picture needs them
 * short. */
#define MAX_LABEL_CHARS 60

void
linger_dot_append_string (GString    *out,
                          const char *text,
                          guint       max_chars)
{
  const char *p = text != NULL ? text : "";
  const char *end = p + strlen (p);
  guint chars = 0;

  g_string_append_c (out, '"');
  while (p < end)
    {
      guchar c = (guchar) *p;

      if (max_chars > 0 && chars == max_chars)
        {
          g_string_append (out, "\xe2\x80\xa6");   /* … */
          break;
        }
      chars++;
      if (c < 0x80)
        {
          if (c == '"' || c == '\\')
            {
              g_string_append_c (out, '\\');
              g_string_append_c (out, (char) c);
            }
          else if (c == '\n')
            g_string_append (out, "\\n");
          else if (c < 0x20 || c == 0x7f)
            g_string_append (out, "\xef\xbf\xbd");
          else
            g_string_append_c (out, (char) c);
          p++;
          continue;
        }
      {
        gunichar u = g_utf8_get_char_validated (p, end - p);

        if (u == (gunichar) -1 || u == (gunichar) -2)
          {
            g_string_append (out, "\xef\xbf\xbd");
            p++;
          }
        else
          {
            const char *next = g_utf8_next_char (p);

            g_string_append_len (out, p, next - p);
            p = next;
          }
      }
    }
  g_string_append_c (out, '"');
}

/* Lines joined with dot's line break, each escaped on its own (a line
 * break inside one is the program's). */
static void
append_lines (GString    *out,
              GPtrArray  *lines)
{
  g_autoptr(GString) joined = g_string_new (NULL);

  /* Escaped one by one, then joined: strip each one's quotes. */
  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(GString) one = g_string_new (NULL);

      linger_dot_append_string (one, g_ptr_array_index (lines, i), MAX_LABEL_CHARS);
      if (i > 0)
        g_string_append (joined, "\\n");
      g_string_append_len (joined, one->str + 1, one->len - 2);
    }
  g_string_append_c (out, '"');
  g_string_append_len (out, joined->str, joined->len);
  g_string_append_c (out, '"');
}

static const char *
severity_color (LingerSeverity severity)
{
  switch (severity)
    {
    case LINGER_SEVERITY_ERROR: return "#c0392b";
    case LINGER_SEVERITY_WARNING: return "#d68910";
    case LINGER_SEVERITY_INFO:
    default: return "#2e86c1";
    }
}

static void
write_node (GString                 *out,
            const LingerAnalysis    *a,
            guint                    cluster,
            guint                    index,
            const LingerPictureNode *n)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  const char *shape = "box";
  const char *fill = "#ffffff";
  const char *style = "rounded,filled";
  const char *color = "#444444";
  double penwidth = 1.0;
  int peripheries = 1;

  g_ptr_array_add (lines, g_strdup (n->text));
  if (n->node != LINGER_NODE_NONE)
    {
      g_autofree char *size = linger_picture_bytes (n->size);
      g_autofree char *site = linger_picture_site_text (a->sites, n->site);

      if (n->retained > n->size)
        {
          g_autofree char *retained = linger_picture_bytes (n->retained);
          g_ptr_array_add (lines, g_strdup_printf ("%s, retains %s", size, retained));
        }
      else
        g_ptr_array_add (lines, g_strdup (size));
      if (site != NULL)
        g_ptr_array_add (lines, g_strdup_printf ("at %s", site));
      if (n->flags & LINGER_OBJ_HAS_DEL)
        g_ptr_array_add (lines, g_strdup ("defines __del__"));
    }
  if (n->root_kind != NULL)
    g_ptr_array_add (lines, g_strdup_printf ("root: %s", n->root_kind));

  if (n->node == LINGER_NODE_NONE)
    {
      shape = "note";
      fill = "#f2f3f4";
      color = "#999999";
      style = "filled";
    }
  if (linger_picture_node_is_finalizer (n))
    {
      shape = "octagon";
      fill = "#fdebd0";
      color = "#ca6f1e";
      style = "filled";
    }
  else if (n->flags & (LINGER_OBJ_METHOD | LINGER_OBJ_BUILTIN_METHOD))
    {
      shape = "hexagon";
      fill = "#d6eaf8";
      color = "#2874a6";
      style = "filled";
    }
  else if (n->flags & LINGER_OBJ_FUNCTION)
    {
      shape = "ellipse";
      fill = "#e9f7ef";
      style = "filled";
    }
  else if (n->flags & (LINGER_OBJ_WEAKREF | LINGER_OBJ_PROXY))
    style = "rounded,filled,dashed";
  if (n->kept)
    {
      color = "#c0392b";
      penwidth = 2.5;
      if (strcmp (fill, "#ffffff") == 0)
        fill = "#fadbd8";
    }
  if (n->root_kind != NULL)
    peripheries = 2;

  g_string_append_printf (out, "    f%u_n%u [label=", cluster, index);
  append_lines (out, lines);
  g_string_append_printf (out, ", shape=%s, style=\"%s\", fillcolor=\"%s\", color=\"%s\", penwidth=%.1f",
                          shape, style, fill, color, penwidth);
  if (peripheries > 1)
    g_string_append_printf (out, ", peripheries=%d", peripheries);
  if (n->node != LINGER_NODE_NONE)
    {
      g_autofree char *tooltip = g_strdup_printf ("%s at 0x%" G_GINT64_MODIFIER "x", n->type, n->address);
      g_string_append (out, ", tooltip=");
      linger_dot_append_string (out, tooltip, 0);
    }
  g_string_append (out, "];\n");
}

static void
write_edge (GString                 *out,
            guint                    cluster,
            const LingerPictureEdge *e)
{
  const char *color = e->part == LINGER_PICTURE_PATH ? "#c0392b" : "#566573";
  const char *style = "solid";
  g_autofree char *label = NULL;

  if (e->text)
    style = "dotted";
  else if (e->ref_kind == LINGER_REF_WEAK)
    style = "dashed";
  else if (e->ref_kind == LINGER_REF_CALLBACK)
    color = "#8e44ad";
  label = e->ref_kind == LINGER_REF_CALLBACK && !e->text
          ? g_strdup_printf ("callback %s", e->label) : g_strdup (e->label);

  g_string_append_printf (out, "    f%u_n%u -> f%u_n%u [label=", cluster, e->from, cluster, e->to);
  linger_dot_append_string (out, label, MAX_LABEL_CHARS);
  g_string_append_printf (out, ", color=\"%s\", fontcolor=\"%s\", style=%s%s];\n", color, color, style,
                          e->part == LINGER_PICTURE_PATH ? ", penwidth=1.6" : "");
}

/* leak and gc-collected: one node for the allocation site. */
static void
write_alloc_finding (GString              *out,
                     const LingerAnalysis *a,
                     guint                 cluster,
                     const LingerFinding  *f)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bytes = linger_picture_bytes (f->bytes);
  g_autofree char *site = linger_picture_site_text (a->sites, f->site);
  gboolean leak = strcmp (f->kind, LINGER_FINDING_LEAK) == 0;

  if (leak)
    g_ptr_array_add (lines, g_strdup_printf ("%" G_GUINT64_FORMAT " native blocks, %s", f->blocks, bytes));
  else
    {
      g_ptr_array_add (lines, g_strdup (f->alloc_type != NULL ? f->alloc_type : "?"));
      g_ptr_array_add (lines, g_strdup_printf ("%" G_GUINT64_FORMAT " freed by the GC, %s", f->blocks, bytes));
    }
  g_ptr_array_add (lines, g_strdup_printf ("allocated at %s", site != NULL ? site : "an unknown site"));
  g_string_append_printf (out, "    f%u_n0 [label=", cluster);
  append_lines (out, lines);
  g_string_append (out, ", shape=component, style=filled, fillcolor=\"#f9e79f\", color=\"#7d6608\"];\n");
  if (!leak && f->example != NULL)
    {
      g_autofree char *example = g_strdup_printf ("a cycle of them: %s", f->example);

      g_string_append_printf (out, "    f%u_n1 [label=", cluster);
      linger_dot_append_string (out, example, 2 * MAX_LABEL_CHARS);
      g_string_append_printf (out, ", shape=note, style=filled, fillcolor=\"#f2f3f4\", color=\"#999999\"];\n"
                                   "    f%u_n0 -> f%u_n1 [style=dotted, arrowhead=none];\n",
                              cluster, cluster);
    }
}

static char *
cluster_title (guint                index,
               const LingerFinding *f)
{
  GString *title = g_string_new (NULL);
  const char *type = f->objects->len > 0 ? g_array_index (f->objects, LingerFindingObject, 0).type
                     : f->alloc_type;

  g_string_append_printf (title, "#%u %s (%s)", index + 1, f->kind, linger_severity_name (f->severity));
  if (f->count > 1)
    g_string_append_printf (title, " \xc3\x97%u", f->count);
  if (type != NULL)
    g_string_append_printf (title, " \xc2\xb7 %s", type);
  if (f->state != NULL)
    g_string_append_printf (title, " \xc2\xb7 %s", f->state);
  if (f->retained_bytes > 0)
    {
      g_autofree char *bytes = linger_picture_bytes (f->retained_bytes);
      g_string_append_printf (title, " \xc2\xb7 retains %s", bytes);
    }
  return g_string_free (title, FALSE);
}

void
linger_report_dot (const LingerAnalysis *a,
                   GString              *out)
{
  g_autoptr(LingerFindingGraphs) graphs = linger_finding_graphs_new (a);
  guint n_drawn = MIN (a->findings->len, LINGER_DOT_MAX_FINDINGS);
  g_autofree char *title = g_strdup_printf ("linger: %s (pid %u): %u finding%s",
                                            a->trace->program != NULL ? a->trace->program : "?",
                                            a->trace->pid, a->findings->len,
                                            a->findings->len == 1 ? "" : "s");

  if (n_drawn < a->findings->len)
    {
      char *more = g_strdup_printf ("%s, the first %u drawn (the JSON report has them all)", title, n_drawn);

      g_free (title);
      title = more;
    }

  g_string_append (out, "digraph linger {\n"
                        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=");
  linger_dot_append_string (out, title, 3 * MAX_LABEL_CHARS);
  g_string_append (out, "];\n"
                        "  node [fontname=\"Helvetica\", fontsize=10];\n"
                        "  edge [fontname=\"Helvetica\", fontsize=9];\n");
  if (a->findings->len == 0)
    g_string_append (out, "  none [label=\"no findings\", shape=plaintext];\n");

  /* Graphviz stacks the clusters of a left-to-right graph from the bottom
   * up: the first finding, written last, is drawn at the top. */
  for (guint i = n_drawn; i-- > 0; )
    {
      const LingerFinding *f = g_ptr_array_index (a->findings, i);
      g_autofree char *cluster = cluster_title (i, f);

      g_string_append_printf (out, "  subgraph cluster_%u {\n    label=", i);
      linger_dot_append_string (out, cluster, 3 * MAX_LABEL_CHARS);
      g_string_append_printf (out, ";\n    style=\"rounded\"; color=\"%s\"; penwidth=2; fontcolor=\"%s\";\n",
                              severity_color (f->severity), severity_color (f->severity));
      if (f->objects->len == 0)
        write_alloc_finding (out, a, i, f);
      else
        {
          g_autoptr(LingerFindingGraph) picture = linger_finding_graphs_get (graphs, f);

          for (guint k = 0; k < picture->nodes->len; k++)
            write_node (out, a, i, k, &g_array_index (picture->nodes, LingerPictureNode, k));
          for (guint k = 0; k < picture->edges->len; k++)
            write_edge (out, i, &g_array_index (picture->edges, LingerPictureEdge, k));
        }
      g_string_append (out, "  }\n");
    }
  g_string_append (out, "}\n");
}

/* Through a temporary file: no pipe to keep fed while reading the other. */
gboolean
linger_report_svg (const LingerAnalysis  *a,
                   GString               *out,
                   GError               **error)
{
  g_autoptr(GString) dot_text = g_string_new (NULL);
  g_autofree char *dot = g_find_program_in_path ("dot");
  g_autofree char *input = NULL;
  g_autofree char *svg = NULL;
  g_autofree char *errors = NULL;
  char *argv[4];
  int fd;
  int status = 0;
  gboolean ok;

  if (dot == NULL)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                           "--format=svg needs Graphviz's `dot` (apt-get install graphviz), or use --format=dot");
      return FALSE;
    }
  linger_report_dot (a, dot_text);
  fd = g_file_open_tmp ("linger-XXXXXX.dot", &input, error);
  if (fd < 0)
    return FALSE;
  close (fd);
  if (!g_file_set_contents (input, dot_text->str, dot_text->len, error))
    {
      g_unlink (input);
      return FALSE;
    }
  argv[0] = dot;
  argv[1] = (char *) "-Tsvg";
  argv[2] = input;
  argv[3] = NULL;
  ok = g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &svg, &errors, &status, error);
  g_unlink (input);
  if (!ok)
    return FALSE;
  if (!g_spawn_check_exit_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s -Tsvg failed: %s", dot,
                   errors != NULL && *errors != '\0' ? g_strstrip (errors) : "no message");
      return FALSE;
    }
  g_string_append (out, svg);
  return TRUE;
}
