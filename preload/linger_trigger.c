/* linger_trigger.c: signal and interval snapshots (see linger_trigger.h). */
#include "linger_trigger.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "linger_output.h"
#include "linger_pyapi.h"

typedef int (*sigaction_fn) (int, const struct sigaction *, struct sigaction *);

static sigaction_fn real_sigaction;

static struct
{
  atomic_int       active;        /* the snapshot signal is ours */
  int              sig;
  struct sigaction program;       /* what the program believes is installed */
  /* The handler wakes the thread with sem_post (async-signal-safe) and a
   * flag: no file descriptor, because a program may check exactly which
   * descriptors it has (CPython's test_pass_fds_redirected does). */
  sem_t            wakeup;
  atomic_bool      sem_ready;     /* read in signal context */
  atomic_bool      signal_pending;
  int              interval_ms;   /* 0: no interval snapshots */
  atomic_int       stopping;      /* interpreter shutdown: never again */
  bool             configured;    /* a signal or an interval is wanted */
  void           (*snapshot) (unsigned reason);

  /* The thread's life, under `lock`: it exits only after checking
   * want_exit with the lock held, so start() can cancel a pending exit
   * without racing it. */
  pthread_mutex_t  lock;
  bool             want_exit;
  bool             alive;         /* the thread has not decided to exit */
  bool             joinable;      /* a pthread_t to join */
  pthread_t        thread;
} trig = { .lock = PTHREAD_MUTEX_INITIALIZER };

void
linger_trigger_preinit (void)
{
  real_sigaction = (sigaction_fn) dlsym (RTLD_NEXT, "sigaction");
}

static int
call_real_sigaction (int sig, const struct sigaction *act, struct sigaction *oldact)
{
  if (real_sigaction == NULL)
    {
      errno = ENOSYS;
      return -1;
    }
  return real_sigaction (sig, act, oldact);
}

static void
wake (char c)
{
  if (c == 's')
    atomic_store (&trig.signal_pending, true);
  if (atomic_load (&trig.sem_ready))
    sem_post (&trig.wakeup);
}

/* ------------------------------------------------------------------ */
/* Signal context: write(2), then the program's handler.  Nothing else. */

static void
on_signal (int sig, siginfo_t *info, void *uctx)
{
  int saved = errno;
  wake ('s');
  errno = saved;

  struct sigaction *p = &trig.program;
  if (p->sa_flags & SA_SIGINFO)
    {
      if (p->sa_sigaction != NULL)
        p->sa_sigaction (sig, info, uctx);
    }
  else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN && p->sa_handler != NULL)
    p->sa_handler (sig);
  if (p->sa_flags & SA_RESETHAND)
    {
      p->sa_handler = SIG_DFL;
      p->sa_flags &= ~(SA_SIGINFO | SA_RESETHAND);
    }
}

/* Installs linger's handler with the program's mask and restart
 * semantics, so its system calls are interrupted (or not) exactly as they
 * would be. */
static int
install_ours (void)
{
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  bool program_handles = (trig.program.sa_flags & SA_SIGINFO)
                           ? trig.program.sa_sigaction != NULL
                           : (trig.program.sa_handler != SIG_DFL && trig.program.sa_handler != SIG_IGN);
  if (program_handles)
    {
      sa.sa_mask = trig.program.sa_mask;
      sa.sa_flags = (trig.program.sa_flags & (SA_RESTART | SA_ONSTACK | SA_NODEFER)) | SA_SIGINFO;
    }
  else
    {
      sigemptyset (&sa.sa_mask);
      sa.sa_flags = SA_RESTART | SA_SIGINFO;
    }
  return call_real_sigaction (trig.sig, &sa, NULL);
}

bool
linger_trigger_owns (int sig)
{
  return atomic_load (&trig.active) && sig == trig.sig;
}

int
linger_trigger_sigaction (int sig, const struct sigaction *act, struct sigaction *oldact)
{
  if (!linger_trigger_owns (sig))
    return call_real_sigaction (sig, act, oldact);
  if (oldact != NULL)
    *oldact = trig.program;
  if (act != NULL)
    {
      trig.program = *act;
      return install_ours ();
    }
  return 0;
}

