/* linger_trigger.c: signal and interval snapshots (see linger_trigger.h). */
#include "linger_trigger.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "linger_output.h"
#include "linger_pyapi.h"

typedef int (*sigaction_fn) (int, const struct sigaction *, struct sigaction *);

static sigaction_fn real_sigaction;

static struct
{
  atomic_int       active;         /* the snapshot signal is ours */
  int              sig;
  struct sigaction program;        /* what the program believes is installed */
  int              private_sig;    /* 0 until claimed */
  struct sigaction python;         /* CPython's C handler for private_sig */
  volatile sig_atomic_t from_signal;
  atomic_int       stopping;
  double           interval;       /* seconds, 0 for none */
  bool             timer_armed;
  timer_t          timer;
  void           (*snapshot) (unsigned reason);
} trig;

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

/* ------------------------------------------------------------------ */
/* Signal context: CPython's own async-signal-safe handler, then the
 * program's.  Nothing else. */

static void
trip_python (void)
{
  struct sigaction *py = &trig.python;
  if (py->sa_flags & SA_SIGINFO)
    {
      if (py->sa_sigaction != NULL)
        py->sa_sigaction (trig.private_sig, NULL, NULL);
    }
  else if (py->sa_handler != SIG_DFL && py->sa_handler != SIG_IGN && py->sa_handler != NULL)
    py->sa_handler (trig.private_sig);
}

static void
on_signal (int sig, siginfo_t *info, void *uctx)
{
  int saved = errno;
  if (trig.private_sig != 0 && !atomic_load (&trig.stopping))
    {
      trig.from_signal = 1;
      trip_python ();
    }
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
 * semantics, so its system calls are interrupted (or not) as they would
 * be.  Without a program handler, no SA_RESTART: like CPython's own
 * handlers, so a main thread blocked in accept() wakes up for the
 * snapshot; the default action (death) left nothing relying on restarts. */
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
      sa.sa_flags = SA_ONSTACK | SA_SIGINFO;
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
/* The Python-level handler of the private signal: main thread, GIL held,
 * at a point where CPython runs signal handlers. */

static lpy_object *
private_handler (lpy_object *self, lpy_object *args)
{
  unsigned reason = trig.from_signal ? LINGER_SNAPSHOT_ON_SIGNAL : LINGER_SNAPSHOT_INTERVAL;
  trig.from_signal = 0;
  if (!atomic_load (&trig.stopping) && trig.snapshot != NULL)
    trig.snapshot (reason);
  lpy.Py_IncRef (lpy._Py_NoneStruct);
  return lpy._Py_NoneStruct;
}

static lpy_method_def private_handler_def = {
  "_linger_snapshot_handler", private_handler, LPY_METH_VARARGS,
  "linger: takes a snapshot of the object graph (signal or interval)",
};

/* A real-time signal nobody has touched, from the top of the range down
 * (glibc keeps the first ones for itself). */
static int
pick_private_signal (void)
{
  for (int s = SIGRTMAX - 1; s > SIGRTMIN + 4; s--)
    {
      struct sigaction cur;
      if (call_real_sigaction (s, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO)
          && cur.sa_handler == SIG_DFL)
        return s;
    }
  return 0;
}

static bool
claim_private_signal (void)
{
  int sig = pick_private_signal ();
  if (sig == 0)
    return false;
  lpy_object *mod = lpy.PyImport_ImportModule ("_signal");
  lpy_object *setter = mod ? lpy.PyObject_GetAttrString (mod, "signal") : NULL;
  lpy_object *handler = lpy.PyCFunction_NewEx (&private_handler_def, NULL, NULL);
  lpy_object *args = lpy.PyTuple_New (2);
  lpy_object *num = lpy.PyLong_FromLong (sig);
  bool ok = false;
  if (setter != NULL && handler != NULL && args != NULL && num != NULL)
    {
      lpy.PyTuple_SetItem (args, 0, num); /* steal */
      lpy.PyTuple_SetItem (args, 1, handler);
      num = handler = NULL;
      lpy_object *r = lpy.PyObject_CallObject (setter, args);
      if (r != NULL)
        {
          lpy.Py_DecRef (r);
          ok = call_real_sigaction (sig, NULL, &trig.python) == 0;
        }
    }
  lpy.PyErr_Clear ();
  if (num)
    lpy.Py_DecRef (num);
  if (handler)
    lpy.Py_DecRef (handler);
  if (args)
    lpy.Py_DecRef (args);
  if (setter)
    lpy.Py_DecRef (setter);
  if (mod)
    lpy.Py_DecRef (mod);
  if (ok)
    trig.private_sig = sig;
  return ok;
}

static bool
arm_timer (void)
{
  struct sigevent sev;
  memset (&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = trig.private_sig;
  if (timer_create (CLOCK_MONOTONIC, &sev, &trig.timer) < 0)
    return false;
  struct itimerspec its;
  its.it_value.tv_sec = (time_t) trig.interval;
  its.it_value.tv_nsec = (long) ((trig.interval - (double) its.it_value.tv_sec) * 1e9);
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec < 1000000)
    its.it_value.tv_nsec = 1000000;
  its.it_interval = its.it_value;
  if (timer_settime (trig.timer, 0, &its, NULL) < 0)
    {
      timer_delete (trig.timer);
      return false;
    }
  trig.timer_armed = true;
  return true;
}

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
        trig.interval = secs;
    }

  if (sig == 0 && trig.interval == 0)
    return;
  if (!claim_private_signal ())
    {
      linger_output_note (LINGER_MSG_WARNING, "no free real-time signal: signal and interval "
                                              "snapshots are off");
      return;
    }
  if (trig.interval > 0 && !arm_timer ())
    linger_output_note (LINGER_MSG_WARNING, "cannot create the interval timer: no interval snapshots");
  if (sig == 0 || sig == trig.private_sig)
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
  if (trig.timer_armed)
    {
      timer_delete (trig.timer);
      trig.timer_armed = false;
    }
}

void
linger_trigger_fork_child (void)
{
  /* Signal dispositions survive fork, timers do not. */
  if (trig.timer_armed && !atomic_load (&trig.stopping))
    {
      trig.timer_armed = false;
      arm_timer ();
    }
}
