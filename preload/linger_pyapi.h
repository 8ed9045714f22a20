/* linger_pyapi.h: the CPython C API as the shim sees it.
 *
 * The shim never includes Python.h and links no libpython: one build must
 * serve every CPython 3.8-3.13, static (Debian's python3) or shared
 * (pyenv), and stay inert in processes that are not Python at all.  So
 * every function is resolved with dlsym at start-up, objects are opaque,
 * and the few struct fields we read come either from layouts that are the
 * same in every supported version (cpython-internals.md section 5) or from
 * the per-version table in linger_py_layout.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct lpy_object lpy_object;

typedef int (*lpy_audit_hook) (const char *event, lpy_object *args, void *data);
typedef int (*lpy_visitproc) (lpy_object *obj, void *arg);
typedef int (*lpy_traverseproc) (lpy_object *obj, lpy_visitproc visit, void *arg);
typedef lpy_object *(*lpy_cfunction) (lpy_object *self, lpy_object *args);
typedef int (*lpy_inquiry) (lpy_object *obj);

typedef struct
{
  void *ctx;
  void *(*malloc) (void *ctx, size_t size);
  void *(*calloc) (void *ctx, size_t nelem, size_t elsize);
  void *(*realloc) (void *ctx, void *ptr, size_t new_size);
  void (*free) (void *ctx, void *ptr);
} lpy_mem_allocator;

typedef struct
{
  const char   *ml_name;
  lpy_cfunction ml_meth;
  int           ml_flags;
  const char   *ml_doc;
} lpy_method_def;

enum
{
  LPY_MEM_DOMAIN_RAW = 0,
  LPY_MEM_DOMAIN_MEM = 1,
  LPY_MEM_DOMAIN_OBJ = 2,
};

enum
{
  LPY_METH_VARARGS = 0x0001,
  LPY_METH_NOARGS  = 0x0004,
};

/* Type flags (Include/object.h); the same bits in 3.8-3.13 GIL builds. */
enum
{
  LPY_TPFLAGS_INLINE_VALUES   = 1ul << 2,  /* 3.13 */
  LPY_TPFLAGS_MANAGED_WEAKREF = 1ul << 3,  /* 3.12+ */
  LPY_TPFLAGS_MANAGED_DICT    = 1ul << 4,  /* 3.11+ */
  LPY_TPFLAGS_HEAPTYPE        = 1ul << 9,
  LPY_TPFLAGS_HAVE_GC         = 1ul << 14,
  LPY_TPFLAGS_TYPE_SUBCLASS   = 1ul << 31,
};

/* Member descriptor kinds (structmember.h). */
enum
{
  LPY_T_OBJECT    = 6,
  LPY_T_OBJECT_EX = 16,
};

/* Functions, as X (return type, name, parameters, first minor version
 * that exports it).  A function whose minor is above the running
 * interpreter's is simply left NULL; 99 marks one that is optional in
 * every version. */
