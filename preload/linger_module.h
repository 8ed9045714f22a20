/* linger_module.h: the `_linger` module the shim puts into sys.modules.
 *
 * Lets code in the profiled program (the pytest plugin, python/linger)
 * ask for labelled snapshots while it runs:
 *
 *   _linger.snapshot(label)  takes a snapshot now, in the calling thread,
 *                            labelled (str) or not (None); returns its id,
 *                            0 if none was taken (the exit snapshot was)
 *   _linger.snapshot_objects(label)
 *                            the same, but only the objects the cyclic GC
 *                            tracks, without references (format 1.3
 *                            LINGER_SNAPSHOT_OBJECTS_ONLY): enough for
 *                            attribution, a third of the cost
 *   _linger.flush()          writes the buffered records, so the trace on
 *                            disk is readable up to here
 *   _linger.trace_path()     the trace file, or None if it cannot be written
 *   _linger.shim_path()      this shim's file (build/liblinger.so, ...)
 *   _linger.version          linger's version
 *
 * The module exists only in a process the shim runs in, and only in its
 * main interpreter: a program that does not import it sees nothing else
 * change (no attribute is added to any other module).
 */
#pragma once

/* From the audit hook, once the main interpreter runs user code (GIL
 * held).  Does nothing if the C API it needs is missing. */
void linger_module_register (void);
