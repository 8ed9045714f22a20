/* linger_main.c: the `linger` command: option parsing and printing only. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "linger_analysis.h"
#include "linger_config.h"
#include "linger_progress.h"
#include "linger_policy.h"
#include "linger_report_dot.h"
#include "linger_report_html.h"
#include "linger_memlimit.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_run.h"

#define EXIT_USAGE 2

/* The global usage stays short: each command has its own help
 * (`linger COMMAND --help`), and docs/linger.1 has everything. */
static const char usage_text[] =
  "Usage: linger COMMAND [OPTION...] [ARG...]\n"
  "\n"
  "Finds the Python objects that outlive their welcome: objects kept alive by\n"
  "their own finalizer or weak reference callback, reference cycles, leaks.\n"
  "\n"
  "Commands:\n"
  "  run [OPTION...] [--] COMMAND [ARG...]\n"
  "                       run COMMAND with linger preloaded; writes a trace\n"
  "  report [OPTION...] [TRACE]\n"
  "                       the findings of a trace (default: the newest *.trace\n"
  "                       of the current directory)\n"
  "  report --diff [OPTION...] [TRACE [TRACE2]]\n"
  "                       what grew between two snapshots\n"
  "  help [COMMAND]       this text, or the help of COMMAND\n"
  "  --version            linger's version\n"
  "\n"
  "See `linger COMMAND --help` for the options of a command, `man linger` for\n"
  "all of it.\n"
  "\n"
  "Exit status: 0 success (no --fail-on match), 1 error (bad input, unreadable\n"
  "trace, I/O), 2 usage error, 3 findings matched --fail-on (for `linger run`:\n"
  "the program exited 0 but its findings matched; the program's own non-zero\n"
  "status, or 128+N when signal N killed it, always wins).\n";

static const char run_help_text[] =
  "Usage: linger run [OPTION...] [--] COMMAND [ARG...]\n"
  "\n"
  "Runs COMMAND with the linger shim preloaded (LD_PRELOAD).  Every process of\n"
  "COMMAND that runs Python writes a trace, and linger run prints the name of\n"
  "each on standard error.  It exits with COMMAND's exit status (128+N when\n"
  "signal N killed it).  A snapshot of the Python heap is taken at exit, each\n"
  "time the program receives the snapshot signal, and every SECONDS with\n"
  "--snapshot-interval.  Options end at the first word that is not one.\n"
  "A trace holds type, attribute and function names, file names, dict keys\n"
  "(cut to 60 bytes) and the command line, never the values of strings,\n"
  "bytes or numbers.\n"
  "\n"
  "Options:\n"
  "  -o, --output=FILE            the trace of COMMAND itself (default:\n"
  "                               linger.PROGRAM.PID.trace here); %p in FILE\n"
  "                               is the pid, %e the program name\n"
  "  --snapshot-signal=SIGNAL     SIGUSR1, SIGUSR2 (the default), SIGRTMIN+N or\n"
  "                               off: a snapshot each time it arrives\n"
  "  --snapshot-interval=SECONDS  also a snapshot every SECONDS (0.5 allowed)\n"
  "  --native, --no-native        track malloc and co. with native stacks (native\n"
  "                               leaks), or not (default: only when COMMAND is\n"
  "                               not Python)\n"
  "  --native-depth=N             native frames kept per stack, 1 to 256 (32)\n"
  "  --python-depth=N             Python frames kept per stack, 1 to 256 (8)\n"
  "  --no-alloc                   no allocation tracking at all\n"
  "  --trace-all                  a trace for every process COMMAND starts, not\n"
  "                               only for COMMAND and its Python processes\n"
  "  --redact-keys                dict keys and command-line arguments are not\n"
  "                               recorded in the trace\n"
  "  --fail-on=KIND[,KIND...]     when COMMAND exits 0, exit 3 if its trace has a\n"
  "                               finding of KIND (kinds: linger report --help)\n"
  "  --suppressions=FILE          findings that FILE suppresses do not count for\n"
  "                               --fail-on (repeatable); ./.linger-suppressions\n"
  "                               is read too\n"
  "  --no-default-suppressions    do not read ./.linger-suppressions\n"
  "  --baseline=OLD.json          only findings not in OLD.json (an earlier\n"
  "                               linger report --format=json) count\n"
  "  -h, --help                   this help\n"
  "\n"
  "Environment: the options travel to the shim in these variables, which\n"
  "COMMAND inherits (set them yourself to preload the shim without linger run):\n"
  "  LINGER_OUTPUT             --output (linger run sets it only with --output)\n"
  "  LINGER_SNAPSHOT_SIGNAL    --snapshot-signal\n"
  "  LINGER_SNAPSHOT_INTERVAL  --snapshot-interval\n"
  "  LINGER_ALLOC=0            --no-alloc\n"
  "  LINGER_NATIVE=1|0         --native, --no-native\n"
  "  LINGER_NATIVE_DEPTH       --native-depth\n"
  "  LINGER_PYTHON_DEPTH       --python-depth\n"
  "  LINGER_TRACE_ALL=1        --trace-all\n"
  "  LINGER_REDACT_KEYS=1      --redact-keys\n"
  "linger run itself reads LINGER_PRELOAD: the shim to preload instead of the\n"
  "one next to linger or installed with it.\n"
  "\n"
  "Examples:\n"
  "  linger run -- python3 app.py --port 8080\n"
  "  linger run -o app.trace --snapshot-interval=60 -- python3 -m myservice\n"
  "  linger run --native -- python3 uses_a_c_extension.py\n"
  "  linger run --fail-on=error -- python3 -m pytest tests/   # in CI\n"
  "  LINGER_OUTPUT=/tmp/%e.%p.trace LD_PRELOAD=/usr/lib/linger/liblinger.so python3 app.py\n";