#define LINGER_PY_FUNCTIONS(X)                                                          \
  X (const char *, Py_GetVersion, (void), 0)                                            \
  X (int, Py_IsInitialized, (void), 0)                                                  \
  X (int, PySys_AddAuditHook, (lpy_audit_hook, void *), 8)                              \
  X (void, PyMem_GetAllocator, (int, lpy_mem_allocator *), 0)                           \
  X (void, PyMem_SetAllocator, (int, lpy_mem_allocator *), 0)                           \
  X (void, PyMem_SetupDebugHooks, (void), 0)                                            \
  X (lpy_object *, PyImport_GetModuleDict, (void), 0)                                   \
  X (lpy_object *, PyImport_ImportModule, (const char *), 0)                            \
  X (lpy_object *, PyObject_GetAttrString, (lpy_object *, const char *), 0)             \
  X (int, PyObject_SetAttrString, (lpy_object *, const char *, lpy_object *), 0)        \
  X (lpy_object *, PyObject_CallObject, (lpy_object *, lpy_object *), 0)                \
  X (lpy_object *, PyObject_Call, (lpy_object *, lpy_object *, lpy_object *), 0)        \
  X (lpy_object *, PyDict_New, (void), 0)                                                        \
  X (lpy_object *, PyCFunction_NewEx, (lpy_method_def *, lpy_object *, lpy_object *), 0) \
  X (const char *, PyUnicode_AsUTF8AndSize, (lpy_object *, ssize_t *), 0)               \
  X (lpy_object *, PyUnicode_InternFromString, (const char *), 0)                       \
  X (long long, PyLong_AsLongLongAndOverflow, (lpy_object *, int *), 0)                 \
  X (lpy_object *, PyLong_FromLong, (long), 0)                                          \
  X (int, PyDict_Next, (lpy_object *, ssize_t *, lpy_object **, lpy_object **), 0)      \
  X (lpy_object *, PyDict_GetItemString, (lpy_object *, const char *), 0)               \
  X (lpy_object *, PyDict_GetItem, (lpy_object *, lpy_object *), 0)                     \
  X (ssize_t, PyList_Size, (lpy_object *), 0)                                           \
  X (lpy_object *, PyList_GetItem, (lpy_object *, ssize_t), 0)                          \
  X (ssize_t, PyTuple_Size, (lpy_object *), 0)                                          \
  X (lpy_object *, PyTuple_GetItem, (lpy_object *, ssize_t), 0)                         \
  X (lpy_object *, PyTuple_New, (ssize_t), 0)                                           \
  X (int, PyTuple_SetItem, (lpy_object *, ssize_t, lpy_object *), 0)                    \
  X (lpy_object *, PyMapping_Items, (lpy_object *), 0)                                  \
  X (lpy_object *, PyErr_Occurred, (void), 0)                                           \
  X (void, PyErr_Clear, (void), 0)                                                      \
  X (void, PyErr_Fetch, (lpy_object **, lpy_object **, lpy_object **), 0)               \
  X (void, PyErr_Restore, (lpy_object *, lpy_object *, lpy_object *), 0)                \
  X (int, PyType_IsSubtype, (lpy_object *, lpy_object *), 0)                            \
  X (lpy_object *, _PyType_Lookup, (lpy_object *, lpy_object *), 0)                     \
  X (void, Py_IncRef, (lpy_object *), 0)                                                \
  X (void, Py_DecRef, (lpy_object *), 0)                                                \
  X (size_t, _PySys_GetSizeOf, (lpy_object *), 0)                                       \
  X (lpy_object *, PyFunction_GetCode, (lpy_object *), 0)                               \
  X (lpy_object *, PyFunction_GetClosure, (lpy_object *), 0)                            \
  X (lpy_object *, PyFunction_GetGlobals, (lpy_object *), 0)                            \
  X (lpy_object *, PyFunction_GetDefaults, (lpy_object *), 0)                           \
  X (lpy_object *, PyFunction_GetKwDefaults, (lpy_object *), 0)                         \
  X (lpy_object *, PyFunction_GetAnnotations, (lpy_object *), 0)                        \
  X (lpy_object **, _PyObject_GetDictPtr, (lpy_object *), 0)                            \
  X (int, PyObject_IS_GC, (lpy_object *), 9)                                            \
  X (int, PyObject_GC_IsTracked, (lpy_object *), 9)                                     \
  X (int, PyObject_GC_IsFinalized, (lpy_object *), 9)                                   \
  X (int, PyGC_Disable, (void), 10)                                                     \
  X (int, PyGC_Enable, (void), 10)                                                      \
  X (lpy_object *, PyType_GetDict, (lpy_object *), 12)                                 \
  X (void *, PyModule_GetState, (lpy_object *), 0)                                      \
  X (int, Py_AddPendingCall, (int (*) (void *), void *), 0)                             \
  X (void *, PyInterpreterState_Main, (void), 0)                                        \
  X (int, PyGILState_Ensure, (void), 0)                                                 \
  X (void, PyGILState_Release, (int), 0)                                                \
  X (int, _Py_IsFinalizing, (void), 99) /* 3.8-3.12; optional */                        \
  X (int, Py_IsFinalizing, (void), 13)                                                  \
  X (void *, _PyThreadState_UncheckedGet, (void), 99) /* 3.8-3.12; optional */         \
  X (void *, PyThreadState_GetUnchecked, (void), 13)                                    \
  X (void *, PyGILState_GetThisThreadState, (void), 0)                                  \
  X (int, PyCode_Addr2Line, (lpy_object *, int), 0)                                     \
  X (lpy_object *, PyEval_GetFrame, (void), 0)                                          \
  X (int, PyFrame_GetLineNumber, (lpy_object *), 0)                                     \
  X (lpy_object *, PyFrame_GetCode, (lpy_object *), 9)                                  \
  X (int, PyList_Append, (lpy_object *, lpy_object *), 0)                               \
  X (lpy_object *, PyRun_StringFlags, (const char *, int, lpy_object *, lpy_object *, void *), 0) \
  X (int, PyDict_SetItemString, (lpy_object *, const char *, lpy_object *), 0)

