/* linger_memlimit.c: how much memory an analysis may use, and needs. */
#include "linger_memlimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "linger_trace_format.h"

/* Bytes a snapshot's object and reference cost once analysed, beyond the
 * reader's copy of its entries: the graph (the sorted nodes, edges in and
 * out, the root tree, the address index while the edges are built), the
 * dominator tree and the findings' walks.  Measured with
 * bench/huge_trace.py (peak RSS over traces of 50 MB to 2 GB), rounded
 * up so the estimate stays above the peak. */
#define ANALYSIS_BYTES_PER_OBJECT 90
#define ANALYSIS_BYTES_PER_REF     28
/* Strings, stacks and sites as the reader keeps them, per byte of their
 * records: hash tables and pools around the same data. */
#define OTHER_BYTES_FACTOR          2
/* The process before any trace: libraries, GLib, the symbolizer. */
#define BASE_BYTES (G_GUINT64_CONSTANT (16) << 20)

#define DEFAULT_PERCENT 80

static gboolean limit_set;
static LingerMemLimit limit;

gboolean
linger_memlimit_parse (const char *text,
                       guint64    *bytes)
{
  const char *p = text;
  char *end = NULL;
  double value;
  double unit = 1;

  if (text == NULL || !g_ascii_isdigit (*p))
    return FALSE;
  value = g_ascii_strtod (p, &end);
  if (end == p)
    return FALSE;
  p = end;
  switch (g_ascii_toupper (*p))
    {
    case 'K': unit = 1024.0; p++; break;
    case 'M': unit = 1024.0 * 1024; p++; break;
    case 'G': unit = 1024.0 * 1024 * 1024; p++; break;
    case 'T': unit = 1024.0 * 1024 * 1024 * 1024; p++; break;
    default: break;
    }
  if (unit > 1 && (*p == 'i' || *p == 'I'))
    p++;
  if (*p == 'B' || *p == 'b')
    p++;
  if (*p != '\0')
    return FALSE;
  value *= unit;
  /* Below a kilobyte or beyond 2^60 is a typo, not a limit. */
  if (!(value >= 1024) || value > (double) (G_GUINT64_CONSTANT (1) << 60))
    return FALSE;
  *bytes = (guint64) value;
  return TRUE;
}

void
linger_memlimit_set (guint64     bytes,
                     const char *origin)
{
  limit.bytes = bytes;
  limit.origin = origin;
  limit_set = TRUE;
}

LingerMemLimit
linger_memlimit_get (void)
{
  if (!limit_set)
    {
      limit = linger_memlimit_default ();
      limit_set = TRUE;
    }
  return limit;
}

/* "Key:   1234 kB" of a /proc file, in bytes. */
static gboolean
proc_kb (const char *path,
         const char *key,
         guint64    *bytes)
{
  g_autofree char *text = NULL;
  const char *line;
  gsize key_len = strlen (key);

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  for (line = text; line != NULL && *line != '\0'; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    if (strncmp (line, key, key_len) == 0 && line[key_len] == ':')
      {
        guint64 kb = g_ascii_strtoull (line + key_len + 1, NULL, 10);

        *bytes = linger_sat_mul (kb, 1024);
        return TRUE;
      }
  return FALSE;
}

/* A number in a cgroup file ("max" is no limit). */
static gboolean
cgroup_number (const char *dir,
               const char *name,
               guint64    *value)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;
  char *end = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  g_strstrip (text);
  *value = g_ascii_strtoull (text, &end, 10);
  return end != text && *end == '\0';
}

/* "key value" of a cgroup's memory.stat. */
static guint64
cgroup_stat (const char *dir,
             const char *key)
{
  g_autofree char *path = g_build_filename (dir, "memory.stat", NULL);
  g_autofree char *text = NULL;
  gsize key_len = strlen (key);

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *line = text; line != NULL; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    if (strncmp (line, key, key_len) == 0 && line[key_len] == ' ')
      return g_ascii_strtoull (line + key_len + 1, NULL, 10);
  return 0;
}

/* What the memory cgroup of this process, and each one above it, still
 * lets it allocate: the smallest limit minus usage, page cache excluded
 * (the kernel reclaims it before it kills anything).  cgroup v2
 * (memory.max) or v1 (memory.limit_in_bytes). */
