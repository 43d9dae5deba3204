/* Kernel panics and assertions.  Only a kernel bug may panic; a user or
 * boot-loader mistake is an error code or a [WARN] line, never a panic. */
#ifndef MICA_PANIC_H
#define MICA_PANIC_H

#include <stdint.h>

struct trap_frame;

/* Print "[FAIL] PANIC at file:line in func: message", a full register
 * dump and a symbolized backtrace, then stop (or, under test, end the
 * emulator with EXIT_FAILURE_CODE). */
__attribute__((noreturn, format(printf, 4, 5))) void panic_at(const char *file, int line, const char *func,
                                                              const char *fmt, ...);

/* Stop after a fatal trap whose dump has been printed. */
__attribute__((noreturn)) void panic_stop(void);

/* Values written to the debug-exit port; QEMU exits with (v << 1) | 1. */
#define EXIT_SUCCESS_CODE 0x10 /* QEMU exit status 33 */
#define EXIT_FAILURE_CODE 0x11 /* QEMU exit status 35 */

#define PANIC(...) panic_at(__FILE__, __LINE__, __func__, __VA_ARGS__)

/* Always-on check of an invariant whose breach is a kernel bug. */
#define ASSERT(cond)                                                                                         \
    do {                                                                                                     \
        if (__builtin_expect(!(cond), 0))                                                                    \
            panic_at(__FILE__, __LINE__, __func__, "assertion failed: %s", #cond);                           \
    } while (0)

/* Expensive checks: compiled (so they type-check) but run only in debug builds. */
#ifndef KERNEL_DEBUG
#define KERNEL_DEBUG 0
#endif
#define DEBUG_ASSERT(cond)                                                                                   \
    do {                                                                                                     \
        if (KERNEL_DEBUG)                                                                                    \
            ASSERT(cond);                                                                                    \
    } while (0)

#endif
