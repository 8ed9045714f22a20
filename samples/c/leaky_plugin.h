/* leaky_plugin.h: the one function libleaky_plugin.so exports, which
 * leak_dlopen.c looks up with dlsym. */
#pragma once

/* Allocates @n blobs of 128 bytes, frees all but 7, returns a checksum. */
int plugin_run (int n);