static gboolean
cgroup_free (guint64 *free_bytes)
{
  g_autofree char *text = NULL;
  gboolean found = FALSE;
  const char *line;

  if (!g_file_get_contents ("/proc/self/cgroup", &text, NULL, NULL))
    return FALSE;
  for (line = text; line != NULL && *line != '\0'; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    {
      gboolean v2 = g_str_has_prefix (line, "0::");
      const char *controllers = strchr (line, ':');
      const char *rel;
      g_autofree char *name = NULL;
      g_autofree char *dir = NULL;
      const char *top = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";

      if (controllers == NULL)
        break;
      rel = strchr (controllers + 1, ':');
      if (rel == NULL)
        break;
      if (!v2 && (rel - controllers - 1 != 6 || strncmp (controllers + 1, "memory", 6) != 0))
        continue;
      name = g_strndup (rel + 1, strcspn (rel + 1, "\n"));
      dir = g_build_filename (top, name, NULL);
      for (;;)
        {
          guint64 max, current;

          if (cgroup_number (dir, v2 ? "memory.max" : "memory.limit_in_bytes", &max)
              && cgroup_number (dir, v2 ? "memory.current" : "memory.usage_in_bytes", &current))
            {
              guint64 cache = cgroup_stat (dir, v2 ? "file" : "total_cache");
              guint64 used = current > cache ? current - cache : 0;
              guint64 left = max > used ? max - used : 0;

              if (!found || left < *free_bytes)
                *free_bytes = left;
              found = TRUE;
            }
          if (strlen (dir) <= strlen (top))
            break;
          {
            char *parent = g_path_get_dirname (dir);

            g_free (dir);
            dir = parent;
          }
        }
    }
  return found;
}

LingerMemLimit
linger_memlimit_default (void)
{
  LingerMemLimit l = { 0 };
  guint64 value;
  struct rlimit rl;

  if (proc_kb ("/proc/meminfo", "MemAvailable", &value))
    {
      l.bytes = value;
      l.origin = "80% of available memory";
    }
  if (cgroup_free (&value) && (l.origin == NULL || value < l.bytes))
    {
      l.bytes = value;
      l.origin = "80% of what the cgroup's memory.max leaves";
    }
  /* RLIMIT_AS counts every mapping, the libraries' too. */
  if (getrlimit (RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    {
      guint64 used = 0;

      proc_kb ("/proc/self/status", "VmSize", &used);
      value = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
      if (l.origin == NULL || value < l.bytes)
        {
          l.bytes = value;
          l.origin = "80% of the address space ulimit -v leaves";
          l.address_space = TRUE;
        }
    }
  l.bytes = l.bytes / 100 * DEFAULT_PERCENT;
  if (l.origin == NULL)
    l.origin = "no limit known";
  return l;
}

/* GArray rounds what it allocates up to a power of two. */
static guint64
reserved (guint64 bytes)
{
  guint64 r = 1;

  if (bytes > G_GUINT64_CONSTANT (1) << 62)
    return G_MAXUINT64;
  while (r < bytes)
    r <<= 1;
  return r;
}

guint64
linger_memlimit_estimate (const LingerMemNeeds *n,
                          gboolean              address_space)
{
  guint64 total = BASE_BYTES;
  guint64 objects = linger_sat_mul (n->kept_objects, sizeof (linger_object_entry));
  guint64 refs = linger_sat_mul (n->kept_refs, sizeof (linger_ref_entry));

  /* The reader's arrays grow by doubling: their unused tail is address
   * space, never touched, so never resident. */
  if (address_space)
    {
      objects = reserved (objects);
      refs = reserved (refs);
    }
  total = linger_sat_add (total, objects);
  total = linger_sat_add (total, refs);
  total = linger_sat_add (total, n->kept_other_entry_bytes);
  total = linger_sat_add (total, linger_sat_mul (n->analysed_objects, ANALYSIS_BYTES_PER_OBJECT));
  total = linger_sat_add (total, linger_sat_mul (n->analysed_refs, ANALYSIS_BYTES_PER_REF));
  total = linger_sat_add (total, linger_sat_mul (n->other_bytes, OTHER_BYTES_FACTOR));
  return total;
}
