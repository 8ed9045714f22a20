/* linger_writer.c: buffered, record-at-a-time trace writer. */
#include "linger_writer.h"

#include <errno.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The format is little endian and the writer stores structs as they are
 * in memory, so it only builds for little-endian hosts. */
LINGER_STATIC_ASSERT (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "linger writes little-endian traces");

/* A buffer large enough that a snapshot of a big heap is written in a few
 * hundred syscalls, small enough to be irrelevant next to the heap. */
#define WRITER_BUFFER_SIZE (1u << 20)
/* Batches are closed well below LINGER_RECORD_MAX_SIZE. */
#define WRITER_BATCH_LIMIT (64u * 1024u)

/* String interning: open addressing on (hash, text).  Texts live in one
 * growing arena so the table holds only offsets. */
typedef struct
{
  uint64_t hash;
  uint32_t offset;
  uint32_t len;
  uint32_t id;     /* 0 = empty slot */
} strtab_slot;

struct linger_strtab
{
  strtab_slot *slots;
  size_t       n_slots;  /* power of two */
  size_t       n_used;
  char        *arena;
  size_t       arena_len;
  size_t       arena_cap;
  uint32_t     next_id;
};

static uint64_t
hash_bytes (const char *s, size_t len)
{
  /* FNV-1a: short strings, no need for anything stronger. */
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++)
    {
      h ^= (uint8_t) s[i];
      h *= 1099511628211ull;
    }
  return h;
}

static linger_strtab *
strtab_new (void)
{
  linger_strtab *t = calloc (1, sizeof *t);
  if (t == NULL)
    return NULL;
  t->n_slots = 1024;
  t->slots = calloc (t->n_slots, sizeof *t->slots);
  t->arena_cap = 16 * 1024;
  t->arena = malloc (t->arena_cap);
  t->next_id = 1;
  if (t->slots == NULL || t->arena == NULL)
    {
      free (t->slots);
      free (t->arena);
      free (t);
      return NULL;
    }
  return t;
}

static void
strtab_free (linger_strtab *t)
{
  if (t == NULL)
    return;
  free (t->slots);
  free (t->arena);
  free (t);
}

static bool
strtab_grow (linger_strtab *t)
{
  size_t n = t->n_slots * 2;
  strtab_slot *slots = calloc (n, sizeof *slots);
  if (slots == NULL)
    return false;
  for (size_t i = 0; i < t->n_slots; i++)
    {
      strtab_slot *s = &t->slots[i];
      if (s->id == 0)
        continue;
      size_t j = s->hash & (n - 1);
      while (slots[j].id != 0)
        j = (j + 1) & (n - 1);
      slots[j] = *s;
    }
  free (t->slots);
  t->slots = slots;
  t->n_slots = n;
  return true;
}

/* Looks s up; on a miss inserts it and sets *is_new.  Returns 0 on
 * allocation failure. */
static uint32_t
strtab_lookup (linger_strtab *t, const char *s, size_t len, bool *is_new)
{
  *is_new = false;
  if (len > UINT32_MAX / 2)
    return 0;
  if ((t->n_used + 1) * 4 > t->n_slots * 3 && !strtab_grow (t))
    return 0;

  uint64_t h = hash_bytes (s, len);
  size_t j = h & (t->n_slots - 1);
  for (;;)
    {
      strtab_slot *slot = &t->slots[j];
      if (slot->id == 0)
        break;
      if (slot->hash == h && slot->len == len
          && memcmp (t->arena + slot->offset, s, len) == 0)
        return slot->id;
      j = (j + 1) & (t->n_slots - 1);
    }

  if (t->arena_len + len > t->arena_cap)
    {
      size_t cap = t->arena_cap;
      while (t->arena_len + len > cap)
        cap *= 2;
      if (cap > UINT32_MAX)
        return 0;
      char *arena = realloc (t->arena, cap);
      if (arena == NULL)
        return 0;
      t->arena = arena;
      t->arena_cap = cap;
    }
  memcpy (t->arena + t->arena_len, s, len);

  strtab_slot *slot = &t->slots[j];
  slot->hash = h;
  slot->offset = (uint32_t) t->arena_len;
  slot->len = (uint32_t) len;
  slot->id = t->next_id++;
  t->arena_len += len;
  t->n_used++;
  *is_new = true;
  return slot->id;
}

uint64_t
linger_time_realtime_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

