/* leaky_plugin.c: libleaky_plugin.so, loaded and unloaded by leak_dlopen.
 *
 * plugin_make_blob is static and lives only in this library, which is
 * gone (dlclose) when the program exits: the report can only name it if
 * the module map at allocation time was recorded.  Expectations are in
 * leak_dlopen.c. */
#include <stdlib.h>
#include <string.h>

#include "leaky_plugin.h"

static unsigned char *
plugin_make_blob (int seed)
{
  unsigned char *b = malloc (128); // linger-site: blob
  if (b == NULL)
    abort ();
  memset (b, seed & 0xff, 128);
  return b;
}

int
plugin_run (int n)
{
  int sum = 0;

  for (int i = 0; i < n; i++)
    {
      unsigned char *b = plugin_make_blob (i);
      sum += b[127];
      if (i >= 7)             /* blobs 0..6 are leaked */
        free (b);
    }
  return sum;
}
