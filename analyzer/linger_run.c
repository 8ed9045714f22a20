/* linger_run.c: `linger run`, a program under the shim. */
#define _GNU_SOURCE
#include "linger_run.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linger_config.h"
#include "linger_error.h"
#include "linger_trace_format.h"

static char *
exe_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe == NULL)
    return NULL;
  return g_path_get_dirname (exe);
}

char *
linger_run_find_shim (GError **error)
{
  const char *env = g_getenv ("LINGER_PRELOAD");
  g_autofree char *dir = NULL;
  g_autofree char *tried = NULL;

  if (env != NULL && *env != '\0')
    {
      g_autofree char *path = g_canonicalize_filename (env, NULL);

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, LINGER_ERROR, LINGER_ERROR_NO_SHIM,
                       "LINGER_PRELOAD is set to %s, which does not exist", env);
          return NULL;
        }
      return g_steal_pointer (&path);
    }

  dir = exe_dir ();
  if (dir != NULL)
    {
      /* Uninstalled: build/linger next to build/liblinger.so. */
      g_autofree char *beside = g_build_filename (dir, "liblinger.so", NULL);
      /* Installed, relocatable: bin/linger and lib/linger/liblinger.so. */
      g_autofree char *relative = g_build_filename (dir, LINGER_BINDIR_TO_SHIM, NULL);
      g_autofree char *relocated = g_canonicalize_filename (relative, NULL);

      if (g_file_test (beside, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&beside);
      if (g_file_test (relocated, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&relocated);
      tried = g_strdup_printf ("%s, %s, ", beside, relocated);
    }

  if (g_file_test (LINGER_SHIM_INSTALLED_PATH, G_FILE_TEST_IS_REGULAR))
    return g_strdup (LINGER_SHIM_INSTALLED_PATH);

  g_set_error (error, LINGER_ERROR, LINGER_ERROR_NO_SHIM,
               "cannot find the linger shim (tried %s%s); set LINGER_PRELOAD to the path of liblinger.so",
               tried != NULL ? tried : "", LINGER_SHIM_INSTALLED_PATH);
  return NULL;
}

/* In the forked child: restores the signals the parent ignores (exec
 * keeps ignored signals ignored), then execs.  It leaves with _exit(2):
 * the parent's atexit handlers and stdio buffers are not the child's. */
static void G_GNUC_NORETURN
child_exec (char                   **argv,
            char                   **envp,
            const struct sigaction  *old_int,
            const struct sigaction  *old_quit)
{
  int errsv;
  char msg[4096];
  int status;
  ssize_t ignored;

  sigaction (SIGINT, old_int, NULL);
  sigaction (SIGQUIT, old_quit, NULL);
  execvpe (argv[0], argv, envp);
  errsv = errno;

  /* Like a shell: 127 when there is no such command, 126 when it exists
   * but cannot be executed. */
  if (errsv == ENOENT && strchr (argv[0], '/') == NULL)
    {
      snprintf (msg, sizeof msg, "linger: %s: command not found\n", argv[0]);
      status = 127;
    }
  else
    {
      snprintf (msg, sizeof msg, "linger: %s: %s\n", argv[0], g_strerror (errsv));
      status = errsv == ENOENT ? 127 : 126;
    }
  ignored = write (STDERR_FILENO, msg, strlen (msg));
  (void) ignored;
  _exit (status);
}

/* Signals a wrapper is expected to pass on: a process manager stopping
 * `linger run`, or a user asking for a snapshot with `kill -USR2` on the
 * pid they see, must reach the program, not kill the wrapper. */
static const int forwarded_signals[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
static volatile sig_atomic_t forward_to;

static void
forward_signal (int sig)
{
  if (forward_to > 0)
    kill ((pid_t) forward_to, sig);
}

static int
wait_child (pid_t pid)
{
  int status;
  struct sigaction fwd = { .sa_handler = forward_signal };
  struct sigaction old[G_N_ELEMENTS (forwarded_signals)];

  forward_to = pid;
  sigemptyset (&fwd.sa_mask);
  fwd.sa_flags = SA_RESTART;
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded_signals); i++)
    sigaction (forwarded_signals[i], &fwd, &old[i]);

  for (;;)
    {
      pid_t r = waitpid (pid, &status, 0);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        {
          status = -1;
          break;
        }
    }
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded_signals); i++)
    sigaction (forwarded_signals[i], &old[i], NULL);
  forward_to = 0;
  if (status == -1)
    return 1;
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 1;
}

/* Whether the trace at @path was written by process @pid: its file
 * header says so (the rest of the file is not read). */
