/* linger_python.c: audit hook registration and the exit snapshot trigger. */
#include "linger_python.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linger_alloc.h"
#include "linger_module.h"
#include "linger_output.h"
#include "linger_pyalloc.h"
#include "linger_py_layout.h"
#include "linger_pyapi.h"
#include "linger_snapshot.h"
#include "linger_trigger.h"

/* Set while the shim itself runs Python API: audit events our own calls
 * raise (gc.get_objects, sys._current_frames) must not re-enter. */
static __thread int in_shim __attribute__ ((tls_model ("initial-exec")));

static bool python_ok;
static bool exit_trigger_installed;
static bool exit_snapshot_taken;
static bool allocators_wrapped;
static bool validate_pending; /* the frame walker awaits its check */
static bool embedded;         /* libpython came with a late dlopen() */
static uint32_t next_snapshot_id = 1;
static uint32_t runtime_flags;
static lpy_object *original_shutdown; /* 3.8: threading._shutdown */

/* ------------------------------------------------------------------ */
/* Debug allocator hooks (cpython-internals.md section 2) */

/* Mirrors CPython's own option parsing closely enough to know whether
 * the debug allocator hooks will be installed: PYTHONMALLOC=*debug,
 * PYTHONDEVMODE or -X dev, with environment variables ignored under -E
 * and -I. */
static bool
debug_hooks_expected (void)
{
  bool ignore_env = false, dev = false;
  uint32_t len;
  const char *cmd = linger_output_cmdline (&len);
  if (cmd != NULL && len > 0)
    {
      const char *end = cmd + len;
      const char *arg = cmd + strlen (cmd) + 1; /* skip argv[0] */
      while (arg < end)
        {
          size_t alen = strnlen (arg, (size_t) (end - arg));
          const char *next = arg + alen + 1;
          if (arg[0] != '-' || alen == 1 || strcmp (arg, "--") == 0)
            break;
          if (arg[1] == '-')
            {
              if (strcmp (arg, "--check-hash-based-pycs") == 0)
                next += next < end ? strnlen (next, (size_t) (end - next)) + 1 : 0;
              arg = next;
              continue;
            }
          bool stop = false;
          for (size_t i = 1; i < alen; i++)
            {
              char c = arg[i];
              if (c == 'E' || c == 'I')
                ignore_env = true;
              else if (c == 'c' || c == 'm')
                {
                  stop = true;
                  break;
                }
              else if (c == 'X' || c == 'W')
                {
                  const char *value = arg + i + 1;
                  if (*value == '\0')
                    {
                      value = next < end ? next : "";
                      next += next < end ? strnlen (next, (size_t) (end - next)) + 1 : 0;
                    }
                  if (c == 'X' && (strcmp (value, "dev") == 0 || strncmp (value, "dev=", 4) == 0))
                    dev = true;
                  break;
                }
            }
          if (stop)
            break;
          arg = next;
        }
    }
  if (dev)
    return true;
  if (ignore_env)
    return false;
  const char *m = getenv ("PYTHONMALLOC");
  if (m != NULL && (strcmp (m, "debug") == 0 || strcmp (m, "malloc_debug") == 0
                    || strcmp (m, "pymalloc_debug") == 0))
    return true;
  const char *devmode = getenv ("PYTHONDEVMODE");
  return devmode != NULL && devmode[0] != '\0';
}

/* ------------------------------------------------------------------ */
/* Snapshots */

/* Returns the snapshot's id, 0 if none could be written.  Only a
 * labelled snapshot may be objects_only. */
static uint32_t
take_snapshot (uint32_t reason, const char *label, size_t label_len, bool objects_only)
{
  linger_writer *w = linger_output_begin ();
  if (w == NULL)
    return 0;
  in_shim++;
  linger_pyalloc_validate ();
  /* Sites first, so the snapshot's OBJECT_SITES never refer forward. */
  linger_alloc_flush (w, false);
  uint32_t id = next_snapshot_id++;
  if (label != NULL)
    linger_writer_snapshot_label (w, id, label, label_len,
                                  objects_only ? LINGER_SNAPSHOT_OBJECTS_ONLY : 0);
  linger_snapshot_take (w, id, reason, label != NULL && objects_only);
  in_shim--;
  linger_output_end ();
  return id;
}

uint32_t
linger_python_snapshot_now (const char *label, size_t label_len, bool objects_only)
{
  /* After the exit snapshot the trace's last word on the heap is said. */
  if (!python_ok || exit_snapshot_taken)
    return 0;
  return take_snapshot (LINGER_SNAPSHOT_ON_API, label, label_len, objects_only);
}

static lpy_object *
return_none (void)
{
  lpy.Py_IncRef (lpy._Py_NoneStruct);
  return lpy._Py_NoneStruct;
}

