/* linger_module.c: the `_linger` module (see linger_module.h). */
#include "linger_module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linger_config.h"
#include "linger_output.h"
#include "linger_pyapi.h"
#include "linger_python.h"

/* Labels longer than this are cut (at a character boundary): a label
 * names a test, and a string record must stay far below the record
 * size limit. */
#define LABEL_MAX 4096

enum
{
  LPY_METH_O = 0x0008,
};

/* The few functions only this module needs, resolved when it is
 * registered rather than in linger_pyapi.c: a missing one costs the
 * module, never the snapshots. */
static struct
{
  lpy_object *(*PyModule_New) (const char *);
  int (*PyModule_AddFunctions) (lpy_object *, lpy_method_def *);
  int (*PyModule_AddStringConstant) (lpy_object *, const char *, const char *);
  lpy_object *(*PyUnicode_FromStringAndSize) (const char *, ssize_t);
  void (*PyErr_SetString) (lpy_object *, const char *);
  lpy_object **PyExc_TypeError;
} mod_api;

static bool
resolve (void)
{
  mod_api.PyModule_New = (lpy_object * (*) (const char *)) dlsym (RTLD_DEFAULT, "PyModule_New");
  mod_api.PyModule_AddFunctions
    = (int (*) (lpy_object *, lpy_method_def *)) dlsym (RTLD_DEFAULT, "PyModule_AddFunctions");
  mod_api.PyModule_AddStringConstant = (int (*) (lpy_object *, const char *, const char *)) dlsym (
    RTLD_DEFAULT, "PyModule_AddStringConstant");
  mod_api.PyUnicode_FromStringAndSize
    = (lpy_object * (*) (const char *, ssize_t)) dlsym (RTLD_DEFAULT, "PyUnicode_FromStringAndSize");
  mod_api.PyErr_SetString = (void (*) (lpy_object *, const char *)) dlsym (RTLD_DEFAULT, "PyErr_SetString");
  mod_api.PyExc_TypeError = (lpy_object **) dlsym (RTLD_DEFAULT, "PyExc_TypeError");
  return mod_api.PyModule_New != NULL && mod_api.PyModule_AddFunctions != NULL
         && mod_api.PyModule_AddStringConstant != NULL && mod_api.PyUnicode_FromStringAndSize != NULL
         && mod_api.PyErr_SetString != NULL && mod_api.PyExc_TypeError != NULL
         && lpy.PyImport_GetModuleDict != NULL && lpy.PyDict_SetItemString != NULL;
}

static lpy_object *
none (void)
{
  lpy.Py_IncRef (lpy._Py_NoneStruct);
  return lpy._Py_NoneStruct;
}

static lpy_object *
new_str (const char *s)
{
  return mod_api.PyUnicode_FromStringAndSize (s, (ssize_t) strlen (s));
}

/* The label is copied before the walk starts, so nothing of the caller's
 * runs while the heap is read. */
static lpy_object *
take (lpy_object *arg, bool objects_only)
{
  char label[LABEL_MAX + 1];
  size_t len = 0;
  bool labelled = arg != lpy._Py_NoneStruct || objects_only;

  if (labelled)
    {
      if (!lpy_is_instance (arg, lpy.PyUnicode_Type))
        {
          mod_api.PyErr_SetString (*mod_api.PyExc_TypeError,
                                   objects_only ? "_linger.snapshot_objects: label must be str"
                                                : "_linger.snapshot: label must be str or None");
          return NULL;
        }
      ssize_t n = 0;
      const char *text = lpy.PyUnicode_AsUTF8AndSize (arg, &n);
      if (text == NULL)
        return NULL; /* lone surrogates: UnicodeEncodeError is set */
      len = (size_t) n;
      if (len > LABEL_MAX)
        {
          len = LABEL_MAX;
          while (len > 0 && ((unsigned char) text[len] & 0xc0) == 0x80)
            len--;
        }
      memcpy (label, text, len);
      label[len] = '\0';
      /* A label is never empty in the trace. */
      if (len == 0)
        {
          label[0] = '?';
          len = 1;
        }
    }
  uint32_t id = linger_python_snapshot_now (labelled ? label : NULL, len, objects_only);
  return lpy.PyLong_FromLong ((long) id);
}