uint64_t
linger_time_monotonic_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void
writer_fail (linger_writer *w, int err)
{
  if (!w->failed)
    {
      w->failed = true;
      w->error = err;
    }
}

/* write(2) until done: a short write (signal, pipe) must not drop bytes. */
static bool
write_all (int fd, const uint8_t *data, size_t len, int *err, uint64_t *written)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          *err = errno;
          return false;
        }
      if (n == 0)
        {
          *err = EIO;
          return false;
        }
      data += n;
      len -= (size_t) n;
      *written += (uint64_t) n;
    }
  return true;
}

static int
batch_slot (uint16_t type)
{
  switch (type)
    {
    case LINGER_REC_OBJECTS:    return 0;
    case LINGER_REC_REFS:       return 1;
    case LINGER_REC_ROOTS:      return 2;
    case LINGER_REC_FINALIZERS: return 3;
    case LINGER_REC_WEAKREFS:   return 4;
    case LINGER_REC_ATEXIT:     return 5;
    case LINGER_REC_OBJECT_SITES: return 6;
    case LINGER_REC_MODULES:    return 7;
    case LINGER_REC_PY_FRAMES:  return 8;
    case LINGER_REC_SITES:      return 9;
    case LINGER_REC_SITE_STATS: return 10;
    case LINGER_REC_GC_FREES:   return 11;
    case LINGER_REC_LIVE_BLOCKS: return 12;
    default:                    return -1;
    }
}

static const uint16_t batch_types[LINGER_WRITER_N_BATCHES] = {
  LINGER_REC_OBJECTS, LINGER_REC_REFS, LINGER_REC_ROOTS, LINGER_REC_FINALIZERS, LINGER_REC_WEAKREFS,
  LINGER_REC_ATEXIT, LINGER_REC_OBJECT_SITES, LINGER_REC_MODULES, LINGER_REC_PY_FRAMES,
  LINGER_REC_SITES, LINGER_REC_SITE_STATS, LINGER_REC_GC_FREES, LINGER_REC_LIVE_BLOCKS,
};

static bool reserve (linger_writer *w, size_t size);

/* Moves a non-empty side batch into the main buffer as one record. */
static bool
batch_emit (linger_writer *w, int slot)
{
  linger_writer_batch *b = &w->batches[slot];
  if (b->count == 0 || w->failed)
    return !w->failed;
  linger_rec_batch *head = (linger_rec_batch *) (void *) b->buf;
  head->header.type = batch_types[slot];
  head->header.flags = 0;
  head->header.size = (uint32_t) b->len;
  head->count = b->count;
  head->padding = 0;
  if (!reserve (w, b->len))
    return false;
  memcpy (w->buf + w->len, b->buf, b->len);
  w->len += b->len;
  b->len = sizeof (linger_rec_batch);
  b->count = 0;
  return true;
}

static bool
batches_emit_all (linger_writer *w)
{
  for (int i = 0; i < LINGER_WRITER_N_BATCHES; i++)
    if (!batch_emit (w, i))
      return false;
  return true;
}

static bool
write_buffer (linger_writer *w)
{
  if (w->failed)
    return false;
  if (w->len == 0)
    return true;
  int err = 0;
  /* Beyond RLIMIT_FSIZE the kernel sends SIGXFSZ, whose default action
   * kills the program: the trace stops at the limit instead. */
  if (w->size_limit != 0 && w->bytes_written + w->len > w->size_limit)
    {
      size_t room = (size_t) (w->size_limit - w->bytes_written);
      if (room > 0)
        (void) write_all (w->fd, w->buf, room, &err, &w->bytes_written);
      writer_fail (w, EFBIG);
      w->len = 0;
      return false;
    }
  if (!write_all (w->fd, w->buf, w->len, &err, &w->bytes_written))
    {
      writer_fail (w, err);
      w->len = 0;
      return false;
    }
  w->len = 0;
  return true;
}

/* Makes room for `size` more bytes in the main buffer, writing it out if
 * needed.  The main buffer only ever holds whole records. */
static bool
reserve (linger_writer *w, size_t size)
{
  if (w->failed)
    return false;
  if (w->len + size <= w->cap)
    return true;
  if (!write_buffer (w))
    return false;
  return size <= w->cap;
}

static bool
flush_complete (linger_writer *w)
{
  if (!batches_emit_all (w))
    return false;
  return write_buffer (w);
}