/* From the private signal's Python-level handler: main thread, GIL held. */
static void
trigger_snapshot (unsigned reason)
{
  if (!exit_snapshot_taken)
    take_snapshot (reason, NULL, 0, false);
}

/* Registered with threading._register_atexit (3.9+). */
static lpy_object *
exit_snapshot_cb (lpy_object *self, lpy_object *unused)
{
  if (!exit_snapshot_taken)
    {
      exit_snapshot_taken = true;
      linger_trigger_stop ();
      take_snapshot (LINGER_SNAPSHOT_AT_EXIT, NULL, 0, false);
      linger_alloc_set_phase (LINGER_PHASE_SHUTDOWN);
    }
  return return_none ();
}

/* Replaces threading._shutdown on 3.8, which has no _register_atexit. */
static lpy_object *
shutdown_wrapper_cb (lpy_object *self, lpy_object *unused)
{
  exit_snapshot_cb (self, unused);
  if (original_shutdown == NULL)
    return return_none ();
  return lpy.PyObject_CallObject (original_shutdown, NULL);
}

static lpy_method_def exit_snapshot_def = {
  "_linger_exit_snapshot", exit_snapshot_cb, LPY_METH_NOARGS,
  "linger: snapshot of the object graph before weakref.finalize's atexit handler",
};
static lpy_method_def shutdown_wrapper_def = {
  "_shutdown", shutdown_wrapper_cb, LPY_METH_NOARGS,
  "threading._shutdown, preceded by linger's exit snapshot",
};

static void
install_exit_trigger (void)
{
  lpy_object *exc_type, *exc_value, *exc_tb;
  lpy.PyErr_Fetch (&exc_type, &exc_value, &exc_tb);

  if (linger_py_layout_validate ())
    runtime_flags |= LINGER_RUNTIME_LAYOUT_KNOWN;
  else
    linger_output_note (LINGER_MSG_INFO, "no validated struct layout for this CPython: "
                                         "attribute names of 3.11+ instances are not recorded");
  linger_output_set_runtime (lpy.hexversion, runtime_flags, lpy.version);

  const char *problem = NULL;
  /* gc is imported now so the snapshot never imports at exit. */
  lpy_object *gc = lpy.PyImport_ImportModule ("gc");
  if (gc != NULL)
    lpy.Py_DecRef (gc);
  /* threading must be in sys.modules for Py_FinalizeEx to call its
   * _shutdown at all. */
  lpy_object *threading = lpy.PyImport_ImportModule ("threading");
  if (threading == NULL)
    problem = "cannot import threading";
  else if (lpy.minor >= 9)
    {
      lpy_object *reg = lpy.PyObject_GetAttrString (threading, "_register_atexit");
      lpy_object *cb = lpy.PyCFunction_NewEx (&exit_snapshot_def, NULL, NULL);
      lpy_object *args = lpy.PyTuple_New (1);
      if (reg == NULL || cb == NULL || args == NULL)
        problem = "threading._register_atexit is not available";
      else
        {
          lpy.PyTuple_SetItem (args, 0, cb); /* steals cb */
          cb = NULL;
          lpy_object *r = lpy.PyObject_CallObject (reg, args);
          if (r == NULL)
            problem = "threading._register_atexit failed";
          else
            lpy.Py_DecRef (r);
        }
      if (reg)
        lpy.Py_DecRef (reg);
      if (cb)
        lpy.Py_DecRef (cb);
      if (args)
        lpy.Py_DecRef (args);
    }
  else
    {
      original_shutdown = lpy.PyObject_GetAttrString (threading, "_shutdown");
      lpy_object *wrapper = lpy.PyCFunction_NewEx (&shutdown_wrapper_def, NULL, NULL);
      if (original_shutdown == NULL || wrapper == NULL
          || lpy.PyObject_SetAttrString (threading, "_shutdown", wrapper) != 0)
        problem = "cannot wrap threading._shutdown";
      if (wrapper)
        lpy.Py_DecRef (wrapper);
    }
  if (threading)
    lpy.Py_DecRef (threading);
  if (problem == NULL)
    linger_trigger_start (trigger_snapshot);
  if (problem != NULL)
    {
      char msg[256];
      snprintf (msg, sizeof msg, "no exit snapshot: %s", problem);
      linger_output_note (LINGER_MSG_WARNING, msg);
    }
  lpy.PyErr_Clear ();
  lpy.PyErr_Restore (exc_type, exc_value, exc_tb);
}

/* ------------------------------------------------------------------ */
/* The audit hook */

