/* Kernel panic; see include/mica/panic.h. */
#include <stdarg.h>

#include "base/fmt.h"
#include "mica/arch.h"
#include "mica/kernel.h"
#include "mica/log.h"
#include "mica/panic.h"

static int panicking;

__attribute__((noreturn)) void panic_stop(void)
{
    if (kernel_test_mode)
        arch_emulator_exit(EXIT_FAILURE_CODE);
    arch_halt_forever();
}

__attribute__((noreturn)) void panic_at(const char *file, int line, const char *func, const char *fmt, ...)
{
    struct trap_frame tf;
    arch_capture_regs(&tf);
    if (panicking++) {
        /* A panic while panicking: say the least that can still be said. */
        klog(LOG_FAIL, "PANIC again at %s:%d", file, line);
        panic_stop();
    }
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    klog(LOG_FAIL, "PANIC at %s:%d in %s(): %s", file, line, func, msg);
    arch_dump_frame(&tf);
    panic_stop();
}