static const char report_summary[] =
  "Analyses a trace written by `linger run` (without TRACE: the newest *.trace\n"
  "of the current directory) and prints its findings, most severe first:\n"
  "keep-alives, reference cycles, uncollectable and resurrected objects, leaks.\n"
  "--diff shows what grew between two snapshots instead: the first and the last\n"
  "of TRACE, the last of TRACE and of TRACE2, or those named by --snapshots.";

static const char report_description[] =
  "Finding kinds (for --fail-on, with the severities error, warning, info,\n"
  "meaning that severity or above, and any):\n"
  "  finalizer-keepalive, bound-method-cycle, weakref-callback-keepalive,\n"
  "  weak-container-keepalive, closure-cycle, reference-cycle, uncollectable,\n"
  "  resurrected, leak, gc-collected\n"
  "\n"
  "Environment:\n"
  "  NO_COLOR    set and not empty: no colours in the text report (colours are\n"
  "              only used when standard output is a terminal)\n"
  "\n"
  "Files:\n"
  "  .linger-suppressions  read from the current directory unless\n"
  "                        --no-default-suppressions\n"
  "\n"
  "Examples:\n"
  "  linger report                          # the newest *.trace here\n"
  "  linger report --format=json -o report.json app.trace\n"
  "  linger report --fail-on=warning app.trace || exit $?\n"
  "  linger report --generate-suppressions app.trace >> .linger-suppressions\n"
  "  linger report --format=html -o report.html app.trace\n"
  "  linger report --diff --snapshots=1,3 server.trace\n"
  "  linger report --diff before.trace after.trace\n"
  "\n"
  "Exit status: 0 success, 1 error (unreadable trace, I/O), 2 usage error,\n"
  "3 findings matched --fail-on.";

static int
fail (const char *message)
{
  linger_progress_end ();
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
  linger_progress_end ();
  if (fwrite (text->str, 1, text->len, stdout) != text->len || fflush (stdout) != 0)
    return fail ("cannot write the report to standard output");
  return EXIT_SUCCESS;
}

