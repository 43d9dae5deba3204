/* A small printf-style formatter for freestanding code (kernel and servers).
 * Supports %d %i %u %x %X %o %c %s %p %% with the flags '-', '0', a width,
 * a precision for strings ("%.*s" too), and the length modifiers hh, h, l,
 * ll, z.  No floating point: ring 0 may not touch the FPU. */
#ifndef BASE_FMT_H
#define BASE_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Write formatted output into buf (size bytes, always NUL-terminated when
 * size > 0).  Returns the length the full output would have had. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
