/* test_report.c: JSON and text reports, and `linger run` with a stand-in
 * shim. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "linger_error.h"
#include "linger_report_json.h"
#include "linger_report_text.h"
#include "linger_run.h"
#include "linger_test_heap.h"

static void
test_json_string (void)
{
  g_autoptr(GString) out = g_string_new (NULL);

  linger_json_append_string (out, "a\"b\\c\n\t\x01\x1f" "\x7f");
  g_assert_cmpstr (out->str, ==, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\\u007f\"");

  /* Valid UTF-8 is kept; each invalid byte becomes U+FFFD. */
  g_string_truncate (out, 0);
  linger_json_append_string (out, "caf\xc3\xa9 \xff\xfe ok \xe2\x82");
  g_assert_cmpstr (out->str, ==, "\"caf\xc3\xa9 \\ufffd\\ufffd ok \\ufffd\\ufffd\"");

  g_string_truncate (out, 0);
  linger_json_append_string (out, NULL);
  g_assert_cmpstr (out->str, ==, "null");
}

static LingerAnalysis *
finalizer_heap (void)
{
  g_autoptr(Heap) h = heap_new ();
  guint64 o = heap_obj (h, "__main__.Expensive\"Object", NULL, 0);
  guint64 args = heap_obj (h, "builtins.tuple", NULL, 0);

  heap_item (h, args, o, 0);
  heap_finalize (h, o, heap_function (h, "on_finalize"), args, 0, TRUE);
  return heap_analyse (h, FALSE);
}

static void
test_json_report (void)
{
  g_autoptr(LingerAnalysis) a = finalizer_heap ();
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) again = g_string_new (NULL);

  linger_report_json (a, out);
  g_assert_true (g_str_has_prefix (out->str, "{\n  \"linger_version\": \""));
  g_assert_true (g_str_has_suffix (out->str, "}\n"));
  test_assert_contains (out->str, "\"program\": \"app.py\"");
  test_assert_contains (out->str, "\"pid\": 4242");
  test_assert_contains (out->str, "\"python\": \"3.11.2\"");
  test_assert_contains (out->str, "\"complete\": true");
  test_assert_not_contains (out->str, "incomplete_reason");
  test_assert_contains (out->str, "\"objects\": ");
  test_assert_contains (out->str, "\"snapshots\": 1");
  test_assert_contains (out->str, "\"messages\": []");
  test_assert_contains (out->str, "\"kind\": \"finalizer-keepalive\"");
  test_assert_contains (out->str, "\"severity\": \"error\"");
  test_assert_contains (out->str, "\"count\": 1");
  test_assert_contains (out->str, "\"state\": \"garbage\"");
  test_assert_contains (out->str, "\"type\": \"__main__.Expensive\\\"Object\"");
  test_assert_contains (out->str, "\"allocated_at\": null");
  test_assert_contains (out->str, "\"address\": \"0x");
  test_assert_contains (out->str, "\"size\": 48");
  test_assert_contains (out->str, "\"path\": [\n        \"weakref.finalize\",\n        \"_Info.args\",\n"
                                  "        \"tuple[0]\",\n        \"Expensive\\\"Object\"\n      ]");
  test_assert_contains (out->str, "\"via\": \"args\"");
  test_assert_not_contains (out->str, "held_by");
  test_assert_contains (out->str, "\"atexit\": true");

  /* Deterministic. */
  linger_report_json (a, again);
  g_assert_cmpstr (out->str, ==, again->str);
}

static GBytes *
non_python_trace (gboolean complete)
{
  TestTrace *t = test_trace_new (NULL);

  g_assert_true (linger_writer_message (&t->w, LINGER_MSG_INFO, "not a Python process\x1b[31m"));
  return test_trace_finish (t, complete);
}

static LingerAnalysis *
analysis_of (GBytes *bytes)
{
  GError *error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  LingerTrace *trace = linger_trace_new_from_data (data, len, &error);

  g_assert_no_error (error);
  return linger_analysis_new_for_trace (trace, FALSE);
}

