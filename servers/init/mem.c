/* init's memory and threads: pages come from the free-memory window the
 * kernel handed over until the pager starts, then from a region of init's
 * that the pager serves on demand (a bump allocator in both cases). */
#include "init.h"
#include <mica/pager.h>

extern char __mica_image_start[], __mica_text_end[], __mica_rodata_end[], __mica_image_end[];

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

/* The part of the window not handed out yet, range by range: after the
 * first call the bump pointer moves to the next range. */
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

void *page_alloc_2m(void)
{
    const uint64_t size = 2ull << 20;
    while (!from_pager) {
        uint64_t a = (next_addr + size - 1) & ~(size - 1);
        if (next_range > 0 && a + size <= range_end) {
            next_addr = a; /* the pages skipped stay unused */
            return page_alloc(size / MICA_PAGE_SIZE);
        }
        if (next_range >= bootinfo->nranges)
            break;
        next_addr = bootinfo->ranges[next_range].vaddr;
        range_end = next_addr + bootinfo->ranges[next_range].size;
        next_range++;
    }
    return NULL;
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

/* Map [start, end) of init's image into task with rights. */
static int share_image(mica_handle_t task, char *start, char *end, uint32_t rights)
{
    uint64_t pages = (uint64_t)(end - start) / MICA_PAGE_SIZE;
    if (pages == 0)
        return MICA_OK;
    return mica_map(task, (uint64_t)(uintptr_t)start, (uint64_t)(uintptr_t)start, pages, rights);
}

int spawn_remote(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *task_out,
                 mica_handle_t *thread_out)
{
    return spawn_remote_ex(fn, arg, MICA_HANDLE_NONE, 0, 0, prio, task_out, thread_out);
}

int spawn_remote_with(mica_thread_fn *fn, mica_handle_t give, uint32_t rights, uint64_t badge,
                      mica_handle_t *task_out, mica_handle_t *thread_out)
{
    return spawn_remote_ex(fn, 0, give, rights, badge, 40, task_out, thread_out);
}

int spawn_remote_ex(mica_thread_fn *fn, uint64_t arg, mica_handle_t give, uint32_t rights, uint64_t badge,
                    int prio, mica_handle_t *task_out, mica_handle_t *thread_out)
{
    mica_handle_t task, remote;
    int err = mica_task_create(&task);
    if (err)
        return err;
    if (give != MICA_HANDLE_NONE) {
        err = mica_task_give(task, give, rights, badge, &remote);
        arg = remote;
    }
    if (!err)
        err = spawn_in_task(task, fn, arg, prio, thread_out);
    if (err) {
        mica_task_kill(task);
        mica_handle_close(task);
        return err;
    }
    *task_out = task;
    return MICA_OK;
}

int spawn_in_task(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *thread_out)
{
    /* The child runs init's code: text and read-only data shared, init's
     * writable data shared read-only (a child must not write globals). */
    int err = share_image(task, __mica_image_start, __mica_text_end, MICA_MAP_READ | MICA_MAP_EXEC);
    if (!err)
        err = share_image(task, __mica_text_end, __mica_rodata_end, MICA_MAP_READ);
    if (!err)
        err = share_image(task, __mica_rodata_end, __mica_image_end, MICA_MAP_READ);
    char *stack = page_alloc(STACK_PAGES);
    struct mica_ipc_buffer *buf = page_alloc(1);
    if (!err && (stack == NULL || buf == NULL))
        err = MICA_ENOMEM;
    if (!err)
        err = mica_map(task, (uint64_t)(uintptr_t)stack, (uint64_t)(uintptr_t)stack, STACK_PAGES,
                       MICA_MAP_READ | MICA_MAP_WRITE);
    if (!err)
        err = mica_map(task, (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)buf, 1,
                       MICA_MAP_READ | MICA_MAP_WRITE);
    /* Same addresses in both spaces, so the start block written through
     * init's mapping of the stack is where the child will read it. */
    if (!err)
        err = mica_thread_spawn(task, fn, arg, stack + STACK_PAGES * MICA_PAGE_SIZE, prio, buf, thread_out);
    return err;
}
