/* linger_writer.h: streams trace records into a file descriptor.
 *
 * GLib-free and allocation-light: it is linked into the preloaded shim,
 * where it runs inside the profiled process, and into the tests, which use
 * it to build synthetic traces.  It is not thread-safe; the caller holds a
 * lock.  Functions return false once a write has failed (errno is kept in
 * `error`); later calls are cheap no-ops so the host keeps running.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "linger_trace_format.h"

typedef struct linger_strtab linger_strtab;

/* One open batch per batched record type, kept aside so that objects and
 * the references written between them still fill whole batches. */
#define LINGER_WRITER_N_BATCHES 13

typedef struct
{
  uint8_t *buf;            /* linger_rec_batch head, then entries */
  size_t   len;
  uint32_t count;
} linger_writer_batch;

typedef struct
{
  int       fd;
  bool      failed;        /* a write failed; nothing more is written */
  int       error;         /* errno of the failure */
  uint8_t  *buf;
  size_t    len;           /* bytes used in buf */
  size_t    cap;
  uint64_t  bytes_written;
  uint64_t  size_limit;    /* RLIMIT_FSIZE at creation, 0 if none */
  linger_writer_batch batches[LINGER_WRITER_N_BATCHES];
  linger_strtab *strings;
} linger_writer;

/* Takes ownership of fd only in the sense that linger_writer_close closes
 * it.  Writes the file header.  Returns false on allocation or write
 * failure (errno set). */
bool linger_writer_init (linger_writer *w, int fd, uint32_t file_flags);

/* Returns the id of the string (defining it on first use), or
 * LINGER_STRING_NONE if the writer has failed. */
uint32_t linger_writer_intern (linger_writer *w, const char *s, size_t len);
uint32_t linger_writer_intern_cstr (linger_writer *w, const char *s);

bool linger_writer_process (linger_writer *w,
                            uint32_t       pid,
                            uint32_t       ppid,
                            const char    *exe,
                            const char    *cmdline,
                            size_t         cmdline_len,
                            const char    *program);
bool linger_writer_runtime (linger_writer *w,
                            uint32_t       hexversion,
                            uint32_t       flags,
                            const char    *version);
bool linger_writer_snapshot_begin (linger_writer *w, uint32_t snapshot_id, uint32_t reason);
bool linger_writer_snapshot_end (linger_writer                 *w,
                                 const linger_rec_snapshot_end *end);
/* Right before the snapshot's BEGIN: its label (format 1.3). */
bool linger_writer_snapshot_label (linger_writer *w, uint32_t snapshot_id, const char *label,
                                   size_t len, uint32_t flags);
bool linger_writer_message (linger_writer *w, uint32_t level, const char *text);
bool linger_writer_end (linger_writer *w, uint32_t exit_path);

/* Batched entries: entries of one kind share a record, which is written
 * when it is full or before the next non-STRING record. */
bool linger_writer_object (linger_writer *w, const linger_object_entry *e);
bool linger_writer_ref (linger_writer *w, const linger_ref_entry *e);
bool linger_writer_root (linger_writer *w, const linger_root_entry *e);
bool linger_writer_finalizer (linger_writer *w, const linger_finalizer_entry *e);
bool linger_writer_weakref (linger_writer *w, const linger_weakref_entry *e);
bool linger_writer_atexit (linger_writer *w, const linger_atexit_entry *e);
bool linger_writer_object_site (linger_writer *w, const linger_object_site_entry *e);
bool linger_writer_module (linger_writer *w, const linger_module_entry *e);
bool linger_writer_py_frame (linger_writer *w, const linger_py_frame_entry *e);
bool linger_writer_site (linger_writer *w, const linger_site_entry *e);
bool linger_writer_site_stats (linger_writer *w, const linger_site_stats_entry *e);
bool linger_writer_gc_free (linger_writer *w, const linger_gc_free_entry *e);
bool linger_writer_live_block (linger_writer *w, const linger_block_entry *e);

/* Allocation tracking records (not batched). */
bool linger_writer_alloc_info (linger_writer *w, const linger_rec_alloc_info *info);
bool linger_writer_native_stack (linger_writer  *w,
                                 uint32_t        id,
                                 uint32_t        generation,
                                 uint32_t        flags,
                                 const uint64_t *addrs,
                                 uint32_t        depth);
bool linger_writer_py_stack (linger_writer  *w,
                             uint32_t        id,
                             uint32_t        flags,
                             const uint32_t *frames,
                             uint32_t        depth);

/* Writes every complete record to the fd. */
bool linger_writer_flush (linger_writer *w);

/* Flushes, closes the fd and frees memory.  Safe on a failed writer. */
void linger_writer_close (linger_writer *w);

/* After fork(): forget the parent's buffered bytes and fd without writing
 * or closing anything the parent still owns. */
void linger_writer_abandon (linger_writer *w);

/* Monotonic and wall clocks in nanoseconds. */
uint64_t linger_time_realtime_ns (void);
uint64_t linger_time_monotonic_ns (void);