static void
test_non_python (void)
{
  g_autoptr(GBytes) bytes = non_python_trace (TRUE);
  g_autoptr(LingerAnalysis) a = analysis_of (bytes);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new (NULL);

  linger_report_text (a, FALSE, text);
  test_assert_contains (text->str, "no Python heap (not a CPython process)");
  test_assert_contains (text->str, "No findings: there is no Python heap to analyse.");
  test_assert_contains (text->str, "complete");
  /* The shim's text cannot send escape sequences to the terminal. */
  test_assert_contains (text->str, "not a Python process?[31m");
  test_assert_not_contains (text->str, "\033");

  linger_report_json (a, json);
  test_assert_contains (json->str, "\"python\": null");
  test_assert_contains (json->str, "\"objects\": 0");
  test_assert_contains (json->str, "\"snapshot\": null");
  test_assert_contains (json->str, "\"findings\": []");
  test_assert_contains (json->str, "\"text\": \"not a Python process\\u001b[31m\"");
}

static void
test_incomplete (void)
{
  g_autoptr(GBytes) bytes = non_python_trace (FALSE);
  g_autoptr(LingerAnalysis) a = analysis_of (bytes);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new (NULL);

  linger_report_text (a, FALSE, text);
  test_assert_contains (text->str, "incomplete: the trace has no END record");
  linger_report_json (a, json);
  test_assert_contains (json->str, "\"complete\": false");
  test_assert_contains (json->str, "\"incomplete_reason\": \"the trace has no END record");
}

static void
test_text_report (void)
{
  g_autoptr(LingerAnalysis) a = finalizer_heap ();
  g_autoptr(GString) plain = g_string_new (NULL);
  g_autoptr(GString) color = g_string_new (NULL);

  linger_report_text (a, FALSE, plain);
  test_assert_contains (plain->str, "linger report: app.py (pid 4242)");
  test_assert_contains (plain->str, "python:    3.11.2 (cpython)");
  test_assert_contains (plain->str, "taken at exit");
  test_assert_contains (plain->str, "error finalizer-keepalive:");
  test_assert_contains (plain->str, "1 × __main__.Expensive\"Object (garbage)");
  test_assert_contains (plain->str, "weakref.finalize → _Info.args → tuple[0] → Expensive\"Object");
  test_assert_contains (plain->str, "hint:");
  test_assert_not_contains (plain->str, "\033");

  linger_report_text (a, TRUE, color);
  test_assert_contains (color->str, "\033[1;31merror finalizer-keepalive\033[0m");
}

/* --- linger run ----------------------------------------------------------- */

static char *shim_stand_in;

static int
run_sh (const char *script,
        const char *output)
{
  char *argv[] = { (char *) "sh", (char *) "-c", (char *) script, NULL };
  g_autoptr(GError) error = NULL;
  int status;

  g_setenv ("LINGER_PRELOAD", shim_stand_in, TRUE);
  status = linger_run (output, argv, &error);
  g_assert_no_error (error);
  return status;
}

