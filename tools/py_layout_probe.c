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
  printf ("  },\n");
  return 0;
}