/* --progress forces the progress line, --no-progress turns it off; by
 * default it is drawn when standard error is a terminal, where someone
 * waits for a large trace. */
static void
setup_progress (gboolean progress,
                gboolean no_progress)
{
  linger_progress_enable (progress || (!no_progress && isatty (STDERR_FILENO)));
}

/* The trace `linger report` reads when given none: the newest *.trace of
 * the current directory (ties by name, the last one), which is the one
 * `linger run` just wrote.  Says which on stderr, since it was a guess. */
static char *
newest_trace (GError **error)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autoptr(GDir) dir = g_dir_open (".", 0, error);
  g_autofree char *best = NULL;
  struct timespec best_time = { 0 };
  const char *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      struct stat st;

      if (!g_str_has_suffix (name, ".trace") || stat (name, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      if (best != NULL
          && (st.st_mtim.tv_sec < best_time.tv_sec
              || (st.st_mtim.tv_sec == best_time.tv_sec && st.st_mtim.tv_nsec < best_time.tv_nsec)
              || (st.st_mtim.tv_sec == best_time.tv_sec && st.st_mtim.tv_nsec == best_time.tv_nsec
                  && strcmp (name, best) < 0)))
        continue;
      g_free (best);
      best = g_strdup (name);
      best_time = st.st_mtim;
    }
  if (best == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "no *.trace file in %s; run `linger run -- COMMAND` first or name a trace", cwd);
      return NULL;
    }
  g_printerr ("linger: reading %s\n", best);
  return g_steal_pointer (&best);
}

/* Fills an empty TRACE argument list with the newest trace. */
static gboolean
default_trace (char   ***files,
               GError  **error)
{
  char *newest;

  if (*files != NULL && (*files)[0] != NULL)
    return TRUE;
  newest = newest_trace (error);
  if (newest == NULL)
    return FALSE;
  g_strfreev (*files);
  *files = g_new0 (char *, 2);
  (*files)[0] = newest;
  return TRUE;
}

/* -o/--output FILE: created or truncated; standard output without. */
static int
write_output (const GString *text,
              const char    *path)
{
  FILE *file;
  gboolean ok;
  int saved;

  if (path == NULL)
    return write_stdout (text);
  errno = 0;
  file = fopen (path, "wb");
  ok = file != NULL && fwrite (text->str, 1, text->len, file) == text->len;
  saved = errno;
  /* A full disk may only show when the buffer is flushed. */
  if (file != NULL && fclose (file) != 0 && ok)
    {
      ok = FALSE;
      saved = errno;
    }
  if (!ok)
    {
      g_printerr ("linger: error: cannot write the report to %s: %s\n", path,
                  saved != 0 ? g_strerror (saved) : "write error");
      return EXIT_FAILURE;
    }
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
             gboolean                      json,
             const char                   *output)
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
    linger_report_text_diff (diff, output == NULL && use_color (), out);
  return write_output (out, output);
}

/* --suppressions files, then ./.linger-suppressions (unless
 * @no_default); NULL with *status set when one cannot be read. */
static LingerSuppressions *
load_suppressions (char   **files,
                   gboolean no_default,
                   int     *status)
{
  g_autoptr(LingerSuppressions) s = linger_suppressions_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; files != NULL && files[i] != NULL; i++)
    if (!linger_suppressions_load_file (s, files[i], &error))
      {
        *status = fail (error->message);
        return NULL;
      }
  if (!no_default && g_file_test (".linger-suppressions", G_FILE_TEST_EXISTS)
      && !linger_suppressions_load_file (s, ".linger-suppressions", &error))
    {
      *status = fail (error->message);
      return NULL;
    }
  return g_steal_pointer (&s);
}

/* Suppressions, then the baseline: what is left is what the report shows
 * and --fail-on judges. */
static void
filter_findings (LingerAnalysis     *analysis,
                 LingerSuppressions *suppressions,
                 LingerBaseline     *baseline)
{
  if (suppressions->files->len > 0 || baseline != NULL)
    linger_policy_filter (analysis, suppressions, baseline);
}

