/* init's memory and threads: pages come from the free-memory window the
 * kernel handed over until the pager starts, then from a region of init's
 * that the pager serves on demand (a bump allocator in both cases). */
#include "init.h"
#include <mica/pager.h>

static uint64_t next_range, next_addr, range_end;
/* Once the pager owns the free memory, init's pages come from a region the
 * pager serves on demand (vm_alloc); before that, from the window. */
static int from_pager;

#define INIT_HEAP_BYTES (96ull << 20)

void mem_use_pager(mica_handle_t pager)
{
    uint64_t base;
    if (mica_vm_alloc(pager, INIT_HEAP_BYTES, &base) != MICA_OK)
        return;
    next_addr = base;
    range_end = base + INIT_HEAP_BYTES;
    from_pager = 1;
}

/* Range i of the window minus what page_alloc took from it: all of a range
 * page_alloc has not reached, the rest of the one it takes pages from,
 * nothing of one it has left behind. */
bool mem_window_rest(uint64_t i, uint64_t *va, uint64_t *bytes)
{
    if (i >= bootinfo->nranges)
        return false;
    uint64_t base = bootinfo->ranges[i].vaddr, end = base + bootinfo->ranges[i].size;
    if (i + 1 == next_range && next_addr > base)
        base = next_addr; /* the range page_alloc is using: only its rest */
    else if (i + 1 < next_range)
        base = end; /* used up */
    *va = base;
    *bytes = end - base;
    return true;
}

void *page_alloc(uint64_t pages)
{
    uint64_t bytes = pages * MICA_PAGE_SIZE;
    while (next_addr + bytes > range_end) {
        if (from_pager || next_range >= bootinfo->nranges)
            return NULL;
        next_addr = bootinfo->ranges[next_range].vaddr;
        range_end = next_addr + bootinfo->ranges[next_range].size;
        next_range++;
    }
    void *p = (void *)(uintptr_t)next_addr;
    next_addr += bytes;
    uint64_t *q = p;
    for (uint64_t i = 0; i < bytes / 8; i++)
        q[i] = 0;
    return p;
}

int spawn_local(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *out)
{
    char *stack = page_alloc(STACK_PAGES);
    struct mica_ipc_buffer *buf = page_alloc(1);
    if (stack == NULL || buf == NULL)
        return MICA_ENOMEM;
    return mica_thread_spawn(bootinfo->self_task, fn, arg, stack + STACK_PAGES * MICA_PAGE_SIZE, prio, buf,
                             out);
}