static int
audit_hook (const char *event, lpy_object *args, void *data)
{
  /* Runs for every audited event of the process: keep the common path to
   * a couple of compares. */
  if (in_shim)
    return 0;
  if (LINGER_UNLIKELY (!allocators_wrapped))
    {
      /* The first event comes after CPython chose its allocators
       * (PYTHONMALLOC, -X dev): wrapping now keeps theirs. */
      allocators_wrapped = true;
      linger_pyalloc_install ();
    }
  if (exit_trigger_installed)
    {
      if (LINGER_UNLIKELY (validate_pending))
        {
          in_shim++;
          linger_pyalloc_validate ();
          in_shim--;
        }
      return 0;
    }
  /* python3 says when the program starts (cpython.run_command, _file,
   * _module...).  An embedder's PyRun_SimpleString says nothing: its
   * interpreter is taken as started at the first event once
   * Py_IsInitialized() (the site import, or the program's own first
   * audited action). */
  if (event[0] != 'c' || strncmp (event, "cpython.run_", 12) != 0)
    {
      if (!embedded || !lpy.Py_IsInitialized ())
        return 0;
    }
  exit_trigger_installed = true;
  in_shim++;
  linger_alloc_set_phase (LINGER_PHASE_RUNNING);
  install_exit_trigger ();
  /* `import _linger` for the pytest plugin; nothing else changes. */
  linger_module_register ();
  linger_pyalloc_start ();
  validate_pending = linger_pyalloc_active ();
  in_shim--;
  return 0;
}

/* Set once an interpreter was found (supported or not): the API table
 * is filled once, and a later dlopen() never looks again. */
static int python_found;

static bool
python_init_in (void *handle)
{
  const char *why = NULL;
  linger_pyapi_status status = linger_pyapi_resolve (handle, &why);
  if (status == LINGER_PYAPI_NOT_PYTHON)
    return false;
  __atomic_store_n (&python_found, 1, __ATOMIC_RELEASE);
  if (status == LINGER_PYAPI_UNSUPPORTED)
    {
      char msg[256];
      snprintf (msg, sizeof msg, "CPython %s: %s", lpy.version[0] ? lpy.version : "?", why);
      linger_output_note (LINGER_MSG_WARNING, msg);
      if (lpy.free_threaded)
        {
          /* Said on stderr too: the user asked for a Python profile and
           * gets a native one. */
          char line[320];
          int n = snprintf (line, sizeof line, "linger: %s; native allocations are tracked instead\n", msg);
          if (n > 0)
            {
              ssize_t r = write (2, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
              (void) r;
            }
        }
      /* Still Python: its allocators are not ours to guess at. */
      return true;
    }
  python_ok = true;
  if (lpy.shared_libpython)
    runtime_flags |= LINGER_RUNTIME_SHARED_LIBPYTHON;

  bool debug = debug_hooks_expected ();
  if (debug)
    runtime_flags |= LINGER_RUNTIME_DEBUG_ALLOCATORS;
  linger_output_set_runtime (lpy.hexversion, runtime_flags, lpy.version);

  /* The hook's list entry is allocated now and freed by CPython at exit
   * with whatever allocator is then installed.  With debug hooks coming,
   * allocate it under debug hooks too, or the free aborts with "bad ID"
   * (cpython-internals.md section 2). */
  lpy_mem_allocator saved[3];
  if (debug)
    {
      for (int d = 0; d < 3; d++)
        lpy.PyMem_GetAllocator (d, &saved[d]);
      lpy.PyMem_SetupDebugHooks ();
    }
  lpy.PySys_AddAuditHook (audit_hook, NULL);
  if (debug)
    for (int d = 0; d < 3; d++)
      lpy.PyMem_SetAllocator (d, &saved[d]);
  return true;
}

bool
linger_python_init (void)
{
  return python_init_in (RTLD_DEFAULT);
}

bool
linger_python_found (void)
{
  return __atomic_load_n (&python_found, __ATOMIC_ACQUIRE) != 0;
}

bool
linger_python_free_threaded (void)
{
  return lpy.free_threaded;
}

void
linger_python_dlopened (void *handle)
{
  if (__atomic_load_n (&python_found, __ATOMIC_ACQUIRE))
    return;
  /* A C program embedding CPython: libpython arrives with dlopen(),
   * usually RTLD_LOCAL, after the shim decided the process was not
   * Python.  PySys_AddAuditHook may run before Py_Initialize, so the
   * usual bootstrap still works once the API is taken from the handle.
   * Two threads dlopen()ing interpreters at once is not a real case;
   * the flag keeps the second from refilling the table. */
  static int claimed;
  if (dlsym (handle, "Py_GetVersion") == NULL || __atomic_exchange_n (&claimed, 1, __ATOMIC_ACQ_REL))
    return;
  embedded = true;
  if (python_init_in (handle))
    linger_alloc_python_late ();
}

void
linger_python_fork_child (void)
{
  /* The child runs its own exit: it takes its own snapshot into its own
   * trace. */
  exit_snapshot_taken = false;
  next_snapshot_id = 1;
  in_shim = 0;
  linger_trigger_fork_child ();
}