__sighandler_t
linger_trigger_signal (int sig, __sighandler_t handler)
{
  struct sigaction sa, old;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
  if (linger_trigger_sigaction (sig, &sa, &old) < 0)
    return SIG_ERR;
  return (old.sa_flags & SA_SIGINFO) ? (__sighandler_t) (void (*) (void)) old.sa_sigaction
                                     : old.sa_handler;
}

/* ------------------------------------------------------------------ */
/* The helper thread */

static bool
python_can_run (void)
{
  if (lpy.Py_IsFinalizing != NULL)
    return !lpy.Py_IsFinalizing ();
  if (lpy._Py_IsFinalizing != NULL)
    return !lpy._Py_IsFinalizing ();
  return true;
}

static bool
should_exit (void)
{
  pthread_mutex_lock (&trig.lock);
  bool exit_now = trig.want_exit || atomic_load (&trig.stopping);
  if (exit_now)
    trig.alive = false;
  pthread_mutex_unlock (&trig.lock);
  return exit_now;
}

static void *
helper_main (void *unused)
{
  /* Never the target of a process signal: they belong to the program. */
  sigset_t all;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, NULL);

  for (;;)
    {
      if (should_exit ())
        return NULL;
      int r;
      if (trig.interval_ms > 0)
        {
          struct timespec deadline;
          clock_gettime (CLOCK_REALTIME, &deadline);
          deadline.tv_sec += trig.interval_ms / 1000;
          deadline.tv_nsec += (long) (trig.interval_ms % 1000) * 1000000L;
          if (deadline.tv_nsec >= 1000000000L)
            {
              deadline.tv_sec++;
              deadline.tv_nsec -= 1000000000L;
            }
          r = sem_timedwait (&trig.wakeup, &deadline);
        }
      else
        r = sem_wait (&trig.wakeup);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 && errno != ETIMEDOUT)
        {
          pthread_mutex_lock (&trig.lock);
          trig.alive = false;
          pthread_mutex_unlock (&trig.lock);
          return NULL;
        }
      unsigned reason = LINGER_SNAPSHOT_INTERVAL;
      if (r == 0)
        {
          /* Several posts may have piled up: one snapshot for all. */
          while (sem_trywait (&trig.wakeup) == 0)
            ;
          reason = atomic_exchange (&trig.signal_pending, false) ? LINGER_SNAPSHOT_ON_SIGNAL : 0;
        }
      if (reason == 0 || should_exit ())
        continue;
      if (!python_can_run ())
        continue;
      int gil = lpy.PyGILState_Ensure ();
      /* Re-checked under the GIL: the exit snapshot sets `stopping`
       * holding the GIL, so none starts once shutdown has begun. */
      if (!atomic_load (&trig.stopping))
        trig.snapshot (reason);
      lpy.PyGILState_Release (gil);
    }
}

static bool
init_wakeup (void)
{
  if (sem_init (&trig.wakeup, 0, 0) != 0)
    return false;
  atomic_store (&trig.sem_ready, true);
  return true;
}

static bool
thread_start (void)
{
  pthread_mutex_lock (&trig.lock);
  if (trig.alive)
    {
      /* Still running (a stop that timed out): just keep it. */
      trig.want_exit = false;
      pthread_mutex_unlock (&trig.lock);
      return true;
    }
  pthread_mutex_unlock (&trig.lock);
  if (trig.joinable)
    {
      pthread_join (trig.thread, NULL); /* it has decided to exit */
      trig.joinable = false;
    }
  if (!atomic_load (&trig.sem_ready) && !init_wakeup ())
    return false;

  pthread_attr_t attr;
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 256 * 1024);
  trig.want_exit = false;
  trig.alive = true;
  int err = pthread_create (&trig.thread, &attr, helper_main, NULL);
  pthread_attr_destroy (&attr);
  if (err != 0)
    {
      trig.alive = false;
      return false;
    }
  trig.joinable = true;
  return true;
}

