/* linger_main.c: the `linger` command: option parsing and printing only. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "linger_analysis.h"
#include "linger_config.h"
#include "linger_memlimit.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_run.h"

#define EXIT_USAGE 2

static const char usage_text[] =
  "Usage:\n"
  "  linger run [--output FILE] [--snapshot-interval SECONDS]\n"
  "             [--snapshot-signal SIGUSR1|SIGUSR2|SIGRTMIN+N|off]\n"
  "             [--native|--no-native] [--native-depth=N] [--python-depth=N]\n"
  "             [--no-alloc] [--] COMMAND [ARG...]\n"
  "      Run COMMAND with the linger shim preloaded; every process that runs\n"
  "      Python writes a trace.  --output names the trace of COMMAND itself.\n"
  "      A snapshot is taken at exit, whenever the program receives the\n"
  "      snapshot signal (default SIGUSR2; the program's own handler for it\n"
  "      still runs), and every SECONDS with --snapshot-interval.\n"
  "      Allocations are tracked with their sites: --native also tracks\n"
  "      malloc and co. (native leaks), --no-native does not; --native-depth\n"
  "      and --python-depth set the frames kept per stack (1 to 256);\n"
  "      --no-alloc turns allocation tracking off.\n"
  "  linger report [--format=text|json] [--all|--instances] [--live-cycles]\n"
  "                [--stacks] [--max-memory=SIZE] TRACE\n"
  "      Analyse a trace: objects kept alive by their own finalizer, a weak\n"
  "      reference's callback, a weak container or an atexit callback;\n"
  "      reference cycles (through a bound method, a closure, or any other\n"
  "      that only the cyclic GC can free); gc.garbage; resurrected objects.\n"
  "      --all lists every instance instead of one example per group,\n"
  "      --instances lists them inside their group, --live-cycles reports\n"
  "      reference cycles the program still holds too.  With allocation\n"
  "      tracking: where each object was allocated, native leaks, objects\n"
  "      only the cyclic GC freed; --stacks shows whole allocation stacks\n"
  "      (5 frames by default).  --max-memory refuses, with a message, a\n"
  "      trace whose analysis would need more memory (default: 80% of what\n"
  "      is available; 512M, 4G, or unlimited).\n"
  "  linger report --diff [--snapshots=I,J] [--format=text|json] TRACE [TRACE2]\n"
  "      What grew between two snapshots, by type, and the findings that are\n"
  "      new in the later one: the first and the last snapshot of TRACE, the\n"
  "      last snapshots of TRACE and TRACE2, or the snapshots with ids I and J\n"
  "      (of TRACE, or I of TRACE and J of TRACE2).\n"
  "  linger --version\n";

static int
fail (const char *message)
{
  g_printerr ("linger: error: %s\n", message);
  return EXIT_FAILURE;
}

G_GNUC_PRINTF (1, 2)
static int
usage_error (const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* One line, like every error, so scripts can show it as is. */
  g_printerr ("linger: error: %s (see linger --help)\n", message);
  return EXIT_USAGE;
}

static gboolean
use_color (void)
{
  const char *no_color = g_getenv ("NO_COLOR");

  return isatty (STDOUT_FILENO) && (no_color == NULL || *no_color == '\0');
}

static int
write_stdout (const GString *text)
{
  if (fwrite (text->str, 1, text->len, stdout) != text->len || fflush (stdout) != 0)
    return fail ("cannot write the report to standard output");
  return EXIT_SUCCESS;
}

/* "I,J": two snapshot ids. */
static gboolean
parse_snapshot_ids (const char *text,
                    guint32     ids[2])
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);

  if (g_strv_length (parts) != 2)
    return FALSE;
  for (guint i = 0; i < 2; i++)
    {
      guint64 id;

      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 1, G_MAXUINT32, &id, NULL))
        return FALSE;
      ids[i] = (guint32) id;
    }
  return TRUE;
}

