// linger-sample: a leak inside a dlopen'ed plugin that is dlclose'd before exit
//
// libleaky_plugin.so (leaky_plugin.c, next to this program) leaks 7
// blobs of 128 bytes in its static plugin_make_blob, then the program
// unloads it.  The report must still name plugin_make_blob, its file and
// line, and the plugin as its module, from what was recorded while the
// plugin was mapped.  ld.so's own bookkeeping for dlopen is not the
// program's leak (the checker leaves blocks allocated inside libc and
// ld.so aside).
//
// linger-sources: leaky_plugin.c
// linger-expect: leak plugin_make_blob blocks=7 bytes=896 site=blob module=libleaky_plugin.so callers=plugin_run>run_plugin>main
// linger-expect-allocations: native_allocs>=40

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include "sample_out.h"

/* The plugin is built next to this program: find it from /proc/self/exe,
 * so the program runs from any working directory. */
static void
plugin_path (char *buf, size_t size)
{
  ssize_t n = readlink ("/proc/self/exe", buf, size - 1);
  if (n <= 0)
    abort ();
  buf[n] = '\0';
  char *slash = strrchr (buf, '/');
  if (slash == NULL || (size_t) (slash - buf) + sizeof "/libleaky_plugin.so" > size)
    abort ();
  strcpy (slash, "/libleaky_plugin.so");
}

static int
run_plugin (const char *path)
{
  void *handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL)
    {
      say ("dlopen failed: %s", dlerror ());
      exit (1);
    }
  int (*run) (int) = (int (*) (int)) dlsym (handle, "plugin_run");
  if (run == NULL)
    {
      say ("dlsym failed: %s", dlerror ());
      exit (1);
    }
  int sum = run (40);
  dlclose (handle);
  return sum;
}

int
main (void)
{
  char path[PATH_MAX];

  plugin_path (path, sizeof path);
  say ("plugin checksum %d", run_plugin (path));
  /* RTLD_NOLOAD only finds a library that is still loaded: the plugin must
   * really be gone, or the test would not test symbolizing an unloaded
   * module.  (linger must not keep it loaded either: the output would
   * differ from the bare run.) */
  void *again = dlopen (path, RTLD_NOW | RTLD_NOLOAD);
  say ("plugin unloaded: %s", again == NULL ? "yes" : "no");
  if (again != NULL)
    dlclose (again);
  return 0;
}
