/* linger_output.c: naming, opening and closing this process's trace. */
#include "linger_output.h"

#include "linger_alloc.h"
#include "linger_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF 4096
#define CMDLINE_MAX (64 * 1024)
#define MAX_NOTES 8

typedef struct
{
  uint32_t level;
  char     text[256];
} pending_note;

static struct
{
  pthread_mutex_t lock;
  bool            initialised;
  bool            opened;        /* the writer is live */
  bool            open_failed;   /* gave up; said so on stderr */
  bool            finished;
  bool            forked_child;
  bool            is_root;       /* the process the user started */
  pid_t           pid;
  bool            trace_all;     /* LINGER_TRACE_ALL=1 */
  bool            redact;        /* LINGER_REDACT_KEYS=1 */
  dev_t           dev;           /* the trace file, while its fd is closed */
  ino_t           ino;
  linger_writer   writer;
  char            path[PATH_BUF];
  char            cwd[PATH_BUF];
  char            exe[PATH_BUF];
  char            program[256];
  char           *cmdline;
  uint32_t        cmdline_len;
  bool            have_runtime;
  uint32_t        hexversion;
  uint32_t        runtime_flags;
  char            version[32];
  pending_note    notes[MAX_NOTES];
  int             n_notes;
} out = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
read_cmdline (void)
{
  int fd = open ("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  char *buf = malloc (CMDLINE_MAX);
  if (buf == NULL)
    {
      close (fd);
      return;
    }
  size_t len = 0;
  for (;;)
    {
      ssize_t n = read (fd, buf + len, CMDLINE_MAX - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (size_t) n;
      if (len == CMDLINE_MAX)
        break;
    }
  close (fd);
  /* --redact-keys: arguments carry secrets as often as dict keys do
   * (--token=...); only the program is kept. */
  if (out.redact)
    {
      size_t first = strnlen (buf, len);
      len = first < len ? first + 1 : len;
    }
  out.cmdline = buf;
  out.cmdline_len = (uint32_t) len;
}

/* Expands %p (pid), %e (program) and %% in a LINGER_OUTPUT template. */
static bool
expand_template (const char *tmpl, char *dst, size_t cap, bool *had_pid)
{
  size_t n = 0;
  *had_pid = false;
  for (const char *p = tmpl; *p; p++)
    {
      char piece[64];
      const char *add = piece;
      if (p[0] == '%' && p[1] == 'p')
        {
          snprintf (piece, sizeof piece, "%d", (int) getpid ());
          *had_pid = true;
          p++;
        }
      else if (p[0] == '%' && p[1] == 'e')
        {
          add = out.program;
          p++;
        }
      else if (p[0] == '%' && p[1] == '%')
        {
          piece[0] = '%';
          piece[1] = '\0';
          p++;
        }
      else
        {
          piece[0] = *p;
          piece[1] = '\0';
        }
      size_t l = strlen (add);
      if (n + l + 1 > cap)
        return false;
      memcpy (dst + n, add, l);
      n += l;
    }
  dst[n] = '\0';
  return true;
}

/* Inserts ".<pid>" before a ".trace" suffix, or appends it. */
static void
add_pid_suffix (char *path, size_t cap)
{
  char tail[64];
  size_t len = strlen (path);
  const char *ext = ".trace";
  size_t elen = strlen (ext);
  if (len > elen && strcmp (path + len - elen, ext) == 0)
    {
      snprintf (tail, sizeof tail, ".%d%s", (int) getpid (), ext);
      path[len - elen] = '\0';
    }
  else
    snprintf (tail, sizeof tail, ".%d", (int) getpid ());
  strncat (path, tail, cap - strlen (path) - 1);
}

static void
make_absolute (char *path, size_t cap)
{
  if (path[0] == '/' || out.cwd[0] == '\0')
    return;
  char tmp[PATH_BUF];
  int n = snprintf (tmp, sizeof tmp, "%s/%s", out.cwd, path);
  if (n > 0 && (size_t) n < cap)
    memcpy (path, tmp, (size_t) n + 1);
}

/* Decides the trace path; exact_name says LINGER_OUTPUT named this very
 * process's file (so it is truncated, not uniquified). */
static void
choose_path (bool *exact_name)
{
  *exact_name = false;
  const char *tmpl = getenv ("LINGER_OUTPUT");
  if (tmpl != NULL && tmpl[0] != '\0')
    {
      bool had_pid;
      if (expand_template (tmpl, out.path, sizeof out.path, &had_pid))
        {
          const char *owner = getenv ("LINGER_OUTPUT_PID");
          bool is_owner = owner != NULL && atoi (owner) == (int) getpid () && !out.forked_child;
          if (!had_pid && !is_owner)
            add_pid_suffix (out.path, sizeof out.path);
          *exact_name = true;
          make_absolute (out.path, sizeof out.path);
          return;
        }
    }
  snprintf (out.path, sizeof out.path, "linger.%s.%d.trace", out.program, (int) getpid ());
  make_absolute (out.path, sizeof out.path);
}

void
linger_output_init (void)
{
  if (out.initialised)
    return;
  out.initialised = true;
  out.pid = getpid ();

  extern char *program_invocation_short_name;
  snprintf (out.program, sizeof out.program, "%s",
            (program_invocation_short_name && program_invocation_short_name[0])
              ? program_invocation_short_name : "unknown");
  for (char *p = out.program; *p; p++)
    if (*p == '/' || *p == ' ')
      *p = '_';

  if (getcwd (out.cwd, sizeof out.cwd) == NULL)
    out.cwd[0] = '\0';
  ssize_t n = readlink ("/proc/self/exe", out.exe, sizeof out.exe - 1);
  out.exe[n > 0 ? n : 0] = '\0';
  const char *redact = getenv ("LINGER_REDACT_KEYS");
  out.redact = redact != NULL && strcmp (redact, "1") == 0;
  read_cmdline ();

  /* The first process that loads the shim is the root of the session; a
   * root that exec()s keeps its pid, so it stays the root.  Descendants
   * that never show a Python heap (pyenv's bash shims run dozens of
   * helpers) write no trace unless LINGER_TRACE_ALL=1: an empty trace per
   * `readlink` helps nobody. */
  const char *root = getenv ("LINGER_ROOT_PID");
  if (root == NULL || root[0] == '\0')
    {
      char pid[32];
      snprintf (pid, sizeof pid, "%d", (int) getpid ());
      setenv ("LINGER_ROOT_PID", pid, 1);
      out.is_root = true;
    }
  else
    out.is_root = atoi (root) == (int) getpid ();
  const char *all = getenv ("LINGER_TRACE_ALL");
  out.trace_all = all != NULL && strcmp (all, "1") == 0;

  /* Without a %p, LINGER_OUTPUT names the file of the first process that
   * sees it; children (which inherit the variable) add their pid.  The
   * first process claims the name here. */
  const char *tmpl = getenv ("LINGER_OUTPUT");
  if (tmpl != NULL && tmpl[0] != '\0' && getenv ("LINGER_OUTPUT_PID") == NULL)
    {
      char pid[32];
      snprintf (pid, sizeof pid, "%d", (int) getpid ());
      setenv ("LINGER_OUTPUT_PID", pid, 0);
    }
}

bool
linger_output_redact (void)
{
  return out.redact;
}

bool
linger_output_is_root (void)
{
  return out.is_root || out.trace_all;
}

const char *
linger_output_cmdline (uint32_t *len)
{
  *len = out.cmdline_len;
  return out.cmdline;
}

static void
append_manifest (const char *path)
{
  const char *manifest = getenv ("LINGER_MANIFEST");
  if (manifest == NULL || manifest[0] == '\0')
    return;
  int fd = open (manifest, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  char line[PATH_BUF + 2];
  int n = snprintf (line, sizeof line, "%s\n", path);
  /* One write of less than PIPE_BUF bytes: O_APPEND keeps lines from
   * concurrent processes whole. */
  if (n > 0 && (size_t) n < sizeof line)
    {
      ssize_t r;
      do
        r = write (fd, line, (size_t) n);
      while (r < 0 && errno == EINTR);
    }
  close (fd);
}

#include <stdarg.h>

/* One line on stderr, written with a single write(2). */
__attribute__ ((format (printf, 1, 2))) static void
say (const char *fmt, ...)
{
  char buf[PATH_BUF + 256];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (n > 0)
    {
      ssize_t r = write (STDERR_FILENO, buf, (size_t) n < sizeof buf ? (size_t) n : sizeof buf - 1);
      (void) r;
    }
}

/* Traces are private (0600) and created, never opened: O_EXCL|O_NOFOLLOW
 * means a symlink planted in a shared directory (/tmp) under the name we
 * are about to use cannot redirect the trace onto someone else's file.
 * A name given with --output may replace an earlier trace, but only a
 * regular file of this user; unlink() removes a link, never its target. */
static int
create_trace (const char *path, bool replace)
{
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = open (path, flags, 0600);
  if (fd >= 0 || errno != EEXIST || !replace)
    return fd;
  struct stat st;
  if (lstat (path, &st) != 0)
    return -1;
  if (S_ISLNK (st.st_mode))
    {
      errno = ELOOP;
      return -1;
    }
  if (!S_ISREG (st.st_mode) || st.st_uid != geteuid ())
    {
      errno = EPERM;
      return -1;
    }
  if (unlink (path) != 0)
    return -1;
  return open (path, flags, 0600);
}

/* After open_early the file stays closed until there is more to write: a
 * program that lists its own descriptors (CPython's
 * test_pass_fds_redirected) sees none of linger's for as long as it
 * would have without the early file.  The same file is opened again;
 * anything else under its name now is not written to. */
static void
reopen_locked (void)
{
  int fd = open (out.path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat (fd, &st) == 0 && st.st_dev == out.dev && st.st_ino == out.ino)
    {
      out.writer.fd = fd;
      return;
    }
  int err = fd < 0 ? errno : ESTALE;
  if (fd >= 0)
    close (fd);
  out.writer.failed = true;
  out.writer.error = err;
}

static bool
open_locked (void)
{
  if (out.opened)
    {
      if (out.writer.fd < 0 && !out.writer.failed)
        reopen_locked ();
      return !out.writer.failed;
    }
  if (out.open_failed || out.finished)
    return false;

  bool exact;
  choose_path (&exact);
  int fd = -1;
  if (exact)
    fd = create_trace (out.path, true);
  else
    {
      /* A pid reused by the kernel never overwrites an earlier trace. */
      char base[PATH_BUF - 16];
      snprintf (base, sizeof base, "%s", out.path);
      size_t blen = strlen (base);
      if (blen > 6)
        base[blen - 6] = '\0'; /* strip ".trace" */
      for (int i = 1; i < 1000; i++)
        {
          fd = create_trace (out.path, false);
          if (fd >= 0 || errno != EEXIST)
            break;
          snprintf (out.path, sizeof out.path, "%s.%d.trace", base, i);
        }
    }
  if (fd < 0)
    {
      out.open_failed = true;
      if (errno == ELOOP || errno == EPERM)
        say ("linger: refusing to write trace %s: it exists and is a symbolic link or not a regular "
             "file of this user; this run is not recorded\n", out.path);
      else
        say ("linger: cannot create trace %s: %s; this run is not recorded\n", out.path, strerror (errno));
      return false;
    }

  if (!linger_writer_init (&out.writer, fd, out.forked_child ? LINGER_FILE_FORKED_CHILD : 0))
    {
      close (fd);
      out.open_failed = true;
      say ("linger: cannot write trace %s: %s\n", out.path, strerror (ENOMEM));
      return false;
    }
  out.opened = true;
  append_manifest (out.path);

  linger_writer_process (&out.writer, (uint32_t) getpid (), (uint32_t) getppid (), out.exe,
                         out.cmdline, out.cmdline_len, out.program);
  if (out.have_runtime)
    linger_writer_runtime (&out.writer, out.hexversion, out.runtime_flags, out.version);
  for (int i = 0; i < out.n_notes; i++)
    linger_writer_message (&out.writer, out.notes[i].level, out.notes[i].text);
  out.n_notes = 0;
  return !out.writer.failed;
}

void
linger_output_set_runtime (uint32_t hexversion, uint32_t flags, const char *version)
{
  pthread_mutex_lock (&out.lock);
  out.have_runtime = true;
  out.hexversion = hexversion;
  out.runtime_flags = flags;
  snprintf (out.version, sizeof out.version, "%s", version);
  if (out.opened)
    linger_writer_runtime (&out.writer, hexversion, flags, version);
  pthread_mutex_unlock (&out.lock);
}

void
linger_output_note (uint32_t level, const char *text)
{
  pthread_mutex_lock (&out.lock);
  if (out.opened)
    linger_writer_message (&out.writer, level, text);
  else if (out.n_notes < MAX_NOTES)
    {
      out.notes[out.n_notes].level = level;
      snprintf (out.notes[out.n_notes].text, sizeof out.notes[0].text, "%s", text);
      out.n_notes++;
    }
  pthread_mutex_unlock (&out.lock);
}

void
linger_output_open_early (void)
{
  /* The trace of every Python process exists from the start with its
   * header and process record on disk: one killed with SIGKILL (or by the
   * OOM killer) before its first snapshot still leaves a trace saying who
   * it was, read as incomplete.  Other processes stay lazy: a shell that
   * exec()s the interpreter (pyenv's shims, `sh -c 'exec python3 ...'`)
   * keeps its pid and must not leave an empty trace of its own. */
  if (!out.have_runtime)
    return;
  linger_writer *w = linger_output_begin ();
  if (w == NULL)
    return;
  struct stat st;
  if (linger_writer_flush (w) && fstat (w->fd, &st) == 0)
    {
      out.dev = st.st_dev;
      out.ino = st.st_ino;
      close (w->fd);
      w->fd = -1;
    }
  linger_output_end ();
}

linger_writer *
linger_output_begin (void)
{
  /* The writer allocates; those blocks are linger's, not the program's. */
  linger_guard_enter ();
  pthread_mutex_lock (&out.lock);
  if (!open_locked ())
    {
      pthread_mutex_unlock (&out.lock);
      linger_guard_leave ();
      return NULL;
    }
  return &out.writer;
}

void
linger_output_end (void)
{
  pthread_mutex_unlock (&out.lock);
  linger_guard_leave ();
}

void
linger_output_finish (uint32_t exit_path)
{
  /* A vfork() child shares our memory and must not touch the parent's
   * trace; it is the only way to get here with another pid unnoticed
   * (fork children reset out.pid in the atfork handler). */
  if (getpid () != out.pid)
    return;
  pthread_mutex_lock (&out.lock);
  if (out.finished)
    {
      pthread_mutex_unlock (&out.lock);
      return;
    }
  bool wanted = out.opened || out.is_root || out.trace_all || out.have_runtime || out.n_notes > 0;
  linger_guard_enter ();
  if (wanted && open_locked ())
    {
      /* Sites, totals and the blocks still live, before END. */
      linger_alloc_flush (&out.writer, true);
      if (exit_path == LINGER_EXIT_UNDERSCORE && out.have_runtime)
        linger_writer_message (&out.writer, LINGER_MSG_WARNING,
                               "the process ended with _exit() (os._exit), skipping the "
                               "interpreter's shutdown: objects alive at that point were not "
                               "snapshotted");
      linger_writer_end (&out.writer, exit_path);
    }
  if (out.opened)
    {
      linger_writer_flush (&out.writer);
      if (out.writer.failed)
        say ("linger: trace %s is incomplete: writing it failed (%s) after %llu bytes; the records "
             "after that point (later snapshots, allocation sites) are lost\n", out.path,
             strerror (out.writer.error), (unsigned long long) out.writer.bytes_written);
      linger_writer_close (&out.writer);
    }
  out.finished = true;
  pthread_mutex_unlock (&out.lock);
  linger_guard_leave ();
}

void
linger_output_fork_prepare (void)
{
  /* Nobody may be halfway through a record when the address space is
   * copied. */
  pthread_mutex_lock (&out.lock);
}

void
linger_output_fork_parent (void)
{
  pthread_mutex_unlock (&out.lock);
}

void
linger_output_fork_child (void)
{
  /* The child owns nothing of the parent's trace: drop the copy of the
   * buffer (so nothing is written twice) and start a file of its own on
   * the first record. */
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  out.lock = fresh;
  if (out.opened)
    linger_writer_abandon (&out.writer);
  out.opened = false;
  out.open_failed = false;
  out.finished = false;
  out.forked_child = true;
  out.is_root = false;
  out.pid = getpid ();
  out.n_notes = 0;
}
