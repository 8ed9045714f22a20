/* linger_progress.c: the `\r`-redrawn progress line (linger_progress.h). */
#include "linger_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ten draws a second: smooth enough to show that work goes on, rare
 * enough that drawing costs nothing next to the work. */
#define LINGER_PROGRESS_INTERVAL_US (G_USEC_PER_SEC / 10)

static struct
{
  gboolean    enabled;
  const char *stage;      /* NULL: nothing on screen */
  guint64     total;
  guint64     done;
  gint64      last_draw;  /* g_get_monotonic_time() of the last draw */
  gsize       drawn;      /* width of what is on the line now */
} progress;

static void
erase_at_exit (void)
{
  linger_progress_end ();
}

void
linger_progress_enable (gboolean enabled)
{
  static gboolean registered;

  progress.enabled = enabled;
  /* Whatever way the command ends (a report written to a file, an
   * error), the shell prompt must not land on a stale progress line. */
  if (enabled && !registered)
    registered = atexit (erase_at_exit) == 0;
}

gboolean
linger_progress_enabled (void)
{
  return progress.enabled;
}

/* What a stage counts, for the line to say "1200 objects"; "reading"
 * counts bytes, shown as sizes. */
static const char *
stage_unit (const char *stage)
{
  if (strcmp (stage, "dominators") == 0)
    return " objects";
  if (strcmp (stage, "symbolizing") == 0)
    return " addresses";
  return "";
}

static void
format_amount (GString *line,
               guint64  n)
{
  if (strcmp (progress.stage, "reading") == 0)
    {
      g_autofree char *text = g_format_size (n);

      g_string_append (line, text);
    }
  else
    g_string_append_printf (line, "%" G_GUINT64_FORMAT, n);
}

static void
draw (void)
{
  g_autoptr(GString) line = g_string_new ("linger: ");
  gsize width;

  g_string_append (line, progress.stage);
  if (progress.total != 0)
    {
      guint64 done = MIN (progress.done, progress.total);

      g_string_append_c (line, ' ');
      format_amount (line, done);
      g_string_append (line, " / ");
      format_amount (line, progress.total);
      g_string_append_printf (line, "%s (%u%%)", stage_unit (progress.stage),
                              (guint) (done * 100 / progress.total));
    }
  else if (progress.done != 0)
    {
      g_string_append_c (line, ' ');
      format_amount (line, progress.done);
      g_string_append (line, stage_unit (progress.stage));
    }
  else
    g_string_append (line, "...");

  /* Spaces rather than an escape sequence wipe a longer line drawn
   * before: any terminal understands them, TERM=dumb included. */
  width = line->len;
  if (progress.drawn > width)
    g_string_append_printf (line, "%*s", (int) (progress.drawn - width), "");
  fprintf (stderr, "\r%s", line->str);
  fflush (stderr);
  progress.drawn = width;
  progress.last_draw = g_get_monotonic_time ();
}

void
linger_progress_begin (const char *name,
                       guint64     total)
{
  if (!progress.enabled)
    return;
  progress.stage = name;
  progress.total = total;
  progress.done = 0;
  draw ();
}

void
linger_progress_update (guint64 done)
{
  if (!progress.enabled || progress.stage == NULL)
    return;
  progress.done = done;
  if (g_get_monotonic_time () - progress.last_draw >= LINGER_PROGRESS_INTERVAL_US)
    draw ();
}

void
linger_progress_step (const char *name)
{
  if (!progress.enabled)
    return;
  if (progress.stage == NULL || strcmp (progress.stage, name) != 0)
    linger_progress_begin (name, 0);
  linger_progress_update (progress.done + 1);
}

void
linger_progress_end (void)
{
  if (!progress.enabled || progress.stage == NULL)
    return;
  fprintf (stderr, "\r%*s\r", (int) progress.drawn, "");
  fflush (stderr);
  progress.stage = NULL;
  progress.drawn = 0;
}
