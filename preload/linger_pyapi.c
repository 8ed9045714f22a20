/* linger_pyapi.c: resolving the CPython C API with dlsym. */
#include "linger_pyapi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

linger_pyapi lpy;

static bool
parse_version (const char *s, int *major, int *minor, int *micro)
{
  /* "3.11.2 (main, ...)" or "3.13.0rc1+ ..." */
  int n = sscanf (s, "%d.%d.%d", major, minor, micro);
  if (n < 2)
    return false;
  if (n == 2)
    *micro = 0;
  return true;
}

linger_pyapi_status
linger_pyapi_resolve (void *handle, const char **why)
{
  *why = NULL;
  memset (&lpy, 0, sizeof lpy);

  /* Cheap test first: in a process without CPython this is the only
   * thing the shim does about Python. */
  lpy.Py_GetVersion = (const char *(*) (void)) dlsym (handle, "Py_GetVersion");
  if (lpy.Py_GetVersion == NULL)
    return LINGER_PYAPI_NOT_PYTHON;

  const char *version = lpy.Py_GetVersion ();
  if (!parse_version (version, &lpy.major, &lpy.minor, &lpy.micro))
    {
      *why = "unrecognised Py_GetVersion() string";
      return LINGER_PYAPI_UNSUPPORTED;
    }
  snprintf (lpy.version, sizeof lpy.version, "%d.%d.%d", lpy.major, lpy.minor, lpy.micro);

  const uint32_t *hex = dlsym (handle, "Py_Version");
  lpy.hexversion = hex ? *hex
                       : ((uint32_t) lpy.major << 24 | (uint32_t) lpy.minor << 16
                          | (uint32_t) lpy.micro << 8 | 0xf0);

  if (lpy.major != 3 || lpy.minor < 8)
    {
      *why = "CPython older than 3.8 has no audit hooks; only process information is recorded";
      return LINGER_PYAPI_UNSUPPORTED;
    }

  /* Declared only in free-threaded builds (cpython-internals.md 10.12):
   * their object header is 16 bytes larger and nothing here would hold. */
  if (dlsym (handle, "_Py_DecRefShared") != NULL)
    {
      lpy.free_threaded = true;
      *why = "free-threaded CPython (3.13t) is not supported; only process information is recorded";
      return LINGER_PYAPI_UNSUPPORTED;
    }

  Dl_info info;
  if (dladdr ((void *) lpy.Py_GetVersion, &info) && info.dli_fname != NULL)
    lpy.shared_libpython = strstr (info.dli_fname, "libpython") != NULL;

#define LINGER_PY_RESOLVE(ret, name, params, min_minor)                    \
  lpy.name = (ret (*) params) dlsym (handle, #name);                       \
  if (lpy.name == NULL && lpy.minor >= (min_minor))                        \
    {                                                                      \
      *why = "a CPython API function is missing: " #name;                  \
      return LINGER_PYAPI_UNSUPPORTED;                                     \
    }
  LINGER_PY_FUNCTIONS (LINGER_PY_RESOLVE)
#undef LINGER_PY_RESOLVE

#define LINGER_PY_RESOLVE_DATA(name)                                       \
  lpy.name = (lpy_object *) dlsym (handle, #name);                         \
  if (lpy.name == NULL)                                                    \
    {                                                                      \
      *why = "a CPython data symbol is missing: " #name;                   \
      return LINGER_PYAPI_UNSUPPORTED;                                     \
    }
  LINGER_PY_DATA (LINGER_PY_RESOLVE_DATA)
#undef LINGER_PY_RESOLVE_DATA

  return LINGER_PYAPI_OK;
}

bool
lpy_object_is_gc (lpy_object *o)
{
  if (lpy.PyObject_IS_GC != NULL)
    return lpy.PyObject_IS_GC (o) != 0;
  lpy_object *t = lpy_type (o);
  if (!(LPY_TP_FLAGS (t) & LPY_TPFLAGS_HAVE_GC))
    return false;
  lpy_inquiry is_gc = LPY_TP_IS_GC (t);
  return is_gc == NULL || is_gc (o);
}

/* 3.8: PyGC_Head {_gc_next, _gc_prev} sits right before the object;
 * _gc_next == 0 means untracked, bit 0 of _gc_prev means finalized. */
bool
lpy_object_is_tracked (lpy_object *o)
{
  if (!lpy_object_is_gc (o))
    return false;
  if (lpy.PyObject_GC_IsTracked != NULL)
    return lpy.PyObject_GC_IsTracked (o) != 0;
  return ((uintptr_t *) o)[-2] != 0;
}

bool
lpy_object_is_finalized (lpy_object *o)
{
  if (!lpy_object_is_gc (o))
    return false;
  if (lpy.PyObject_GC_IsFinalized != NULL)
    return lpy.PyObject_GC_IsFinalized (o) != 0;
  return (((uintptr_t *) o)[-1] & 1) != 0;
}

bool
lpy_object_is_immortal (lpy_object *o)
{
  if (lpy.minor < 12)
    return false;
  /* 3.12+ (64-bit): immortal objects have a refcount whose low 32 bits,
   * read as signed, are negative. */
  return (int32_t) lpy_refcnt (o) < 0;
}
