/* linger_finding_graph.h: the objects and references of a finding, for
 * pictures (dot, svg, html).
 *
 * A finding keeps its path and held_by as rendered text only: that is
 * what grouping and the text and JSON reports need.  A picture needs the
 * objects themselves (type, size, allocation site) and the references
 * between them (label, weak or strong), so this module finds them again
 * in the snapshot's graph:
 *
 * - the path is matched backward from one of the finding's objects,
 *   step by step, against its rendered text (linger_describe_path()'s
 *   collapsing of `instance.__dict__['k']` and of closure cells
 *   included).  Leading steps that name no object ("weakref.finalize",
 *   "_Info.args", "gc.garbage[3]") stay text.
 * - held_by is the branch of a retention tree (linger_retention.h) built
 *   the way the findings build theirs, checked against its rendered text.
 *
 * Whatever cannot be matched is kept as text nodes, so a picture always
 * shows every step the text report shows.
 */
#pragma once

#include <glib.h>

#include "linger_analysis.h"

G_BEGIN_DECLS

typedef struct
{
  guint32     node;       /* graph node, LINGER_NODE_NONE for a text step */
  char       *text;       /* linger_describe_node(), or the step's text */
  const char *type;       /* "module.QualName"; NULL for a text step */
  guint64     address;
  guint64     size;       /* the object's own size */
  guint64     retained;   /* its dominator subtree (0 if unknown) */
  guint32     site;       /* allocation site id, 0 if unknown */
  guint32     flags;      /* LINGER_OBJ_* */
  gboolean    kept;       /* one of the finding's objects */
  const char *root_kind;  /* held_by starts here: "module", "thread", ...; else NULL */
} LingerPictureNode;

typedef enum
{
  LINGER_PICTURE_PATH,     /* the cycle or keep-alive path */
  LINGER_PICTURE_HELD_BY,  /* from a root to the finding's object */
} LingerPicturePart;

typedef struct
{
  guint             from;   /* index into nodes */
  guint             to;
  char             *label;  /* ".name", "[0]", "['k']", "closure 'x'"; "" if none */
  guint16           ref_kind;  /* LINGER_REF_*; STRONG for text steps */
  gboolean          text;   /* joins text steps: no reference of the snapshot */
  LingerPicturePart part;
} LingerPictureEdge;

typedef struct
{
  GArray   *nodes;           /* LingerPictureNode */
  GArray   *edges;           /* LingerPictureEdge */
  /* Whether the objects found render exactly as the finding's text. */
  gboolean  path_matched;
  gboolean  held_by_matched;
} LingerFindingGraph;

/* Per analysis: the retention trees the findings of one analysis share. */
typedef struct _LingerFindingGraphs LingerFindingGraphs;

/* @analysis must outlive the result.
 * Returns: (transfer full) */
LingerFindingGraphs *linger_finding_graphs_new  (const LingerAnalysis *analysis);
void                 linger_finding_graphs_free (LingerFindingGraphs  *graphs);

/* The objects and references of @finding (one of the analysis' findings,
 * or an instance of one).  Findings of allocation tracking (leak,
 * gc-collected) have no objects: their picture is empty.
 * Returns: (transfer full) */
LingerFindingGraph  *linger_finding_graphs_get  (LingerFindingGraphs  *graphs,
                                                 const LingerFinding  *finding);
void                 linger_finding_graph_free  (LingerFindingGraph   *graph);

/* "file.py:12" (the file's base name) of an allocation site, or NULL.
 * Returns: (transfer full) (nullable) */
char                *linger_picture_site_text   (LingerSites *sites,
                                                 guint32      site);

/* "512 bytes", "12.5 KiB": as the text report says sizes.
 * Returns: (transfer full) */
char                *linger_picture_bytes       (guint64 bytes);

/* TRUE for a weakref.finalize or its _Info, or an object whose class
 * defines __del__: the finalizers a picture marks. */
gboolean             linger_picture_node_is_finalizer (const LingerPictureNode *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerFindingGraphs, linger_finding_graphs_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LingerFindingGraph, linger_finding_graph_free)

G_END_DECLS