static int
cmd_report (int    argc,
            char **argv)
{
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  gboolean all = FALSE;
  gboolean diff = FALSE;
  g_autofree char *snapshots = NULL;
  gboolean instances = FALSE;
  gboolean live_cycles = FALSE;
  gboolean stacks = FALSE;
  gboolean progress = FALSE;
  gboolean no_progress = FALSE;
  g_autofree char *fail_on_text = NULL;
  g_auto(GStrv) suppression_files = NULL;
  gboolean no_default_suppressions = FALSE;
  gboolean generate = FALSE;
  g_autofree char *baseline_file = NULL;
  g_autoptr(LingerSuppressions) suppressions = NULL;
  g_autoptr(LingerBaseline) baseline = NULL;
  LingerFailOn fail_on = { 0 };
  int status = EXIT_SUCCESS;
  g_autofree char *max_memory = NULL;
  LingerFindingsOptions options = { 0 };
  g_auto(GStrv) files = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LingerAnalysis) analysis = NULL;
  g_autoptr(GString) out = NULL;
  gboolean json = FALSE;
  gboolean dot = FALSE;
  gboolean svg = FALSE;
  gboolean html = FALSE;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      "Output format: text (default), json, dot, svg or html", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the report to FILE, not standard output", "FILE" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "List every instance, not one example per type", NULL },
    { "diff", 'd', 0, G_OPTION_ARG_NONE, &diff, "What grew between two snapshots", NULL },
    { "snapshots", 0, 0, G_OPTION_ARG_STRING, &snapshots, "With --diff: the ids of the two snapshots", "I,J" },
    { "instances", 0, 0, G_OPTION_ARG_NONE, &instances, "List every instance inside its group", NULL },
    { "live-cycles", 0, 0, G_OPTION_ARG_NONE, &live_cycles,
      "Also report reference cycles the program still holds", NULL },
    { "stacks", 0, 0, G_OPTION_ARG_NONE, &stacks, "Show whole allocation stacks (text)", NULL },
    { "progress", 0, 0, G_OPTION_ARG_NONE, &progress, "Show progress on stderr even if it is not a terminal", NULL },
    { "no-progress", 0, 0, G_OPTION_ARG_NONE, &no_progress, "No progress on stderr, even on a terminal", NULL },
    { "fail-on", 0, 0, G_OPTION_ARG_STRING, &fail_on_text,
      "Exit with 3 if a finding of these kinds (or severity error, warning, info, or any) remains", "KIND[,KIND...]" },
    { "suppressions", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &suppression_files,
      "Leave out the findings this file's entries match (repeatable)", "FILE" },
    { "no-default-suppressions", 0, 0, G_OPTION_ARG_NONE, &no_default_suppressions,
      "Do not read ./.linger-suppressions", NULL },
    { "generate-suppressions", 0, 0, G_OPTION_ARG_NONE, &generate,
      "Print suppression entries for the findings instead of the report", NULL },
    { "baseline", 0, 0, G_OPTION_ARG_FILENAME, &baseline_file,
      "Report only findings not in OLD.json (an earlier report --format=json)", "OLD.json" },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &max_memory,
      "Refuse traces whose analysis needs more (512M, 4G, unlimited; default: 80% of available memory)", "SIZE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "[TRACE [TRACE2]]" },
    { NULL }
  };

  /* GOption prints the help from the entries, so it lists every option. */
  g_set_prgname ("linger report");
  context = g_option_context_new ("- analyse a linger trace");
  g_option_context_set_summary (context, report_summary);
  g_option_context_set_description (context, report_description);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  setup_progress (progress, no_progress);

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
  else if (strcmp (format, "dot") == 0)
    dot = TRUE;
  else if (strcmp (format, "svg") == 0)
    svg = TRUE;
  else if (strcmp (format, "html") == 0)
    html = TRUE;
  else
    return usage_error ("unknown report format '%s' (use text, json, dot, svg or html)", format);
  if (output != NULL && *output == '\0')
    return usage_error ("--output needs a file name");

  if (!default_trace (&files, &error))
    return fail (error->message);
  if (fail_on_text != NULL)
    {
      g_autoptr(GError) fail_on_error = NULL;

      if (!linger_fail_on_parse (fail_on_text, &fail_on, &fail_on_error))
        return usage_error ("%s", fail_on_error->message);
    }
  if (diff && (fail_on_text != NULL || suppression_files != NULL || generate || baseline_file != NULL))
    return usage_error ("--fail-on, --suppressions, --generate-suppressions and --baseline do not go with --diff");

  if (diff)
    {
      LingerFindingsOptions diff_options = { .ungrouped = all, .instances = instances, .live_cycles = live_cycles };

      if (dot || svg || html)
        return usage_error ("report --diff writes text or json, not %s", format);
      return report_diff (files, snapshots, &diff_options, json, output);
    }
  if (snapshots != NULL)
    return usage_error ("--snapshots goes with --diff");

  if (files[1] != NULL)
    return usage_error ("report takes one trace file, not %u", g_strv_length (files));

  /* Bad suppressions or baseline fail before the trace is read. */
  suppressions = load_suppressions (suppression_files, no_default_suppressions, &status);
  if (suppressions == NULL)
    return status;
  if (baseline_file != NULL && (baseline = linger_baseline_load (baseline_file, &error)) == NULL)
    return fail (error->message);

  options.ungrouped = all;
  options.instances = instances;
  options.live_cycles = live_cycles;
  analysis = linger_analysis_new_for_file_with_options (files[0], &options, &error);
  if (analysis == NULL)
    return fail (error->message);
  filter_findings (analysis, suppressions, baseline);

  out = g_string_new (NULL);
  if (generate)
    {
      linger_suppressions_generate (analysis->findings, analysis->sites, out);
      return write_stdout (out);
    }
  if (json)
    linger_report_json (analysis, out);
  else if (dot)
    linger_report_dot (analysis, out);
  else if (svg)
    {
      if (!linger_report_svg (analysis, out, &error))
        return fail (error->message);
    }
  else if (html)
    linger_report_html (analysis, out);
  else
    linger_report_text_full (analysis, output == NULL && use_color (),
                             stacks ? G_MAXUINT : LINGER_REPORT_DEFAULT_FRAMES, out);
  status = write_output (out, output);
  /* JSON has them in "unused_suppressions". */
  if (!json)
    linger_policy_warn_unused (analysis->filtered);
  if (status == EXIT_SUCCESS && fail_on_text != NULL)
    {
      guint n = linger_fail_on_count (&fail_on, analysis);

      if (n > 0)
        {
          g_printerr ("linger: %u finding%s match%s --fail-on=%s\n", n, n == 1 ? "" : "s",
                      n == 1 ? "es" : "", fail_on_text);
          status = LINGER_EXIT_FINDINGS;
        }
    }
  return status;
}