/* Appends a whole record: fixed part `rec` (whose header is filled here),
 * followed by up to two byte strings and padding. */
static bool
append_record (linger_writer *w,
               uint16_t       type,
               void          *rec,
               size_t         rec_size,
               const void    *tail1,
               size_t         tail1_len,
               const void    *tail2,
               size_t         tail2_len)
{
  if (w->failed)
    return false;
  /* Strings may be defined while batches are open (they precede their
   * users either way); any other record ends the open batches first, so
   * batches never cross SNAPSHOT_BEGIN/END. */
  if (type != LINGER_REC_STRING && !batches_emit_all (w))
    return false;
  size_t raw = rec_size + tail1_len + tail2_len;
  if (raw > LINGER_RECORD_MAX_SIZE)
    return false;
  uint32_t total = linger_record_padded ((uint32_t) raw);
  if (!reserve (w, total))
    return false;

  linger_record_header *h = rec;
  h->type = type;
  h->flags = 0;
  h->size = total;

  uint8_t *p = w->buf + w->len;
  memcpy (p, rec, rec_size);
  if (tail1_len)
    memcpy (p + rec_size, tail1, tail1_len);
  if (tail2_len)
    memcpy (p + rec_size + tail1_len, tail2, tail2_len);
  memset (p + raw, 0, total - raw);
  w->len += total;
  return true;
}

static bool
append_entry (linger_writer *w, uint16_t type, const void *entry, size_t size)
{
  if (w->failed)
    return false;
  int slot = batch_slot (type);
  linger_writer_batch *b = &w->batches[slot];
  /* A full batch takes every open batch out with it, in slot order, so a
   * batch that defines ids (SITES) never lands after one that uses them
   * (SITE_STATS, LIVE_BLOCKS). */
  if (b->len + size > WRITER_BATCH_LIMIT && !batches_emit_all (w))
    return false;
  memcpy (b->buf + b->len, entry, size);
  b->len += size;
  b->count++;
  return true;
}

static void
batches_free (linger_writer *w)
{
  for (int i = 0; i < LINGER_WRITER_N_BATCHES; i++)
    {
      free (w->batches[i].buf);
      w->batches[i].buf = NULL;
      w->batches[i].len = 0;
      w->batches[i].count = 0;
    }
}

