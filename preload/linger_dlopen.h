/* linger_dlopen.h: noticing an interpreter that arrives with dlopen().
 *
 * A C program that embeds CPython (a plugin host, a game, a database)
 * dlopen()s libpython after the shim decided the process was not Python.
 * The shim's dlopen() hands every call to the C library's as a jump, so
 * the library still sees the program's own return address (dlopen
 * searches the caller's DT_RUNPATH and namespace); only a name that looks
 * like libpython, while no interpreter is known yet, takes a slower path
 * that looks at the handle afterwards.
 */
#pragma once

/* From the constructor: from now on a late libpython is looked for.
 * Until then (and for setuid programs, always) dlopen() only forwards. */
void linger_dlopen_watch (void);