/* --native-depth=N, --python-depth=N: frames per stack, 1 to 256. */
static gboolean
parse_depth (const char *value)
{
  guint64 n;

  return g_ascii_string_to_unsigned (value, 10, 1, 256, &n, NULL);
}

/* linger run --fail-on: the run, then the report of the command's own
 * trace, judged.  The program's own failure always wins. */
static int
run_and_judge (const char  *output,
               char       **command,
               const char  *fail_on_text,
               char       **suppression_files,
               gboolean     no_default_suppressions,
               const char  *baseline_file)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerSuppressions) suppressions = NULL;
  g_autoptr(LingerBaseline) baseline = NULL;
  g_autoptr(LingerAnalysis) analysis = NULL;
  g_autofree char *trace = NULL;
  g_autoptr(GString) summary = g_string_new (NULL);
  LingerFailOn fail_on;
  int status = EXIT_SUCCESS;
  guint n;

  if (!linger_fail_on_parse (fail_on_text, &fail_on, &error))
    return usage_error ("%s", error->message);
  /* Bad suppressions or baseline fail before the program runs. */
  suppressions = load_suppressions (suppression_files, no_default_suppressions, &status);
  if (suppressions == NULL)
    return status;
  if (baseline_file != NULL && (baseline = linger_baseline_load (baseline_file, &error)) == NULL)
    return fail (error->message);

  status = linger_run_with_trace (output, command, &trace, &error);
  if (status < 0)
    return fail (error->message);
  /* A program that failed (or was not found) has said what went wrong. */
  if (trace == NULL && status != 0)
    return status;
  if (trace == NULL)
    return fail ("--fail-on: the command wrote no trace of its own, there is nothing to judge");
  analysis = linger_analysis_new_for_file (trace, FALSE, &error);
  if (analysis == NULL)
    {
      g_printerr ("linger: error: %s\n", error->message);
      return status != 0 ? status : EXIT_FAILURE;
    }
  if (!analysis->trace->has_runtime)
    g_printerr ("linger: warning: --fail-on judges the trace of %s itself, which did not run Python "
                "(run the Python program directly, or exec it)\n", command[0]);
  filter_findings (analysis, suppressions, baseline);
  linger_policy_warn_unused (analysis->filtered);
  n = linger_fail_on_count (&fail_on, analysis);
  if (n == 0)
    return status;
  linger_policy_summary (analysis, &fail_on, summary);
  {
    g_auto(GStrv) lines = g_strsplit (summary->str, "\n", -1);

    for (guint k = 0; lines[k] != NULL; k++)
      if (*lines[k] != '\0')
        g_printerr ("linger: %s\n", lines[k]);
  }
  g_printerr ("linger: %u finding%s match%s --fail-on=%s (linger report %s for details)\n", n,
              n == 1 ? "" : "s", n == 1 ? "es" : "", fail_on_text, trace);
  return status != 0 ? status : LINGER_EXIT_FINDINGS;
}

