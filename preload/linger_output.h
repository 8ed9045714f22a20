/* linger_output.h: where this process's trace goes, and when it is opened.
 *
 * The file is created lazily, on the first record, so a process image that
 * is replaced by exec() (a shell that execs python, pyenv's shim) leaves no
 * empty trace behind.  Every record goes through the writer returned by
 * linger_output_begin(), under one lock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "linger_writer.h"

/* Constructor time: remembers the program, command line, working
 * directory and the trace path.  Cheap; writes nothing. */
void linger_output_init (void);

/* The process is CPython: its RUNTIME record is written with the trace. */
void linger_output_set_runtime (uint32_t hexversion, uint32_t flags, const char *version);

/* A note for the trace (written when it is opened, or now if it is). */
void linger_output_note (uint32_t level, const char *text);

/* Locks and returns the writer, opening the trace if needed; NULL (lock
 * released) if the trace cannot be written.  Pair with linger_output_end. */
linger_writer *linger_output_begin (void);
void linger_output_end (void);

/* Process exit: opens the trace if nothing was written yet, appends END,
 * closes it, and says on stderr once if records were lost. */
void linger_output_finish (uint32_t exit_path);

/* pthread_atfork handlers. */
void linger_output_fork_prepare (void);
void linger_output_fork_parent (void);
void linger_output_fork_child (void);

/* This process writes a trace even if it is not Python (the session's
 * root process, or LINGER_TRACE_ALL=1). */
bool linger_output_is_root (void);
/* LINGER_REDACT_KEYS=1: dict keys and command-line arguments are left out. */
bool linger_output_redact (void);

/* The raw command line (NUL separated), for option parsing. */
const char *linger_output_cmdline (uint32_t *len);