static void
test_run_status (void)
{
  if (g_test_subprocess ())
    {
      g_assert_cmpint (run_sh ("exit 3", NULL), ==, 3);
      g_assert_cmpint (run_sh ("kill -TERM $$", NULL), ==, 128 + 15);
      g_assert_cmpint (run_sh ("exit 0", NULL), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*linger: no trace was written*");
}

static void
test_run_manifest (void)
{
  if (g_test_subprocess ())
    {
      g_assert_cmpint (run_sh ("echo /tmp/a.trace >> \"$LINGER_MANIFEST\"; "
                               "echo /tmp/b.trace >> \"$LINGER_MANIFEST\"; exit 5", NULL), ==, 5);
      return;
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("linger: trace written to /tmp/a.trace\nlinger: trace written to /tmp/b.trace\n");
}

/* The child's environment: shim first in LD_PRELOAD, the old value kept,
 * LINGER_OUTPUT absolute, LINGER_OUTPUT_PID the exec'd process itself. */
static void
test_run_environment (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *cwd = g_get_current_dir ();
      g_autofree char *script = g_strdup_printf (
        "test \"$LD_PRELOAD\" = \"%s libold.so\" || exit 11; "
        "test \"$LINGER_OUTPUT\" = \"%s/out.trace\" || exit 12; "
        "test \"$LINGER_OUTPUT_PID\" = \"$$\" || exit 13; "
        "test -f \"$LINGER_MANIFEST\" || exit 14; "
        "exit 0", shim_stand_in, cwd);

      g_setenv ("LD_PRELOAD", "libold.so", TRUE);
      g_setenv ("LINGER_OUTPUT_PID", "1", TRUE);
      g_assert_cmpint (run_sh (script, "out.trace"), ==, 0);
      /* Without --output, no stale LINGER_OUTPUT reaches the program. */
      g_setenv ("LINGER_OUTPUT", "/elsewhere", TRUE);
      g_assert_cmpint (run_sh ("test -z \"$LINGER_OUTPUT$LINGER_OUTPUT_PID\" || exit 15", NULL), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
}

static void
test_run_exec_failure (void)
{
  if (g_test_subprocess ())
    {
      char *missing[] = { (char *) "linger-no-such-command-for-test", NULL };
      g_autofree char *path = NULL;
      char *not_exec[] = { NULL, NULL };
      g_autoptr(GError) error = NULL;
      int fd = g_file_open_tmp ("linger-not-executable-XXXXXX", &path, &error);

      /* Mode 0600: not executable, even for root. */
      g_assert_no_error (error);
      close (fd);
      not_exec[0] = path;
      g_setenv ("LINGER_PRELOAD", shim_stand_in, TRUE);
      g_assert_cmpint (linger_run (NULL, missing, &error), ==, 127);
      g_assert_no_error (error);
      g_assert_cmpint (linger_run (NULL, not_exec, &error), ==, 126);
      g_assert_no_error (error);
      g_unlink (path);
      return;
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*linger-no-such-command-for-test: command not found*linger-not-executable-*: Permission denied*");
}

static void
test_run_no_shim (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shim = NULL;
  char *argv[] = { (char *) "true", NULL };

  g_setenv ("LINGER_PRELOAD", "/nonexistent/liblinger.so", TRUE);
  shim = linger_run_find_shim (&error);
  g_assert_null (shim);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_NO_SHIM);
  test_assert_contains (error->message, "LINGER_PRELOAD");
  g_clear_error (&error);
  g_assert_cmpint (linger_run (NULL, argv, &error), ==, -1);
  g_assert_error (error, LINGER_ERROR, LINGER_ERROR_NO_SHIM);

  g_setenv ("LINGER_PRELOAD", shim_stand_in, TRUE);
  g_clear_error (&error);
  g_clear_pointer (&shim, g_free);
  shim = linger_run_find_shim (&error);
  g_assert_no_error (error);
  g_assert_true (g_path_is_absolute (shim));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  shim_stand_in = g_strdup (g_getenv ("LINGER_TEST_NOOP_PRELOAD"));

  g_test_add_func ("/linger/report/json-string", test_json_string);
  g_test_add_func ("/linger/report/json", test_json_report);
  g_test_add_func ("/linger/report/non-python", test_non_python);
  g_test_add_func ("/linger/report/incomplete", test_incomplete);
  g_test_add_func ("/linger/report/text", test_text_report);
  if (shim_stand_in != NULL)
    {
      g_test_add_func ("/linger/run/status", test_run_status);
      g_test_add_func ("/linger/run/manifest", test_run_manifest);
      g_test_add_func ("/linger/run/environment", test_run_environment);
      g_test_add_func ("/linger/run/exec-failure", test_run_exec_failure);
      g_test_add_func ("/linger/run/no-shim", test_run_no_shim);
    }

  return g_test_run ();
}