/* Asks the thread to exit and waits a little: it only ever blocks in
 * sem_wait(), except while it waits for the GIL that our caller holds. */
static void
thread_stop (void)
{
  if (!trig.joinable)
    return;
  pthread_mutex_lock (&trig.lock);
  trig.want_exit = true;
  pthread_mutex_unlock (&trig.lock);
  wake ('w');
  struct timespec deadline;
  clock_gettime (CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 200 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000)
    {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
  if (pthread_timedjoin_np (trig.thread, NULL, &deadline) == 0)
    trig.joinable = false;
}

/* ------------------------------------------------------------------ */
/* os.register_at_fork callbacks: run by os.fork() with the GIL held. */

static lpy_object *
none (void)
{
  lpy.Py_IncRef (lpy._Py_NoneStruct);
  return lpy._Py_NoneStruct;
}

/* Set in the parent by the before-fork hook, read by the child. */
static bool fork_from_initial_thread;

static lpy_object *
before_fork_cb (lpy_object *self, lpy_object *unused)
{
  fork_from_initial_thread = (pid_t) syscall (SYS_gettid) == getpid ();
  thread_stop ();
  return none ();
}

static int
restart_pending (void *unused)
{
  if (trig.configured && !atomic_load (&trig.stopping))
    thread_start ();
  return 0;
}

/* In the parent, later: 3.13.0 runs after_in_parent hooks before it
 * counts threads for its fork warning (3.12 after), so a thread started
 * here would be counted.  A pending call runs once os.fork() returned. */
static lpy_object *
after_fork_parent_cb (lpy_object *self, lpy_object *unused)
{
  if (trig.configured && !atomic_load (&trig.stopping)
      && lpy.Py_AddPendingCall (restart_pending, NULL) != 0)
    thread_start ();
  return none ();
}

/* In the child, only when the parent forked from its initial thread (in
 * the child the one thread always has tid == pid): a child forked from
 * another thread ends with pthread_exit() of that thread, and
 * a helper thread would then keep the process alive for ever (seen in
 * test_threading's test_main_thread_after_fork_from_nonmain_thread). */
static lpy_object *
after_fork_child_cb (lpy_object *self, lpy_object *unused)
{
  if (fork_from_initial_thread)
    restart_pending (NULL);
  return none ();
}

static lpy_method_def before_fork_def = {
  "_linger_before_fork", before_fork_cb, LPY_METH_NOARGS, "linger: stop the snapshot thread",
};
static lpy_method_def after_parent_def = {
  "_linger_after_fork_parent", after_fork_parent_cb, LPY_METH_NOARGS,
  "linger: restart the snapshot thread",
};
static lpy_method_def after_child_def = {
  "_linger_after_fork_child", after_fork_child_cb, LPY_METH_NOARGS,
  "linger: start the child's snapshot thread",
};

static bool
register_at_fork (void)
{
  lpy_object *modules = lpy.PyImport_GetModuleDict ();
  lpy_object *os = modules ? lpy.PyDict_GetItemString (modules, "posix") : NULL;
  lpy_object *reg = os ? lpy.PyObject_GetAttrString (os, "register_at_fork") : NULL;
  lpy_object *kwargs = lpy.PyDict_New ();
  lpy_object *args = lpy.PyTuple_New (0);
  bool ok = false;
  if (reg != NULL && kwargs != NULL && args != NULL)
    {
      static const char *const names[3] = { "before", "after_in_parent", "after_in_child" };
      lpy_method_def *defs[3] = { &before_fork_def, &after_parent_def, &after_child_def };
      ok = true;
      for (int i = 0; i < 3 && ok; i++)
        {
          lpy_object *fn = lpy.PyCFunction_NewEx (defs[i], NULL, NULL);
          ok = fn != NULL && lpy.PyDict_SetItemString (kwargs, names[i], fn) == 0;
          if (fn)
            lpy.Py_DecRef (fn);
        }
      lpy_object *r = ok ? lpy.PyObject_Call (reg, args, kwargs) : NULL;
      ok = r != NULL;
      if (r)
        lpy.Py_DecRef (r);
    }
  lpy.PyErr_Clear ();
  if (reg)
    lpy.Py_DecRef (reg);
  if (kwargs)
    lpy.Py_DecRef (kwargs);
  if (args)
    lpy.Py_DecRef (args);
  return ok;
}

/* ------------------------------------------------------------------ */

static int
parse_signal (const char *s)
{
  if (s == NULL || s[0] == '\0')
    return SIGUSR2;
  if (strcmp (s, "off") == 0 || strcmp (s, "none") == 0 || strcmp (s, "0") == 0)
    return 0;
  const char *name = strncmp (s, "SIG", 3) == 0 ? s + 3 : s;
  if (strcmp (name, "USR1") == 0)
    return SIGUSR1;
  if (strcmp (name, "USR2") == 0)
    return SIGUSR2;
  if (strncmp (name, "RTMIN", 5) == 0)
    return SIGRTMIN + atoi (name + 5 + (name[5] == '+'));
  char *end;
  long n = strtol (s, &end, 10);
  return *end == '\0' ? (int) n : -1;
}

void
linger_trigger_start (void (*snapshot) (unsigned reason))
{
  trig.snapshot = snapshot;
  const char *sig_env = getenv ("LINGER_SNAPSHOT_SIGNAL");
  int sig = parse_signal (sig_env);
  /* Only signals whose default action nobody relies on: taking over
   * SIGTERM or SIGINT would change how the program dies. */
  if (sig != 0 && sig != SIGUSR1 && sig != SIGUSR2 && !(sig >= SIGRTMIN && sig <= SIGRTMAX))
    {
      char msg[160];
      snprintf (msg, sizeof msg, "LINGER_SNAPSHOT_SIGNAL=%s ignored: use SIGUSR1, SIGUSR2, "
                "SIGRTMIN+N or off", sig_env ? sig_env : "");
      linger_output_note (LINGER_MSG_WARNING, msg);
      sig = 0;
    }

  const char *iv = getenv ("LINGER_SNAPSHOT_INTERVAL");
  if (iv != NULL && iv[0] != '\0')
    {
      char *end;
      double secs = strtod (iv, &end);
      if (*end != '\0' || !(secs > 0) || secs > 86400.0 * 365)
        linger_output_note (LINGER_MSG_WARNING, "LINGER_SNAPSHOT_INTERVAL ignored: want seconds > 0");
      else
        trig.interval_ms = secs * 1000 < 1 ? 1 : (int) (secs * 1000);
    }

  if (sig == 0 && trig.interval_ms == 0)
    return;
  if (!register_at_fork ())
    {
      linger_output_note (LINGER_MSG_WARNING, "cannot register fork handlers: signal and "
                                              "interval snapshots are off");
      return;
    }
  trig.configured = true;
  if (!thread_start ())
    {
      trig.configured = false;
      linger_output_note (LINGER_MSG_WARNING, "cannot start the snapshot thread: "
                                              "signal and interval snapshots are off");
      return;
    }
  if (sig == 0)
    return;

  /* Whatever is installed now is the program's. */
  if (call_real_sigaction (sig, NULL, &trig.program) < 0)
    return;
  trig.sig = sig;
  atomic_store (&trig.active, 1);
  if (install_ours () < 0)
    atomic_store (&trig.active, 0);
}

void
linger_trigger_stop (void)
{
  atomic_store (&trig.stopping, 1);
  wake ('w');
}

void
linger_trigger_fork_child (void)
{
  /* Only the forking thread exists in the child, and the semaphore may
   * hold the parent's posts: a fresh one, and no thread until os.fork()'s
   * after_in_child callback starts one (a fork from C code that goes on
   * running Python gets no signal snapshots). */
  if (!trig.configured)
    return;
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  trig.lock = fresh;
  trig.alive = false;
  trig.joinable = false;
  trig.want_exit = false;
  /* The parent's semaphore may hold its posts: start from zero. */
  atomic_store (&trig.sem_ready, false);
  atomic_store (&trig.signal_pending, false);
  init_wakeup ();
}