static int
report_diff (char                        **files,
             const char                   *snapshots,
             const LingerFindingsOptions  *options,
             gboolean                      json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerDiff) diff = NULL;
  g_autoptr(GString) out = NULL;
  guint32 ids[2];

  if (files == NULL || files[0] == NULL)
    return usage_error ("report --diff needs a trace file (or two)");
  if (files[1] != NULL && files[2] != NULL)
    return usage_error ("report --diff compares two traces at most, not %u", g_strv_length (files));
  if (snapshots != NULL && !parse_snapshot_ids (snapshots, ids))
    return usage_error ("--snapshots wants two snapshot ids, as in --snapshots=1,3, not '%s'", snapshots);

  diff = linger_diff_new_for_files ((const char * const *) files, snapshots != NULL ? ids : NULL, options, &error);
  if (diff == NULL)
    return fail (error->message);

  out = g_string_new (NULL);
  if (json)
    linger_report_json_diff (diff, out);
  else
    linger_report_text_diff (diff, use_color (), out);
  return write_stdout (out);
}

static int
cmd_report (int    argc,
            char **argv)
{
  g_autofree char *format = NULL;
  gboolean all = FALSE;
  gboolean diff = FALSE;
  g_autofree char *snapshots = NULL;
  gboolean instances = FALSE;
  gboolean live_cycles = FALSE;
  gboolean stacks = FALSE;
  g_autofree char *max_memory = NULL;
  LingerFindingsOptions options = { 0 };
  g_auto(GStrv) files = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LingerAnalysis) analysis = NULL;
  g_autoptr(GString) out = NULL;
  gboolean json;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "Output format: text (default) or json", "FORMAT" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "List every instance, not one example per type", NULL },
    { "diff", 'd', 0, G_OPTION_ARG_NONE, &diff, "What grew between two snapshots", NULL },
    { "snapshots", 0, 0, G_OPTION_ARG_STRING, &snapshots, "With --diff: the ids of the two snapshots", "I,J" },
    { "instances", 0, 0, G_OPTION_ARG_NONE, &instances, "List every instance inside its group", NULL },
    { "live-cycles", 0, 0, G_OPTION_ARG_NONE, &live_cycles,
      "Also report reference cycles the program still holds", NULL },
    { "stacks", 0, 0, G_OPTION_ARG_NONE, &stacks, "Show whole allocation stacks (text)", NULL },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &max_memory,
      "Refuse traces whose analysis needs more (512M, 4G, unlimited; default: 80% of available memory)", "SIZE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "TRACE" },
    { NULL }
  };

  context = g_option_context_new ("TRACE - analyse a linger trace");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("%s", error->message);

  if (max_memory != NULL)
    {
      guint64 bytes = 0;

      if (strcmp (max_memory, "unlimited") != 0 && !linger_memlimit_parse (max_memory, &bytes))
        return usage_error ("--max-memory wants a size such as 512M or 4G (or unlimited), not '%s'", max_memory);
      linger_memlimit_set (bytes, "--max-memory");
    }

  if (format == NULL || strcmp (format, "text") == 0)
    json = FALSE;
  else if (strcmp (format, "json") == 0)
    json = TRUE;
  else
    return usage_error ("unknown report format '%s' (use text or json)", format);

  if (diff)
    {
      LingerFindingsOptions diff_options = { .ungrouped = all, .instances = instances, .live_cycles = live_cycles };

      return report_diff (files, snapshots, &diff_options, json);
    }
  if (snapshots != NULL)
    return usage_error ("--snapshots goes with --diff");

  if (files == NULL || files[0] == NULL)
    return usage_error ("report needs a trace file");
  if (files[1] != NULL)
    return usage_error ("report takes one trace file, not %u", g_strv_length (files));

  options.ungrouped = all;
  options.instances = instances;
  options.live_cycles = live_cycles;
  analysis = linger_analysis_new_for_file_with_options (files[0], &options, &error);
  if (analysis == NULL)
    return fail (error->message);

  out = g_string_new (NULL);
  if (json)
    linger_report_json (analysis, out);
  else
    linger_report_text_full (analysis, use_color (), stacks ? G_MAXUINT : LINGER_REPORT_DEFAULT_FRAMES, out);
  return write_stdout (out);
}

/* --native-depth=N, --python-depth=N: frames per stack, 1 to 256. */
static gboolean
parse_depth (const char *value)
{
  guint64 n;

  return g_ascii_string_to_unsigned (value, 10, 1, 256, &n, NULL);
}