bool
linger_writer_init (linger_writer *w, int fd, uint32_t file_flags)
{
  memset (w, 0, sizeof *w);
  w->fd = fd;
  struct rlimit fsize;
  if (getrlimit (RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY)
    w->size_limit = fsize.rlim_cur;
  w->cap = WRITER_BUFFER_SIZE;
  w->buf = malloc (w->cap);
  w->strings = strtab_new ();
  bool batches_ok = true;
  for (int i = 0; i < LINGER_WRITER_N_BATCHES; i++)
    {
      w->batches[i].buf = malloc (WRITER_BATCH_LIMIT);
      w->batches[i].len = sizeof (linger_rec_batch);
      batches_ok &= w->batches[i].buf != NULL;
    }
  if (w->buf == NULL || w->strings == NULL || !batches_ok)
    {
      batches_free (w);
      free (w->buf);
      strtab_free (w->strings);
      w->buf = NULL;
      w->strings = NULL;
      w->cap = 0;
      writer_fail (w, ENOMEM);
      errno = ENOMEM;
      return false;
    }

  linger_file_header fh;
  memset (&fh, 0, sizeof fh);
  memcpy (fh.magic, LINGER_TRACE_MAGIC, LINGER_TRACE_MAGIC_LEN);
  fh.version_major = LINGER_TRACE_VERSION_MAJOR;
  fh.version_minor = LINGER_TRACE_VERSION_MINOR;
  fh.header_size = sizeof fh;
  fh.start_time_ns = linger_time_realtime_ns ();
  fh.pid = (uint32_t) getpid ();
  fh.ppid = (uint32_t) getppid ();
  fh.pointer_size = sizeof (void *);
  fh.flags = file_flags;
  memcpy (w->buf, &fh, sizeof fh);
  w->len = sizeof fh;
  return true;
}

uint32_t
linger_writer_intern (linger_writer *w, const char *s, size_t len)
{
  if (w->failed || w->strings == NULL)
    return LINGER_STRING_NONE;
  bool is_new;
  uint32_t id = strtab_lookup (w->strings, s, len, &is_new);
  if (id == 0)
    return LINGER_STRING_NONE;
  if (is_new)
    {
      /* Defined before first use: closes any open batch, so the string
       * precedes the entry that refers to it. */
      linger_rec_string rec = { .id = id, .len = (uint32_t) len };
      if (!append_record (w, LINGER_REC_STRING, &rec, sizeof rec, s, len, NULL, 0))
        return LINGER_STRING_NONE;
    }
  return id;
}

uint32_t
linger_writer_intern_cstr (linger_writer *w, const char *s)
{
  return linger_writer_intern (w, s, strlen (s));
}

bool
linger_writer_process (linger_writer *w,
                       uint32_t       pid,
                       uint32_t       ppid,
                       const char    *exe,
                       const char    *cmdline,
                       size_t         cmdline_len,
                       const char    *program)
{
  uint32_t program_id = linger_writer_intern_cstr (w, program ? program : "");
  size_t exe_len = exe ? strlen (exe) : 0;
  /* Keep the record bounded whatever the command line. */
  if (exe_len > 4096)
    exe_len = 4096;
  if (cmdline_len > 64 * 1024)
    cmdline_len = 64 * 1024;
  linger_rec_process rec = {
    .pid = pid,
    .ppid = ppid,
    .time_ns = linger_time_realtime_ns (),
    .exe_len = (uint32_t) exe_len,
    .cmdline_len = (uint32_t) cmdline_len,
    .program = program_id,
  };
  return append_record (w, LINGER_REC_PROCESS, &rec, sizeof rec, exe, exe_len, cmdline, cmdline_len);
}

bool
linger_writer_runtime (linger_writer *w,
                       uint32_t       hexversion,
                       uint32_t       flags,
                       const char    *version)
{
  linger_rec_runtime rec = {
    .hexversion = hexversion,
    .flags = flags,
    .version = linger_writer_intern_cstr (w, version),
    .implementation = linger_writer_intern_cstr (w, "cpython"),
  };
  return append_record (w, LINGER_REC_RUNTIME, &rec, sizeof rec, NULL, 0, NULL, 0);
}

bool
linger_writer_snapshot_begin (linger_writer *w, uint32_t snapshot_id, uint32_t reason)
{
  linger_rec_snapshot_begin rec = {
    .snapshot_id = snapshot_id,
    .reason = reason,
    .time_ns = linger_time_realtime_ns (),
  };
  return append_record (w, LINGER_REC_SNAPSHOT_BEGIN, &rec, sizeof rec, NULL, 0, NULL, 0);
}

bool
linger_writer_snapshot_end (linger_writer *w, const linger_rec_snapshot_end *end)
{
  linger_rec_snapshot_end rec = *end;
  return append_record (w, LINGER_REC_SNAPSHOT_END, &rec, sizeof rec, NULL, 0, NULL, 0);
}

bool
linger_writer_snapshot_label (linger_writer *w, uint32_t snapshot_id, const char *label, size_t len,
                              uint32_t flags)
{
  /* The string first: a record never refers to an id defined later. */
  uint32_t id = linger_writer_intern (w, label, len);
  if (id == LINGER_STRING_NONE)
    return false;
  linger_rec_snapshot_label rec = { .snapshot_id = snapshot_id, .label = id, .flags = flags };
  return append_record (w, LINGER_REC_SNAPSHOT_LABEL, &rec, sizeof rec, NULL, 0, NULL, 0);
}

bool
linger_writer_message (linger_writer *w, uint32_t level, const char *text)
{
  size_t len = strlen (text);
  if (len > 4096)
    len = 4096;
  linger_rec_message rec = { .level = level, .len = (uint32_t) len };
  return append_record (w, LINGER_REC_MESSAGE, &rec, sizeof rec, text, len, NULL, 0);
}

bool
linger_writer_end (linger_writer *w, uint32_t exit_path)
{
  linger_rec_end rec = {
    .time_ns = linger_time_realtime_ns (),
    .n_strings = w->strings ? w->strings->next_id - 1 : 0,
    .exit_path = exit_path,
  };
  return append_record (w, LINGER_REC_END, &rec, sizeof rec, NULL, 0, NULL, 0);
}

bool
linger_writer_object (linger_writer *w, const linger_object_entry *e)
{
  return append_entry (w, LINGER_REC_OBJECTS, e, sizeof *e);
}

bool
linger_writer_ref (linger_writer *w, const linger_ref_entry *e)
{
  return append_entry (w, LINGER_REC_REFS, e, sizeof *e);
}

bool
linger_writer_root (linger_writer *w, const linger_root_entry *e)
{
  return append_entry (w, LINGER_REC_ROOTS, e, sizeof *e);
}

bool
linger_writer_finalizer (linger_writer *w, const linger_finalizer_entry *e)
{
  return append_entry (w, LINGER_REC_FINALIZERS, e, sizeof *e);
}

bool
linger_writer_weakref (linger_writer *w, const linger_weakref_entry *e)
{
  return append_entry (w, LINGER_REC_WEAKREFS, e, sizeof *e);
}

bool
linger_writer_atexit (linger_writer *w, const linger_atexit_entry *e)
{
  return append_entry (w, LINGER_REC_ATEXIT, e, sizeof *e);
}

bool
linger_writer_object_site (linger_writer *w, const linger_object_site_entry *e)
{
  return append_entry (w, LINGER_REC_OBJECT_SITES, e, sizeof *e);
}

bool
linger_writer_module (linger_writer *w, const linger_module_entry *e)
{
  return append_entry (w, LINGER_REC_MODULES, e, sizeof *e);
}

bool
linger_writer_py_frame (linger_writer *w, const linger_py_frame_entry *e)
{
  return append_entry (w, LINGER_REC_PY_FRAMES, e, sizeof *e);
}

bool
linger_writer_site (linger_writer *w, const linger_site_entry *e)
{
  return append_entry (w, LINGER_REC_SITES, e, sizeof *e);
}

bool
linger_writer_site_stats (linger_writer *w, const linger_site_stats_entry *e)
{
  return append_entry (w, LINGER_REC_SITE_STATS, e, sizeof *e);
}

bool
linger_writer_gc_free (linger_writer *w, const linger_gc_free_entry *e)
{
  return append_entry (w, LINGER_REC_GC_FREES, e, sizeof *e);
}

bool
linger_writer_live_block (linger_writer *w, const linger_block_entry *e)
{
  return append_entry (w, LINGER_REC_LIVE_BLOCKS, e, sizeof *e);
}

bool
linger_writer_alloc_info (linger_writer *w, const linger_rec_alloc_info *info)
{
  linger_rec_alloc_info rec = *info;
  return append_record (w, LINGER_REC_ALLOC_INFO, &rec, sizeof rec, NULL, 0, NULL, 0);
}

bool
linger_writer_native_stack (linger_writer  *w,
                            uint32_t        id,
                            uint32_t        generation,
                            uint32_t        flags,
                            const uint64_t *addrs,
                            uint32_t        depth)
{
  linger_rec_native_stack rec = {
    .id = id, .depth = depth, .generation = generation, .flags = flags,
  };
  return append_record (w, LINGER_REC_NATIVE_STACK, &rec, sizeof rec, addrs,
                        (size_t) depth * sizeof *addrs, NULL, 0);
}

bool
linger_writer_py_stack (linger_writer  *w,
                        uint32_t        id,
                        uint32_t        flags,
                        const uint32_t *frames,
                        uint32_t        depth)
{
  linger_rec_py_stack rec = { .id = id, .depth = depth, .flags = flags };
  return append_record (w, LINGER_REC_PY_STACK, &rec, sizeof rec, frames,
                        (size_t) depth * sizeof *frames, NULL, 0);
}

bool
linger_writer_flush (linger_writer *w)
{
  return flush_complete (w);
}

void
linger_writer_close (linger_writer *w)
{
  if (w->buf != NULL)
    flush_complete (w);
  if (w->fd >= 0)
    close (w->fd);
  w->fd = -1;
  free (w->buf);
  w->buf = NULL;
  w->len = 0;
  w->cap = 0;
  batches_free (w);
  strtab_free (w->strings);
  w->strings = NULL;
}

void
linger_writer_abandon (linger_writer *w)
{
  /* The parent's buffer and fd are the parent's: in the child both are
   * copies, so dropping them is what keeps records from being written
   * twice.  The fd is closed so the child does not keep the file open. */
  if (w->fd >= 0)
    close (w->fd);
  w->fd = -1;
  free (w->buf);
  w->buf = NULL;
  w->len = 0;
  w->cap = 0;
  batches_free (w);
  strtab_free (w->strings);
  w->strings = NULL;
  w->failed = true;
}