/* Data symbols: type objects and singletons, resolved to addresses. */
#define LINGER_PY_DATA(X)          \
  X (PyType_Type)                  \
  X (PyBaseObject_Type)            \
  X (PyDict_Type)                  \
  X (PyList_Type)                  \
  X (PyTuple_Type)                 \
  X (PySet_Type)                   \
  X (PyFrozenSet_Type)             \
  X (PyUnicode_Type)               \
  X (PyLong_Type)                  \
  X (PyBool_Type)                  \
  X (PyModule_Type)                \
  X (PyFunction_Type)              \
  X (PyMethod_Type)                \
  X (PyCell_Type)                  \
  X (PyFrame_Type)                 \
  X (PyCode_Type)                  \
  X (PyCFunction_Type)             \
  X (PyMemberDescr_Type)           \
  X (PyMethodDescr_Type)           \
  X (PyWrapperDescr_Type)          \
  X (_PyWeakref_RefType)           \
  X (_PyWeakref_ProxyType)         \
  X (_PyWeakref_CallableProxyType) \
  X (_Py_NoneStruct)               \
  X (_Py_TrueStruct)

typedef struct
{
#define LINGER_PY_FIELD(ret, name, params, minor) ret (*name) params;
  LINGER_PY_FUNCTIONS (LINGER_PY_FIELD)
#undef LINGER_PY_FIELD
#define LINGER_PY_DATA_FIELD(name) lpy_object *name;
  LINGER_PY_DATA (LINGER_PY_DATA_FIELD)
#undef LINGER_PY_DATA_FIELD

  /* What we found. */
  int      major, minor, micro;
  uint32_t hexversion;
  char     version[32];
  bool     shared_libpython;
  bool     free_threaded;
} linger_pyapi;

/* The resolved API, valid once linger_pyapi_resolve() returned true. */
extern linger_pyapi lpy;

typedef enum
{
  LINGER_PYAPI_NOT_PYTHON,   /* no CPython in this process */
  LINGER_PYAPI_UNSUPPORTED,  /* CPython, but a version or build we refuse */
  LINGER_PYAPI_OK,
} linger_pyapi_status;

/* Resolves everything; on UNSUPPORTED, *why says why (static string). */
/* Resolves the API in `handle`: RTLD_DEFAULT for an interpreter linked
 * into the program, or the handle of a libpython the program dlopen()ed
 * with RTLD_LOCAL (an embedder), whose symbols RTLD_DEFAULT cannot see. */
linger_pyapi_status linger_pyapi_resolve (void *handle, const char **why);

/* Field access for layouts shared by every supported version
 * (GIL builds, x86_64 and other LP64 targets). */
static inline intptr_t
lpy_refcnt (const lpy_object *o)
{
  return *(const intptr_t *) o;
}

static inline lpy_object *
lpy_type (const lpy_object *o)
{
  return *(lpy_object *const *) (const void *) ((const char *) o + 8);
}

static inline intptr_t
lpy_size (const lpy_object *o) /* ob_size of a PyVarObject */
{
  return *(const intptr_t *) (const void *) ((const char *) o + 16);
}

