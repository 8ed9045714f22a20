/* linger_error.h: the analyzer's GError domain. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LINGER_ERROR (linger_error_quark ())

typedef enum
{
  LINGER_ERROR_IO,                  /* the file could not be opened or read */
  LINGER_ERROR_NOT_A_TRACE,         /* foreign file: bad magic, cut inside the header */
  LINGER_ERROR_UNSUPPORTED_VERSION, /* another major version of the format */
  LINGER_ERROR_CORRUPT,             /* a record contradicts the format */
  LINGER_ERROR_NO_SHIM,             /* `linger run` found no liblinger.so */
  LINGER_ERROR_FAILED,
} LingerError;

GQuark linger_error_quark (void);

G_END_DECLS
