/* fuzz_report.c: the whole of `linger report` on an arbitrary buffer.
 *
 * One input is one trace file.  It goes through what `linger report`
 * does with a file, in memory (linger_trace_new_from_data(): no file is
 * written): the reader, the analysis (graph, dominators, findings,
 * allocation findings and sites, symbolization), the text report (with
 * and without colour) and the JSON report; and, when the trace has two
 * snapshots or more, `linger report --diff` between its first and its
 * last snapshot, in text and JSON.
 *
 * The options of the report (--all, --instances, --live-cycles, --stacks,
 * colour) are taken from the low bits of the file header's start time,
 * which nothing else in the analysis uses, so every option is reached
 * without the fuzzer having to append bytes the reader would see as a
 * damaged record.
 *
 * Built as a libFuzzer target (LLVMFuzzerTestOneInput) by build.sh; the
 * same function is called by afl_driver.c for AFL++.  Returns 0 always:
 * a trace the reader rejects is a normal outcome, only a crash, a hang,
 * a leak or a sanitizer report is a bug.
 */
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "linger_analysis.h"
#include "linger_diff.h"
#include "linger_report_json.h"
#include "linger_report_text.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* GLib's critical warnings (a g_return_if_fail that trips) are bugs
   * of the analyzer on a trace the reader accepted: make them fatal so
   * the fuzzer reports them. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);
  return 0;
}

static void
report_diff (LingerTrace                 *trace,
             const LingerFindingsOptions *options,
             gboolean                     color)
{
  LingerSnapshot *first = g_ptr_array_index (trace->snapshots, 0);
  LingerSnapshot *last = g_ptr_array_index (trace->snapshots, trace->snapshots->len - 1);
  g_autoptr(LingerDiff) diff = linger_diff_new (trace, first, trace, last, options);
  g_autoptr(GString) out = g_string_new (NULL);

  linger_report_text_diff (diff, color, out);
  g_string_truncate (out, 0);
  linger_report_json_diff (diff, out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LingerAnalysis) analysis = NULL;
  g_autoptr(GString) out = NULL;
  LingerFindingsOptions options = { 0 };
  LingerTrace *trace;
  guint64 bits;
  gboolean color;
  guint frames;

  trace = linger_trace_new_from_data (data, size, &error);
  if (trace == NULL)
    {
      /* What `linger report` would print: it must be a message. */
      g_assert (error != NULL && error->message != NULL);
      return 0;
    }
  g_assert (error == NULL);

  bits = trace->start_time_ns;
  options.ungrouped = (bits & 1) != 0;
  options.instances = (bits & 2) != 0;
  options.live_cycles = (bits & 4) != 0;
  frames = (bits & 8) != 0 ? G_MAXUINT : LINGER_REPORT_DEFAULT_FRAMES;
  color = (bits & 16) != 0;

  if (trace->snapshots->len >= 2)
    report_diff (trace, &options, color);

  analysis = linger_analysis_new_for_trace_with_options (trace, &options);
  out = g_string_new (NULL);
  linger_report_text_full (analysis, color, frames, out);
  g_string_truncate (out, 0);
  linger_report_json (analysis, out);
  return 0;
}