static int
cmd_run (int    argc,
         char **argv)
{
  g_autoptr(GError) error = NULL;
  const char *output = NULL;
  int i;
  int status;

  /* Parsed by hand: options end at the first word that is not one, so
   * the command's own options are never taken for linger's. */
  for (i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (strcmp (arg, "--") == 0)
        {
          i++;
          break;
        }
      if (strcmp (arg, "--output") == 0 || strcmp (arg, "-o") == 0)
        {
          if (i + 1 >= argc)
            return usage_error ("%s needs a file name", arg);
          output = argv[++i];
        }
      else if (g_str_has_prefix (arg, "--output="))
        output = arg + strlen ("--output=");
      else if (strcmp (arg, "--snapshot-interval") == 0 || g_str_has_prefix (arg, "--snapshot-interval=")
               || strcmp (arg, "--snapshot-signal") == 0 || g_str_has_prefix (arg, "--snapshot-signal="))
        {
          /* Options for the shim travel in its environment variables,
           * which the program inherits from this process. */
          gboolean interval = g_str_has_prefix (arg, "--snapshot-interval");
          const char *eq = strchr (arg, '=');
          const char *value;

          if (eq != NULL)
            value = eq + 1;
          else if (i + 1 < argc)
            value = argv[++i];
          else
            return usage_error ("%s needs a value", arg);
          if (interval)
            {
              char *end = NULL;
              double secs = g_ascii_strtod (value, &end);

              if (end == value || *end != '\0' || !(secs > 0))
                return usage_error ("--snapshot-interval wants a number of seconds > 0, not '%s'", value);
              g_setenv ("LINGER_SNAPSHOT_INTERVAL", value, TRUE);
            }
          else
            g_setenv ("LINGER_SNAPSHOT_SIGNAL", value, TRUE);
        }
      else if (strcmp (arg, "--native") == 0)
        g_setenv ("LINGER_NATIVE", "1", TRUE);
      else if (strcmp (arg, "--no-native") == 0)
        g_setenv ("LINGER_NATIVE", "0", TRUE);
      else if (strcmp (arg, "--no-alloc") == 0)
        g_setenv ("LINGER_ALLOC", "0", TRUE);
      else if (strcmp (arg, "--native-depth") == 0 || g_str_has_prefix (arg, "--native-depth=")
               || strcmp (arg, "--python-depth") == 0 || g_str_has_prefix (arg, "--python-depth="))
        {
          gboolean native = g_str_has_prefix (arg, "--native-depth");
          const char *name = native ? "--native-depth" : "--python-depth";
          const char *eq = strchr (arg, '=');
          const char *value;

          if (eq != NULL)
            value = eq + 1;
          else if (i + 1 < argc)
            value = argv[++i];
          else
            return usage_error ("%s needs a number of frames", name);
          if (!parse_depth (value))
            return usage_error ("%s wants a number of frames from 1 to 256, not '%s'", name, value);
          /* Unset, the shim keeps its own default. */
          g_setenv (native ? "LINGER_NATIVE_DEPTH" : "LINGER_PYTHON_DEPTH", value, TRUE);
        }
      else if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)
        {
          fputs (usage_text, stdout);
          return EXIT_SUCCESS;
        }
      else if (arg[0] == '-' && arg[1] != '\0')
        return usage_error ("unknown option '%s' for run", arg);
      else
        break;
    }

  if (output != NULL && *output == '\0')
    return usage_error ("--output needs a file name");
  if (i >= argc)
    return usage_error ("run needs a command to run");

  status = linger_run (output, argv + i, &error);
  if (status < 0)
    return fail (error->message);
  return status;
}

int
main (int    argc,
      char **argv)
{
  const char *command;

  setlocale (LC_ALL, "");
  g_set_prgname ("linger");

  if (argc < 2)
    return usage_error ("no command given");

  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0)
    {
      fputs (usage_text, stdout);
      return EXIT_SUCCESS;
    }
  if (strcmp (command, "--version") == 0 || strcmp (command, "version") == 0)
    {
      printf ("linger %s\n", LINGER_VERSION);
      return EXIT_SUCCESS;
    }
  if (strcmp (command, "report") == 0)
    return cmd_report (argc - 1, argv + 1);
  if (strcmp (command, "run") == 0)
    return cmd_run (argc - 1, argv + 1);
  return usage_error ("unknown command '%s'", command);
}