/* _linger.snapshot(label) */
static lpy_object *
snapshot_cb (lpy_object *self, lpy_object *arg)
{
  return take (arg, false);
}

/* _linger.snapshot_objects(label) */
static lpy_object *
snapshot_objects_cb (lpy_object *self, lpy_object *arg)
{
  return take (arg, true);
}

static lpy_object *
flush_cb (lpy_object *self, lpy_object *unused)
{
  linger_writer *w = linger_output_begin ();
  if (w != NULL)
    {
      linger_writer_flush (w);
      linger_output_end ();
    }
  return none ();
}

/* The writer keeps only the descriptor: the kernel knows the name. */
static lpy_object *
trace_path_cb (lpy_object *self, lpy_object *unused)
{
  char link[64], path[PATH_MAX];
  ssize_t n = -1;
  linger_writer *w = linger_output_begin ();
  if (w != NULL)
    {
      snprintf (link, sizeof link, "/proc/self/fd/%d", w->fd);
      n = readlink (link, path, sizeof path - 1);
      linger_output_end ();
    }
  if (n <= 0)
    return none ();
  path[n] = '\0';
  return new_str (path);
}

static lpy_object *
shim_path_cb (lpy_object *self, lpy_object *unused)
{
  Dl_info info;
  char path[PATH_MAX];
  if (!dladdr ((void *) linger_module_register, &info) || info.dli_fname == NULL)
    return none ();
  /* LD_PRELOAD may name it relative to a directory the program left. */
  if (realpath (info.dli_fname, path) == NULL)
    snprintf (path, sizeof path, "%s", info.dli_fname);
  return new_str (path);
}

static lpy_method_def module_methods[] = {
  { "snapshot", snapshot_cb, LPY_METH_O,
    "snapshot(label) -> int\n\nTake a snapshot of the object graph now, labelled with the str\n"
    "label (or None); returns its id, 0 if none was taken." },
  { "snapshot_objects", snapshot_objects_cb, LPY_METH_O,
    "snapshot_objects(label) -> int\n\nA labelled snapshot of the objects the cyclic GC tracks, without\n"
    "their references: enough to tell which test created an object, at a\n"
    "third of the cost; never judged by linger report." },
  { "flush", flush_cb, LPY_METH_NOARGS,
    "flush()\n\nWrite buffered records: the trace file is readable up to here." },
  { "trace_path", trace_path_cb, LPY_METH_NOARGS,
    "trace_path() -> str | None\n\nThe trace file this process writes." },
  { "shim_path", shim_path_cb, LPY_METH_NOARGS,
    "shim_path() -> str | None\n\nThe preloaded linger shim." },
  { NULL, NULL, 0, NULL },
};

void
linger_module_register (void)
{
  if (!resolve ())
    return;
  lpy_object *exc_type, *exc_value, *exc_tb;
  lpy.PyErr_Fetch (&exc_type, &exc_value, &exc_tb);

  lpy_object *m = mod_api.PyModule_New ("_linger");
  lpy_object *modules = lpy.PyImport_GetModuleDict ();
  if (m != NULL && modules != NULL && mod_api.PyModule_AddFunctions (m, module_methods) == 0
      && mod_api.PyModule_AddStringConstant (m, "version", LINGER_VERSION) == 0
      && mod_api.PyModule_AddStringConstant (m, "__doc__", "linger's shim: labelled snapshots "
                                                             "for the pytest plugin") == 0)
    lpy.PyDict_SetItemString (modules, "_linger", m);
  if (m != NULL)
    lpy.Py_DecRef (m);
  lpy.PyErr_Clear ();
  lpy.PyErr_Restore (exc_type, exc_value, exc_tb);
}
