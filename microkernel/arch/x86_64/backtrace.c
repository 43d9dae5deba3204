/* Symbolized backtraces by frame pointer (the kernel is built with
 * -fno-omit-frame-pointer; the boot entry zeroes RBP to end the chain). */
#include <stdint.h>

#include "arch/layout.h"
#include "mica/arch.h"
#include "mica/ksym.h"
#include "mica/log.h"

#define MAX_FRAMES 24

extern char __kernel_start[], __kernel_end[];

/* True when a frame record at fp can be read without faulting: inside the
 * kernel image (where the boot and IST stacks are) and aligned. */
static int frame_readable(uint64_t fp)
{
    return (fp & 7) == 0 && fp >= (uint64_t)__kernel_start && fp + 16 <= (uint64_t)__kernel_end;
}

void arch_backtrace(uint64_t rbp)
{
    for (int depth = 1; depth < MAX_FRAMES && frame_readable(rbp); depth++) {
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (ret == 0)
            break;
        uint64_t off = 0;
        /* ret points after the call: look up ret - 1 so a call at the very
         * end of a function is still named by that function. */
        const char *name = ksym_lookup(ret - 1, &off);
        kprintf("    #%d 0x%016llx %s+0x%llx\n", depth, (unsigned long long)ret, name ? name : "?",
                (unsigned long long)(off + 1));
        if (frame[0] <= rbp)
            break; /* the stack grows down: callers' frames are above */
        rbp = frame[0];
    }
}

void arch_kernel_image(uint64_t *phys_base, uint64_t *phys_end)
{
    *phys_base = KERNEL_PHYS_BASE;
    *phys_end = (uint64_t)__kernel_end - KERNEL_VMA;
}
