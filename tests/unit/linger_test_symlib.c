/* linger_test_symlib.c: a shared library for test_symbolizer.c, built with
 * -g -O0 so its addresses have exact lines.  The test dlopen()s it, so it
 * is symbolized the way a plugin or extension module would be. */
#include <stdint.h>

#define SYMLIB_EXPORT __attribute__ ((visibility ("default")))

SYMLIB_EXPORT uint64_t linger_test_symlib_where (unsigned *line);

/* A return address minus one, as the shim's unwinder reports it. */
static __attribute__ ((noinline)) uint64_t
symlib_caller_pc (void)
{
  return (uint64_t) (uintptr_t) __builtin_return_address (0) - 1;
}

/* The address of a call in this function, and the line of that call. */
SYMLIB_EXPORT uint64_t
linger_test_symlib_where (unsigned *line)
{
  uint64_t pc = symlib_caller_pc (); *line = __LINE__;

  return pc;
}
