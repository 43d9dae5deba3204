/* In-kernel tests of the screen console's mapping (suite "boot"). */
#include <stddef.h>

#include "arch/layout.h"
#include "arch/paging.h"
#include "mica/ktest.h"
#include "mica/screen.h"

/* The framebuffer is reachable only through its window: kernel-only,
 * writable, no-execute, every byte at its physical address, and never
 * through the direct map (which would give it a second memory type). */
KTEST(boot, framebuffer_window_kernel_only_not_in_direct_map)
{
    uint64_t phys, size, pa, fl, root = kernel_root();
    const void *va = screen_mapping(&phys, &size);
    if (va == NULL)
        return; /* no screen on this machine: nothing is mapped */
    uint64_t first = (uint64_t)va, last = first + size - 1;
    KT_CHECK(first >= FB_WINDOW_BASE && last < FB_WINDOW_BASE + FB_WINDOW_SIZE);
    KT_CHECK(pt_translate(root, first, &pa, &fl) && pa == phys);
    KT_CHECK((fl & PTE_W) && (fl & PTE_NX) && !(fl & PTE_U));
    KT_CHECK(pt_translate(root, last, &pa, &fl) && pa == phys + size - 1);
    KT_CHECK(!pt_translate(root, HHDM_BASE + phys, &pa, &fl));
    KT_CHECK(!pt_translate(root, HHDM_BASE + phys + size - 1, &pa, &fl));
}