/* For `linger run`, whose options are parsed by hand: whether argv[*i]
 * is option NAME, as "NAME=VALUE" or "NAME VALUE".  Returns the value,
 * moving *i past a separate one, or NULL: not NAME, or (*missing) NAME
 * came last, without its value. */
static const char *
option_value (const char  *name,
              int          argc,
              char       **argv,
              int         *i,
              gboolean    *missing)
{
  const char *arg = argv[*i];
  size_t n = strlen (name);

  *missing = FALSE;
  if (strncmp (arg, name, n) != 0 || (arg[n] != '=' && arg[n] != '\0'))
    return NULL;
  if (arg[n] == '=')
    return arg + n + 1;
  if (*i + 1 < argc)
    return argv[++*i];
  *missing = TRUE;
  return NULL;
}

static int
cmd_run (int    argc,
         char **argv)
{
  g_autoptr(GError) error = NULL;
  const char *output = NULL;
  const char *fail_on_text = NULL;
  g_autoptr(GPtrArray) suppression_files = g_ptr_array_new ();
  gboolean no_default_suppressions = FALSE;
  const char *baseline_file = NULL;
  int i;
  int status;

  /* Parsed by hand: options end at the first word that is not one, so
   * the command's own options are never taken for linger's.  Each
   * variable the shim reads for people has its option here; the shim's
   * other ones (LINGER_ROOT_PID, LINGER_OUTPUT_PID, LINGER_MANIFEST) are
   * its own bookkeeping between processes, which linger run or the shim
   * sets, never the user. */
  for (i = 1; i < argc; i++)
    {
      const char *arg = argv[i];
      const char *value;
      gboolean missing = FALSE;

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
      else if ((value = option_value ("--snapshot-interval", argc, argv, &i, &missing)) != NULL)
        {
          char *end = NULL;
          double secs = g_ascii_strtod (value, &end);

          if (end == value || *end != '\0' || !(secs > 0))
            return usage_error ("--snapshot-interval wants a number of seconds > 0, not '%s'", value);
          /* Options for the shim travel in its environment variables,
           * which the program inherits from this process. */
          g_setenv ("LINGER_SNAPSHOT_INTERVAL", value, TRUE);
        }
      else if (missing)
        return usage_error ("%s needs a value", arg);
      else if ((value = option_value ("--snapshot-signal", argc, argv, &i, &missing)) != NULL)
        g_setenv ("LINGER_SNAPSHOT_SIGNAL", value, TRUE);
      else if (missing)
        return usage_error ("%s needs a value", arg);
      else if ((value = option_value ("--fail-on", argc, argv, &i, &missing)) != NULL)
        fail_on_text = value;
      else if (missing)
        return usage_error ("%s needs a value", arg);
      else if ((value = option_value ("--baseline", argc, argv, &i, &missing)) != NULL)
        baseline_file = value;
      else if (missing)
        return usage_error ("%s needs a value", arg);
      else if ((value = option_value ("--suppressions", argc, argv, &i, &missing)) != NULL)
        g_ptr_array_add (suppression_files, (gpointer) value);
      else if (missing)
        return usage_error ("%s needs a value", arg);
      else if (strcmp (arg, "--no-default-suppressions") == 0)
        no_default_suppressions = TRUE;
      else if (strcmp (arg, "--native") == 0)
        g_setenv ("LINGER_NATIVE", "1", TRUE);
      else if (strcmp (arg, "--no-native") == 0)
        g_setenv ("LINGER_NATIVE", "0", TRUE);
      else if (strcmp (arg, "--no-alloc") == 0)
        g_setenv ("LINGER_ALLOC", "0", TRUE);
      else if (strcmp (arg, "--trace-all") == 0)
        g_setenv ("LINGER_TRACE_ALL", "1", TRUE);
      else if (strcmp (arg, "--redact-keys") == 0)
        g_setenv ("LINGER_REDACT_KEYS", "1", TRUE);
      else if ((value = option_value ("--native-depth", argc, argv, &i, &missing)) != NULL
               || (!missing && (value = option_value ("--python-depth", argc, argv, &i, &missing)) != NULL))
        {
          gboolean native = g_str_has_prefix (arg, "--native-depth");
          const char *name = native ? "--native-depth" : "--python-depth";

          if (!parse_depth (value))
            return usage_error ("%s wants a number of frames from 1 to 256, not '%s'", name, value);
          /* Unset, the shim keeps its own default. */
          g_setenv (native ? "LINGER_NATIVE_DEPTH" : "LINGER_PYTHON_DEPTH", value, TRUE);
        }
      else if (missing)
        return usage_error ("%s needs a number of frames", arg);
      else if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)
        {
          fputs (run_help_text, stdout);
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

  if (fail_on_text == NULL && (suppression_files->len > 0 || baseline_file != NULL))
    return usage_error ("--suppressions and --baseline go with --fail-on for run");
  if (fail_on_text == NULL)
    {
      status = linger_run (output, argv + i, &error);
      if (status < 0)
        return fail (error->message);
      return status;
    }
  g_ptr_array_add (suppression_files, NULL);
  return run_and_judge (output, argv + i, fail_on_text, (char **) suppression_files->pdata,
                        no_default_suppressions, baseline_file);
}

/* `linger help COMMAND`: the same text as `linger COMMAND --help`. */
static int
help_command (const char *command)
{
  char *help_argv[] = { (char *) command, (char *) "--help", NULL };

  if (strcmp (command, "report") == 0)
    return cmd_report (2, help_argv);
  if (strcmp (command, "run") == 0)
    return cmd_run (2, help_argv);
  return usage_error ("no help for '%s': the commands are run and report", command);
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
  if (strcmp (command, "help") == 0 && argc > 2)
    return help_command (argv[2]);
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
