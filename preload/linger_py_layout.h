/* linger_py_layout.h: the struct offsets that differ between CPython
 * versions and have no side-effect-free public API.
 *
 * Rows come from tools/gen_py_layout.sh, which compiles
 * tools/py_layout_probe.c against each version's internal headers.  The
 * row is picked from the running interpreter's minor version and checked
 * against the public API before the first snapshot
 * (linger_py_layout_validate); if a check fails the shim falls back to
 * what the public API gives, which loses attribute names on 3.11+ but
 * never reads a wrong field.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "linger_pyapi.h"

typedef struct
{
  int      minor;
  uint16_t func_closure;        /* PyFunctionObject.func_closure */
  uint16_t ht_qualname;         /* PyHeapTypeObject.ht_qualname */
  /* 3.11+: instance attributes kept outside a dict ("managed dict"). */
  uint16_t ht_cached_keys;      /* PyHeapTypeObject.ht_cached_keys */
  uint16_t dk_log2_index_bytes; /* PyDictKeysObject fields */
  uint16_t dk_kind;
  uint16_t dk_nentries;
  uint16_t dk_indices;
  uint16_t unicode_entry_size;  /* sizeof (PyDictUnicodeEntry) */
  uint16_t dict_values_values;  /* offsetof (PyDictValues, values) */
  /* atexit.register() callbacks: in the atexit module's state on 3.8-3.9
   * (interp_atexit == 0), in PyInterpreterState.atexit from 3.10. */
  uint16_t interp_atexit;
  uint16_t atexit_callbacks;    /* struct atexit_state */
  uint16_t atexit_ncallbacks;
  /* Frame walking inside allocation hooks, without creating objects
   * (cpython-internals.md section 6).  3.8-3.10: PyThreadState.frame ->
   * PyFrameObject (frame_instr = f_lasti, an int); 3.11-3.12:
   * tstate->cframe->current_frame; 3.13: tstate->current_frame; both
   * _PyInterpreterFrame (frame_instr = prev_instr / instr_ptr). */
  uint16_t tstate_frame;
  uint16_t cframe_current;
  uint16_t frame_back;
  uint16_t frame_code;
  uint16_t frame_instr;
  uint16_t frame_owner;         /* 3.11+ */
  uint16_t code_adaptive;       /* 3.11+: co_code_adaptive (_PyCode_CODE) */
  uint16_t code_firsttraceable; /* 3.11+ */
  uint16_t code_qualname;       /* 3.11+ */
  uint16_t code_filename;
  uint16_t code_name;
  uint16_t code_firstlineno;
  uint16_t ascii_data;          /* sizeof (PyASCIIObject) */
  uint16_t unicode_state;
  uint16_t unicode_length;
} linger_py_layout;

/* The row for the running interpreter, or NULL for a version without one
 * (the shim then runs on the public API only). */
const linger_py_layout *linger_py_layout_get (void);

/* Reads the names and values of an instance's attributes stored outside
 * a dict (3.11+ managed dict that has not been materialised).  Calls
 * fn(name, value, data) for each present attribute; returns false if the
 * object has no such storage or the layout looks wrong.  Never allocates,
 * never runs Python code. */
typedef void (*linger_attr_fn) (lpy_object *name, lpy_object *value, void *data);
bool linger_py_layout_managed_attrs (lpy_object *obj, linger_attr_fn fn, void *data);

/* The materialised __dict__ of an instance, or NULL; without side effects
 * (on 3.11+ _PyObject_GetDictPtr would materialise one). */
lpy_object *linger_py_layout_instance_dict (lpy_object *obj);

/* The atexit callbacks, validated against atexit._ncallbacks(): calls
 * fn(index, func, args, kwargs) for each and returns how many, or -1 if
 * they cannot be read safely.  May call atexit._ncallbacks (C code). */
typedef void (*linger_atexit_fn) (uint32_t index, lpy_object *func, lpy_object *args,
                                  lpy_object *kwargs, void *data);
int linger_py_layout_atexit (linger_atexit_fn fn, void *data);

/* Checks the row against the public API; disables it on mismatch. */
bool linger_py_layout_validate (void);
