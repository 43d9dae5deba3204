/* init's memory and threads for its tests and benchmarks: pages come from
 * the free-memory window the kernel handed over (a bump allocator: the
 * pager, issue #4, will own this memory). */
#include "init.h"

extern char __mica_image_start[], __mica_text_end[], __mica_rodata_end[], __mica_image_end[];

static uint64_t next_range, next_addr, range_end;

void *page_alloc(uint64_t pages)
{
    uint64_t bytes = pages * MICA_PAGE_SIZE;
    while (next_addr + bytes > range_end) {
        if (next_range >= bootinfo->nranges)
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
    return mica_thread_spawn(bootinfo->self_task, fn, arg, stack + STACK_PAGES * MICA_PAGE_SIZE, prio, buf, out);
}

/* Map [start, end) of init's image into task with rights. */
static int share_image(mica_handle_t task, char *start, char *end, uint32_t rights)
{
    uint64_t pages = (uint64_t)(end - start) / MICA_PAGE_SIZE;
    if (pages == 0)
        return MICA_OK;
    return mica_map(task, (uint64_t)(uintptr_t)start, (uint64_t)(uintptr_t)start, pages, rights);
}

int spawn_remote(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *task_out, mica_handle_t *thread_out)
{
    return spawn_remote_ex(fn, arg, MICA_HANDLE_NONE, 0, 0, prio, task_out, thread_out);
}

int spawn_remote_with(mica_thread_fn *fn, mica_handle_t give, uint32_t rights, uint64_t badge,
                      mica_handle_t *task_out, mica_handle_t *thread_out)
{
    return spawn_remote_ex(fn, 0, give, rights, badge, 40, task_out, thread_out);
}

int spawn_remote_ex(mica_thread_fn *fn, uint64_t arg, mica_handle_t give, uint32_t rights, uint64_t badge, int prio,
                    mica_handle_t *task_out, mica_handle_t *thread_out)
{
    mica_handle_t task, remote;
    int err = mica_task_create(&task);
    if (err)
        return err;
    if (give != MICA_HANDLE_NONE) {
        err = mica_task_give(task, give, rights, badge, &remote);
        arg = remote;
    }
    /* The child runs init's code: text and read-only data shared, init's
     * writable data shared read-only (a child must not write globals). */
    if (!err)
        err = share_image(task, __mica_image_start, __mica_text_end, MICA_MAP_READ | MICA_MAP_EXEC);
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
        err = mica_map(task, (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)buf, 1, MICA_MAP_READ | MICA_MAP_WRITE);
    /* Same addresses in both spaces, so the start block written through
     * init's mapping of the stack is where the child will read it. */
    if (!err)
        err = mica_thread_spawn(task, fn, arg, stack + STACK_PAGES * MICA_PAGE_SIZE, prio, buf, thread_out);
    if (err) {
        mica_task_kill(task);
        mica_handle_close(task);
        return err;
    }
    *task_out = task;
    return MICA_OK;
}