static gboolean
trace_is_of_pid (const char *path,
                 pid_t       pid)
{
  linger_file_header header;
  FILE *fp = fopen (path, "rb");
  gboolean yes;

  if (fp == NULL)
    return FALSE;
  yes = fread (&header, sizeof header, 1, fp) == 1
        && memcmp (header.magic, LINGER_TRACE_MAGIC, LINGER_TRACE_MAGIC_LEN) == 0
        && header.pid == (guint32) pid
        && (header.flags & LINGER_FILE_FORKED_CHILD) == 0;
  fclose (fp);
  return yes;
}

static void
report_traces (const char  *manifest,
               pid_t        pid,
               char       **root_trace)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (g_file_get_contents (manifest, &contents, NULL, NULL))
    {
      lines = g_strsplit (contents, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (*lines[i] == '\0')
            continue;
          g_printerr ("linger: trace written to %s\n", lines[i]);
          n++;
          /* A process that exec()s keeps its pid: the last trace of the
           * pid is the program it became. */
          if (root_trace != NULL && trace_is_of_pid (lines[i], pid))
            {
              g_free (*root_trace);
              *root_trace = g_strdup (lines[i]);
            }
        }
    }
  if (n == 0)
    g_printerr ("linger: no trace was written (was the program dynamically linked, "
                "and did it keep LD_PRELOAD? a static or setuid program cannot be traced)\n");
}

int
linger_run (const char  *output,
            char       **argv,
            GError     **error)
{
  return linger_run_with_trace (output, argv, NULL, error);
}

int
linger_run_with_trace (const char  *output,
                       char       **argv,
                       char       **root_trace,
                       GError     **error)
{
  g_autofree char *shim = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *preload = NULL;
  g_auto(GStrv) envp = NULL;
  struct sigaction ignore = { .sa_handler = SIG_IGN };
  struct sigaction old_int;
  struct sigaction old_quit;
  const char *old_preload;
  GError *tmp_error = NULL;
  pid_t pid;
  int fd;
  int status;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, -1);

  shim = linger_run_find_shim (error);
  if (shim == NULL)
    return -1;
  if (strpbrk (shim, " :") != NULL)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_NO_SHIM,
                   "cannot preload %s: the dynamic loader splits LD_PRELOAD at spaces and colons; "
                   "install or copy liblinger.so to a path without them", shim);
      return -1;
    }

  fd = g_file_open_tmp ("linger-manifest-XXXXXX", &manifest, &tmp_error);
  if (fd < 0)
    {
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED,
                   "cannot create the trace manifest: %s", tmp_error->message);
      g_error_free (tmp_error);
      return -1;
    }
  close (fd);

  envp = g_get_environ ();
  old_preload = g_environ_getenv (envp, "LD_PRELOAD");
  if (old_preload != NULL && *old_preload != '\0')
    preload = g_strdup_printf ("%s %s", shim, old_preload);
  else
    preload = g_strdup (shim);
  envp = g_environ_setenv (envp, "LD_PRELOAD", preload, TRUE);
  envp = g_environ_setenv (envp, "LINGER_MANIFEST", manifest, TRUE);
  if (output != NULL)
    {
      /* Absolute, so a program that changes directory still writes where
       * the user asked. */
      g_autofree char *absolute = g_canonicalize_filename (output, NULL);
      envp = g_environ_setenv (envp, "LINGER_OUTPUT", absolute, TRUE);
    }
  else
    {
      envp = g_environ_unsetenv (envp, "LINGER_OUTPUT");
      envp = g_environ_unsetenv (envp, "LINGER_OUTPUT_PID");
    }

  /* Like system(): the terminal's ^C goes to the program, linger waits
   * for it and reports.  Ignored before fork so no signal slips between. */
  sigaction (SIGINT, &ignore, &old_int);
  sigaction (SIGQUIT, &ignore, &old_quit);

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      int errsv = errno;
      sigaction (SIGINT, &old_int, NULL);
      sigaction (SIGQUIT, &old_quit, NULL);
      g_unlink (manifest);
      g_set_error (error, LINGER_ERROR, LINGER_ERROR_FAILED, "fork: %s", g_strerror (errsv));
      return -1;
    }
  if (pid == 0)
    {
      /* Only the process that execs writes exactly --output; children
       * it forks or spawns have other pids and add theirs to the name.
       * linger has no other thread, so allocating after fork is safe. */
      if (output != NULL)
        {
          g_autofree char *pid_text = g_strdup_printf ("%d", (int) getpid ());
          envp = g_environ_setenv (envp, "LINGER_OUTPUT_PID", pid_text, TRUE);
        }
      child_exec (argv, envp, &old_int, &old_quit);
    }

  status = wait_child (pid);
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGQUIT, &old_quit, NULL);

  if (root_trace != NULL)
    *root_trace = NULL;
  report_traces (manifest, pid, root_trace);
  g_unlink (manifest);
  return status;
}
