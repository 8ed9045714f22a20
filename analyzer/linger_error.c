/* linger_error.c: the analyzer's GError domain. */
#include "linger_error.h"

G_DEFINE_QUARK (linger-error-quark, linger_error)
