/* sample_out.h: output for the C samples without stdio.
 *
 * printf() would malloc a buffer for stdout on first use and keep it until
 * exit: a live block at exit that belongs to libc, not to the sample.  The
 * samples write their few lines with write(2) so that the only live
 * blocks at exit are the ones their expectations declare (plus what the
 * C library keeps for itself, which the checker tells apart by module).
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((format(printf, 1, 2), unused))
static void
say (const char *fmt, ...)
{
  char line[256];
  va_list ap;

  va_start (ap, fmt);
  /* snprintf formats into our buffer: no allocation for %d, %s, %zu. */
  int n = vsnprintf (line, sizeof line - 1, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  if ((size_t) n > sizeof line - 2)
    n = (int) sizeof line - 2;
  line[n++] = '\n';
  for (int off = 0; off < n;)
    {
      ssize_t w = write (STDOUT_FILENO, line + off, (size_t) (n - off));
      if (w <= 0)
        return;
      off += (int) w;
    }
}

/* A small deterministic generator (no rand(): its state is libc's, and
 * some libcs allocate for it). */
__attribute__((unused))
static unsigned
next_random (unsigned *state)
{
  *state = *state * 1103515245u + 12345u;
  return (*state >> 8) & 0xffffffu;
}
