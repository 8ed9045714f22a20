/* linger_describe.c: how objects, edges and paths are shown to people. */
#include "linger_describe.h"

#include <string.h>

const char *
linger_describe_short_type (const char *type_name)
{
  const char *dot = strrchr (type_name, '.');

  if (dot == NULL || dot[1] == '\0')
    return type_name;
  return dot + 1;
}

static char *
bracketed (const char *what,
           const char *name)
{
  if (name == NULL || *name == '\0')
    return g_strdup_printf ("<%s>", what);
  return g_strdup_printf ("<%s %s>", what, name);
}

char *
linger_describe_node (const LingerGraph *graph,
                      guint32            node)
{
  guint32 flags = linger_graph_flags (graph, node);
  const char *name = linger_graph_name (graph, node);
  const char *type_name = linger_graph_type_name (graph, node);

  if (flags & LINGER_OBJ_METHOD)
    return bracketed ("bound method", name);
  if (flags & LINGER_OBJ_BUILTIN_METHOD)
    return bracketed ("built-in method", name);
  if (flags & LINGER_OBJ_FUNCTION)
    return bracketed ("function", name);
  if (flags & LINGER_OBJ_TYPE)
    return bracketed ("class", name);
  if (flags & LINGER_OBJ_MODULE)
    return bracketed ("module", name);
  if (flags & LINGER_OBJ_FRAME)
    return bracketed ("frame", name);
  if (name != NULL && strcmp (type_name, "builtins.code") == 0)
    return bracketed ("code", name);
  return g_strdup (linger_describe_short_type (type_name));
}

char *
linger_describe_label (const LingerGraph *graph,
                       const LingerEdge  *edge)
{
  const char *text = linger_graph_edge_text (graph, edge);

  if (text == NULL)
    text = "?";
  switch (edge->label_kind)
    {
    case LINGER_LABEL_ATTR:
    case LINGER_LABEL_LOCAL:
      return g_strdup_printf (".%s", text);
    case LINGER_LABEL_KEY:
      return g_strdup_printf ("[%s]", text);
    case LINGER_LABEL_INDEX:
      return g_strdup_printf ("[%u]", edge->label);
    case LINGER_LABEL_DICT_KEY:
      return g_strdup_printf ("(key %s)", text);
    case LINGER_LABEL_CLOSURE:
      return g_strdup_printf (" closure '%s'", text);
    case LINGER_LABEL_ITEM:
      return g_strdup ("{item}");
    case LINGER_LABEL_REFERENT:
      return g_strdup ("()");
    case LINGER_LABEL_NONE:
    default:
      return g_strdup ("");
    }
}

char *
linger_describe_attribute_key (const char *text)
{
  gsize len;

  if (text == NULL)
    return NULL;
  len = strlen (text);
  if (len < 3 || (text[0] != '\'' && text[0] != '"') || text[len - 1] != text[0])
    return NULL;
  for (gsize i = 1; i < len - 1; i++)
    if (!(g_ascii_isalnum (text[i]) || text[i] == '_' || (guchar) text[i] >= 0x80))
      return NULL;
  return g_strndup (text + 1, len - 2);
}

void
linger_describe_path (const LingerGraph *graph,
                      const GArray      *path,
                      GPtrArray         *out)
{
  guint n = path->len;

  for (guint i = 0; i < n; )
    {
      const LingerPathStep *step = &g_array_index (path, LingerPathStep, i);
      const LingerPathStep *next = i + 1 < n ? &g_array_index (path, LingerPathStep, i + 1) : NULL;
      const LingerPathStep *third = i + 2 < n ? &g_array_index (path, LingerPathStep, i + 2) : NULL;
      g_autofree char *node = linger_describe_node (graph, step->node);

      if (step->edge == NULL)
        {
          g_ptr_array_add (out, g_steal_pointer (&node));
          break;
        }

      /* instance -.__dict__-> dict -['k']-> value reads as Instance.k. */
      if (next != NULL && next->edge != NULL
          && linger_graph_edge_is_attr (graph, step->edge, "__dict__")
          && next->edge->label_kind == LINGER_LABEL_KEY)
        {
          g_autofree char *key = linger_describe_attribute_key (linger_graph_edge_text (graph, next->edge));
          if (key != NULL)
            {
              g_ptr_array_add (out, g_strdup_printf ("%s.%s", node, key));
              i += 2;
              continue;
            }
        }

      /* function -.__closure__-> tuple -closure x-> cell -.cell_contents->
       * value reads as "<function f> closure 'x'". */
      if (next != NULL && next->edge != NULL
          && linger_graph_edge_is_attr (graph, step->edge, "__closure__")
          && next->edge->label_kind == LINGER_LABEL_CLOSURE)
        {
          g_autofree char *label = linger_describe_label (graph, next->edge);
          g_ptr_array_add (out, g_strconcat (node, label, NULL));
          if (third != NULL && third->edge != NULL
              && linger_graph_edge_is_attr (graph, third->edge, "cell_contents"))
            i += 3;
          else
            i += 2;
          continue;
        }

      {
        g_autofree char *label = linger_describe_label (graph, step->edge);
        g_ptr_array_add (out, g_strconcat (node, label, NULL));
        i++;
      }
    }
}

char *
linger_describe_step_shape (const char *step)
{
  const char *bracket;
  gsize len = strlen (step);

  /* "atexit callback #3: Buffer.flush": the same callback registered for
   * each instance. */
  if (g_str_has_prefix (step, "atexit callback #"))
    {
      const char *p = step + strlen ("atexit callback #");

      while (g_ascii_isdigit (*p))
        p++;
      return g_strdup_printf ("atexit callback #*%s", p);
    }
  /* A node description never contains '[' or "(key ", so the first one
   * starts the step's label. */
  if (len > 0 && step[len - 1] == ']' && (bracket = strchr (step, '[')) != NULL)
    return g_strdup_printf ("%.*s[*]", (int) (bracket - step), step);
  if (len > 0 && step[len - 1] == ')' && (bracket = strstr (step, "(key ")) != NULL)
    return g_strdup_printf ("%.*s(key *)", (int) (bracket - step), step);
  return g_strdup (step);
}
