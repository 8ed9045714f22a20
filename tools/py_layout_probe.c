/* py_layout_probe.c: prints the CPython struct offsets linger's shim needs,
 * compiled against one version's (internal) headers.  Run by
 * tools/gen_py_layout.sh; its output is checked into
 * preload/linger_py_layout_table.h.  The shim itself never includes
 * Python.h. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stdio.h>
#include <stddef.h>
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_dict.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#endif
#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030b0000
#include "internal/pycore_pystate.h"
#endif
#if PY_VERSION_HEX >= 0x030a0000
#include "internal/pycore_interp.h"
#endif
#include "frameobject.h"

int
main (void)
{
  printf ("  { .minor = %d,\n", PY_MINOR_VERSION);
  printf ("    .func_closure = %zu,\n", offsetof (PyFunctionObject, func_closure));
  printf ("    .ht_qualname = %zu,\n", offsetof (PyHeapTypeObject, ht_qualname));
#if PY_VERSION_HEX >= 0x030b0000
  printf ("    .ht_cached_keys = %zu,\n", offsetof (PyHeapTypeObject, ht_cached_keys));
  printf ("    .dk_log2_index_bytes = %zu,\n", offsetof (PyDictKeysObject, dk_log2_index_bytes));
  printf ("    .dk_kind = %zu,\n", offsetof (PyDictKeysObject, dk_kind));
  printf ("    .dk_nentries = %zu,\n", offsetof (PyDictKeysObject, dk_nentries));
  printf ("    .dk_indices = %zu,\n", offsetof (PyDictKeysObject, dk_indices));
  printf ("    .unicode_entry_size = %zu,\n", sizeof (PyDictUnicodeEntry));
  printf ("    .dict_values_values = %zu,\n", offsetof (PyDictValues, values));
#endif
#if PY_VERSION_HEX >= 0x030a0000
  /* atexit callbacks live in the interpreter state from 3.10. */
  printf ("    .interp_atexit = %zu,\n", offsetof (PyInterpreterState, atexit));
  printf ("    .atexit_callbacks = %zu,\n", offsetof (struct atexit_state, callbacks));
  printf ("    .atexit_ncallbacks = %zu,\n", offsetof (struct atexit_state, ncallbacks));
#endif
  /* Frame walking inside allocation hooks (cpython-internals.md section 6). */
#if PY_VERSION_HEX >= 0x030d0000
  printf ("    .tstate_frame = %zu, .cframe_current = 0,\n", offsetof (PyThreadState, current_frame));
#elif PY_VERSION_HEX >= 0x030b0000
  printf ("    .tstate_frame = %zu, .cframe_current = %zu,\n", offsetof (PyThreadState, cframe),
          offsetof (_PyCFrame, current_frame));
#else
  printf ("    .tstate_frame = %zu,\n", offsetof (PyThreadState, frame));
#endif
#if PY_VERSION_HEX >= 0x030b0000
  printf ("    .frame_back = %zu, .frame_owner = %zu,\n", offsetof (_PyInterpreterFrame, previous),
          offsetof (_PyInterpreterFrame, owner));
#if PY_VERSION_HEX >= 0x030d0000
  printf ("    .frame_code = %zu, .frame_instr = %zu,\n", offsetof (_PyInterpreterFrame, f_executable),
          offsetof (_PyInterpreterFrame, instr_ptr));
#else
  printf ("    .frame_code = %zu, .frame_instr = %zu,\n", offsetof (_PyInterpreterFrame, f_code),
          offsetof (_PyInterpreterFrame, prev_instr));
#endif
  printf ("    .code_adaptive = %zu, .code_firsttraceable = %zu, .code_qualname = %zu,\n",
          offsetof (PyCodeObject, co_code_adaptive), offsetof (PyCodeObject, _co_firsttraceable),
          offsetof (PyCodeObject, co_qualname));
#else
  printf ("    .frame_back = %zu, .frame_code = %zu, .frame_instr = %zu,\n",
          offsetof (PyFrameObject, f_back), offsetof (PyFrameObject, f_code),
          offsetof (PyFrameObject, f_lasti));
#endif
  printf ("    .code_filename = %zu, .code_name = %zu, .code_firstlineno = %zu,\n",
          offsetof (PyCodeObject, co_filename), offsetof (PyCodeObject, co_name),
          offsetof (PyCodeObject, co_firstlineno));
  printf ("    .ascii_data = %zu, .unicode_state = %zu, .unicode_length = %zu,\n",
          sizeof (PyASCIIObject), offsetof (PyASCIIObject, state), offsetof (PyASCIIObject, length));
  printf ("  },\n");
  return 0;
}
