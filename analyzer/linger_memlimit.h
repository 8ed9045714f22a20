/* linger_memlimit.h: how much memory an analysis may use, and how much
 * a trace will need.
 *
 * A trace of a large heap needs several times its size in memory once
 * read and analysed.  Rather than being killed by the kernel (or by
 * RLIMIT_AS) half-way, `linger report` estimates what the trace needs
 * from the record headers alone, before any large allocation, and
 * refuses with a message when that is more than the limit: --max-memory,
 * or by default 80% of what the machine, the cgroup and the address-space
 * limit leave to this process.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64     bytes;   /* 0: no limit */
  const char *origin;  /* "--max-memory", "80% of available memory", ... */
  /* The limit is on address space (RLIMIT_AS), not on resident memory. */
  gboolean    address_space;
} LingerMemLimit;

/* Parses "512M", "4G", "1.5GiB", "100000" (bytes); K, M, G, T are powers
 * of 1024.  FALSE for anything else, or 0. */
gboolean     linger_memlimit_parse        (const char *text,
                                           guint64    *bytes);

/* Sets the limit every later read of a trace file checks against
 * (--max-memory); without a call, linger_memlimit_default(). */
void         linger_memlimit_set          (guint64     bytes,
                                           const char *origin);
LingerMemLimit linger_memlimit_get        (void);

/* 80% of the smallest of MemAvailable (/proc/meminfo), the cgroup's
 * memory.max minus memory.current, and RLIMIT_AS minus the address space
 * in use; bytes 0 if none of them is known. */
LingerMemLimit linger_memlimit_default    (void);

/* What reading and analysing a trace holds at its peak, in bytes of
 * resident memory, or of address space if @address_space (saturating,
 * never wraps): @kept_* are the entries of the snapshots the
 * reader keeps (all of them, or the one analysed), @analysed_* those of
 * the snapshot that is analysed, @other_bytes the bytes of the records
 * that are not snapshot entries (strings, stacks, sites). */
typedef struct
{
  guint64 kept_objects;
  guint64 kept_refs;
  guint64 kept_other_entry_bytes;  /* roots, finalizers, weakrefs, ... as stored */
  guint64 analysed_objects;
  guint64 analysed_refs;
  guint64 other_bytes;
} LingerMemNeeds;

guint64      linger_memlimit_estimate     (const LingerMemNeeds *needs,
                                           gboolean              address_space);

/* a + b and a * b, saturating at G_MAXUINT64. */
static inline guint64
linger_sat_add (guint64 a,
                guint64 b)
{
  return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

static inline guint64
linger_sat_mul (guint64 a,
                guint64 b)
{
  return b != 0 && a > G_MAXUINT64 / b ? G_MAXUINT64 : a * b;
}

G_END_DECLS