/* Through void *: the fields are aligned, the char arithmetic is not
 * what the compiler should check. */
#define LPY_FIELD(o, off, type) (*(type *) (void *) ((char *) (o) + (off)))

/* PyTypeObject fields (cpython-internals.md section 5). */
#define LPY_TP_NAME(t)          LPY_FIELD (t, 24, const char *)
#define LPY_TP_BASICSIZE(t)     LPY_FIELD (t, 32, intptr_t)
#define LPY_TP_ITEMSIZE(t)      LPY_FIELD (t, 40, intptr_t)
#define LPY_TP_FLAGS(t)         LPY_FIELD (t, 168, unsigned long)
#define LPY_TP_TRAVERSE(t)      LPY_FIELD (t, 184, lpy_traverseproc)
#define LPY_TP_WEAKLISTOFFSET(t) LPY_FIELD (t, 208, intptr_t)
#define LPY_TP_BASE(t)          LPY_FIELD (t, 256, lpy_object *)
#define LPY_TP_DICT(t)          LPY_FIELD (t, 264, lpy_object *)
#define LPY_TP_DICTOFFSET(t)    LPY_FIELD (t, 288, intptr_t)
#define LPY_TP_IS_GC(t)         LPY_FIELD (t, 328, lpy_inquiry)
#define LPY_TP_BASES(t)         LPY_FIELD (t, 336, lpy_object *)
#define LPY_TP_MRO(t)           LPY_FIELD (t, 344, lpy_object *)
#define LPY_TP_DEL(t)           LPY_FIELD (t, 376, void *)
#define LPY_TP_FINALIZE(t)      LPY_FIELD (t, 392, void *)

/* Other stable layouts. */
#define LPY_WR_OBJECT(o)        LPY_FIELD (o, 16, lpy_object *)
#define LPY_WR_CALLBACK(o)      LPY_FIELD (o, 24, lpy_object *)
#define LPY_METHOD_FUNC(o)      LPY_FIELD (o, 16, lpy_object *)
#define LPY_METHOD_SELF(o)      LPY_FIELD (o, 24, lpy_object *)
#define LPY_CELL_REF(o)         LPY_FIELD (o, 16, lpy_object *)
#define LPY_CFUNC_SELF(o)       LPY_FIELD (o, 24, lpy_object *)
/* PyMemberDescrObject: PyDescr_COMMON then PyMemberDef *d_member. */
#define LPY_MEMBERDESCR_DEF(o)  LPY_FIELD (o, 40, const struct lpy_member_def *)

struct lpy_member_def
{
  const char *name;
  int         type;
  intptr_t    offset;
  int         flags;
  const char *doc;
};

static inline bool
lpy_is_type (const lpy_object *o, const lpy_object *type)
{
  return lpy_type (o) == type;
}

/* isinstance without running __instancecheck__. */
static inline bool
lpy_is_instance (lpy_object *o, lpy_object *type)
{
  lpy_object *t = lpy_type (o);
  return t == type || (type != NULL && lpy.PyType_IsSubtype (t, type));
}

/* issubclass for type objects, without __subclasscheck__. */
static inline bool
lpy_is_instance_type (lpy_object *tp, lpy_object *base)
{
  return tp == base || (base != NULL && lpy.PyType_IsSubtype (tp, base));
}

static inline bool
lpy_is_type_object (lpy_object *o)
{
  return (LPY_TP_FLAGS (lpy_type (o)) & LPY_TPFLAGS_TYPE_SUBCLASS) != 0;
}

/* PyObject_IS_GC: the type supports GC and, for types like `type` that
 * decide per object, this object does.  Never call tp_traverse otherwise:
 * type_traverse aborts the process on a static type. */
bool lpy_object_is_gc (lpy_object *o);
bool lpy_object_is_tracked (lpy_object *o);
bool lpy_object_is_finalized (lpy_object *o);
/* 3.12+ immortal objects (refcount saturated). */
bool lpy_object_is_immortal (lpy_object *o);
